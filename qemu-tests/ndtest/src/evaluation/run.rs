//! One measured run of one policy: a fresh balancer configured for it, fresh emulated
//! servers, the Manager for the Manager's policies, and then the workload from the client,
//! while the servers' statistics (and, under the Manager, the weights) are read once a second
//! until it ends. Everything the run started ends with it, however it ends.
//!
//! A scenario's disturbance is on the servers' schedules, whose clock starts with the
//! workload: the servers are told an instant a little ahead, and the workload starts then,
//! so that the disturbance falls where the scenario puts it in the workload's time.

use super::manager::ManagerRun;
use super::policy::Policy;
use super::results::{PolicyRun, WeightSample};
use super::scenario::Setting;
use super::servers::{EmulatedServers, SERVICE_PORT, WORK_DIR};
use super::window::server_window;
use super::Plan;
use crate::bench::clock::{nanos, now_ns};
use crate::bench::ps_schedule::Window;
use crate::bench::report::{PsServeReport, WorkloadReport};
use crate::bench::workload::mix_name;
use crate::benchmark::balancer::{Balancer, Services, BALANCER_NS};
use crate::benchmark::results::PathKind;
use crate::suite::cluster::{servers, CLIENT_NS, SERVERS, VIP};
use crate::suite::daemon::Daemon;
use std::time::{Duration, Instant};

/// How often the statistics and weights are read.
const SAMPLE_PERIOD: Duration = Duration::from_secs(1);
/// How long past its planned end a workload may run before it is stopped as stuck.
const OVERRUN: Duration = Duration::from_secs(60);
/// How far ahead of the servers' start their schedules' clock starts: time for the Manager
/// and its agents to start before the workload does.
pub const SCHEDULE_LEAD: Duration = Duration::from_secs(3);

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

/// The workload's command line for `plan` and `setting` at `rate`, seeded with `seed`.
fn workload_args(plan: &Plan, setting: &Setting, rate: f64, seed: u64) -> Vec<String> {
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
        mix_name(setting.mix()),
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

/// Sleeps until `at_ns` of the monotonic clock, if that is still ahead.
fn sleep_until(at_ns: u64) {
    let now = now_ns();
    if at_ns > now {
        std::thread::sleep(Duration::from_nanos(at_ns - now));
    }
}

/// Runs `policy` in `setting` for round `round` of `plan` at `rate` requests a second.
pub fn measure(
    plan: &Plan,
    setting: &Setting,
    policy: Policy,
    round: u32,
    rate: f64,
) -> Result<PolicyRun, String> {
    let weights_at_start = setting.initial_weights(policy);
    let services = Services {
        ports: &[SERVICE_PORT],
        weights: &weights_at_start,
        ipvs_scheduler: policy.ipvs_scheduler(),
    };
    // Dropped in reverse: the workload, the Manager, the servers, then the balancer.
    let balancer = Balancer::up_with(policy.path(), &services)?;
    if policy.path() == PathKind::Ours && policy.executor_scheduler() != "wrr" {
        // The Manager gives the port its scheduler too; the port has it from the start
        // whatever the Manager's timing.
        balancer.schedule_http_by(policy.executor_scheduler())?;
    }
    let disturbed = setting.scenario.disturbance().is_some();
    let epoch_ns = now_ns() + nanos(SCHEDULE_LEAD);
    let schedules =
        [0, 1, 2].map(|server| setting.schedule(server, epoch_ns, plan.warmup, plan.seconds));
    let mut servers = EmulatedServers::start(&setting.capacities(), &schedules)?;
    let declared = setting.declared_capacities(policy);
    let mut manager = match policy.manager_policy() {
        Some(_) => Some(ManagerRun::start(
            policy,
            declared.as_ref().map(|c| &c[..]),
            plan.manager_interval,
        )?),
        None => None,
    };
    if disturbed {
        sleep_until(epoch_ns);
    }
    let mut readings = vec![Vec::new(); SERVERS.len()];
    record(&mut readings, servers.stats()?);
    let report_path = format!("{WORK_DIR}/workload.json");
    let args = workload_args(plan, setting, rate, plan.seed + u64::from(round));
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
    let since_start = |at_ns: u64| (at_ns as f64 - start_ns as f64) / 1e9;
    // Where the disturbance fell in the workload's time, however late the workload started.
    let disturbance = setting
        .disturbance_window(plan.warmup, plan.seconds)
        .map(|planned| {
            let shift = since_start(epoch_ns);
            Window {
                from: planned.from + shift,
                until: planned.until.map(|until| until + shift),
            }
        });
    let weights = samples
        .into_iter()
        .map(|(at_ns, weights)| WeightSample {
            seconds: since_start(at_ns),
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
        disturbance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_asked_for_what_the_plan_says() {
        let plan = Plan::quick();
        let setting = Setting::of(super::super::scenario::Scenario::KnownCapacities);
        let args = workload_args(&plan, &setting, 99.5575, 3);
        let joined = args.join(" ");
        assert!(joined.starts_with("ndtest workload --to 10.0.0.100:8000 --rate 99.558"));
        assert!(joined.contains(&format!("--seconds {}", plan.seconds)));
        assert!(joined.contains("--mix pareto --seed 3"));
        assert!(joined.contains(&format!("--timeout-ms {}", plan.timeout.as_millis())));
    }
}
