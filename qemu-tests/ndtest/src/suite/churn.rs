//! Configuration churn under load: a thousand changes (four hundred in CI) (weights, quiesce, servers, ports and
//! addresses added and removed) while streams and new connections flow; no stream to a server
//! that stays configured may break, and no new connection may fail.

use super::cluster::*;
use super::memory::{Change, Memory};
use crate::prng::Prng;
use ndadm::client::Client;
use ndadm::model::{PortOptions, ServerOptions, Service, WeightEntry};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Streams must outlast the churn: each change waits for an RCU grace period, slow under
/// emulation.
const STREAM_SECS_PER_100_CHANGES: u32 = 7;
/// A server that comes and goes, quiesced, so no new connection is sent where nothing answers.
const TRANSIENT_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 14);
/// A cluster address that comes and goes.
const TRANSIENT_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 150);

/// What the churn has configured besides the three servers, to choose valid changes.
#[derive(Default)]
struct Extras {
    transient_server: bool,
    extra_ports: Vec<u16>,
    transient_vip: bool,
    weights: [u32; 2],
}

/// Makes `changes` changes to `VIP`:80 and around it; srv1 keeps weight 1 throughout.
fn churn(changes: u32, seed: u64) -> Result<u32, String> {
    let client = Client::connect().map_err(|e| e.to_string())?;
    let vip = ipv4(VIP);
    let service = Service::new(vip, 80);
    let (srv1, changing) = (ipv4(SERVERS[0]), [ipv4(SERVERS[1]), ipv4(SERVERS[2])]);
    let mut choices = Prng::new(seed);
    let mut extras = Extras {
        weights: [1, 1],
        ..Extras::default()
    };
    let fail = |what: &str, e: ndadm::client::Error| format!("{what}: {e}");
    for _ in 0..changes {
        match choices.below(5) {
            0 => {
                let which = choices.index(2);
                let weight = choices.below(5) as u32;
                let options = ServerOptions {
                    weight: Some(weight),
                    mac: None,
                };
                client
                    .set_server(service, changing[which], options)
                    .map_err(|e| fail("set weight", e))?;
                extras.weights[which] = weight;
            }
            1 => {
                extras.weights = [choices.below(5) as u32, choices.below(5) as u32];
                let mut entries = vec![WeightEntry {
                    server: srv1,
                    weight: 1,
                }];
                for (server, weight) in changing.iter().zip(extras.weights) {
                    entries.push(WeightEntry {
                        server: *server,
                        weight,
                    });
                }
                if extras.transient_server {
                    entries.push(WeightEntry {
                        server: TRANSIENT_SERVER,
                        weight: 0,
                    });
                }
                client
                    .set_weights(service, &entries)
                    .map_err(|e| fail("set weights", e))?;
            }
            2 if extras.transient_server => {
                client
                    .del_server(service, TRANSIENT_SERVER)
                    .map_err(|e| fail("remove server", e))?;
                extras.transient_server = false;
            }
            2 => {
                let options = ServerOptions {
                    weight: Some(0),
                    mac: None,
                };
                client
                    .add_server(service, TRANSIENT_SERVER, options)
                    .map_err(|e| fail("add server", e))?;
                extras.transient_server = true;
            }
            3 => {
                let port = 81 + choices.below(4) as u16;
                let extra = Service::new(vip, port);
                if let Some(at) = extras.extra_ports.iter().position(|p| *p == port) {
                    client.del_port(extra).map_err(|e| fail("remove port", e))?;
                    extras.extra_ports.remove(at);
                } else {
                    client
                        .add_port(extra, PortOptions::default())
                        .map_err(|e| fail("add port", e))?;
                    client
                        .add_server(extra, changing[0], ServerOptions::default())
                        .map_err(|e| fail("add server to port", e))?;
                    extras.extra_ports.push(port);
                }
            }
            _ if extras.transient_vip => {
                client
                    .del_vip(TRANSIENT_VIP)
                    .map_err(|e| fail("remove address", e))?;
                extras.transient_vip = false;
            }
            _ => {
                client
                    .add_vip(TRANSIENT_VIP)
                    .map_err(|e| fail("add address", e))?;
                client
                    .add_port(Service::new(TRANSIENT_VIP, 80), PortOptions::default())
                    .map_err(|e| fail("add port to address", e))?;
                extras.transient_vip = true;
            }
        }
    }
    Ok(changes)
}

/// Streams to all three servers and a run of new connections go on while the configuration
/// changes a thousand times.
pub fn churn_under_load() -> Outcome {
    let changes = scaled(400, 1000);
    let stream_secs = 10 + changes / 100 * STREAM_SECS_PER_100_CHANGES;
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    let hold = Hold::start(VIP, 12, stream_secs)?;
    let memory_before = Memory::now();
    let connecting = std::thread::spawn(|| connect(VIP, 80, 150, 3));
    let start = Instant::now();
    let changes = in_netns(LB_NS, move || churn(changes, 0x6e64_6368_7572_6e21))?;
    let took = start.elapsed();
    let during = connecting
        .join()
        .map_err(|_| "the connecting thread panicked".to_owned())??;
    let streams = hold.finish()?;
    println!(
        "  {changes} changes in {:.1} s; new connections {:?} ({} failed); streams {:?} intact {}/{}",
        took.as_secs_f64(),
        during.per_server,
        during.failed,
        streams.per_server,
        streams.intact,
        streams.conns
    );
    println!("  {}", Change(memory_before, Memory::now()));
    ensure(took < Duration::from_secs(stream_secs.into()), || {
        format!("the churn outlasted the streams ({took:?}); they no longer cover it")
    })?;
    ensure(during.ok == 150, || {
        format!(
            "{} new connections failed during the churn: {:?}",
            during.failed, during.errors
        )
    })?;
    streams_intact(&streams, SERVER_NAMES[0], 12)?;
    let remaining = servers(LB_NS)?;
    ensure(
        SERVERS
            .iter()
            .all(|addr| remaining.iter().any(|r| r.server == *addr)),
        || "a server that was never removed is gone".into(),
    )
}
