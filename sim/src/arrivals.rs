//! Request arrival processes.
//!
//! * Poisson: independent exponential gaps.
//! * Bursty, self-similar: the superposition of many ON/OFF sources whose ON and OFF periods
//!   are Pareto with shape `a` between 1 and 2; their aggregate is asymptotically
//!   self-similar with Hurst parameter `H = (3 - a) / 2` (Willinger, Taqqu, Sherman and
//!   Wilson, 1997). Shape 1.4 gives `H = 0.8`, the value measured on Ethernet and Web
//!   traffic. A source that is ON emits requests as a Poisson stream; with `k` sources ON the
//!   aggregate is Poisson of rate `k * r`, so the generator draws exponential gaps at the
//!   current rate and, being memoryless, draws again whenever a source switches.
//!
//! Both give the same long-run rate; sources start ON or OFF with even odds, so a run starts
//! with a warm-up whose requests are not measured.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::rng::Rng;

/// How requests arrive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArrivalPattern {
    /// A Poisson stream.
    Poisson,
    /// A superposition of Pareto ON/OFF sources.
    OnOff {
        /// How many sources.
        sources: usize,
        /// The shape of the ON and OFF periods.
        shape: f64,
        /// The mean length of an ON period, and of an OFF period, in seconds.
        mean_period: f64,
    },
}

impl ArrivalPattern {
    /// The bursty pattern of the scaled-up setting: 32 sources, shape 1.4 (H = 0.8), mean
    /// periods of 2 s.
    pub const SELF_SIMILAR: ArrivalPattern = ArrivalPattern::OnOff {
        sources: 32,
        shape: 1.4,
        mean_period: 2.0,
    };

    /// The Hurst parameter of the aggregate: 0.5 for Poisson, `(3 - shape) / 2` otherwise.
    pub fn hurst(self) -> f64 {
        match self {
            ArrivalPattern::Poisson => 0.5,
            ArrivalPattern::OnOff { shape, .. } => (3.0 - shape) / 2.0,
        }
    }

    /// A short description for tables.
    pub fn describe(self) -> String {
        match self {
            ArrivalPattern::Poisson => "Poisson".into(),
            ArrivalPattern::OnOff {
                sources,
                shape,
                mean_period,
            } => format!(
                "{sources} Pareto ON/OFF sources, shape {shape}, mean periods {mean_period} s \
                 (H = {:.2})",
                self.hurst()
            ),
        }
    }
}

/// A stream of arrival times.
#[derive(Debug)]
pub struct Arrivals {
    rng: Rng,
    now: f64,
    /// Requests per second of one ON source (Poisson: of the whole stream).
    rate_per_source: f64,
    on_off: Option<OnOffState>,
}

#[derive(Debug)]
struct OnOffState {
    shape: f64,
    mean_period: f64,
    on: Vec<bool>,
    sources_on: usize,
    /// When each source switches next, earliest first: (time bits, source).
    switches: BinaryHeap<Reverse<(u64, usize)>>,
}

/// Orders non-negative times by their bits, which for non-negative floats is their order.
fn time_key(time: f64) -> u64 {
    debug_assert!(time >= 0.0);
    time.to_bits()
}

impl Arrivals {
    /// Arrivals at `rate` per second on average, following `pattern`, drawn from `rng`.
    pub fn new(pattern: ArrivalPattern, rate: f64, mut rng: Rng) -> Arrivals {
        match pattern {
            ArrivalPattern::Poisson => Arrivals {
                rng,
                now: 0.0,
                rate_per_source: rate,
                on_off: None,
            },
            ArrivalPattern::OnOff {
                sources,
                shape,
                mean_period,
            } => {
                let mut state = OnOffState {
                    shape,
                    mean_period,
                    on: Vec::with_capacity(sources),
                    sources_on: 0,
                    switches: BinaryHeap::new(),
                };
                for source in 0..sources {
                    let on = rng.chance(0.5);
                    state.on.push(on);
                    state.sources_on += usize::from(on);
                    let until = rng.pareto(shape, mean_period);
                    state.switches.push(Reverse((time_key(until), source)));
                }
                // Half the sources are ON on average.
                Arrivals {
                    rng,
                    now: 0.0,
                    rate_per_source: 2.0 * rate / sources as f64,
                    on_off: Some(state),
                }
            }
        }
    }

