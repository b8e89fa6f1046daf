//! The Manager's scenarios: dynamic feedback re-weighting the Executor in a live cluster.

use super::cluster::*;
use super::managed::{self, set_load, ManagedCluster, ADVISOR_TIMEOUT, INTERVAL, STALE_AFTER};
use crate::report::ConnectReport;
use std::time::Duration;

/// How long the Manager may take to react to a failure: two intervals and the advisor's
/// timeout, plus slack for an emulated machine and for polling the weights.
const REACTION: Duration = INTERVAL
    .saturating_mul(2)
    .saturating_add(ADVISOR_TIMEOUT)
    .saturating_add(Duration::from_millis(2500));
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
        format!("{} connections failed: {:?}", report.failed, report.errors)
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
