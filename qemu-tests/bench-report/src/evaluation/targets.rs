//! The Manager's targets, judged on what the VM measured, as the simulation judges its own
//! (`sim/src/report.rs`, whose bounds these are): Manager + wlc near IPVS wlc in S1 to S3 and
//! better in S3, the Manager far below round robin's p99 in S1, few failed requests and a
//! quick quiesce in S4, and weights that settle without oscillating after S5's step.
//!
//! A percentile above the timeout is not known, only bounded; a ratio with one is reported
//! as a bound, and met only if the bound meets the goal. The weights are read once a second
//! while the Manager decides every interval, so the step and the quiesce are judged on one
//! reading per interval, to within a second.

use nd_sim::report::{
    TARGET_FAILURES, TARGET_QUIESCE_ROUNDS, TARGET_SETTLE_ROUNDS, TARGET_VS_ROUND_ROBIN,
    TARGET_VS_WLC,
};
use nd_sim::settle::{settling, Settling, OSCILLATION};
use ndtest::evaluation::policy::Policy;
use ndtest::evaluation::results::{EvalResults, Evaluation, Millis, PolicyRun, PolicySummary};
use ndtest::evaluation::scenario::Scenario;

pub use nd_sim::report::Target;

/// A ratio of two measurements, either of which may be only bounded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ratio {
    Exact(f64),
    /// Below this: the denominator is above the timeout.
    Below(f64),
    /// Above this: the numerator is above the timeout.
    Above(f64),
    /// Both above the timeout, or nothing measured.
    Unknown,
}

impl Ratio {
    /// `numerator / denominator` of two times, `None` meaning above `timeout_ms`.
    pub fn of_times(numerator: Millis, denominator: Millis, timeout_ms: f64) -> Ratio {
        match (numerator, denominator) {
            (Some(n), Some(d)) if d > 0.0 => Ratio::Exact(n / d),
            (Some(n), None) => Ratio::Below(n / timeout_ms),
            (None, Some(d)) if d > 0.0 => Ratio::Above(timeout_ms / d),
            _ => Ratio::Unknown,
        }
    }

    /// Whether it is at most `bound` (below it, if `strictly`), as far as is known.
    pub fn within(self, bound: f64, strictly: bool) -> bool {
        let under = |x: f64| if strictly { x < bound } else { x <= bound };
        match self {
            Ratio::Exact(r) => under(r),
            Ratio::Below(r) => r <= bound,
            Ratio::Above(_) | Ratio::Unknown => false,
        }
    }

    pub fn show(self) -> String {
        match self {
            Ratio::Exact(r) => number(r),
            Ratio::Below(r) => format!("< {}", number(r)),
            Ratio::Above(r) => format!("> {}", number(r)),
            Ratio::Unknown => "unknown (both above the timeout)".into(),
        }
    }
}

/// A ratio with as many digits as it deserves.
fn number(r: f64) -> String {
    if r != 0.0 && r.abs() < 0.01 {
        format!("{r:.1e}")
    } else {
        format!("{r:.2}")
    }
}

fn row(results: &EvalResults, policy: Policy) -> Option<PolicySummary> {
    results
        .summary()
        .into_iter()
        .find(|row| row.policy == policy)
}

/// The Manager's decision interval in seconds; 1 if the results do not say.
fn interval_seconds(results: &EvalResults) -> f64 {
    if results.manager_interval_ms == 0 {
        1.0
    } else {
        results.manager_interval_ms as f64 / 1000.0
    }
}

