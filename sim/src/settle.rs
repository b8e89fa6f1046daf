//! How weights settle after a change.
//!
//! A weighted round robin acts on the ratios of the weights, not their size (and the
//! Manager rescales its weights so that the lightest-loaded server has the largest), so the
//! judgement is on each server's share of the weight sum. The rounds are those after the
//! change, the first being the first decision taken after it.
//!
//! * The final value of a share is its mean over the second half of the rounds after the
//!   change.
//! * A share has settled after `j` rounds when, from the `j`-th round to the last, it stays
//!   within [`BAND`] (10%) of its final value. The changed server's share is judged alone,
//!   and every server's together.
//! * Oscillation is judged on the settled regime (the second half of the rounds after the
//!   change) by the lag-one autocorrelation of each server's deviations from its final
//!   share: near -1 when a weight flips between high and low every round, near 0 for
//!   independent noise, positive for slow drift. The lowest over the servers below
//!   [`OSCILLATION`] counts as oscillating.
//! * The noise before the change is the standard deviation of the changed server's share
//!   over the rounds before it, relative to its mean: a single run cannot settle within a
//!   band narrower than its own noise, which is why the report also judges the mean of many
//!   runs.

use crate::outcome::WeightSample;

/// The relative band around the final value.
pub const BAND: f64 = 0.10;

/// The lag-one autocorrelation below which weights count as oscillating.
pub const OSCILLATION: f64 = -0.3;

/// How one series of weights settled after a change.
#[derive(Clone, Debug, PartialEq)]
pub struct Settling {
    /// Each server's mean share over the rounds before the change.
    pub before: Vec<f64>,
    /// Each server's final share.
    pub after: Vec<f64>,
    /// Rounds after the change until the changed server's share stays within the band;
    /// `None` if that never holds to the end.
    pub changed_settled_after: Option<usize>,
    /// Rounds after the change until every share stays within the band.
    pub all_settled_after: Option<usize>,
    /// The lowest lag-one autocorrelation of a server's share in the settled regime.
    pub lag_one: f64,
    /// The changed server's relative noise before the change.
    pub noise_before: f64,
}

impl Settling {
    /// Whether some server's weight flips back and forth.
    pub fn oscillates(&self) -> bool {
        self.lag_one < OSCILLATION
    }
}

