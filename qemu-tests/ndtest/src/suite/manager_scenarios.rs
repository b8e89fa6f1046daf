//! The Manager's scenarios: dynamic feedback re-weighting the Executor in a live cluster.

use super::cluster::*;
use super::managed::{
    self, hang_load, set_load, ManagedCluster, ADVISOR_TIMEOUT, AGENT_PORT, INTERVAL, MAX_WEIGHT,
    STALE_AFTER,
};
use super::memory::{Change, Memory};
use crate::report::ConnectReport;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long the Manager may take to react to a failure: two intervals and the advisor's
/// timeout, plus slack for an emulated machine and for polling the weights.
const REACTION: Duration = INTERVAL
    .saturating_mul(2)
    .saturating_add(ADVISOR_TIMEOUT)
    .saturating_add(Duration::from_millis(4000));
/// How long weights may take to settle after a change of load.
const SETTLING: Duration = Duration::from_secs(20);

fn share(report: &ConnectReport, server: usize) -> u64 {
    report
        .per_server
        .get(SERVER_NAMES[server])
        .copied()
        .unwrap_or(0)
}

/// (a) A server that answers slowly and whose host load rises: its weight falls and it gets a
/// smaller share of new connections than the others.
pub fn manager_slow_server() -> Outcome {
    let mut cluster = ManagedCluster::start(&[("http", 0.5), ("load", 0.5)], Some((2, 500)))?;
    set_load(2, 80)?;
    let (weights, took) = cluster.wait_for_weights(SETTLING, |w| w[2] * 3 <= w[0].min(w[1]))?;
    println!("  weights {weights:?} after {took:?}");
    let report = connect(VIP, 80, 200, 4)?;
    println!("  distribution {:?}", report.per_server);
    ensure(report.ok == 200, || {
        format!(
            "{} connections failed: {:?}; the dispatcher dropped {}",
            report.failed,
            report.errors,
            drops(LB_NS)
        )
    })?;
    let slow = share(&report, 2);
    ensure(slow < share(&report, 0) && slow < share(&report, 1), || {
        format!(
            "the slow server got {slow} connections: {:?}",
            report.per_server
        )
    })?;
    // Half of what equal weights would give it.
    ensure(slow <= 200 / 6, || {
        format!("the slow server still got {slow} of 200 connections")
    })
}

/// (b) A server whose HTTP service stops is quiesced within two intervals without cutting its
/// open connections, and reintroduced once it answers again.
pub fn manager_service_down() -> Outcome {
    let mut cluster = ManagedCluster::start(&[("http", 1.0)], None)?;
    cluster.wait_for_weights(SETTLING, |w| w.iter().all(|&w| w > 0))?;
    let hold = Hold::start(VIP, 6, 12)?;
    cluster.stop_health(1);
    let (weights, took) = cluster.wait_for_weights(REACTION, |w| w[1] == 0)?;
    println!("  service down: weights {weights:?} after {took:?}");
    let while_down = connect(VIP, 80, 30, 3)?;
    ensure(while_down.ok == 30 && share(&while_down, 1) == 0, || {
        format!(
            "while srv2 was down: {:?}, errors {:?}",
            while_down.per_server, while_down.errors
        )
    })?;
    cluster.restart_health(1)?;
    let (weights, took) = cluster.wait_for_weights(REACTION, |w| w[1] > 0)?;
    println!("  service back: weights {weights:?} after {took:?}");
    let streams = hold.finish()?;
    println!(
        "  streams {:?} intact {}/{}",
        streams.per_server, streams.intact, streams.conns
    );
    streams_intact(&streams, SERVER_NAMES[1], 6)?;
    let after = connect(VIP, 80, 30, 3)?;
    ensure(share(&after, 1) > 0, || {
        format!("srv2 got no connection once back: {:?}", after.per_server)
    })
}

/// (c) A server whose agent stops reporting is quiesced, and reintroduced when it reports
/// again.
pub fn manager_agent_silent() -> Outcome {
    let mut cluster = ManagedCluster::start(&[("http", 0.5), ("load", 0.5)], None)?;
    cluster.wait_for_weights(SETTLING, |w| w.iter().all(|&w| w > 0))?;
    cluster.stop_agent(2);
    let (weights, took) = cluster.wait_for_weights(STALE_AFTER + REACTION, |w| w[2] == 0)?;
    println!("  agent silent: weights {weights:?} after {took:?}");
    let while_silent = connect(VIP, 80, 30, 3)?;
    ensure(
        while_silent.ok == 30 && share(&while_silent, 2) == 0,
        || {
            format!(
                "while srv3's agent was silent: {:?}, errors {:?}",
                while_silent.per_server, while_silent.errors
            )
        },
    )?;
    cluster.restart_agent(2)?;
    let (weights, took) = cluster.wait_for_weights(REACTION, |w| w[2] > 0)?;
    println!("  agent back: weights {weights:?} after {took:?}");
    Ok(())
}

/// (d) Relative metric weights changed at run time take effect on the next interval: a load
/// the Manager ignored starts to count once the configuration says so.
pub fn manager_reload() -> Outcome {
    let mut cluster = ManagedCluster::start(&[("new_conns", 1.0)], None)?;
    set_load(0, 90)?;
    // With no traffic the new-connection metric is equal everywhere: weights stay equal.
    std::thread::sleep(3 * INTERVAL);
    let before =
        cluster.wait_for_weights(SETTLING, |w| w[0] == w[1] && w[1] == w[2] && w[0] > 0)?;
    println!("  load ignored: weights {:?}", before.0);
    cluster.reload(&[("load", 1.0)])?;
    let (weights, took) = cluster.wait_for_weights(REACTION, |w| w[0] * 4 < w[1].min(w[2]) * 3)?;
    println!("  load weighed: weights {weights:?} after {took:?}");
    // Without the Manager, the Executor goes on with the last weights.
    cluster.stop_manager();
    let last = managed::weights()?;
    let report = connect(VIP, 80, 30, 3)?;
    ensure(report.ok == 30, || {
        format!("without the Manager: {:?}", report.errors)
    })?;
    let after = managed::weights()?;
    ensure(after == last, || {
        format!("weights moved from {last:?} to {after:?} with the Manager stopped")
    })
}

