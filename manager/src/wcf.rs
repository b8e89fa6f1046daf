//! Weight computation functions: from each server's Load Metric Index to its new weight.
//!
//! The default, [`InverseLoad`], aims each healthy server's weight at
//!
//! ```text
//! target(S) = max_weight * (1 / (L(S) + e)) / max_T (1 / (L(T) + e))
//! ```
//!
//! so the least-loaded server gets `max_weight` and the others less in inverse proportion to
//! their load. `e` is a tenth of the mean index (`0.1 / n`): it keeps a server that shows no
//! load at all from taking every weight away from the rest. The new weight then moves from
//! the old one toward the target by the smoothing factor `s`:
//!
//! ```text
//! new(S) = s * old(S) + (1 - s) * target(S)
//! ```
//!
//! A weighted round robin sends new connections in proportion to weights, so the connections
//! a weight attracts raise the very load it is computed from; blending damps that feedback
//! (with a load proportional to weight, `s = 0.5` settles in one step). Rounding never leaves
//! a weight stuck short of its target: if the blend rounds back to the old weight, the weight
//! moves by 1. Healthy servers keep at least weight 1, and servers that are down get 0.
//!
//! [`BestServer`] sends every new connection to the least-loaded healthy server.

use crate::config::Policy;

/// A tenth of the mean Load Metric Index: the floor under each load in [`InverseLoad`].
const LOAD_FLOOR: f64 = 0.1;

/// What a weight computation knows of one server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WcfServer {
    /// Its Load Metric Index, or `None` if it is down.
    pub load: Option<f64>,
    /// Its weight in the Executor now.
    pub old_weight: u32,
}

/// The inputs of one port's weight computation.
#[derive(Clone, Copy, Debug)]
pub struct WcfInput<'a> {
    /// The port's managed servers.
    pub servers: &'a [WcfServer],
    /// The largest weight to give.
    pub max_weight: u32,
    /// The share of the old weight kept in the new one, from 0 to below 1.
    pub smoothing: f64,
    /// How much lower another server's load must be before [`BestServer`] moves the
    /// connections to it (the configured sensitivity, read as a difference of indexes).
    pub switch_margin: f64,
}

/// A weight computation function: one new weight per server of the input, in its order.
pub trait WeightComputation: Send + Sync {
    /// The new weights; 0 for servers that are down.
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32>;
}

/// Weights in inverse proportion to load, blended with the old ones (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct InverseLoad;

/// Every new connection to the least-loaded healthy server.
#[derive(Clone, Copy, Debug, Default)]
pub struct BestServer;

/// The weight computation of `policy`.
pub fn for_policy(policy: Policy) -> &'static dyn WeightComputation {
    match policy {
        Policy::Weighted => &InverseLoad,
        Policy::Best => &BestServer,
    }
}

impl WeightComputation for InverseLoad {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        let loads: Vec<Option<f64>> = input.servers.iter().map(|s| s.load).collect();
        inverse_load_targets(&loads, input.max_weight)
            .into_iter()
            .zip(input.servers)
            .map(|(target, server)| match target {
                Some(target) => {
                    smooth(server.old_weight, target, input.smoothing, input.max_weight)
                }
                None => 0,
            })
            .collect()
    }
}

/// Each healthy server's unrounded target weight, the largest being `max_weight`; `None` for
/// servers that are down.
pub fn inverse_load_targets(loads: &[Option<f64>], max_weight: u32) -> Vec<Option<f64>> {
    let healthy = loads.iter().flatten().count();
    if healthy == 0 {
        return vec![None; loads.len()];
    }
    let floor = LOAD_FLOOR / healthy as f64;
    let inverse: Vec<Option<f64>> = loads
        .iter()
        .map(|load| load.map(|load| 1.0 / (load.max(0.0) + floor)))
        .collect();
    let largest = inverse.iter().flatten().copied().fold(0.0, f64::max);
    inverse
        .into_iter()
        .map(|inverse| inverse.map(|inverse| f64::from(max_weight) * inverse / largest))
        .collect()
}