/// Each server's share of the weight sum in every sample; all 0 when every weight is.
pub fn shares(samples: &[WeightSample]) -> Vec<Vec<f64>> {
    samples
        .iter()
        .map(|sample| {
            let total: u32 = sample.weights.iter().sum();
            sample
                .weights
                .iter()
                .map(|&w| f64::from(w) / f64::from(total.max(1)))
                .collect()
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n.max(1) as f64
}

/// Rounds until `inside` holds for every round to the end, counting the first as 1.
fn settled_after<T>(rounds: &[T], inside: impl Fn(&T) -> bool) -> Option<usize> {
    let from = rounds
        .iter()
        .rposition(|round| !inside(round))
        .map_or(0, |last_outside| last_outside + 1);
    (from < rounds.len()).then_some(from + 1)
}

/// The lag-one autocorrelation of `values` around `centre`.
fn lag_one(values: &[f64], centre: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| v - centre).collect();
    let variance: f64 = deviations.iter().map(|d| d * d).sum();
    if variance == 0.0 {
        return 0.0;
    }
    deviations.windows(2).map(|p| p[0] * p[1]).sum::<f64>() / variance
}

/// Judges `rounds` (shares per server per round), of which those from index `change` on
/// come after the change to server `server`.
pub fn settling(rounds: &[Vec<f64>], change: usize, server: usize) -> Settling {
    let (before_rounds, after_rounds) = rounds.split_at(change);
    let servers = rounds.first().map_or(0, Vec::len);
    let settled_regime = &after_rounds[after_rounds.len() / 2..];
    let before: Vec<f64> = (0..servers)
        .map(|i| mean(before_rounds.iter().map(|row| row[i])))
        .collect();
    let after: Vec<f64> = (0..servers)
        .map(|i| mean(settled_regime.iter().map(|row| row[i])))
        .collect();
    let near = |share: f64, target: f64| (share - target).abs() <= BAND * target;
    let changed: Vec<f64> = after_rounds.iter().map(|row| row[server]).collect();
    let noise_before = {
        let centre = before[server];
        let variance = mean(
            before_rounds
                .iter()
                .map(|row| (row[server] - centre).powi(2)),
        );
        variance.sqrt() / centre
    };
    Settling {
        changed_settled_after: settled_after(&changed, |&share| near(share, after[server])),
        all_settled_after: settled_after(after_rounds, |row| {
            row.iter().zip(&after).all(|(&s, &t)| near(s, t))
        }),
        lag_one: (0..servers)
            .map(|i| {
                let series: Vec<f64> = settled_regime.iter().map(|row| row[i]).collect();
                lag_one(&series, after[i])
            })
            .fold(f64::INFINITY, f64::min),
        noise_before,
        before,
        after,
    }
}

/// The mean of several runs' share series, round by round, over the rounds all of them have.
pub fn ensemble_mean(runs: &[Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
    let rounds = runs.iter().map(Vec::len).min().unwrap_or(0);
    (0..rounds)
        .map(|round| {
            let servers = runs[0][round].len();
            (0..servers)
                .map(|i| mean(runs.iter().map(|run| run[round][i])))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(first: &[f64]) -> Vec<Vec<f64>> {
        first.iter().map(|&a| vec![a, 1.0 - a]).collect()
    }

    #[test]
    fn a_clean_exponential_approach_settles_without_oscillating() {
        // 0.5 before, then halfway to 0.3 each round: 0.4, 0.35, 0.325, ...
        let mut values = vec![0.5; 5];
        let mut share = 0.5;
        for _ in 0..20 {
            share = 0.3 + (share - 0.3) / 2.0;
            values.push(share);
        }
        let judged = settling(&series(&values), 5, 0);
        assert!((judged.before[0] - 0.5).abs() < 1e-12);
        assert_eq!(judged.noise_before, 0.0);
        assert!((judged.after[0] - 0.3).abs() < 1e-3);
        // 0.4 and 0.35 are more than 10% above 0.3; 0.325 is within.
        assert_eq!(judged.changed_settled_after, Some(3));
        // The other share goes 0.6, 0.65, 0.675 toward 0.7: within 10% from the first.
        assert_eq!(judged.all_settled_after, Some(3));
        assert!(!judged.oscillates(), "{}", judged.lag_one);
    }

    #[test]
    fn a_flip_flop_never_settles_and_oscillates() {
        let mut values = vec![0.5; 5];
        values.extend((0..20).map(|i| if i % 2 == 0 { 0.2 } else { 0.4 }));
        let judged = settling(&series(&values), 5, 0);
        assert_eq!(judged.changed_settled_after, None);
        assert_eq!(judged.all_settled_after, None);
        assert!(
            judged.lag_one < -0.9 && judged.oscillates(),
            "{}",
            judged.lag_one
        );
    }

    #[test]
    fn noise_before_the_change_is_relative_to_the_mean() {
        let values = [0.4, 0.6, 0.4, 0.6, 0.3, 0.3, 0.3, 0.3];
        let judged = settling(&series(&values), 4, 0);
        assert!((judged.noise_before - 0.2).abs() < 1e-12);
        assert_eq!(judged.changed_settled_after, Some(1));
    }

    #[test]
    fn shares_are_of_the_weight_sum_and_ensembles_average_round_by_round() {
        let samples = [
            WeightSample {
                time: 0.0,
                weights: vec![100, 50, 50],
            },
            WeightSample {
                time: 5.0,
                weights: vec![0, 0, 0],
            },
        ];
        assert_eq!(shares(&samples), [vec![0.5, 0.25, 0.25], vec![0.0; 3]]);
        let mean = ensemble_mean(&[series(&[0.2, 0.4]), series(&[0.4, 0.6, 0.9])]);
        assert_eq!(mean.len(), 2);
        assert!((mean[0][0] - 0.3).abs() < 1e-12 && (mean[1][1] - 0.5).abs() < 1e-12);
    }
}
