//! The least-connection schedulers: a port running `wlc` or `sed` sends new connections to
//! the servers with the fewest open, and a scheduler changed at run time leaves open
//! connections where they are.

use super::cluster::*;
use crate::report::HoldReport;

/// How long the first streams live: through every later step of the scenario.
const LONG_STREAMS_SECS: u32 = 90;
/// How long the streams of each step live: through the whole step, so that every
/// decision of the step sees all the step's earlier streams established.
const STEP_STREAMS_SECS: u32 = 20;

fn set_scheduler(name: &str) -> Outcome {
    ndadm(
        LB_NS,
        &["port", "set", &format!("{VIP}:80"), "--scheduler", name],
    )
    .map(drop)
}

fn scheduler_shown() -> Result<String, String> {
    let ports = ndadm_json(LB_NS, &["port", "show"])?;
    Ok(ports[0]["scheduler"].as_str().unwrap_or("").to_owned())
}

fn share(report: &HoldReport, server: usize) -> u64 {
    report
        .per_server
        .get(SERVER_NAMES[server])
        .copied()
        .unwrap_or(0)
}

/// `count` streams opened one after the other, each established before the next is asked
/// for, so that every scheduling decision sees the ones before it.
fn streams_one_by_one(count: u32, seconds: u32) -> Result<Vec<Hold>, String> {
    (0..count).map(|_| Hold::start(VIP, 1, seconds)).collect()
}

/// Where each of `holds` went, in server order.
fn shares(holds: Vec<Hold>) -> Result<[u64; 3], String> {
    let mut counts = [0; 3];
    for hold in holds {
        let report = hold.finish()?;
        ensure(report.intact == 1, || {
            format!("a stream broke: {:?}", report.errors)
        })?;
        for (server, count) in counts.iter_mut().enumerate() {
            *count += share(&report, server);
        }
    }
    Ok(counts)
}

pub fn least_connection() -> Outcome {
    // Six streams, all on srv1: the only server with a weight.
    configure(
        LB_NS,
        VIP,
        &[(SERVERS[0], 1), (SERVERS[1], 0), (SERVERS[2], 0)],
    )?;
    ensure(scheduler_shown()? == "wrr", || {
        "a new port is not wrr".into()
    })?;
    let long = Hold::start(VIP, 6, LONG_STREAMS_SECS)?;
    for server in &SERVERS[1..] {
        set_weight(LB_NS, VIP, server, 1)?;
    }

    // wlc, switched to with the streams open: srv1 holds six, so the next six go to the
    // others, three each (a new connection counts 1/256 of an established one until then).
    set_scheduler("wlc")?;
    ensure(scheduler_shown()? == "wlc", || {
        "the port does not show wlc".into()
    })?;
    let wlc = shares(streams_one_by_one(6, STEP_STREAMS_SECS)?)?;
    println!("  wlc with srv1 holding 6: new streams {wlc:?}");
    ensure(wlc == [0, 3, 3], || {
        format!("wlc sent the new streams to {wlc:?}, not [0, 3, 3]")
    })?;

    // sed with srv2 now the only one of weight 4: (active + 1) / weight is 7 on srv1, 1/4 on
    // srv2 and 1 on srv3, so srv2 takes connections until its delay reaches srv3's.
    set_weight(LB_NS, VIP, SERVERS[1], 4)?;
    set_scheduler("sed")?;
    let sed_streams = streams_one_by_one(4, STEP_STREAMS_SECS)?;
    let sed = shares(sed_streams)?;
    println!("  sed with weights 1:4:1: new streams {sed:?}");
    ensure(sed == [0, 4, 0], || {
        format!("sed sent the new streams to {sed:?}, not [0, 4, 0]")
    })?;

    // Back to wrr at equal weights: new connections are spread again.
    set_weight(LB_NS, VIP, SERVERS[1], 1)?;
    set_scheduler("wrr")?;
    let report = connect(VIP, 80, 30, 3)?;
    ensure(report.ok == 30 && report.per_server.len() == 3, || {
        format!(
            "wrr after sed: {:?}, errors {:?}",
            report.per_server, report.errors
        )
    })?;

    // None of the switches moved or cut the first streams.
    let long = long.finish()?;
    println!(
        "  first streams {:?}, intact {}/{}",
        long.per_server, long.intact, long.conns
    );
    ensure(share(&long, 0) == 6, || {
        format!(
            "the first streams were not all on srv1: {:?}",
            long.per_server
        )
    })?;
    streams_intact(&long, SERVER_NAMES[0], 6)
}
