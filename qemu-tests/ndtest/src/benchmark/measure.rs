//! The measurements, each run through the load generators of `ndtest bench-*` on one path.

use super::balancer::{self, Balancer, DISCARD_PORT, HTTP_PORT, INJECT_PORT};
use super::results::{BenchResults, Better, PathKind};
use super::Plan;
use crate::bench::report::{CrrReport, InjectReport, LatencyReport, StreamReport};
use crate::suite::cluster::{device_counter, run, CLIENT_NS, SERVER_NAMES, VIP};
use crate::suite::memory::Memory;
use serde::de::DeserializeOwned;
use std::thread;
use std::time::Duration;

fn parse<T: DeserializeOwned>(what: &str, out: &str) -> Result<T, String> {
    serde_json::from_str(out.trim()).map_err(|e| format!("{what} report ({e}): {out}"))
}

/// Runs `ndtest ARGS` in the client's namespace and parses its report.
fn client<T: DeserializeOwned>(args: &[&str]) -> Result<T, String> {
    let mut full = vec!["ndtest"];
    full.extend_from_slice(args);
    parse(args[0], &run(CLIENT_NS, &full)?)
}

/// Connection rate: closed-loop transactions (connect, request, response, close), under the
/// balancer's scheduler `scheduler`, whose name keys the figure unless it is the default.
pub fn connection_rate(
    plan: &Plan,
    path: PathKind,
    scheduler: &str,
    results: &mut BenchResults,
) -> Result<f64, String> {
    let to = format!("{}:{HTTP_PORT}", balancer::target(path));
    let report: CrrReport = client(&[
        "bench-crr",
        "--to",
        &to,
        "--concurrency",
        &plan.concurrency.to_string(),
        "--seconds",
        &plan.seconds.to_string(),
    ])?;
    let (key, label) = if scheduler == "wrr" {
        (
            "conn_rate".to_owned(),
            "new connections (connect, request, response, close)".to_owned(),
        )
    } else {
        (
            format!("conn_rate_{scheduler}"),
            format!("new connections, {scheduler} scheduling"),
        )
    };
    results.figure(&key, &label, "1/s", Better::Higher);
    results.record(&key, path, report.rate);
    if report.failed > 0 {
        results.notes.push(format!(
            "{}: {} of {} transactions failed: {:?}",
            path.name(),
            report.failed,
            report.completed + report.failed,
            report.errors
        ));
    }
    Ok(report.rate)
}

/// Latency of transactions started at a fixed rate, timed from their scheduled start.
pub fn latency(
    plan: &Plan,
    path: PathKind,
    rate: u64,
    results: &mut BenchResults,
) -> Result<(), String> {
    let to = format!("{}:{HTTP_PORT}", balancer::target(path));
    let report: LatencyReport = client(&[
        "bench-latency",
        "--to",
        &to,
        "--rate",
        &rate.to_string(),
        "--seconds",
        &plan.seconds.to_string(),
    ])?;
    let unit = format!("us at {rate}/s");
    results.figure("latency_p50", "request latency p50", &unit, Better::Lower);
    results.figure("latency_p99", "request latency p99", &unit, Better::Lower);
    results.record("latency_p50", path, report.latency_us.p50 as f64);
    results.record("latency_p99", path, report.latency_us.p99 as f64);
    if report.failed > 0 || report.unstarted > 0 {
        results.notes.push(format!(
            "{}: at {rate}/s, {} transactions failed and {} could not start",
            path.name(),
            report.failed,
            report.unstarted
        ));
    }
    Ok(())
}

