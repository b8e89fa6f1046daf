//! One measured run of one policy: a fresh balancer configured for it, fresh emulated
//! servers, the Manager for the Manager's policies, and then the workload from the client,
//! while the servers' statistics (and, under the Manager, the weights) are read once a second
//! until it ends. Everything the run started ends with it, however it ends.

use super::manager::ManagerRun;
use super::policy::Policy;
use super::results::{PolicyRun, WeightSample};
use super::servers::{EmulatedServers, SERVICE_PORT, WORK_DIR};
use super::window::server_window;
use super::Plan;
use crate::bench::clock::now_ns;
use crate::bench::report::{PsServeReport, WorkloadReport};
use crate::bench::workload::mix_name;
use crate::benchmark::balancer::{Balancer, Services, BALANCER_NS};
use crate::suite::cluster::{servers, CLIENT_NS, SERVERS, VIP};
use crate::suite::daemon::Daemon;
use std::time::{Duration, Instant};

/// How often the statistics and weights are read.
const SAMPLE_PERIOD: Duration = Duration::from_secs(1);
/// How long past its planned end a workload may run before it is stopped as stuck.
const OVERRUN: Duration = Duration::from_secs(60);

/// The weights of the servers of the evaluation's port, in the order of `SERVERS`.
fn weights() -> Result<Vec<u64>, String> {
    let rows = servers(BALANCER_NS)?;
    SERVERS
        .iter()
        .map(|address| {
            rows.iter()
                .find(|row| row.server == *address)
                .map(|row| row.weight)
                .ok_or_else(|| format!("{address} missing from server show"))
        })
        .collect()
}

/// Adds one reading of every server to `readings` (one list per server).
fn record(readings: &mut [Vec<PsServeReport>], now: Vec<PsServeReport>) {
    for (list, reading) in readings.iter_mut().zip(now) {
        list.push(reading);
    }
}

/// The workload's command line for `plan` at `rate`, seeded with `seed`.
fn workload_args(plan: &Plan, rate: f64, seed: u64) -> Vec<String> {
    let to = format!("{VIP}:{SERVICE_PORT}");
    [
        "ndtest",
        "workload",
        "--to",
        &to,
        "--rate",
        &format!("{rate:.3}"),
        "--seconds",
        &plan.seconds.to_string(),
        "--warmup-seconds",
        &plan.warmup.as_secs().to_string(),
        "--mix",
        mix_name(plan.mix),
        "--seed",
        &seed.to_string(),
        "--concurrency-limit",
        &plan.concurrency_limit.to_string(),
        "--timeout-ms",
        &plan.timeout.as_millis().to_string(),
        "--drain-ms",
        &plan.drain.as_millis().to_string(),
    ]
    .map(str::to_owned)
    .into()
}

/// Runs `policy` for round `round` of `plan` at `rate` requests a second.
pub fn measure(plan: &Plan, policy: Policy, round: u32, rate: f64) -> Result<PolicyRun, String> {
    let weights_at_start = policy.initial_weights(&plan.capacities);
    let services = Services {
        ports: &[SERVICE_PORT],
        weights: &weights_at_start,
        ipvs_scheduler: policy.ipvs_scheduler(),
    };
    // Dropped in reverse: the workload, the Manager, the servers, then the balancer.
    let _balancer = Balancer::up_with(policy.path(), &services)?;
    let mut servers = EmulatedServers::start(&plan.capacities)?;
    let mut manager = match policy.manager_policy() {
        Some(name) => Some(ManagerRun::start(name, plan.manager_interval)?),
        None => None,
    };
    let mut readings = vec![Vec::new(); SERVERS.len()];
    record(&mut readings, servers.stats()?);
    let report_path = format!("{WORK_DIR}/workload.json");
    let args = workload_args(plan, rate, plan.seed + u64::from(round));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let mut workload = Daemon::start_reporting(CLIENT_NS, &args, &report_path)?;
    let limit = plan.warmup + Duration::from_secs(plan.seconds) + plan.drain + OVERRUN;
    let mut samples: Vec<(u64, Vec<u64>)> = Vec::new();
    let mut next_sample = started;
    let status = loop {
        if let Some(status) = workload.exited()? {
            break status;
        }
        if started.elapsed() > limit {
            return Err(format!("{} still running after {limit:?}", workload.what()));
        }
        if Instant::now() >= next_sample {
            record(&mut readings, servers.stats()?);
            if let Some(manager) = &mut manager {
                manager.alive()?;
                samples.push((now_ns(), weights()?));
            }
            next_sample += SAMPLE_PERIOD;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !status.success() {
        return Err(format!("{} failed: {status}", workload.what()));
    }
    record(&mut readings, servers.stats()?);
    let text = std::fs::read_to_string(&report_path).map_err(|e| format!("{report_path}: {e}"))?;
    let report = WorkloadReport::from_json(text.trim())
        .map_err(|e| format!("workload report ({e}): {text}"))?;
    let start_ns = report
        .window_start_ns
        .saturating_sub(plan.warmup.as_nanos() as u64);
    let weights = samples
        .into_iter()
        .map(|(at_ns, weights)| WeightSample {
            seconds: (at_ns as f64 - start_ns as f64) / 1e9,
            weights,
        })
        .collect();
    let windows = readings
        .iter()
        .map(|list| server_window(list, report.window_start_ns, report.window_end_ns))
        .collect();
    Ok(PolicyRun {
        policy,
        round,
        workload: report,
        servers: windows,
        weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_asked_for_what_the_plan_says() {
        let plan = Plan::quick();
        let args = workload_args(&plan, 99.5575, 3);
        let joined = args.join(" ");
        assert!(joined.starts_with("ndtest workload --to 10.0.0.100:8000 --rate 99.558"));
        assert!(joined.contains(&format!("--seconds {}", plan.seconds)));
        assert!(joined.contains("--mix abcd --seed 3"));
        assert!(joined.contains(&format!("--timeout-ms {}", plan.timeout.as_millis())));
    }
}
