//! What one run of one policy measured, and the statistics drawn from it.

use crate::policy::LoadSharing;

/// The Executor's weights after one of the Manager's rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightSample {
    /// When the round decided.
    pub time: f64,
    /// Each server's weight.
    pub weights: Vec<u32>,
}

/// Totals that must add up when a run is over.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conservation {
    /// Requests that arrived, warm-up included.
    pub arrivals: u64,
    /// Requests that completed, successfully or not, or were refused.
    pub finished: u64,
    /// Jobs still on a server after the run (probes included).
    pub left_in_progress: usize,
    /// Work of every request and probe given to a server.
    pub work_submitted: f64,
    /// Work the servers did.
    pub work_done: f64,
}

/// One run's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The policy run.
    pub policy: LoadSharing,
    /// Response times of the measured requests that succeeded, in seconds, sorted.
    pub response_times: Vec<f64>,
    /// Requests that arrived in the measured window.
    pub measured_requests: u64,
    /// Of those, the ones answered with an error or refused for want of a server.
    pub errors: u64,
    /// Each server's share of the measured requests.
    pub shares: Vec<f64>,
    /// Each server's busy fraction over the measured window.
    pub utilization: Vec<f64>,
    /// The weights after each of the Manager's rounds (none for static policies).
    pub weights: Vec<WeightSample>,
    /// The totals to check.
    pub conservation: Conservation,
    /// Events processed.
    pub events: u64,
}

impl RunOutcome {
    /// The mean response time.
    pub fn mean(&self) -> f64 {
        self.response_times.iter().sum::<f64>() / self.response_times.len().max(1) as f64
    }

    /// The `q` quantile of the response times (nearest rank).
    pub fn quantile(&self, q: f64) -> f64 {
        quantile(&self.response_times, q)
    }

    /// The 99th percentile response time.
    pub fn p99(&self) -> f64 {
        self.quantile(0.99)
    }

    /// The share of the measured requests that failed.
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.measured_requests.max(1) as f64
    }

    /// The fraction of response times at or below `seconds`.
    pub fn cdf(&self, seconds: f64) -> f64 {
        let below = self.response_times.partition_point(|&t| t <= seconds);
        below as f64 / self.response_times.len().max(1) as f64
    }
}

/// The `q` quantile of `sorted` by nearest rank; 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Minimum, mean and maximum of `values`.
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    (min, mean, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&sorted, 0.99), 99.0);
        assert_eq!(quantile(&sorted, 0.5), 50.0);
        assert_eq!(quantile(&sorted, 1.0), 100.0);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(spread(&[1.0, 3.0, 2.0]), (1.0, 2.0, 3.0));
    }
}