/// The weight after one step from `old` toward `target`, keeping the share `smoothing` of the
/// old weight; always in `1..=max_weight`, between `old` and the rounded target, and closer to
/// the target than `old` unless already on it.
pub fn smooth(old: u32, target: f64, smoothing: f64, max_weight: u32) -> u32 {
    let max = f64::from(max_weight.max(1));
    let target = target.clamp(1.0, max);
    let goal = target.round() as u32;
    let blended = smoothing * f64::from(old) + (1.0 - smoothing) * target;
    let new = blended.round().clamp(1.0, max) as u32;
    if new == old && old != goal {
        // The blend rounded back to where it was; move by one so the target is reached.
        return if goal > old { old + 1 } else { old - 1 };
    }
    new
}

impl WeightComputation for BestServer {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        let healthy = || {
            input
                .servers
                .iter()
                .enumerate()
                .filter_map(|(index, server)| server.load.map(|load| (index, load)))
        };
        let Some((lightest, lightest_load)) = healthy().min_by(|(_, a), (_, b)| a.total_cmp(b))
        else {
            return vec![0; input.servers.len()];
        };
        // The server that has the connections now keeps them until another is clearly
        // lighter, so two servers of nearly equal load do not trade places every interval.
        let mut holders = healthy().filter(|&(index, _)| input.servers[index].old_weight > 0);
        let chosen = match (holders.next(), holders.next()) {
            (Some((holder, load)), None) if load - lightest_load <= input.switch_margin => holder,
            _ => lightest,
        };
        (0..input.servers.len())
            .map(|index| if index == chosen { input.max_weight } else { 0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn servers(loads: &[Option<f64>], old: &[u32]) -> Vec<WcfServer> {
        loads
            .iter()
            .zip(old)
            .map(|(&load, &old_weight)| WcfServer { load, old_weight })
            .collect()
    }

    fn input(servers: &[WcfServer], smoothing: f64) -> WcfInput<'_> {
        WcfInput {
            servers,
            max_weight: 100,
            smoothing,
            switch_margin: 0.05,
        }
    }

    #[test]
    fn targets_are_inverse_to_load_with_the_lightest_at_max_weight() {
        // Floor 0.1 / 2 = 0.05: 1 / 0.3 against 1 / 0.8.
        let targets = inverse_load_targets(&[Some(0.25), Some(0.75)], 100);
        assert_eq!(targets[0], Some(100.0));
        let heavy = targets[1].unwrap();
        assert!((heavy - 100.0 * 0.3 / 0.8).abs() < 1e-9, "{heavy}");
    }

    #[test]
    fn servers_that_are_down_get_no_target_and_weight_zero() {
        assert_eq!(
            inverse_load_targets(&[None, Some(1.0)], 100),
            vec![None, Some(100.0)]
        );
        let servers = servers(&[None, Some(1.0)], &[40, 40]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.5)), vec![0, 70]);
    }

    #[test]
    fn without_smoothing_the_weights_are_the_targets() {
        let servers = servers(&[Some(0.25), Some(0.75)], &[1, 1]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.0)), vec![100, 38]);
    }

    #[test]
    fn a_healthy_server_never_rounds_to_zero() {
        let servers = servers(&[Some(0.0), Some(1.0e9)], &[100, 100]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.0)), vec![100, 1]);
    }

    #[test]
    fn a_quiesced_server_coming_back_gets_a_positive_weight_at_once() {
        let servers = servers(&[Some(0.5), Some(0.5)], &[0, 100]);
        let weights = InverseLoad.compute(&input(&servers, 0.9));
        assert_eq!(weights, vec![10, 100]);
        let weights = InverseLoad.compute(&input(&servers, 0.999));
        assert_eq!(weights, vec![1, 100]);
    }

    #[test]
    fn smoothing_steps_by_one_when_rounding_would_stall() {
        // 0.5 * 100 + 0.5 * 99 = 99.5 rounds back to 100.
        assert_eq!(smooth(100, 99.0, 0.5, 100), 99);
        assert_eq!(smooth(99, 99.2, 0.5, 100), 99);
    }

    #[test]
    fn old_weights_above_max_weight_come_down_into_range() {
        assert_eq!(smooth(1000, 50.0, 0.5, 100), 100);
    }

    #[test]
    fn best_sends_everything_to_the_least_loaded_healthy_server() {
        let servers = servers(&[Some(0.5), Some(0.2), None, Some(0.3)], &[1, 1, 1, 1]);
        assert_eq!(
            BestServer.compute(&input(&servers, 0.5)),
            vec![0, 100, 0, 0]
        );
    }

    #[test]
    fn best_keeps_the_holder_within_the_margin_and_moves_past_it() {
        let near = servers(&[Some(0.52), Some(0.48)], &[100, 0]);
        assert_eq!(BestServer.compute(&input(&near, 0.5)), vec![100, 0]);
        let far = servers(&[Some(0.6), Some(0.4)], &[100, 0]);
        assert_eq!(BestServer.compute(&input(&far, 0.5)), vec![0, 100]);
    }

    #[test]
    fn best_moves_off_a_holder_that_went_down() {
        let servers = servers(&[None, Some(0.9), Some(0.1)], &[100, 0, 0]);
        assert_eq!(BestServer.compute(&input(&servers, 0.5)), vec![0, 0, 100]);
    }

    #[test]
    fn nothing_healthy_means_every_weight_zero() {
        let servers = servers(&[None, None], &[5, 5]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.5)), vec![0, 0]);
        assert_eq!(BestServer.compute(&input(&servers, 0.5)), vec![0, 0]);
    }

    fn loads() -> impl Strategy<Value = Vec<Option<f64>>> {
        prop::collection::vec(prop::option::weighted(0.8, 0.0..1.0f64), 1..16)
    }

    proptest! {
        #[test]
        fn the_lightest_gets_max_weight_and_heavier_servers_no_more(
            loads in loads(),
            max_weight in 1u32..=65_535,
        ) {
            let targets = inverse_load_targets(&loads, max_weight);
            let healthy: Vec<(f64, f64)> = loads
                .iter()
                .zip(&targets)
                .filter_map(|(load, target)| Some(((*load)?, target.unwrap())))
                .collect();
            if let Some(&(_, top)) = healthy
                .iter()
                .min_by(|a, b| a.0.total_cmp(&b.0))
            {
                prop_assert!((top - f64::from(max_weight)).abs() < 1e-6);
            }
            for &(load_a, target_a) in &healthy {
                for &(load_b, target_b) in &healthy {
                    if load_a < load_b {
                        prop_assert!(target_a >= target_b);
                    }
                }
            }
            for (load, target) in loads.iter().zip(&targets) {
                prop_assert_eq!(load.is_none(), target.is_none());
            }
        }

        #[test]
        fn healthy_weights_lie_in_1_to_max_and_down_servers_get_zero(
            loads in loads(),
            old in prop::collection::vec(0u32..70_000, 16),
            smoothing in 0.0..1.0f64,
            max_weight in 1u32..=65_535,
        ) {
            let servers = servers(&loads, &old);
            let weights = InverseLoad.compute(&WcfInput {
                servers: &servers,
                max_weight,
                smoothing,
                switch_margin: 0.0,
            });
            for (server, weight) in servers.iter().zip(weights) {
                match server.load {
                    Some(_) => prop_assert!((1..=max_weight).contains(&weight)),
                    None => prop_assert_eq!(weight, 0),
                }
            }
        }

        #[test]
        fn smoothing_moves_monotonically_to_a_fixed_point(
            old in 0u32..200,
            target in 0.0..150.0f64,
            smoothing in 0.0..0.99f64,
        ) {
            let goal = target.clamp(1.0, 100.0).round() as u32;
            let mut weight = old;
            for _ in 0..1000 {
                let next = smooth(weight, target, smoothing, 100);
                // Never past the goal, never back.
                prop_assert!(next.abs_diff(goal) <= weight.abs_diff(goal));
                prop_assert!(
                    (weight <= next && next <= goal.max(weight)) || (goal <= next && next <= weight),
                    "{} -> {} toward {}", weight, next, goal
                );
                if next == weight {
                    break;
                }
                weight = next;
            }
            prop_assert_eq!(weight, goal);
            prop_assert_eq!(smooth(weight, target, smoothing, 100), goal);
        }
    }
}
