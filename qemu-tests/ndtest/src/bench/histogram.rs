//! A log-linear histogram of latencies in nanoseconds, in the manner of HdrHistogram: values
//! below 128 have a bucket each, and every power of two above is split into 64 buckets, so
//! any recorded value is known to within 1/64 (1.6%) in 3776 counters covering all of `u64`.
//! Recording is an index computation and an increment, cheap enough for every transaction
//! of a benchmark; histograms of several threads add up.

use serde::{Deserialize, Serialize};

/// Bits of a value kept exactly: 2^7 linear buckets, then 2^6 buckets per power of two.
const PRECISION_BITS: u32 = 7;
const LINEAR: u64 = 1 << PRECISION_BITS;
const PER_OCTAVE: u64 = LINEAR / 2;
/// The bucket of `u64::MAX`, plus one.
const BUCKETS: usize = bucket_of(u64::MAX) + 1;

/// The bucket holding `value`.
const fn bucket_of(value: u64) -> usize {
    if value < LINEAR {
        return value as usize;
    }
    let top_bit = 63 - value.leading_zeros();
    let shift = top_bit - (PRECISION_BITS - 1);
    (shift as u64 * PER_OCTAVE + (value >> shift)) as usize
}

/// The largest value that falls in `bucket`.
fn highest_in(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < LINEAR {
        return bucket;
    }
    let shift = bucket / PER_OCTAVE - 1;
    let mantissa = bucket - shift * PER_OCTAVE;
    let above = u128::from(mantissa + 1) << shift;
    u64::try_from(above - 1).unwrap_or(u64::MAX)
}

/// Counts of recorded values.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram (about 30 KiB, allocated once).
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Counts one occurrence of `value`.
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Counts `n` occurrences of `value`.
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.counts[bucket_of(value)] += n;
        self.total += n;
        self.sum += u128::from(value) * u128::from(n);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The buckets that hold values, in order: the largest value each may hold (never above
    /// the largest value recorded) and its count. A compact form for reports, from which
    /// [`Histogram::from_buckets`] rebuilds the same buckets.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &count)| count > 0)
            .map(|(bucket, &count)| (highest_in(bucket).min(self.max), count))
            .collect()
    }

    /// A histogram with the buckets of [`Histogram::buckets`]; its mean and smallest value
    /// are those of the buckets' tops, within a bucket's width of the original's.
    pub fn from_buckets(buckets: &[(u64, u64)]) -> Histogram {
        let mut histogram = Histogram::new();
        for &(value, count) in buckets {
            histogram.record_n(value, count);
        }
        histogram
    }

    /// The distribution as (value, fraction of the values at or below it), at the top of
    /// every bucket that holds values: the points of a CDF, ending at (max, 1).
    pub fn cdf(&self) -> Vec<(u64, f64)> {
        let mut seen = 0;
        self.buckets()
            .into_iter()
            .map(|(value, count)| {
                seen += count;
                (value, seen as f64 / self.total as f64)
            })
            .collect()
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The smallest value recorded; 0 when empty.
    pub fn min(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            self.min
        }
    }

    /// The largest value recorded, exactly; 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the recorded values, exactly; 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The value below or at which `percent` of the recorded values lie (the nearest-rank
    /// definition), as the top of its bucket but never above the largest value recorded; 0
    /// when empty. Monotonic in `percent`, and `value_at(100.0)` is [`Histogram::max`].
    pub fn value_at(&self, percent: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        // In parts per million, so that the rank is integer arithmetic: 60% of 5 is exactly 3.
        let per_million = (percent.clamp(0.0, 100.0) * 10_000.0).round() as u128;
        let rank = (per_million * u128::from(self.total)).div_ceil(1_000_000) as u64;
        self.value_at_rank(rank)
    }

    /// The `rank`-th smallest value recorded (from 1, clamped to the values there are), as
    /// the top of its bucket but never above the largest value recorded; 0 when empty.
    pub fn value_at_rank(&self, rank: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = rank.clamp(1, self.total);
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return highest_in(bucket).min(self.max).max(self.min);
            }
        }
        self.max
    }

    /// The summary reports carry, in microseconds (to the nearest).
    pub fn summary_us(&self) -> LatencySummary {
        let us = |ns: u64| ns / 1000 + u64::from(ns % 1000 >= 500);
        LatencySummary {
            count: self.total,
            min: us(self.min()),
            mean: (self.mean() / 1000.0 * 10.0).round() / 10.0,
            p50: us(self.value_at(50.0)),
            p90: us(self.value_at(90.0)),
            p99: us(self.value_at(99.0)),
            p999: us(self.value_at(99.9)),
            max: us(self.max()),
        }
    }
}

