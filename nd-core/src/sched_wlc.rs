//! Weighted least-connection, as IPVS's `ip_vs_wlc.c`.
//!
//! A server's overhead is its connection load, established connections counting 256 times
//! as much as the others (a half-open or closing connection costs its server little):
//!
//! ```text
//! overhead(S) = 256 * active(S) + inactive(S)
//! ```
//!
//! The pick is the server with the least `overhead(S) / weight(S)`, compared without division
//! by cross-multiplying: `A` beats `B` when `overhead(A) * weight(B) < overhead(B) * weight(A)`.
//! A server of weight 0 is never picked; among equals the first in order wins, as in IPVS.
//!
//! Bounds: an overhead is below `257 * 2^32 < 2^41` and a weight below `2^32`, so every
//! product is below `2^73` and is computed in `u128`; nothing can overflow whatever the
//! counts and weights. Cost: one pass, no allocation, no floating point.

use crate::sched::{SchedServer, Scheduler};

/// How much more an established connection weighs than an inactive one.
pub const ACTIVE_COST: u64 = 256;

/// The weighted least-connection scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wlc;

impl Scheduler for Wlc {
    fn pick<S: SchedServer>(&self, servers: &mut [S]) -> Option<usize> {
        pick(servers)
    }
}

/// `256 * active + inactive` of `server`.
pub fn overhead<S: SchedServer>(server: &S) -> u64 {
    u64::from(server.active()) * ACTIVE_COST + u64::from(server.inactive())
}

/// The server with the least overhead per weight, or `None` when every weight is 0.
pub fn pick<S: SchedServer>(servers: &[S]) -> Option<usize> {
    least_per_weight(servers, overhead)
}

/// The server of positive weight with the least `cost / weight`, the first among equals.
/// `cost` must stay below `2^96` so that its products with a weight fit in `u128`.
pub(crate) fn least_per_weight<S: SchedServer>(
    servers: &[S],
    cost: impl Fn(&S) -> u64,
) -> Option<usize> {
    let mut best: Option<(usize, u128, u128)> = None;
    for (index, server) in servers.iter().enumerate() {
        let weight = u128::from(server.weight());
        if weight == 0 {
            continue;
        }
        let cost = u128::from(cost(server));
        // cost / weight < best_cost / best_weight, cross-multiplied.
        if best.is_none_or(|(_, best_cost, best_weight)| cost * best_weight < best_cost * weight) {
            best = Some((index, cost, weight));
        }
    }
    best.map(|(index, _, _)| index)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::sched::test_support::servers;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn picks_the_fewest_active_connections_per_weight() {
        // 10/1, 15/2 = 7.5, 30/3 = 10: the second.
        assert_eq!(
            pick(&servers(&[(1, 10, 0), (2, 15, 0), (3, 30, 0)])),
            Some(1)
        );
        // Equal weights: plain least-connection.
        assert_eq!(pick(&servers(&[(5, 3, 0), (5, 2, 0), (5, 4, 0)])), Some(1));
        // A server twice as heavy takes connections until it holds twice as many.
        assert_eq!(pick(&servers(&[(1, 4, 0), (2, 7, 0)])), Some(1));
        assert_eq!(pick(&servers(&[(1, 4, 0), (2, 9, 0)])), Some(0));
    }

    #[test]
    fn inactive_connections_count_a_256th_of_an_active_one() {
        // 255 inactive weigh less than one active connection...
        assert_eq!(pick(&servers(&[(1, 1, 0), (1, 0, 255)])), Some(1));
        // ...256 weigh the same (a tie, won by the first)...
        assert_eq!(pick(&servers(&[(1, 1, 0), (1, 0, 256)])), Some(0));
        assert_eq!(pick(&servers(&[(1, 0, 256), (1, 1, 0)])), Some(0));
        // ...and 257 more.
        assert_eq!(pick(&servers(&[(1, 1, 0), (1, 0, 257)])), Some(0));
        // Among servers of equal active counts, the inactive ones decide.
        assert_eq!(pick(&servers(&[(1, 2, 9), (1, 2, 3)])), Some(1));
    }

    #[test]
    fn weight_zero_is_never_picked_even_when_idle() {
        assert_eq!(pick(&servers(&[(0, 0, 0), (1, 1000, 1000)])), Some(1));
        assert_eq!(pick(&servers(&[(1, 1000, 0), (0, 0, 0)])), Some(0));
        assert_eq!(pick(&servers(&[(0, 0, 0), (0, 0, 0)])), None);
    }

    #[test]
    fn ties_go_to_the_first_server() {
        assert_eq!(pick(&servers(&[(1, 0, 0), (1, 0, 0), (1, 0, 0)])), Some(0));
        // 2/1 = 4/2: the first of the two.
        assert_eq!(pick(&servers(&[(3, 9, 0), (1, 2, 0), (2, 4, 0)])), Some(1));
    }

    #[test]
    fn extreme_counts_and_weights_do_not_overflow() {
        let max = u32::MAX;
        // The largest overhead times the largest weight, compared both ways.
        assert_eq!(
            pick(&servers(&[(max, max, max), (max - 1, max, max)])),
            Some(0)
        );
        assert_eq!(
            pick(&servers(&[(max - 1, max, max), (max, max, max)])),
            Some(1)
        );
        assert_eq!(
            pick(&servers(&[(65_535, max, max), (1, max, max - 1)])),
            Some(0)
        );
        // One inactive connection of difference at the top still decides.
        assert_eq!(
            pick(&servers(&[(65_535, max, max), (65_535, max, max - 1)])),
            Some(1)
        );
    }

    #[test]
    fn the_scheduler_trait_runs_this_algorithm() {
        let mut s = servers(&[(1, 3, 0), (1, 2, 0)]);
        assert_eq!(Wlc.pick(&mut s), Some(1));
    }

    fn specs() -> impl Strategy<Value = Vec<(u32, u32, u32)>> {
        let weight = prop_oneof![Just(0u32), 1u32..=65_535, Just(u32::MAX)];
        let count = prop_oneof![0u32..100, Just(u32::MAX), any::<u32>()];
        prop::collection::vec((weight, count.clone(), count), 0..12)
    }

    proptest! {
        #[test]
        fn the_pick_has_the_least_overhead_per_weight_and_comes_first_among_equals(
            specs in specs()
        ) {
            let s = servers(&specs);
            let per_weight = |i: usize| {
                (u128::from(overhead(&s[i])), u128::from(s[i].weight))
            };
            match pick(&s) {
                None => prop_assert!(specs.iter().all(|&(w, _, _)| w == 0)),
                Some(chosen) => {
                    prop_assert!(s[chosen].weight > 0);
                    let (oc, wc) = per_weight(chosen);
                    for other in (0..s.len()).filter(|&i| s[i].weight > 0) {
                        let (oo, wo) = per_weight(other);
                        // No server is strictly better, and none before it is as good.
                        prop_assert!(oc * wo <= oo * wc);
                        if other < chosen {
                            prop_assert!(oc * wo < oo * wc);
                        }
                    }
                }
            }
        }
    }
}
