//! Normalization: one metric's values on a port's healthy servers, as shares of their sum.
//!
//! ```text
//! l_i(S) = (v_i(S) / c(S)) / sum_T (v_i(T) / c(T))
//! ```
//!
//! where `c` is the server's configured capacity, so a server twice as large carrying twice
//! the connections is as loaded as its peer. The shares of one metric sum to 1 over the
//! servers, which lets milliseconds, connection counts and load averages weigh alike in the
//! Load Metric Index. When every value is 0 the metric cannot tell the servers apart and each
//! gets `1/n`. A negative value (an agent's command may print one) counts as 0.

/// The share of each server in one metric. `values` and `capacities` are per server, in the
/// same order; capacities are above 0. Empty input gives empty output.
pub fn shares(values: &[f64], capacities: &[f64]) -> Vec<f64> {
    debug_assert_eq!(values.len(), capacities.len());
    let scaled: Vec<f64> = values
        .iter()
        .zip(capacities)
        .map(|(&value, &capacity)| (value.max(0.0) / capacity).min(f64::MAX))
        .collect();
    // Dividing by the largest first keeps the sum finite for any finite values.
    let largest = scaled.iter().copied().fold(0.0, f64::max);
    if largest <= 0.0 || largest.is_nan() {
        return vec![1.0 / scaled.len() as f64; scaled.len()];
    }
    let relative: Vec<f64> = scaled.iter().map(|v| v / largest).collect();
    let total: f64 = relative.iter().sum();
    relative.iter().map(|v| v / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_follow_the_values() {
        assert_eq!(shares(&[1.0, 3.0], &[1.0, 1.0]), vec![0.25, 0.75]);
    }

    #[test]
    fn capacity_divides_the_value() {
        // Twice the connections on twice the capacity is the same load.
        assert_eq!(shares(&[20.0, 10.0], &[2.0, 1.0]), vec![0.5, 0.5]);
    }

    #[test]
    fn all_zero_shares_equally() {
        assert_eq!(shares(&[0.0, 0.0, 0.0, 0.0], &[1.0; 4]), vec![0.25; 4]);
    }

    #[test]
    fn negative_values_count_as_zero() {
        assert_eq!(shares(&[-5.0, 2.0], &[1.0, 1.0]), vec![0.0, 1.0]);
        assert_eq!(shares(&[-5.0, -2.0], &[1.0, 1.0]), vec![0.5, 0.5]);
    }

    #[test]
    fn no_servers_no_shares() {
        assert!(shares(&[], &[]).is_empty());
    }

    fn servers() -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop::collection::vec((0.0..f64::MAX, 1e-3..1e3f64), 1..20)
    }

    proptest! {
        #[test]
        fn shares_sum_to_one_and_lie_in_0_1(servers in servers()) {
            let (values, capacities): (Vec<f64>, Vec<f64>) = servers.into_iter().unzip();
            let shares = shares(&values, &capacities);
            prop_assert_eq!(shares.len(), values.len());
            prop_assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            prop_assert!(shares.iter().all(|s| (0.0..=1.0).contains(s)));
        }

        #[test]
        fn more_load_per_capacity_means_a_larger_share(servers in servers()) {
            let (values, capacities): (Vec<f64>, Vec<f64>) = servers.into_iter().unzip();
            let shares = shares(&values, &capacities);
            for i in 0..values.len() {
                for j in 0..values.len() {
                    if values[i] / capacities[i] > values[j] / capacities[j] {
                        prop_assert!(shares[i] >= shares[j]);
                    }
                }
            }
        }
    }
}