/// Percentiles of a latency distribution, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Latencies recorded.
    pub count: u64,
    pub min: u64,
    /// To a tenth of a microsecond.
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::Prng;

    #[test]
    fn buckets_tile_the_whole_range_without_gaps() {
        assert_eq!(BUCKETS, 3776);
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(127), 127);
        assert_eq!(bucket_of(128), 128);
        assert_eq!(bucket_of(129), 128, "two values a bucket from 128 on");
        assert_eq!(highest_in(BUCKETS - 1), u64::MAX);
        for bucket in 1..BUCKETS {
            let lowest = highest_in(bucket - 1) + 1;
            assert_eq!(
                bucket_of(lowest),
                bucket,
                "bucket {bucket} starts right after"
            );
            assert_eq!(bucket_of(highest_in(bucket)), bucket);
        }
    }

    #[test]
    fn bucket_width_stays_within_one_sixty_fourth() {
        let mut rng = Prng::new(11);
        for _ in 0..10_000 {
            let value = rng.next_u64() >> rng.below(64);
            let top = highest_in(bucket_of(value));
            assert!(top >= value);
            assert!(top - value <= value / 64, "{value} -> {top}");
        }
    }

    #[test]
    fn percentiles_of_one_to_a_thousand() {
        let mut histogram = Histogram::new();
        for value in 1..=1000 {
            histogram.record(value);
        }
        assert_eq!(histogram.count(), 1000);
        assert_eq!((histogram.min(), histogram.max()), (1, 1000));
        assert_eq!(histogram.mean(), 500.5);
        for (percent, exact) in [(50.0, 500), (90.0, 900), (99.0, 990), (99.9, 999)] {
            let value = histogram.value_at(percent);
            assert!(value >= exact, "p{percent}: {value}");
            assert!(value - exact <= exact / 64, "p{percent}: {value}");
        }
        assert_eq!(histogram.value_at(100.0), 1000);
        assert_eq!(histogram.value_at(0.0), 1);
        assert_eq!(histogram.value_at_rank(1), 1);
        assert_eq!(histogram.value_at_rank(100), 100);
        assert_eq!(histogram.value_at_rank(5000), 1000, "clamped");
    }

    #[test]
    fn small_values_are_exact() {
        let mut histogram = Histogram::new();
        for value in [3, 3, 5, 7, 100] {
            histogram.record(value);
        }
        assert_eq!(histogram.value_at(40.0), 3);
        assert_eq!(histogram.value_at(41.0), 5);
        assert_eq!(histogram.value_at(60.0), 5);
        assert_eq!(histogram.value_at(80.0), 7);
        assert_eq!(histogram.value_at(99.0), 100);
    }

    #[test]
    fn percentiles_are_ordered_and_bounded_by_the_extremes() {
        let mut rng = Prng::new(5);
        let mut histogram = Histogram::new();
        for _ in 0..5000 {
            histogram.record(rng.between(20_000, 5_000_000));
        }
        let mut previous = 0;
        for percent in [0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            let value = histogram.value_at(percent);
            assert!(value >= previous, "p{percent} went down");
            assert!(value >= histogram.min() && value <= histogram.max());
            previous = value;
        }
        let summary = histogram.summary_us();
        assert!(summary.p50 <= summary.p90 && summary.p90 <= summary.p99);
        assert!(summary.p99 <= summary.p999 && summary.p999 <= summary.max);
        assert!(summary.min >= 20 && summary.max <= 5000);
    }

    #[test]
    fn one_slow_outlier_moves_only_the_top() {
        let mut histogram = Histogram::new();
        for _ in 0..999 {
            histogram.record(1_000);
        }
        histogram.record(1_000_000_000);
        let summary = histogram.summary_us();
        assert_eq!((summary.p50, summary.p99), (1, 1));
        assert_eq!(summary.p999, 1);
        assert_eq!(summary.max, 1_000_000);
    }

    #[test]
    fn merged_histograms_equal_one_that_saw_everything() {
        let (mut left, mut right, mut both) =
            (Histogram::new(), Histogram::new(), Histogram::new());
        for value in 0..500u64 {
            left.record(value * 37);
            both.record(value * 37);
            right.record(value * 1013 + 7);
            both.record(value * 1013 + 7);
        }
        left.merge(&right);
        assert_eq!(left.count(), both.count());
        assert_eq!((left.min(), left.max()), (both.min(), both.max()));
        for percent in [10.0, 50.0, 95.0, 99.9] {
            assert_eq!(left.value_at(percent), both.value_at(percent));
        }
        left.merge(&Histogram::new());
        assert_eq!((left.min(), left.max()), (both.min(), both.max()));
        assert_eq!(
            left.count(),
            both.count(),
            "an empty histogram changes nothing"
        );
    }

    #[test]
    fn buckets_rebuild_the_same_percentiles_and_make_a_cdf() {
        let mut histogram = Histogram::new();
        let mut rng = Prng::new(9);
        for _ in 0..3000 {
            histogram.record(rng.between(1_000, 40_000_000));
        }
        histogram.record_n(77, 3);
        histogram.record_n(5, 0);
        let buckets = histogram.buckets();
        assert!(buckets.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(buckets.last().unwrap().0, histogram.max());
        let rebuilt = Histogram::from_buckets(&buckets);
        assert_eq!(rebuilt.count(), 3003);
        assert_eq!((rebuilt.min(), rebuilt.max()), (77, histogram.max()));
        for percent in [1.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(rebuilt.value_at(percent), histogram.value_at(percent));
        }
        assert!((rebuilt.mean() - histogram.mean()).abs() <= histogram.mean() / 64.0);
        let cdf = histogram.cdf();
        assert_eq!(cdf[0], (77, 3.0 / 3003.0));
        assert_eq!(cdf.last().copied(), Some((histogram.max(), 1.0)));
        assert!(cdf.windows(2).all(|pair| pair[0].1 < pair[1].1));
        assert!(Histogram::new().cdf().is_empty());
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        let summary = Histogram::new().summary_us();
        assert_eq!(summary, LatencySummary::default());
    }
}