/// Manager + wlc's mean and p99 over IPVS wlc's in `scenario`.
fn near_wlc(evaluation: &Evaluation, scenario: Scenario, better: bool, out: &mut Vec<Target>) {
    let Some(results) = evaluation.scenario(scenario) else {
        return;
    };
    let (Some(managed), Some(wlc)) = (
        row(results, Policy::ManagerWlc),
        row(results, Policy::IpvsWlc),
    ) else {
        return;
    };
    let timeout = results.timeout_ms as f64;
    let means = match (managed.mean_ms, wlc.mean_ms) {
        (Some(m), Some(w)) if w > 0.0 => Ratio::Exact(m / w),
        _ => Ratio::Unknown,
    };
    let p99s = Ratio::of_times(managed.p99_ms, wlc.p99_ms, timeout);
    for (name, ratio) in [("mean", means), ("p99", p99s)] {
        let (bound, goal) = if better {
            (1.0, "< 1 (better)".to_owned())
        } else {
            (TARGET_VS_WLC, format!("≤ {TARGET_VS_WLC:.2}"))
        };
        out.push(Target {
            setting: scenario.short(),
            measure: format!("Manager + wlc's {name} / IPVS wlc's"),
            goal,
            value: ratio.show(),
            met: ratio.within(bound, better),
        });
    }
}

/// Each of the Manager's p99 over round robin's in S1.
fn below_round_robin(evaluation: &Evaluation, out: &mut Vec<Target>) {
    let scenario = Scenario::UnknownCapacities;
    let Some(results) = evaluation.scenario(scenario) else {
        return;
    };
    let Some(rr) = row(results, Policy::RoundRobin) else {
        return;
    };
    for managed in [Policy::ManagerWeighted, Policy::ManagerWlc] {
        let Some(managed_row) = row(results, managed) else {
            continue;
        };
        let ratio = Ratio::of_times(managed_row.p99_ms, rr.p99_ms, results.timeout_ms as f64);
        out.push(Target {
            setting: scenario.short(),
            measure: format!("{}'s p99 / round robin's", managed.name()),
            goal: format!("≤ {TARGET_VS_ROUND_ROBIN}"),
            value: ratio.show(),
            met: ratio.within(TARGET_VS_ROUND_ROBIN, false),
        });
    }
}

/// Seconds from the start of `run`'s disturbance to the first reading of the weights that
/// gives `server` weight 0; `None` if none does.
pub fn quiesce_delay(run: &PolicyRun, server: usize) -> Option<f64> {
    let from = run.disturbance?.from;
    run.weights
        .iter()
        .find(|sample| sample.seconds >= from && sample.weights.get(server) == Some(&0))
        .map(|sample| sample.seconds - from)
}

/// Failed requests against IPVS wlc's, and how soon the failing server was quiesced, in S4.
fn fast_failure(evaluation: &Evaluation, out: &mut Vec<Target>) {
    let scenario = Scenario::FastFailure;
    let (Some(results), Some(disturbance)) =
        (evaluation.scenario(scenario), scenario.disturbance())
    else {
        return;
    };
    let wlc_failed = row(results, Policy::IpvsWlc).map(|r| r.failed);
    let interval = interval_seconds(results);
    for managed in [Policy::ManagerWeighted, Policy::ManagerWlc] {
        let Some(managed_row) = row(results, managed) else {
            continue;
        };
        if let Some(wlc_failed) = wlc_failed {
            let r = managed_row.failed as f64 / wlc_failed.max(1) as f64;
            out.push(Target {
                setting: scenario.short(),
                measure: format!(
                    "{}'s failed requests / IPVS wlc's ({} / {wlc_failed})",
                    managed.name(),
                    managed_row.failed
                ),
                goal: format!("≤ {TARGET_FAILURES}"),
                value: number(r),
                met: r <= TARGET_FAILURES,
            });
        }
        let worst = results
            .runs_of(managed)
            .map(|run| quiesce_delay(run, disturbance.server).unwrap_or(f64::INFINITY))
            .fold(0.0, f64::max);
        out.push(Target {
            setting: scenario.short(),
            measure: format!(
                "{}: intervals from the failure to weight 0, worst round",
                managed.name()
            ),
            goal: format!("≤ {TARGET_QUIESCE_ROUNDS}"),
            value: if worst.is_finite() {
                format!("{} ({worst:.1} s)", number(worst / interval))
            } else {
                "never".into()
            },
            met: worst / interval <= TARGET_QUIESCE_ROUNDS,
        });
    }
}

