//! What the load-sharing evaluation measured: for every scenario, every run of every policy
//! (its workload's report, what each server did in the measured window, the weights over
//! time, when the disturbance fell), and the summary reported from them (response-time percentiles over the rounds together, mean
//! utilization and shares).
//!
//! A request that failed (a timeout, mostly) has no response time; percentiles count it as
//! slower than every completed one, so that a policy cannot look fast by losing its slowest
//! requests. A percentile that falls among the failures is reported as above the timeout.
//!
//! The guest prints the results as one JSON line; the host renders the same summary into
//! `docs/evaluation-vm.md` and its charts, so both read these types.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::policy::Policy;
use super::scenario::Scenario;
use crate::bench::histogram::Histogram;
use crate::bench::ps_schedule::Window;
use crate::bench::report::{add_counts, WorkloadReport};
use crate::report::Counts;

/// One emulated server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// Its namespace, which is also the name its answers carry.
    pub name: String,
    pub address: String,
    /// Work units a second.
    pub capacity: f64,
}

/// The weights of the servers, in the order of the servers, at one instant of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightSample {
    /// Seconds since the workload started (the warm-up's start).
    pub seconds: f64,
    pub weights: Vec<u64>,
}

/// What one server did in a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerWindow {
    /// The share of the measured window it had a request in progress.
    pub utilization: f64,
    /// Work units it served in the measured window.
    pub work_done: f64,
    /// Requests whose client gave up before they were done, over the whole run.
    pub cancelled: u64,
}

/// One measured run of one policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRun {
    pub policy: Policy,
    /// From 1.
    pub round: u32,
    pub workload: WorkloadReport,
    /// In the order of the servers.
    pub servers: Vec<ServerWindow>,
    /// Once a second, for the policies whose weights change.
    pub weights: Vec<WeightSample>,
    /// When the scenario's disturbance held, in seconds since the workload started.
    #[serde(default)]
    pub disturbance: Option<Window>,
}

/// Everything one evaluation measured, scenario by scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub scenarios: Vec<EvalResults>,
}

impl Evaluation {
    /// The results of `scenario`, if it ran.
    pub fn scenario(&self, scenario: Scenario) -> Option<&EvalResults> {
        self.scenarios.iter().find(|r| r.scenario == scenario)
    }

    /// Whether no scenario has a run.
    pub fn is_empty(&self) -> bool {
        self.scenarios.iter().all(|r| r.runs.is_empty())
    }
}

/// Everything one scenario of an evaluation measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalResults {
    #[serde(default)]
    pub scenario: Scenario,
    /// How it was set up, as `key: value` lines.
    pub setup: BTreeMap<String, String>,
    pub servers: Vec<ServerSpec>,
    /// The policies, in the order reports list them.
    pub policies: Vec<Policy>,
    pub warmup_seconds: u64,
    pub seconds: u64,
    /// A request not done this long after its connect failed.
    pub timeout_ms: u64,
    /// How often the Manager decided.
    #[serde(default)]
    pub manager_interval_ms: u64,
    pub runs: Vec<PolicyRun>,
    /// Remarks the run made.
    pub notes: Vec<String>,
}

/// A response time in milliseconds, or `None` when it lies among the failed requests.
pub type Millis = Option<f64>;

/// One policy's figures over all its rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySummary {
    pub policy: Policy,
    pub rounds: usize,
    pub completed: u64,
    /// Failed, never started or abandoned.
    pub failed: u64,
    pub errors: Counts,
    /// Of the completed requests.
    pub mean_ms: Option<f64>,
    pub p50_ms: Millis,
    pub p90_ms: Millis,
    pub p99_ms: Millis,
    /// Each round's 99th percentile.
    pub p99_by_round_ms: Vec<Millis>,
    /// The slowest completed request.
    pub max_ms: Option<f64>,
    /// Per server: the mean over the rounds of its utilization in the measured window.
    pub utilization: Vec<f64>,
    /// Per server: its share of the completed requests.
    pub share: Vec<f64>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The requests of `workload` that did not complete.