/// Established TCP flows sending small segments, through the whole stacks of both ends.
pub fn stream(plan: &Plan, path: PathKind, results: &mut BenchResults) -> Result<(), String> {
    let to = format!("{}:{DISCARD_PORT}", balancer::target(path));
    let report: StreamReport = client(&[
        "bench-stream",
        "--to",
        &to,
        "--conns",
        &plan.stream_conns.to_string(),
        "--seconds",
        &plan.seconds.to_string(),
        "--segment",
        "64",
    ])?;
    results.figure(
        "stream_segments",
        "TCP segments of 64 B, established flows",
        "1/s",
        Better::Higher,
    );
    results.record("stream_segments", path, report.tcp_data_segs_per_second);
    Ok(())
}

/// Frames the servers' LAN interfaces have received.
fn servers_rx() -> Result<u64, String> {
    SERVER_NAMES
        .iter()
        .map(|ns| device_counter(ns, "eth0", "rx_packets"))
        .sum()
}

fn inject(mac: &str, flows: u64, seconds: u64, open: bool) -> Result<InjectReport, String> {
    let (flows, seconds) = (flows.to_string(), seconds.to_string());
    let port = INJECT_PORT.to_string();
    let mut args = vec![
        "bench-inject",
        "--ifname",
        "eth0",
        "--dst-mac",
        mac,
        "--vip",
        VIP,
        "--port",
        &port,
        "--flows",
        &flows,
        "--seconds",
        &seconds,
    ];
    if open {
        args.push("--open");
    }
    client(&args)
}

/// Forwarding rate of established flows, with `flows` entries in the table: the frames of
/// the flows go past the client's TCP stack straight to the balancer, which makes the
/// balancer (not TCP) the work per frame. Also what each entry costs in memory.
pub fn forwarding(
    plan: &Plan,
    path: PathKind,
    flows: u64,
    results: &mut BenchResults,
) -> Result<(), String> {
    let balancer = Balancer::up(path)?;
    let mac = balancer.mac()?;
    let before = Memory::now();
    // One SYN per flow enters it and an ACK establishes it; a second of ACKs follows.
    let opened = inject(&mac, flows, 1, true)?;
    let entries = balancer.entries()?;
    let after = Memory::now();
    let rx_before = servers_rx()?;
    let sent = inject(&mac, flows, plan.seconds, false)?;
    let rx_after = servers_rx()?;
    let elapsed = sent.elapsed_ms.max(1) as f64 / 1000.0;
    let key = format!("forward_pps@{flows}");
    results.figure(
        &key,
        &format!("forwarded packets, {flows} flows"),
        "1/s",
        Better::Higher,
    );
    results.record(
        &key,
        path,
        rx_after.saturating_sub(rx_before) as f64 / elapsed,
    );
    if path != PathKind::Direct {
        if entries * 100 < flows * 99 {
            results.notes.push(format!(
                "{}: {entries} of {flows} flows were in the table ({} SYNs sent in {} ms)",
                path.name(),
                opened.syns_sent,
                opened.open_ms
            ));
        }
        let per_entry = |bytes: u64| bytes as f64 / entries.max(1) as f64;
        let key = format!("entry_bytes@{flows}");
        results.figure(
            &key,
            &format!("kernel memory per entry, {flows} entries"),
            "B",
            Better::Lower,
        );
        results.record(
            &key,
            path,
            per_entry(after.slab_growth_since(&before) * 1024),
        );
        if let Some(bytes) = balancer.table_bytes()? {
            let key = format!("table_bytes@{flows}");
            results.figure(
                &key,
                &format!("table slots per entry, {flows} entries"),
                "B",
                Better::Lower,
            );
            results.record(&key, path, per_entry(bytes));
        }
    }
    drop(balancer);
    // A namespace with a large table takes a while to go; let it before the next run.
    settle();
    Ok(())
}

/// Waits until the kernel's unreclaimable slab stops shrinking: what a deleted namespace held
/// has been given back.
fn settle() {
    let mut last = Memory::now().slab_unreclaimable_kb;
    for _ in 0..30 {
        thread::sleep(Duration::from_secs(1));
        let now = Memory::now().slab_unreclaimable_kb;
        if now + 256 >= last {
            return;
        }
        last = now;
    }
}
