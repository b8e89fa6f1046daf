//! Client affinity: with a timeout set on a port, a client's connections all go to one
//! server while other clients are spread by weight; the binding outlives the client's last
//! connection by the timeout and then goes; a quiesced server keeps its clients or loses them
//! as the port says, and a removed server's bindings go at once.

use super::cluster::*;
use crate::report::ConnectReport;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a binding outlives its client's last connection here.
const TIMEOUT_SECS: u64 = 4;
/// Extra clients, on addresses the client namespace takes for the scenario.
const OTHER_CLIENTS: u8 = 30;

fn other_client(i: u8) -> String {
    format!("10.0.0.{}", 60 + i)
}

fn port_set(args: &[&str]) -> Outcome {
    let service = format!("{VIP}:80");
    let mut full = vec!["port", "set", service.as_str()];
    full.extend_from_slice(args);
    ndadm(LB_NS, &full).map(drop)
}

/// `count` connections from `source` (one at a time).
fn connect_from(source: &str, count: u32) -> Result<ConnectReport, String> {
    let out = run(
        CLIENT_NS,
        &[
            "ndtest",
            "connect",
            "--to",
            &format!("{VIP}:80"),
            "--count",
            &count.to_string(),
            "--source-address",
            source,
            "--timeout-ms",
            "5000",
        ],
    )?;
    ConnectReport::from_json(out.trim()).map_err(|e| format!("connect report: {e}: {out}"))
}

/// The one server all of `report`'s connections went to.
fn only_server(report: &ConnectReport, what: &str) -> Result<String, String> {
    ensure(report.failed == 0, || {
        format!("{what}: {} failed: {:?}", report.failed, report.errors)
    })?;
    match report.per_server.keys().collect::<Vec<_>>()[..] {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{what}: connections spread over {:?}",
            report.per_server
        )),
    }
}

fn bindings() -> Result<Vec<Value>, String> {
    let v = ndadm_json(LB_NS, &["affinity", "show"])?;
    v.as_array()
        .cloned()
        .ok_or_else(|| format!("affinity show: not a list: {v}"))
}

fn binding_of(client: &str) -> Result<Option<Value>, String> {
    Ok(bindings()?
        .into_iter()
        .find(|b| b["client"].as_str() == Some(client)))
}

/// The address of the server named `name`.
fn server_addr(name: &str) -> &'static str {
    let index = SERVER_NAMES.iter().position(|n| *n == name).unwrap_or(0);
    SERVERS[index]
}

fn wait_until_unbound(client: &str, limit: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        if binding_of(client)?.is_none() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            return Err(format!("{client} still bound after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub fn affinity() -> Outcome {
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    port_set(&["--affinity-timeout", &TIMEOUT_SECS.to_string()])?;
    // The other clients, and one more that comes last.
    let addresses: Vec<String> = (0..=OTHER_CLIENTS).map(other_client).collect();
    let (others, latecomer) = addresses.split_at(usize::from(OTHER_CLIENTS));
    let latecomer = &latecomer[0];
    for address in &addresses {
        run(
            CLIENT_NS,
            &["ip", "addr", "add", &format!("{address}/24"), "dev", "eth0"],
        )?;
    }
    let outcome = (|| {
        // Fifty connections of one client: one server.
        let first = connect_from(CLIENT, 50)?;
        let bound_to = only_server(&first, "the first client")?;
        println!("  50 connections of {CLIENT}: all to {bound_to}");

        // Other clients: each on one server, the clients spread by weight.
        let mut clients_per_server = std::collections::BTreeMap::new();
        for address in others {
            let server = only_server(&connect_from(address, 2)?, address)?;
            *clients_per_server.entry(server).or_insert(0) += 1;
        }
        println!("  {OTHER_CLIENTS} other clients by server: {clients_per_server:?}");
        ensure(
            clients_per_server.len() == 3 && clients_per_server.values().all(|&n| n >= 5),
            || format!("clients not spread by weight: {clients_per_server:?}"),
        )?;
        let shown = bindings()?;
        ensure(shown.len() == usize::from(OTHER_CLIENTS) + 1, || {
            format!("{} bindings shown: {shown:?}", shown.len())
        })?;
        let per_server: u64 = servers(LB_NS)?.iter().map(|r| r.affinity_records).sum();
        ensure(per_server == u64::from(OTHER_CLIENTS) + 1, || {
            format!("servers count {per_server} bindings")
        })?;

        // The binding outlives the last connection by the timeout, then goes. A binding
        // lasts while its connections' entries do, closed ones included (as IPVS's
        // persistence templates): with closed entries short-lived, what is left to see is
        // the binding's own timeout.
        ndadm(LB_NS, &["config", "set", "--timeout-fin", "1"])?;
        only_server(&connect_from(latecomer, 5)?, latecomer)?;
        let gone_after = wait_until_unbound(latecomer, Duration::from_secs(TIMEOUT_SECS + 5))?;
        println!("  {latecomer}'s binding gone {gone_after:?} after its last connection ended");
        ensure(gone_after >= Duration::from_secs(TIMEOUT_SECS), || {
            format!("{latecomer}'s binding went after {gone_after:?}, before its timeout")
        })?;

        // A quiesced server keeps its clients...
        let server = only_server(&connect_from(CLIENT, 1)?, "a bound client")?;
        set_weight(LB_NS, VIP, server_addr(&server), 0)?;
        let kept = only_server(&connect_from(CLIENT, 3)?, "a quiesced server's client")?;
        ensure(kept == server, || {
            format!("keep: {CLIENT} moved from quiesced {server} to {kept}")
        })?;
        set_weight(LB_NS, VIP, server_addr(&server), 1)?;
        // ... or loses them when the port says so (a change that drops the bindings).
        port_set(&["--affinity-quiesced", "rebalance"])?;
        let rebound = only_server(&connect_from(CLIENT, 1)?, "a rebound client")?;
        set_weight(LB_NS, VIP, server_addr(&rebound), 0)?;
        let moved = only_server(&connect_from(CLIENT, 3)?, "a quiesced server's client")?;
        ensure(moved != rebound, || {
            format!("rebalance: {CLIENT} stayed on quiesced {rebound}")
        })?;
        println!(
            "  quiesced {server}: kept its client; with rebalance, {rebound}'s went to {moved}"
        );
        set_weight(LB_NS, VIP, server_addr(&rebound), 1)?;

        // A removed server's bindings go at once.
        let holder = binding_of(CLIENT)?
            .and_then(|b| b["server"].as_str().map(str::to_owned))
            .ok_or("no binding left to remove")?;
        ndadm(LB_NS, &["server", "del", &format!("{VIP}:80"), &holder])?;
        ensure(
            !bindings()?
                .iter()
                .any(|b| b["server"].as_str() == Some(&holder)),
            || format!("bindings to removed {holder} remain"),
        )?;

        // A /24 netmask puts every client of the LAN under one binding.
        port_set(&["--affinity-prefix", "24"])?;
        let one = only_server(&connect_from(CLIENT, 1)?, CLIENT)?;
        let other = only_server(&connect_from(&addresses[0], 3)?, &addresses[0])?;
        ensure(one == other, || {
            format!(
                "a /24 binding sent {CLIENT} to {one} and {} to {other}",
                addresses[0]
            )
        })?;
        Ok(())
    })();
    for address in &addresses {
        let _ = run(
            CLIENT_NS,
            &["ip", "addr", "del", &format!("{address}/24"), "dev", "eth0"],
        );
    }
    outcome
}
