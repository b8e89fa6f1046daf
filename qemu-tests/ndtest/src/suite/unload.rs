//! Unload under load: the module is removed and loaded again, cycle after cycle, while the
//! client keeps opening connections and netlink requests are in flight.

use super::cluster::*;
use super::memory::{Change, Memory};
use ndadm::client::Client;
use ndadm::model::{PortOptions, ServerOptions, Service, WeightEntry};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Configures `VIP`:80 with the three servers over a socket of the current namespace.
fn configure_directly() -> Result<(), String> {
    let client = Client::connect().map_err(|e| e.to_string())?;
    let service = Service::new(ipv4(VIP), 80);
    client.add_vip(service.vip).map_err(|e| e.to_string())?;
    client
        .add_port(service, PortOptions::default())
        .map_err(|e| e.to_string())?;
    for server in SERVERS {
        client
            .add_server(service, ipv4(server), ServerOptions::default())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Requests of every kind, sent until `stop`, whether or not the family is there: returns how
/// many got an answer.
fn keep_requesting(stop: Arc<AtomicBool>) -> Result<u64, String> {
    let service = Service::new(ipv4(VIP), 80);
    let mut answered = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok(client) = Client::connect() else {
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        for round in 0..20u32 {
            let weights: Vec<WeightEntry> = SERVERS
                .iter()
                .map(|s| WeightEntry {
                    server: ipv4(s),
                    weight: 1 + round % 3,
                })
                .collect();
            let results = [
                client.servers().map(drop),
                client.conns().map(drop),
                client.set_weights(service, &weights),
                client.info().map(drop),
            ];
            answered += results.iter().filter(|r| r.is_ok()).count() as u64;
        }
    }
    Ok(answered)
}

/// `rmmod` and `insmod` again and again under traffic and netlink requests; afterwards the
/// module works, and the debug kernel has reported nothing.
pub fn unload_cycles() -> Outcome {
    let cycles = scaled(8, 50);
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    let memory_before = Memory::now();
    let stop = Arc::new(AtomicBool::new(false));
    let requests = {
        let stop = stop.clone();
        thread::spawn(move || in_netns(LB_NS, move || keep_requesting(stop)))
    };
    let opened = Arc::new(AtomicU64::new(0));
    let traffic = {
        let (stop, opened) = (stop.clone(), opened.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(report) = connect(VIP, 80, 6, 3) {
                    opened.fetch_add(report.ok, Ordering::Relaxed);
                }
            }
        })
    };
    let mut outcome = Ok(());
    for _ in 0..cycles {
        outcome = remove_module()
            .and_then(|()| module_command("insmod", "/nd/nd.ko"))
            .and_then(|()| in_netns(LB_NS, configure_directly));
        if outcome.is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, Ordering::Relaxed);
    let answered = requests
        .join()
        .map_err(|_| "the request thread panicked".to_owned())??;
    traffic
        .join()
        .map_err(|_| "the traffic thread panicked".to_owned())?;
    println!(
        "  {cycles} unload cycles; {} connections opened and {answered} netlink requests \
         answered meanwhile",
        opened.load(Ordering::Relaxed)
    );
    println!("  {}", Change(memory_before, Memory::now()));
    outcome?;
    ensure(opened.load(Ordering::Relaxed) > 0, || {
        "no connection got through between the cycles".into()
    })?;
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    let report = connect(VIP, 80, 12, 2)?;
    ensure(report.ok == 12, || {
        format!("after the cycles: {:?}", report.errors)
    })
}