    /// The time of the next arrival.
    pub fn next_arrival(&mut self) -> f64 {
        let Some(state) = &mut self.on_off else {
            self.now += self.rng.exponential(self.rate_per_source);
            return self.now;
        };
        loop {
            let rate = self.rate_per_source * state.sources_on as f64;
            let candidate = if rate > 0.0 {
                self.now + self.rng.exponential(rate)
            } else {
                f64::INFINITY
            };
            let Reverse((switch_bits, source)) =
                *state.switches.peek().expect("there is at least one source");
            let switch_at = f64::from_bits(switch_bits);
            if candidate < switch_at {
                self.now = candidate;
                return candidate;
            }
            // The source switches before the candidate arrival; the gap is drawn anew from
            // there at the new rate.
            self.now = switch_at;
            state.switches.pop();
            let now_on = !state.on[source];
            state.on[source] = now_on;
            if now_on {
                state.sources_on += 1;
            } else {
                state.sources_on -= 1;
            }
            let until = switch_at + self.rng.pareto(state.shape, state.mean_period);
            state.switches.push(Reverse((time_key(until), source)));
        }
    }
}

/// The counts of arrivals in consecutive bins of `bin` seconds over `[0, horizon)`.
pub fn counts_per_bin(times: &[f64], bin: f64, horizon: f64) -> Vec<f64> {
    let mut counts = vec![0.0; (horizon / bin).floor() as usize];
    for &time in times {
        if let Some(count) = counts.get_mut((time / bin) as usize) {
            *count += 1.0;
        }
    }
    counts
}

/// The Hurst parameter of a count series by the aggregated-variance method: the variance of
/// the means of blocks of `m` bins falls as `m^(2H - 2)`; `H` comes from the least-squares
/// slope of log variance against log `m` over block sizes 1, 2, 4, ... while at least 20
/// blocks remain.
pub fn hurst_aggregated_variance(counts: &[f64]) -> f64 {
    let mut points = Vec::new();
    let mut m = 1;
    while counts.len() / m >= 20 {
        let means: Vec<f64> = counts
            .chunks_exact(m)
            .map(|block| block.iter().sum::<f64>() / m as f64)
            .collect();
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        let variance =
            means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (means.len() - 1) as f64;
        points.push(((m as f64).ln(), variance.ln()));
        m *= 2;
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let slope = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum::<f64>()
        / points.iter().map(|(x, _)| (x - mx).powi(2)).sum::<f64>();
    1.0 + slope / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(pattern: ArrivalPattern, rate: f64, horizon: f64, seed: u64) -> Vec<f64> {
        let mut arrivals = Arrivals::new(pattern, rate, Rng::new(seed, "arrivals"));
        std::iter::from_fn(|| Some(arrivals.next_arrival()))
            .take_while(|&t| t < horizon)
            .collect()
    }

    fn dispersion(counts: &[f64]) -> f64 {
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        let variance = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
        variance / mean
    }

    #[test]
    fn both_patterns_keep_the_mean_rate() {
        let poisson = times(ArrivalPattern::Poisson, 200.0, 2000.0, 1);
        assert!((poisson.len() as f64 / 2000.0 / 200.0 - 1.0).abs() < 0.02);
        let bursty = times(ArrivalPattern::SELF_SIMILAR, 200.0, 20_000.0, 1);
        let rate = bursty.len() as f64 / 20_000.0;
        assert!((rate / 200.0 - 1.0).abs() < 0.1, "{rate}");
        assert!(bursty.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn on_off_arrivals_are_bursty_at_every_scale_and_poisson_is_not() {
        // Index of dispersion (variance / mean of the counts): 1 for Poisson at any bin size,
        // growing with the bin size for a long-range dependent stream.
        let horizon = 20_000.0;
        let poisson = times(ArrivalPattern::Poisson, 100.0, horizon, 2);
        let bursty = times(ArrivalPattern::SELF_SIMILAR, 100.0, horizon, 2);
        for bin in [1.0, 10.0] {
            let d = dispersion(&counts_per_bin(&poisson, bin, horizon));
            assert!((d - 1.0).abs() < 0.2, "Poisson at {bin} s: {d}");
        }
        let fine = dispersion(&counts_per_bin(&bursty, 1.0, horizon));
        let coarse = dispersion(&counts_per_bin(&bursty, 10.0, horizon));
        assert!(fine > 2.0 && coarse > 2.0 * fine, "{fine} {coarse}");
    }

    #[test]
    fn the_hurst_estimate_tells_the_patterns_apart() {
        let horizon = 40_000.0;
        let poisson = counts_per_bin(
            &times(ArrivalPattern::Poisson, 50.0, horizon, 3),
            1.0,
            horizon,
        );
        let bursty = counts_per_bin(
            &times(ArrivalPattern::SELF_SIMILAR, 50.0, horizon, 3),
            1.0,
            horizon,
        );
        let h_poisson = hurst_aggregated_variance(&poisson);
        let h_bursty = hurst_aggregated_variance(&bursty);
        assert!((h_poisson - 0.5).abs() < 0.08, "{h_poisson}");
        assert!((0.68..0.95).contains(&h_bursty), "{h_bursty}");
    }
}
