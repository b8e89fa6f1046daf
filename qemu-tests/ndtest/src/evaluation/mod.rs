//! The load-sharing evaluation, run inside the test VM with the real Executor, IPVS and
//! Manager: the paper's setting in small, then five scenarios where per-connection
//! scheduling and the Manager's feedback each have something to prove ([`scenario`]). Three
//! servers, each policy of a scenario in turn on the same requests, round after round with
//! the order rotating.
//!
//! Every server shares the VM's two emulated CPUs, so no server can be made faster than
//! another by real work: capacity is emulated ([`crate::bench::ps_serve`]). A server's
//! answer to a request is timed as a processor-sharing server of its capacity would time it,
//! so the balancer, the kernel's TCP, the Manager's advisors and agents are all real, and
//! only the service time is computed; so are a scenario's speed changes, external load and
//! failures.

pub mod manager;
pub mod policy;
pub mod results;
mod run;
pub mod scenario;
pub mod servers;
mod window;

use crate::benchmark::balancer::{module_loaded, set_module_loaded};
use crate::benchmark::AddressLent;
use crate::suite::cluster::{ensure, Outcome, SERVERS, SERVER_NAMES};
use policy::Policy;
use results::{lost, EvalResults, Evaluation, ServerSpec};
use run::SCHEDULE_LEAD;
use scenario::{Scenario, Setting};
use servers::WORK_DIR;
use std::time::Duration;

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Plan {
    pub rounds: u32,
    /// The scenarios, in report order.
    pub settings: Vec<Setting>,
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

/// What a run takes besides its workload, at most: a fresh balancer, servers, the Manager
/// and its agents, and taking them down.
const SETUP_ALLOWANCE: Duration = Duration::from_secs(15);

impl Plan {
    /// What `make evaluate` runs: one round of every scenario, each policy for 15 + 60 s,
    /// about 55 minutes of VM time ([`Plan::worst_case`]).
    pub fn full() -> Plan {
        Plan {
            rounds: 1,
            settings: Scenario::ALL.map(Setting::of).into(),
            warmup: Duration::from_secs(15),
            seconds: 60,
            manager_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(20),
            drain: Duration::from_secs(20),
            seed: 1,
            concurrency_limit: 4000,
        }
    }

    /// Every scenario briefly, to see that it all works: about 10 to 15 minutes.
    pub fn quick() -> Plan {
        Plan {
            warmup: Duration::from_secs(3),
            seconds: 9,
            manager_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            drain: Duration::from_secs(5),
            ..Plan::full()
        }
    }

    /// The suite's smoke test on the debug kernel: three policies of the paper's setting for
    /// a few seconds at a load well below what round robin overloads the small server at,
    /// with time enough for the largest request there, so that nothing should fail.
    pub fn smoke() -> Plan {
        Plan {
            rounds: 1,
            settings: vec![Setting {
                scenario: Scenario::Paper,
                policies: vec![Policy::RoundRobin, Policy::IpvsWlc, Policy::ManagerWeighted],
                load: 0.15,
            }],
            warmup: Duration::from_secs(3),
            seconds: 5,
            manager_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            drain: Duration::from_secs(30),
            seed: 1,
            concurrency_limit: 4000,
        }
    }

    /// The longest the plan can take: every run's warm-up, window, drain to its end, the
    /// schedule's lead where there is one, and [`SETUP_ALLOWANCE`].
    pub fn worst_case(&self) -> Duration {
        let run = self.warmup + Duration::from_secs(self.seconds) + self.drain + SETUP_ALLOWANCE;
        let runs: Duration = self
            .settings
            .iter()
            .map(|setting| {
                let lead = if setting.scenario.disturbance().is_some() {
                    SCHEDULE_LEAD
                } else {
                    Duration::ZERO
                };
                (run + lead) * setting.policies.len() as u32
            })
            .sum();
        runs * self.rounds
    }

    /// The policies of `setting` in round `round` (from 0), rotated so that none is always
    /// first.
    pub fn order(&self, setting: &Setting, round: u32) -> Vec<Policy> {
        let mut policies = setting.policies.clone();
        if !policies.is_empty() {
            let shift = round as usize % policies.len();
            policies.rotate_left(shift);
        }
        policies
    }

    fn setup(&self, setting: &Setting, rate: f64) -> Vec<(&'static str, String)> {
        let capacities: Vec<String> = setting.capacities().iter().map(|c| c.to_string()).collect();
        let mix = setting.mix();
        let mut setup = vec![
            ("rounds", self.rounds.to_string()),
            ("servers", SERVERS.len().to_string()),
            (
                "capacities",
                format!("{} work units/s", capacities.join(", ")),
            ),
            (
                "request mix",
                format!("{} (mean {} units)", mix.name(), mix.mean()),
            ),
            (
                "load",
                format!("{:.0}% of the total capacity", setting.load * 100.0),
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
        ];
        if let Some(window) = setting.disturbance_window(self.warmup, self.seconds) {
            let until = window
                .until
                .map_or("the end".to_owned(), |until| format!("{until:.0} s"));
            setup.push((
                "disturbance",
                format!(
                    "from {:.0} s to {until} after the first request",
                    window.from
                ),
            ));
        }
        setup
    }

    /// An empty record of `setting`, to be filled with its runs.
    fn results_of(&self, setting: &Setting) -> EvalResults {
        let rate = setting.rate();
        EvalResults {
            scenario: setting.scenario,
            setup: self
                .setup(setting, rate)
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
            servers: SERVER_NAMES
                .iter()
                .zip(SERVERS)
                .zip(setting.capacities())
                .map(|((name, address), capacity)| ServerSpec {
                    name: (*name).to_owned(),
                    address: address.to_owned(),
                    capacity,
                })
                .collect(),
            policies: setting.policies.clone(),
            warmup_seconds: self.warmup.as_secs(),
            seconds: self.seconds,
            timeout_ms: self.timeout.as_millis() as u64,
            manager_interval_ms: self.manager_interval.as_millis() as u64,
            ..EvalResults::default()
        }
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
pub fn run_plan(plan: &Plan) -> Result<Evaluation, String> {
    std::fs::create_dir_all(WORK_DIR).map_err(|e| format!("{WORK_DIR}: {e}"))?;
    let _module = ModuleRestored(module_loaded());
    let _lent = AddressLent::lend()?;
    let mut evaluation = Evaluation::default();
    for setting in &plan.settings {
        let rate = setting.rate();
        println!(
            "{}, offered load {:.0}%",
            setting.scenario.title(),
            setting.load * 100.0
        );
        let mut results = plan.results_of(setting);
        for round in 0..plan.rounds {
            for policy in plan.order(setting, round) {
                println!(
                    "  round {} of {}: {} at {rate:.1} requests/s",
                    round + 1,
                    plan.rounds,
                    policy.name()
                );
                match run::measure(plan, setting, policy, round + 1, rate) {
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
                        results.notes.push(format!(
                            "round {}, {}: {error}",
                            round + 1,
                            policy.name()
                        ));
                    }
                }
            }
        }
        evaluation.scenarios.push(results);
    }
    if evaluation.is_empty() {
        let notes: Vec<&str> = evaluation
            .scenarios
            .iter()
            .flat_map(|r| r.notes.iter().map(String::as_str))
            .collect();
        return Err(format!("no run succeeded: {}", notes.join("; ")));
    }
    Ok(evaluation)
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

/// Prints each scenario's results as a table, with the run's remarks.
pub fn print(evaluation: &Evaluation) {
    for results in &evaluation.scenarios {
        println!("{}", results.scenario.title());
        print!("{}", results.text_table());
        for note in &results.notes {
            println!("  note: {note}");
        }
    }
}

/// Fails unless every policy of every scenario of `plan` ran every round, completed requests
/// and lost next to none.
pub fn check_complete(plan: &Plan, evaluation: &Evaluation) -> Outcome {
    for setting in &plan.settings {
        let results = evaluation
            .scenario(setting.scenario)
            .ok_or_else(|| format!("{}: not run", setting.scenario.title()))?;
        check_scenario(plan, setting, results)?;
    }
    Ok(())
}

fn check_scenario(plan: &Plan, setting: &Setting, results: &EvalResults) -> Outcome {
    ensure(results.notes.is_empty(), || results.notes.join("; "))?;
    for &policy in &setting.policies {
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
    fn rounds_rotate_the_policies() {
        let plan = Plan {
            rounds: 2,
            ..Plan::full()
        };
        let paper = &plan.settings[0];
        assert_eq!(plan.order(paper, 0), Policy::PAPER);
        assert_eq!(plan.order(paper, 1)[0], Policy::StaticWrr);
        assert_eq!(plan.order(paper, 1)[4], Policy::RoundRobin);
        assert_eq!(plan.order(paper, 5), plan.order(paper, 0));
    }

    #[test]
    fn the_full_plan_runs_every_scenario_and_fits_its_hour() {
        let plan = Plan::full();
        let scenarios: Vec<Scenario> = plan.settings.iter().map(|s| s.scenario).collect();
        assert_eq!(scenarios, Scenario::ALL);
        let total = plan.worst_case().as_secs();
        assert!(total <= 60 * 60, "{total} s");
        // 6 scenarios of 5 policies, each 15 + 60 + 20 + 15 s, and 3 s more for the 15
        // disturbed runs.
        assert_eq!(total, 30 * 110 + 15 * 3);
    }

    #[test]
    fn the_quick_plan_runs_every_scenario_briefly() {
        let plan = Plan::quick();
        assert_eq!(plan.settings.len(), Scenario::ALL.len());
        assert!(plan.settings.iter().all(|s| s.policies.len() == 5));
        assert!(
            plan.worst_case() <= Duration::from_secs(20 * 60),
            "{:?}",
            plan.worst_case()
        );
        // A third of the window still spans a few of the Manager's decisions.
        assert!(plan.seconds as f64 / 3.0 >= 3.0 * plan.manager_interval.as_secs_f64());
    }

    #[test]
    fn the_smoke_test_is_as_it_was() {
        let plan = Plan::smoke();
        assert_eq!(plan.rounds, 1);
        assert_eq!(plan.settings.len(), 1);
        let setting = &plan.settings[0];
        assert_eq!(setting.scenario, Scenario::Paper);
        assert_eq!(
            setting.policies,
            [Policy::RoundRobin, Policy::IpvsWlc, Policy::ManagerWeighted]
        );
        assert_eq!((plan.warmup.as_secs(), plan.seconds), (3, 5));
        assert_eq!((plan.timeout.as_secs(), plan.drain.as_secs()), (30, 30));
        assert_eq!(plan.manager_interval, Duration::from_secs(1));
        assert!(plan.worst_case() <= Duration::from_secs(5 * 60));
    }

    #[test]
    fn the_smoke_load_stays_below_what_round_robin_overloads_at() {
        // Round robin gives the small server a third of the load.
        let setting = &Plan::smoke().settings[0];
        assert!(setting.rate() < Setting::of(Scenario::Paper).rate() / 2.0);
        let capacities = setting.capacities();
        let small = capacities.iter().copied().fold(f64::INFINITY, f64::min);
        let total: f64 = capacities.iter().sum();
        assert!(setting.load * total / 3.0 < 0.7 * small);
    }

    #[test]
    fn each_scenario_s_setup_says_its_load_and_disturbance() {
        let plan = Plan::full();
        let s5 = Setting::of(Scenario::StepChange);
        let results = plan.results_of(&s5);
        assert_eq!(results.scenario, Scenario::StepChange);
        assert_eq!(results.setup["load"], "65% of the total capacity");
        assert_eq!(
            results.setup["disturbance"],
            "from 45 s to the end after the first request"
        );
        assert_eq!(results.manager_interval_ms, 2000);
        assert_eq!(results.policies, Policy::COMPARED);
        let s2 = plan.results_of(&Setting::of(Scenario::KnownCapacities));
        assert!(
            s2.setup["request mix"].starts_with("Pareto"),
            "{:?}",
            s2.setup
        );
        assert!(!s2.setup.contains_key("disturbance"));
    }
}