/// Each server's share of the weight sum, one reading per Manager interval (every `stride`-th
/// reading, counted away from the change on both sides), and the index of the first reading
/// at or after `change_s`.
pub fn shares_per_interval(
    run: &PolicyRun,
    change_s: f64,
    stride: usize,
) -> (Vec<Vec<f64>>, usize) {
    let stride = stride.max(1);
    let share = |weights: &[u64]| {
        let total: u64 = weights.iter().sum();
        weights
            .iter()
            .map(|&w| w as f64 / total.max(1) as f64)
            .collect::<Vec<f64>>()
    };
    let split = run.weights.partition_point(|s| s.seconds < change_s);
    let (before, after) = run.weights.split_at(split);
    let mut rows: Vec<Vec<f64>> = before
        .iter()
        .rev()
        .step_by(stride)
        .map(|s| share(&s.weights))
        .collect();
    rows.reverse();
    let change = rows.len();
    rows.extend(after.iter().step_by(stride).map(|s| share(&s.weights)));
    (rows, change)
}

/// How `run`'s weights settled after its step change of `server`; `None` without readings
/// on both sides of it.
pub fn step_settling(run: &PolicyRun, server: usize, interval_s: f64) -> Option<Settling> {
    let change_s = run.disturbance?.from;
    let stride = interval_s.round().max(1.0) as usize;
    let (rows, change) = shares_per_interval(run, change_s, stride);
    (change > 0 && rows.len() > change + 1).then(|| settling(&rows, change, server))
}

/// Settling and oscillation after the step in S5.
fn step_change(evaluation: &Evaluation, out: &mut Vec<Target>) {
    let scenario = Scenario::StepChange;
    let (Some(results), Some(disturbance)) =
        (evaluation.scenario(scenario), scenario.disturbance())
    else {
        return;
    };
    let interval = interval_seconds(results);
    for managed in [Policy::ManagerWeighted, Policy::ManagerWlc] {
        let judged: Vec<Option<Settling>> = results
            .runs_of(managed)
            .map(|run| step_settling(run, disturbance.server, interval))
            .collect();
        if judged.is_empty() {
            continue;
        }
        let settled: Vec<Option<usize>> = judged
            .iter()
            .map(|s| s.as_ref().and_then(|s| s.all_settled_after))
            .collect();
        let worst = settled
            .iter()
            .try_fold(0, |worst, s| s.map(|s| s.max(worst)));
        // A run cannot settle within a band narrower than its own noise: shown beside it.
        let noise = judged
            .iter()
            .flatten()
            .map(|s| s.noise_before)
            .fold(0.0, f64::max);
        out.push(Target {
            setting: scenario.short(),
            measure: format!(
                "{}: intervals until every weight share settles, worst round (the changed \
                 share's noise before the step: {:.0}%)",
                managed.name(),
                100.0 * noise
            ),
            goal: format!("≤ {TARGET_SETTLE_ROUNDS}"),
            value: worst.map_or("never".into(), |n| n.to_string()),
            met: worst.is_some_and(|n| n <= TARGET_SETTLE_ROUNDS),
        });
        let lag_one = judged
            .iter()
            .map(|s| s.as_ref().map_or(f64::NAN, |s| s.lag_one))
            .fold(f64::INFINITY, f64::min);
        out.push(Target {
            setting: scenario.short(),
            measure: format!(
                "{}: lag-one autocorrelation of the shares after the step, lowest round",
                managed.name()
            ),
            goal: format!("≥ {OSCILLATION} (no oscillation)"),
            value: if lag_one.is_finite() {
                format!("{lag_one:.2}")
            } else {
                "unknown".into()
            },
            met: lag_one.is_finite() && lag_one >= OSCILLATION,
        });
    }
}

