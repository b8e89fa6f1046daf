//! The Load Metric Index: one number per server combining its normalized metrics.
//!
//! ```text
//! L(S) = sum_i R(i) * l_i(S) / sum_i R(i)
//! ```
//!
//! over the metrics that have a value on every healthy server of the port. The configured
//! relative weights `R(i)` sum to 1, so the division only matters when a metric has no values
//! yet (an advisor's first probe, a host metric before its first report): the others then
//! keep their proportions instead of the index shrinking. Because each metric's shares sum to
//! 1 over the servers, so do the indexes. With no usable metric every server gets `1/n`.

/// The index of each of `servers` servers. `relative_weights[i]` is `R(i)`; `shares[i]` is
/// metric `i`'s share per server, or `None` where the metric has no value on some server.
pub fn load_metric_index(
    relative_weights: &[f64],
    shares: &[Option<Vec<f64>>],
    servers: usize,
) -> Vec<f64> {
    debug_assert_eq!(relative_weights.len(), shares.len());
    let mut index = vec![0.0; servers];
    let mut used_weight = 0.0;
    for (&weight, shares) in relative_weights.iter().zip(shares) {
        let Some(shares) = shares else { continue };
        debug_assert_eq!(shares.len(), servers);
        used_weight += weight;
        for (load, share) in index.iter_mut().zip(shares) {
            *load += weight * share;
        }
    }
    if used_weight <= 0.0 {
        return vec![1.0 / servers as f64; servers];
    }
    index.iter().map(|load| load / used_weight).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn weighs_each_metric_by_its_relative_weight() {
        let index = load_metric_index(
            &[0.75, 0.25],
            &[Some(vec![0.2, 0.8]), Some(vec![0.6, 0.4])],
            2,
        );
        assert!(close(&index, &[0.3, 0.7]), "{index:?}");
    }

    #[test]
    fn a_metric_without_values_leaves_the_others_in_proportion() {
        let index = load_metric_index(
            &[0.5, 0.3, 0.2],
            &[None, Some(vec![0.1, 0.9]), Some(vec![0.1, 0.9])],
            2,
        );
        assert!(close(&index, &[0.1, 0.9]), "{index:?}");
    }

    #[test]
    fn no_usable_metric_loads_every_server_alike() {
        assert_eq!(load_metric_index(&[1.0], &[None], 4), vec![0.25; 4]);
        assert_eq!(
            load_metric_index(&[0.0], &[Some(vec![1.0, 0.0])], 2),
            vec![0.5; 2]
        );
    }

    fn metrics_of(servers: usize) -> impl Strategy<Value = Vec<(f64, Option<Vec<f64>>)>> {
        let shares = prop::collection::vec(0.0..1.0f64, servers).prop_map(|raw| {
            let total: f64 = raw.iter().sum();
            if total > 0.0 {
                raw.iter().map(|v| v / total).collect()
            } else {
                vec![1.0 / raw.len() as f64; raw.len()]
            }
        });
        prop::collection::vec((0.0..1.0f64, prop::option::of(shares)), 1..6)
    }

    proptest! {
        #[test]
        fn indexes_sum_to_one(
            (servers, metrics) in (1usize..12).prop_flat_map(|n| (Just(n), metrics_of(n)))
        ) {
            let (weights, shares): (Vec<f64>, Vec<_>) = metrics.into_iter().unzip();
            let index = load_metric_index(&weights, &shares, servers);
            prop_assert_eq!(index.len(), servers);
            prop_assert!((index.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{:?}", index);
        }
    }
}