pub fn lost(workload: &WorkloadReport) -> u64 {
    workload.failed + workload.unstarted + workload.abandoned
}

/// The response-time distribution of completed requests, and the requests that failed.
#[derive(Clone, Debug, Default)]
pub struct Distribution {
    pub completed: Histogram,
    pub failed: u64,
}

impl Distribution {
    /// The distribution of the runs `runs`.
    pub fn of<'a>(runs: impl IntoIterator<Item = &'a PolicyRun>) -> Distribution {
        let mut distribution = Distribution::default();
        for run in runs {
            distribution
                .completed
                .merge(&Histogram::from_buckets(&run.workload.response_buckets));
            distribution.failed += lost(&run.workload);
        }
        distribution
    }

    /// The time below or at which `percent` of all requests completed (nearest rank, the
    /// failed ones ranked last); `None` if that rank falls among the failed.
    pub fn percentile_ms(&self, percent: f64) -> Millis {
        let completed = self.completed.count();
        let total = completed + self.failed;
        if total == 0 {
            return None;
        }
        let per_million = (percent.clamp(0.0, 100.0) * 10_000.0).round() as u128;
        let rank = (per_million * u128::from(total)).div_ceil(1_000_000) as u64;
        (rank.max(1) <= completed).then(|| ms(self.completed.value_at_rank(rank)))
    }

    /// The CDF: (seconds, fraction of all requests done by then), at the top of every
    /// bucket; it ends below 1 when requests failed.
    pub fn cdf_seconds(&self) -> Vec<(f64, f64)> {
        let total = (self.completed.count() + self.failed) as f64;
        let completed = self.completed.count() as f64;
        self.completed
            .cdf()
            .into_iter()
            .map(|(ns, fraction)| (ns as f64 / 1e9, fraction * completed / total))
            .collect()
    }
}

impl EvalResults {
    /// The runs of `policy`, in round order.
    pub fn runs_of(&self, policy: Policy) -> impl Iterator<Item = &PolicyRun> {
        self.runs.iter().filter(move |run| run.policy == policy)
    }

    /// Each policy's figures, in report order; policies without runs are left out.
    pub fn summary(&self) -> Vec<PolicySummary> {
        self.policies
            .iter()
            .filter_map(|&policy| self.summarize(policy))
            .collect()
    }

    fn summarize(&self, policy: Policy) -> Option<PolicySummary> {
        let runs: Vec<&PolicyRun> = self.runs_of(policy).collect();
        if runs.is_empty() {
            return None;
        }
        let distribution = Distribution::of(runs.iter().copied());
        let completed: u64 = runs.iter().map(|r| r.workload.completed).sum();
        let mut errors = Counts::new();
        for run in &runs {
            add_counts(&mut errors, &run.workload.errors);
            let never = run.workload.unstarted + run.workload.abandoned;
            if never > 0 {
                *errors.entry("not_started_or_abandoned".into()).or_default() += never;
            }
        }
        let weighted_mean: f64 = runs
            .iter()
            .map(|r| r.workload.response_us.mean * r.workload.completed as f64)
            .sum();
        let servers = self.servers.len();
        let utilization = (0..servers)
            .map(|i| {
                let sum: f64 = runs
                    .iter()
                    .map(|r| r.servers.get(i).map_or(0.0, |s| s.utilization))
                    .sum();
                sum / runs.len() as f64
            })
            .collect();
        let share = self
            .servers
            .iter()
            .map(|server| {
                let count: u64 = runs
                    .iter()
                    .map(|r| {
                        r.workload
                            .per_server
                            .get(&server.name)
                            .copied()
                            .unwrap_or(0)
                    })
                    .sum();
                if completed == 0 {
                    0.0
                } else {
                    count as f64 / completed as f64
                }
            })
            .collect();
        Some(PolicySummary {
            policy,
            rounds: runs.len(),
            completed,
            failed: distribution.failed,
            errors,
            mean_ms: (completed > 0).then(|| weighted_mean / completed as f64 / 1000.0),
            p50_ms: distribution.percentile_ms(50.0),
            p90_ms: distribution.percentile_ms(90.0),
            p99_ms: distribution.percentile_ms(99.0),
            p99_by_round_ms: runs
                .iter()
                .map(|r| Distribution::of([*r]).percentile_ms(99.0))
                .collect(),
            max_ms: (completed > 0).then(|| ms(distribution.completed.max())),
            utilization,
            share,
        })
    }