/// Polls the weights while faults are injected and keeps every reading no valid commit could
/// have made: a weight above the configured maximum, or every server at 0 while at most one
/// is faulty.
struct WeightWatch {
    stop: Arc<AtomicBool>,
    readings: Arc<Mutex<(u64, Vec<[u64; 3]>)>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl WeightWatch {
    fn start() -> WeightWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let readings = Arc::new(Mutex::new((0, Vec::new())));
        let thread = {
            let (stop, readings) = (Arc::clone(&stop), Arc::clone(&readings));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(weights) = managed::weights() {
                        let invalid = weights.iter().any(|&w| w > MAX_WEIGHT)
                            || weights.iter().all(|&w| w == 0);
                        let mut readings = readings.lock().unwrap_or_else(|e| e.into_inner());
                        readings.0 += 1;
                        if invalid {
                            readings.1.push(weights);
                        }
                    }
                    thread::sleep(Duration::from_millis(200));
                }
            })
        };
        WeightWatch {
            stop,
            readings,
            thread: Some(thread),
        }
    }

    /// Stops polling: how many readings were taken, and the invalid ones.
    fn finish(mut self) -> (u64, Vec<[u64; 3]>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let readings = self.readings.lock().unwrap_or_else(|e| e.into_inner());
        (readings.0, readings.1.clone())
    }
}

/// Waits until server `server` is quiesced, checks that new connections avoid it, brings it
/// back with `heal` and waits until it takes connections again.
fn quiesced_then_back(
    cluster: &mut ManagedCluster,
    server: usize,
    fault: &str,
    limit: Duration,
    heal: impl FnOnce(&mut ManagedCluster) -> Outcome,
) -> Outcome {
    let (weights, took) = cluster
        .wait_for_weights(limit, |w| w[server] == 0)
        .map_err(|e| format!("{fault}: {e}"))?;
    println!("  {fault}: weights {weights:?} after {took:?}");
    let report = connect(VIP, 80, 30, 3)?;
    ensure(report.ok == 30 && share(&report, server) == 0, || {
        format!(
            "{fault}: {:?}, errors {:?}",
            report.per_server, report.errors
        )
    })?;
    heal(cluster)?;
    let (weights, took) = cluster
        .wait_for_weights(REACTION + STALE_AFTER, |w| w[server] > 0)
        .map_err(|e| format!("{fault} healed: {e}"))?;
    println!("  {fault} healed: weights {weights:?} after {took:?}");
    Ok(())
}

/// (e) Advisors and agents that hang or send garbage: the Manager keeps running, quiesces the
/// server each fault makes unusable and brings it back once healed, ignores what is not a
/// report, and never commits weights it should not.
pub fn manager_faults() -> Outcome {
    let mut cluster = ManagedCluster::start(&[("http", 0.5), ("load", 0.5)], None)?;
    cluster.wait_for_weights(SETTLING, |w| w.iter().all(|&w| w > 0))?;
    let watch = WeightWatch::start();
    let memory_before = Memory::now();
    let faults = (|| {
        for (server, fault) in [(0, "hang"), (1, "garbage"), (2, "error"), (0, "reset")] {
            cluster.break_health(server, fault)?;
            quiesced_then_back(
                &mut cluster,
                server,
                &format!("advisor {fault}"),
                REACTION,
                |c| c.restart_health(server),
            )?;
        }
        hang_load(2)?;
        quiesced_then_back(
            &mut cluster,
            2,
            "agent command hangs",
            STALE_AFTER + REACTION,
            |_| set_load(2, 10),
        )?;
        // Garbage from a server's own address, while its real agent goes on reporting.
        let garbage = run(
            SERVER_NAMES[1],
            &[
                "ndtest",
                "agent-garbage",
                "--to",
                &format!("{LB_ADDR}:{AGENT_PORT}"),
                "--count",
                &scaled(3000, 20_000).to_string(),
                "--seed",
                "5",
                "--gap-ms",
                "1",
            ],
        )?;
        println!("  agent garbage: {}", garbage.trim());
        thread::sleep(2 * INTERVAL);
        cluster.wait_for_weights(REACTION, |w| w.iter().all(|&w| w > 0))?;
        Ok::<(), String>(())
    })();
    let (readings, invalid) = watch.finish();
    faults?;
    println!("  {readings} weight readings, {} invalid", invalid.len());
    println!("  {}", Change(memory_before, Memory::now()));
    ensure(invalid.is_empty(), || {
        format!("invalid weights were committed: {invalid:?}")
    })?;
    let log = cluster.manager_log();
    ensure(log.contains("not valid reports"), || {
        format!(
            "the Manager did not tell of the ignored datagrams:\n{}",
            managed::manager_log_tail()
        )
    })?;
    let failed_commits = log
        .lines()
        .filter(|l| l.contains("committing the weights"))
        .count();
    ensure(failed_commits == 0, || {
        format!("{failed_commits} commits were refused by the Executor")
    })
}
