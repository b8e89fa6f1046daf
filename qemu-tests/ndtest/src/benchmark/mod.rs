//! The forwarding benchmark, run inside the test VM: the Executor, IPVS in direct-routing
//! mode and no balancer at all, measured in the same VM, round after round, with the order
//! of the paths rotating from one round to the next, so that a slow moment of the emulated
//! machine does not land on one path only. Under emulation only the ratios mean anything.
//!
//! Each round measures, on each path: new connections a second from many concurrent
//! clients; request latency at a fixed moderate rate; established TCP flows of small
//! segments; and, with frames injected past the client's TCP stack so that the balancer is
//! the work per frame, the forwarding rate of established flows with 1k, 100k and 1M entries
//! in the table, and the kernel memory each entry costs.

pub mod balancer;
mod measure;
pub mod results;

use crate::suite::cluster::{ensure, run, Outcome, CLIENT_NS, LB_NS, SERVERS, SERVER_NAMES, VIP};
use balancer::{Balancer, DISCARD_PORT, HTTP_PORT};
use results::{BenchResults, PathKind};
use std::process::{Child, Command, Stdio};

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Plan {
    pub rounds: u32,
    /// Length of each measured window.
    pub seconds: u64,
    /// Table sizes of the forwarding measurement.
    pub table_sizes: Vec<u64>,
    /// Concurrent transactions of the connection-rate measurement.
    pub concurrency: u32,
    /// Connections of the stream measurement.
    pub stream_conns: u32,
}

impl Plan {
    /// What `make bench` runs.
    pub fn full() -> Plan {
        Plan {
            rounds: 5,
            seconds: 5,
            table_sizes: vec![1_000, 100_000, 1_000_000],
            concurrency: 32,
            stream_conns: 16,
        }
    }

    /// One short round, to show in CI that every path and measurement works.
    pub fn smoke() -> Plan {
        Plan {
            rounds: 1,
            seconds: 1,
            table_sizes: vec![1_000],
            concurrency: 8,
            stream_conns: 4,
        }
    }
}

/// The benchmark's servers on every server: an HTTP responder and a discard sink.
struct Sinks(Vec<Child>);

impl Sinks {
    fn start() -> Result<Sinks, String> {
        let mut children = Vec::new();
        for ns in SERVER_NAMES {
            for (port, mode) in [(HTTP_PORT, "http"), (DISCARD_PORT, "discard")] {
                let child = Command::new("/sbin/ip")
                    .args(["netns", "exec", ns, "ndtest", "bench-sink", "--mode", mode])
                    .args(["--listen", &format!("0.0.0.0:{port}")])
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("bench-sink in {ns}: {e}"))?;
                children.push(child);
            }
        }
        let sinks = Sinks(children);
        for server in SERVERS {
            for port in [HTTP_PORT, DISCARD_PORT] {
                let to = format!("{server}:{port}");
                run(CLIENT_NS, &["ndtest", "wait-port", "--to", &to])?;
            }
        }
        Ok(sinks)
    }
}

impl Drop for Sinks {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// While the benchmark (or the load-sharing evaluation) runs, its own balancer holds the
/// cluster address: the suite's dispatcher gives it up, and takes it back afterwards.
pub struct AddressLent;

impl AddressLent {
    /// Takes the cluster address from the suite's dispatcher until dropped.
    pub fn lend() -> Result<AddressLent, String> {
        let vip = format!("{VIP}/32");
        run(LB_NS, &["ip", "addr", "del", &vip, "dev", "eth0"])?;
        Ok(AddressLent)
    }
}

impl Drop for AddressLent {
    fn drop(&mut self) {
        let vip = format!("{VIP}/32");
        let _ = run(LB_NS, &["ip", "addr", "add", &vip, "dev", "eth0"]);
        let _ = run(CLIENT_NS, &["ip", "neigh", "flush", "dev", "eth0"]);
    }
}

/// The paths of round `round`, rotated.
fn order(round: u32) -> [PathKind; 3] {
    let mut paths = PathKind::ALL;
    paths.rotate_left(round as usize % PathKind::ALL.len());
    paths
}

/// Runs `plan` and returns what it measured; progress goes to stdout.
pub fn run_plan(plan: &Plan) -> Result<BenchResults, String> {
    let mut results = BenchResults::default();
    for (key, value) in [
        ("rounds", plan.rounds.to_string()),
        ("window", format!("{} s", plan.seconds)),
        ("concurrency", plan.concurrency.to_string()),
        ("stream connections", plan.stream_conns.to_string()),
        ("servers", SERVERS.len().to_string()),
        (
            "kernel",
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
    ] {
        results.setup.insert(key.to_owned(), value);
    }
    let _sinks = Sinks::start()?;
    let _lent = AddressLent::lend()?;
    // The fixed rate of the latency measurement: a third of what the emulated machine
    // manages without a balancer, a moderate load on every path.
    let calibration = {
        let _direct = Balancer::up(PathKind::Direct)?;
        measure::connection_rate(plan, PathKind::Direct, "wrr", &mut BenchResults::default())?
    };
    let latency_rate = ((calibration / 3.0) as u64).max(10);
    results
        .setup
        .insert("latency rate".into(), format!("{latency_rate}/s"));
    for round in 0..plan.rounds {
        for path in order(round) {
            println!("  round {} of {}: {}", round + 1, plan.rounds, path.name());
            {
                let balancer = Balancer::up(path)?;
                measure::connection_rate(plan, path, "wrr", &mut results)?;
                measure::latency(plan, path, latency_rate, &mut results)?;
                measure::stream(plan, path, &mut results)?;
                // What least-connection scheduling costs a new connection, against IPVS's.
                if path != PathKind::Direct {
                    balancer.schedule_http_by("wlc")?;
                    measure::connection_rate(plan, path, "wlc", &mut results)?;
                }
            }
            // Without a balancer there is no table: one size shows the limit.
            let sizes = if path == PathKind::Direct {
                &plan.table_sizes[..1]
            } else {
                &plan.table_sizes[..]
            };
            for &flows in sizes {
                measure::forwarding(plan, path, flows, &mut results)?;
            }
        }
    }
    Ok(results)
}

/// Prints `results` as a table, with the run's remarks.
pub fn print(results: &BenchResults) {
    print!("{}", results.text_table());
    for note in &results.notes {
        println!("  note: {note}");
    }
}

/// Fails unless every path has a positive figure of every kind that `plan` measures on it.
pub fn check_complete(plan: &Plan, results: &BenchResults) -> Outcome {
    for row in results.summary() {
        let wanted: &[PathKind] = if row.figure.key.starts_with("entry_bytes") {
            &[PathKind::Ours, PathKind::Ipvs]
        } else if row.figure.key.starts_with("table_bytes") {
            &[PathKind::Ours]
        } else if row.figure.key.starts_with("conn_rate_")
            || (row.figure.key.starts_with("forward_pps")
                && row.figure.key != format!("forward_pps@{}", plan.table_sizes[0]))
        {
            &[PathKind::Ours, PathKind::Ipvs]
        } else {
            &PathKind::ALL
        };
        // Memory may not grow at all for a small table whose slots came with the namespace.
        let memory = row.figure.unit == "B";
        for path in wanted {
            let value = row.medians.get(path).copied();
            ensure(
                value.is_some_and(|v| v > 0.0 || (memory && v >= 0.0)),
                || format!("{}: no {} figure", path.name(), row.figure.key),
            )?;
        }
    }
    ensure(!results.figures.is_empty(), || "nothing measured".into())
}