    /// The summary as a plain-text table, for the guest's log.
    pub fn text_table(&self) -> String {
        let mut out = String::new();
        let timeout = self.timeout_ms as f64;
        let _ = writeln!(
            out,
            "{:<18} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>18} {:>18}",
            "policy", "done", "failed", "mean", "p50", "p90", "p99", "utilization %", "share %"
        );
        for row in self.summary() {
            let time = |t: Millis| format_millis(t, timeout);
            let _ = writeln!(
                out,
                "{:<18} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>18} {:>18}",
                row.policy.name(),
                row.completed,
                row.failed,
                time(row.mean_ms),
                time(row.p50_ms),
                time(row.p90_ms),
                time(row.p99_ms),
                percents(&row.utilization),
                percents(&row.share),
            );
        }
        out
    }
}

/// Per-server fractions as percentages, `a / b / c`.
pub fn percents(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{:.1}", v * 100.0))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A response time with as many digits as it deserves; `> T` for one above the timeout.
pub fn format_millis(value: Millis, timeout_ms: f64) -> String {
    match value {
        None => format!("> {}", format_millis(Some(timeout_ms), timeout_ms)),
        Some(ms) if ms >= 10_000.0 => format!("{:.0} s", ms / 1000.0),
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) if ms >= 100.0 => format!("{ms:.0} ms"),
        Some(ms) if ms >= 10.0 => format!("{ms:.1} ms"),
        Some(ms) => format!("{ms:.2} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `policy` whose completed requests took `times_ms`, with `failed` failures,
    /// served half by srv1 and half by srv2.
    fn run(policy: Policy, round: u32, times_ms: &[u64], failed: u64) -> PolicyRun {
        let mut histogram = Histogram::new();
        for &t in times_ms {
            histogram.record(t * 1_000_000);
        }
        let completed = times_ms.len() as u64;
        let first = completed / 2;
        PolicyRun {
            policy,
            round,
            workload: WorkloadReport {
                completed,
                failed,
                errors: [("response_timeout".to_owned(), failed)].into(),
                response_us: histogram.summary_us(),
                per_server: [
                    ("srv1".to_owned(), first),
                    ("srv2".to_owned(), completed - first),
                ]
                .into(),
                response_buckets: histogram.buckets(),
                ..WorkloadReport::default()
            },
            servers: vec![
                ServerWindow {
                    utilization: 0.5,
                    ..ServerWindow::default()
                },
                ServerWindow {
                    utilization: 0.9,
                    ..ServerWindow::default()
                },
            ],
            weights: Vec::new(),
            disturbance: None,
        }
    }

    /// Whether `value` is `want` to within a histogram bucket (1/64).
    fn about(value: Millis, want: f64) -> bool {
        value.is_some_and(|v| v >= want && v - want <= want / 64.0)
    }

    fn results(runs: Vec<PolicyRun>) -> EvalResults {
        EvalResults {
            servers: ["srv1", "srv2"]
                .map(|name| ServerSpec {
                    name: name.into(),
                    address: "10.0.0.1".into(),
                    capacity: 1000.0,
                })
                .into(),
            policies: vec![Policy::RoundRobin, Policy::IpvsWlc, Policy::ManagerBest],
            timeout_ms: 30_000,
            runs,
            ..EvalResults::default()
        }
    }

    #[test]
    fn percentiles_run_over_the_rounds_together() {
        let slow: Vec<u64> = (1..=100).collect();
        let fast: Vec<u64> = (1..=100).map(|t| t / 10 + 1).collect();
        let r = results(vec![
            run(Policy::IpvsWlc, 1, &slow, 0),
            run(Policy::IpvsWlc, 2, &fast, 0),
        ]);
        let summary = r.summary();
        assert_eq!(summary.len(), 1, "policies without runs are left out");
        let wlc = &summary[0];
        assert_eq!((wlc.rounds, wlc.completed, wlc.failed), (2, 200, 0));
        // 200 values: 100 of 1..=100 and 100 of 1..=11; the 198th is 98.
        assert!(about(wlc.p99_ms, 98.0), "{:?}", wlc.p99_ms);
        assert!(about(wlc.p99_by_round_ms[0], 99.0) && about(wlc.p99_by_round_ms[1], 10.0));
        assert_eq!(wlc.max_ms, Some(100.0), "the largest is exact");
        let mean = (50.5 + fast.iter().sum::<u64>() as f64 / 100.0) / 2.0;
        assert!(
            (wlc.mean_ms.unwrap() - mean).abs() < 0.01,
            "{:?}",
            wlc.mean_ms
        );
        assert_eq!(wlc.share, vec![0.5, 0.5]);
        assert_eq!(wlc.utilization, vec![0.5, 0.9]);
    }

    #[test]
    fn failures_rank_above_every_completed_request() {
        let times: Vec<u64> = (1..=97).collect();
        let r = results(vec![run(Policy::RoundRobin, 1, &times, 3)]);
        let rr = &r.summary()[0];
        assert_eq!(rr.failed, 3);
        assert!(about(rr.p50_ms, 50.0) && about(rr.p90_ms, 90.0), "{rr:?}");
        assert_eq!(rr.p99_ms, None, "the 99th of 100 is a failure");
        assert_eq!(rr.errors.get("response_timeout"), Some(&3));
        let cdf = Distribution::of(r.runs_of(Policy::RoundRobin)).cdf_seconds();
        assert!((cdf.last().unwrap().1 - 0.97).abs() < 1e-12);
        assert!(
            cdf[0].0 >= 0.001 && cdf[0].0 - 0.001 <= 0.001 / 64.0,
            "{:?}",
            cdf[0]
        );
        let table = r.text_table();
        assert!(table.contains("> 30 s"), "{table}");
        assert!(table.contains("50.0 / 90.0"), "utilization: {table}");
    }

    #[test]
    fn nothing_measured_has_no_times() {
        let r = results(vec![run(Policy::ManagerBest, 1, &[], 0)]);
        let best = &r.summary()[0];
        assert_eq!((best.mean_ms, best.p50_ms, best.max_ms), (None, None, None));
        assert_eq!(best.share, vec![0.0, 0.0]);
    }

    #[test]
    fn times_read_well() {
        assert_eq!(format_millis(Some(1.234), 1.0), "1.23 ms");
        assert_eq!(format_millis(Some(45.67), 1.0), "45.7 ms");
        assert_eq!(format_millis(Some(456.7), 1.0), "457 ms");
        assert_eq!(format_millis(Some(4567.0), 1.0), "4.57 s");
        assert_eq!(format_millis(Some(45_670.0), 1.0), "46 s");
        assert_eq!(format_millis(None, 30_000.0), "> 30 s");
    }

    #[test]
    fn results_survive_json() {
        let mut r = results(vec![run(Policy::RoundRobin, 1, &[5, 7], 1)]);
        r.runs[0].weights.push(WeightSample {
            seconds: 1.5,
            weights: vec![100, 50],
        });
        r.runs[0].disturbance = Some(Window {
            from: 35.0,
            until: None,
        });
        r.setup.insert("load".into(), "90%".into());
        r.scenario = Scenario::StepChange;
        let all = Evaluation {
            scenarios: vec![r.clone(), EvalResults::default()],
        };
        let json = serde_json::to_string(&all).unwrap();
        let back = serde_json::from_str::<Evaluation>(&json).unwrap();
        assert_eq!(back, all);
        assert_eq!(back.scenario(Scenario::StepChange), Some(&r));
        assert_eq!(back.scenario(Scenario::FastFailure), None);
        assert!(!back.is_empty() && Evaluation::default().is_empty());
    }
}