/// Every target the evaluation's scenarios let it judge, in the order of the list.
pub fn targets(evaluation: &Evaluation) -> Vec<Target> {
    let mut out = Vec::new();
    near_wlc(evaluation, Scenario::UnknownCapacities, false, &mut out);
    near_wlc(evaluation, Scenario::KnownCapacities, false, &mut out);
    near_wlc(evaluation, Scenario::ExternalLoad, true, &mut out);
    below_round_robin(evaluation, &mut out);
    fast_failure(evaluation, &mut out);
    step_change(evaluation, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndtest::bench::ps_schedule::Window;
    use ndtest::evaluation::results::WeightSample;

    fn run_with_weights(weights: &[(f64, [u64; 3])], from: f64) -> PolicyRun {
        PolicyRun {
            policy: Policy::ManagerWlc,
            round: 1,
            workload: Default::default(),
            servers: Vec::new(),
            weights: weights
                .iter()
                .map(|(seconds, w)| WeightSample {
                    seconds: *seconds,
                    weights: w.to_vec(),
                })
                .collect(),
            disturbance: Some(Window { from, until: None }),
        }
    }

    #[test]
    fn bounded_ratios_meet_a_goal_only_when_the_bound_does() {
        assert_eq!(
            Ratio::of_times(Some(10.0), Some(20.0), 1000.0),
            Ratio::Exact(0.5)
        );
        let below = Ratio::of_times(Some(10.0), None, 1000.0);
        assert_eq!(below, Ratio::Below(0.01));
        assert!(below.within(0.05, false) && !below.within(0.005, false));
        let above = Ratio::of_times(None, Some(100.0), 1000.0);
        assert_eq!(above, Ratio::Above(10.0));
        assert!(!above.within(100.0, false), "unknown how far above");
        assert!(!Ratio::of_times(None, None, 1000.0).within(1e9, false));
        assert!(!Ratio::Exact(1.0).within(1.0, true) && Ratio::Exact(1.0).within(1.0, false));
        assert_eq!(below.show(), "< 0.01");
        assert_eq!(Ratio::Exact(0.004).show(), "4.0e-3");
    }

    #[test]
    fn the_quiesce_counts_from_the_failure_to_the_first_zero_weight() {
        let run = run_with_weights(
            &[
                (9.0, [0, 100, 100]),
                (10.0, [100, 100, 100]),
                (11.0, [100, 100, 100]),
                (12.0, [100, 100, 0]),
                (13.0, [100, 100, 0]),
            ],
            10.5,
        );
        assert_eq!(quiesce_delay(&run, 2), Some(1.5));
        assert_eq!(
            quiesce_delay(&run, 0),
            None,
            "a zero before the failure is not it"
        );
    }

    #[test]
    fn shares_are_read_once_an_interval_away_from_the_change() {
        let readings: Vec<(f64, [u64; 3])> = (0..10).map(|t| (t as f64, [t, 10, 10])).collect();
        let run = run_with_weights(&readings, 5.0);
        let (rows, change) = shares_per_interval(&run, 5.0, 2);
        // Before: readings 4, 2, 0; after: 5, 7, 9.
        assert_eq!(change, 3);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0], vec![0.0, 0.5, 0.5]);
        assert!((rows[3][0] - 5.0 / 25.0).abs() < 1e-12);
        assert!((rows[5][0] - 9.0 / 29.0).abs() < 1e-12);
    }

    #[test]
    fn a_step_that_settles_at_once_is_judged_settled_and_a_flip_flop_oscillates() {
        // srv1's share falls from 40% to 20% the first interval after the step.
        let steady: Vec<(f64, [u64; 3])> = (0..30)
            .map(|t| {
                let w = if t < 15 { [100, 75, 75] } else { [40, 80, 80] };
                (t as f64, w)
            })
            .collect();
        let settled = step_settling(&run_with_weights(&steady, 15.0), 0, 1.0).unwrap();
        assert_eq!(settled.all_settled_after, Some(1));
        assert!(!settled.oscillates());
        let flipping: Vec<(f64, [u64; 3])> = (0..30)
            .map(|t| {
                let w = if t < 15 || t % 2 == 0 {
                    [100, 75, 75]
                } else {
                    [20, 80, 80]
                };
                (t as f64, w)
            })
            .collect();
        let flip = step_settling(&run_with_weights(&flipping, 15.0), 0, 1.0).unwrap();
        assert!(flip.oscillates(), "{flip:?}");
        assert_eq!(flip.all_settled_after, None);
        assert!(step_settling(&run_with_weights(&steady[..15], 15.0), 0, 1.0).is_none());
    }
}
