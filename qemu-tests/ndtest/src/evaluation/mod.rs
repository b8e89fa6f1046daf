//! The load-sharing evaluation, run inside the test VM with the real Executor, IPVS and
//! Manager: the paper's setting in small. Three servers, one of half the others' capacity,
//! a heavy-tailed request mix near the cluster's capacity, and each policy in turn on the
//! same requests, round after round with the order rotating.
//!
//! Every server shares the VM's two emulated CPUs, so no server can be made faster than
//! another by real work: capacity is emulated ([`crate::bench::ps_serve`]). A server's
//! answer to a request is timed as a processor-sharing server of its capacity would time it,
//! so the balancer, the kernel's TCP, the Manager's advisors and agents are all real, and
//! only the service time is computed.

pub mod manager;
pub mod policy;
pub mod results;
mod run;
pub mod servers;
mod window;

use crate::benchmark::balancer::{module_loaded, set_module_loaded};
use crate::benchmark::AddressLent;
use crate::suite::cluster::{ensure, Outcome, SERVERS, SERVER_NAMES};
use nd_load_model::workload::SizeMix;
use policy::Policy;
use results::{lost, EvalResults, ServerSpec};
use servers::WORK_DIR;
use std::time::Duration;

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Plan {
    pub rounds: u32,
    /// The policies of each round, before rotation.
    pub policies: Vec<Policy>,
    /// Work units a second of each server.
    pub capacities: [f64; 3],
    /// Offered work over total capacity.
    pub load: f64,
    pub mix: SizeMix,
    /// Arrivals before the measured window: queues fill and the Manager settles.
    pub warmup: Duration,
    /// The measured window, in seconds.
    pub seconds: u64,
    pub manager_interval: Duration,
    /// A request not done this long after its connect fails.
    pub timeout: Duration,
    /// How long requests under way at the end of the window may finish.
    pub drain: Duration,
    /// Round r's requests are drawn with seed `seed + r`; within a round every policy gets
    /// the same ones.
    pub seed: u64,
    pub concurrency_limit: u32,
}

/// The servers' capacities: the paper's cluster in small, one server of half the others'.
pub const CAPACITIES: [f64; 3] = [1000.0, 1000.0, 500.0];

impl Plan {
    /// What `make evaluate` runs: two rounds of five policies of 20 + 60 s, about 20 minutes
    /// of VM time.
    pub fn full() -> Plan {
        Plan {
            rounds: 2,
            policies: Policy::ALL.to_vec(),
            capacities: CAPACITIES,
            load: 0.9,
            mix: SizeMix::Classes,
            warmup: Duration::from_secs(20),
            seconds: 60,
            manager_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
            drain: Duration::from_secs(30),
            seed: 1,
            concurrency_limit: 4000,
        }
    }

    /// One short round of every policy, to see that it all works.
    pub fn quick() -> Plan {
        Plan {
            rounds: 1,
            warmup: Duration::from_secs(5),
            seconds: 10,
            manager_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            drain: Duration::from_secs(10),
            ..Plan::full()
        }
    }

    /// The suite's smoke test on the debug kernel: three policies for a few seconds at a
    /// load well below what round robin overloads the small server at, with time enough for
    /// the largest request there, so that nothing should fail.
    pub fn smoke() -> Plan {
        Plan {
            policies: vec![Policy::RoundRobin, Policy::IpvsWlc, Policy::ManagerWeighted],
            load: 0.15,
            warmup: Duration::from_secs(3),
            seconds: 5,
            timeout: Duration::from_secs(30),
            drain: Duration::from_secs(30),
            ..Plan::quick()
        }
    }

    /// Mean arrivals a second that offer `load` of the total capacity.
    pub fn rate(&self) -> f64 {
        self.load * self.capacities.iter().sum::<f64>() / self.mix.mean()
    }

    /// The policies of round `round` (from 0), rotated so that none is always first.
    pub fn order(&self, round: u32) -> Vec<Policy> {
        let mut policies = self.policies.clone();
        if !policies.is_empty() {
            let shift = round as usize % policies.len();
            policies.rotate_left(shift);
        }
        policies
    }

    fn setup(&self, rate: f64) -> Vec<(&'static str, String)> {
        let capacities: Vec<String> = self.capacities.iter().map(|c| c.to_string()).collect();
        vec![
            ("rounds", self.rounds.to_string()),
            ("servers", SERVERS.len().to_string()),
            (
                "capacities",
                format!("{} work units/s", capacities.join(", ")),
            ),
            (
                "request mix",
                format!("{} (mean {} units)", self.mix.name(), self.mix.mean()),
            ),
            (
                "load",
                format!("{:.0}% of the total capacity", self.load * 100.0),
            ),
            ("arrival rate", format!("{rate:.1} requests/s, Poisson")),
            ("warm-up", format!("{} s", self.warmup.as_secs())),
            ("measured window", format!("{} s", self.seconds)),
            ("request timeout", format!("{} s", self.timeout.as_secs())),
            (
                "Manager interval",
                format!("{} s", self.manager_interval.as_secs_f64()),
            ),
            (
                "seeds",
                format!(
                    "{} to {}",
                    self.seed + 1,
                    self.seed + u64::from(self.rounds)
                ),
            ),
            (
                "kernel",
                std::fs::read_to_string("/proc/sys/kernel/osrelease")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            ),
        ]
    }
}

/// Puts the Executor's module back as it was when dropped: the policies load and unload it.
struct ModuleRestored(bool);

impl Drop for ModuleRestored {
    fn drop(&mut self) {
        let _ = set_module_loaded(self.0);
    }
}

/// Runs `plan`; progress goes to stdout. A run that fails is noted and the others go on;
/// the evaluation fails only if no run succeeded.
pub fn run_plan(plan: &Plan) -> Result<EvalResults, String> {
    std::fs::create_dir_all(WORK_DIR).map_err(|e| format!("{WORK_DIR}: {e}"))?;
    let rate = plan.rate();
    let mut results = EvalResults {
        setup: plan
            .setup(rate)
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        servers: SERVER_NAMES
            .iter()
            .zip(SERVERS)
            .zip(plan.capacities)
            .map(|((name, address), capacity)| ServerSpec {
                name: (*name).to_owned(),
                address: address.to_owned(),
                capacity,
            })
            .collect(),
        policies: plan.policies.clone(),
        warmup_seconds: plan.warmup.as_secs(),
        seconds: plan.seconds,
        timeout_ms: plan.timeout.as_millis() as u64,
        ..EvalResults::default()
    };
    let _module = ModuleRestored(module_loaded());
    let _lent = AddressLent::lend()?;
    for round in 0..plan.rounds {
        for policy in plan.order(round) {
            println!(
                "  round {} of {}: {} at {rate:.1} requests/s",
                round + 1,
                plan.rounds,
                policy.name()
            );
            match run::measure(plan, policy, round + 1, rate) {
                Ok(measured) => {
                    let w = &measured.workload;
                    println!(
                        "    completed {}, failed {}, mean {:.1} ms, p99 {:.1} ms",
                        w.completed,
                        lost(w),
                        w.response_us.mean / 1000.0,
                        w.response_us.p99 as f64 / 1000.0
                    );
                    if lost(w) > 0 {
                        print_losses(&measured);
                    }
                    results.runs.push(measured);
                }
                Err(error) => {
                    println!("    failed: {error}");
                    results
                        .notes
                        .push(format!("round {}, {}: {error}", round + 1, policy.name()));
                }
            }
        }
    }
    if results.runs.is_empty() {
        return Err(format!("no run succeeded: {}", results.notes.join("; ")));
    }
    Ok(results)
}

/// What a run that lost requests shows of why: their errors and the weights it ran with.
fn print_losses(run: &results::PolicyRun) {
    println!("    errors: {:?}", run.workload.errors);
    if !run.weights.is_empty() {
        let samples: Vec<String> = run
            .weights
            .iter()
            .map(|s| format!("{:.0}s {:?}", s.seconds, s.weights))
            .collect();
        println!("    weights: {}", samples.join(", "));
    }
    if run.policy.manager_policy().is_some() {
        println!("    the Manager's log ends:\n{}", manager::log_tail());
    }
}

/// Prints `results` as a table, with the run's remarks.
pub fn print(results: &EvalResults) {
    print!("{}", results.text_table());
    for note in &results.notes {
        println!("  note: {note}");
    }
}

/// Fails unless every policy of `plan` ran every round, completed requests and lost none.
pub fn check_complete(plan: &Plan, results: &EvalResults) -> Outcome {
    ensure(results.notes.is_empty(), || results.notes.join("; "))?;
    for &policy in &plan.policies {
        let runs: Vec<_> = results.runs_of(policy).collect();
        ensure(runs.len() == plan.rounds as usize, || {
            format!(
                "{}: {} of {} rounds ran",
                policy.name(),
                runs.len(),
                plan.rounds
            )
        })?;
        for run in runs {
            let w = &run.workload;
            ensure(w.completed > 0, || {
                format!("{}: nothing completed", policy.name())
            })?;
            // A debug kernel under emulation has slow moments; a path that loses more than
            // one request in twenty is broken rather than slow.
            ensure(lost(w) * 20 <= w.completed + lost(w), || {
                format!(
                    "{}: {} requests failed, {} never started, {} abandoned: {:?}",
                    policy.name(),
                    w.failed,
                    w.unstarted,
                    w.abandoned,
                    w.errors
                )
            })?;
            let named: u64 = w.per_server.values().sum();
            ensure(named == w.completed, || {
                format!(
                    "{}: {} of {} answers named their server: {:?}",
                    policy.name(),
                    named,
                    w.completed,
                    w.per_server
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_offers_the_load() {
        let plan = Plan::full();
        // 90% of 2500 units/s at 22.6 units a request.
        assert!((plan.rate() - 0.9 * 2500.0 / 22.6).abs() < 1e-9);
        assert!((plan.rate() - 99.56).abs() < 0.01);
        assert!(Plan::smoke().rate() < plan.rate() / 2.0);
    }

    #[test]
    fn rounds_rotate_the_policies() {
        let plan = Plan::full();
        assert_eq!(plan.order(0), Policy::ALL);
        assert_eq!(plan.order(1)[0], Policy::StaticWrr);
        assert_eq!(plan.order(1)[4], Policy::RoundRobin);
        assert_eq!(plan.order(5), plan.order(0));
    }

    #[test]
    fn the_full_plan_fits_its_time() {
        // Each run: its window, the drain at worst, and about 15 s of setting up.
        let plan = Plan::full();
        let run = plan.warmup.as_secs() + plan.seconds + plan.drain.as_secs() + 15;
        let total = run * u64::from(plan.rounds) * plan.policies.len() as u64;
        assert!(total <= 25 * 60, "{total} s");
    }

    #[test]
    fn the_smoke_load_stays_below_what_round_robin_overloads_at() {
        // Round robin gives the small server a third of the load.
        let plan = Plan::smoke();
        let small = plan
            .capacities
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let total: f64 = plan.capacities.iter().sum();
        assert!(plan.load * total / 3.0 < 0.7 * small);
    }
}
