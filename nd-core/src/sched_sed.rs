//! Shortest expected delay, as IPVS's `ip_vs_sed.c`.
//!
//! A new connection joins the server where it expects to finish soonest. If a server of
//! weight `w` works through its connections at a rate proportional to `w`, a connection
//! arriving where `active` are established waits about
//!
//! ```text
//! delay(S) = (active(S) + 1) / weight(S)
//! ```
//!
//! The `+ 1` is the newcomer itself: unlike least-connection, an idle server of weight 1 does
//! not beat an idle server of weight 10, and an idle slow server loses to a busy fast one
//! once `(active + 1) / weight` says so. Inactive connections are not counted, as in IPVS.
//! Delays are compared by cross-multiplying, `A` beating `B` when
//! `(active(A) + 1) * weight(B) < (active(B) + 1) * weight(A)`; a server of weight 0 is never
//! picked, and among equals the first in order wins.
//!
//! Bounds: `active + 1 <= 2^32` and a weight is below `2^32`, so every product is below
//! `2^64`. Cost: one pass, no allocation, no floating point.

use crate::sched::{SchedServer, Scheduler};
use crate::sched_wlc::least_per_weight;

/// The shortest-expected-delay scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sed;

impl Scheduler for Sed {
    fn pick<S: SchedServer>(&self, servers: &mut [S]) -> Option<usize> {
        pick(servers)
    }
}

/// `active + 1` of `server`: the connections a newcomer shares it with, itself included.
pub fn overhead<S: SchedServer>(server: &S) -> u64 {
    u64::from(server.active()) + 1
}

/// The server with the shortest expected delay, or `None` when every weight is 0.
pub fn pick<S: SchedServer>(servers: &[S]) -> Option<usize> {
    least_per_weight(servers, overhead)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::sched::test_support::servers;
    use proptest::prelude::*;

    #[test]
    fn picks_the_least_active_plus_one_per_weight() {
        // 1/1 against 1/10: an idle fast server beats an idle slow one.
        assert_eq!(pick(&servers(&[(1, 0, 0), (10, 0, 0)])), Some(1));
        // (0 + 1)/1 = 1 against (9 + 1)/10 = 1: a tie, the first wins...
        assert_eq!(pick(&servers(&[(1, 0, 0), (10, 9, 0)])), Some(0));
        // ...and at 8 the busy fast one still wins: 9/10 < 1.
        assert_eq!(pick(&servers(&[(1, 0, 0), (10, 8, 0)])), Some(1));
        // 3/2 = 1.5, 4/3 = 1.33, 2/1 = 2.
        assert_eq!(pick(&servers(&[(2, 2, 0), (3, 3, 0), (1, 1, 0)])), Some(1));
    }

    #[test]
    fn differs_from_least_connection_on_idle_servers() {
        // wlc sees 0/1 = 0/10 and takes the first; sed sees the speed.
        let s = servers(&[(1, 0, 0), (10, 0, 0)]);
        assert_eq!(crate::sched_wlc::pick(&s), Some(0));
        assert_eq!(pick(&s), Some(1));
    }

    #[test]
    fn inactive_connections_do_not_count() {
        assert_eq!(pick(&servers(&[(1, 1, 0), (1, 0, 1_000_000)])), Some(1));
        assert_eq!(pick(&servers(&[(1, 0, u32::MAX), (1, 0, 0)])), Some(0));
    }

    #[test]
    fn weight_zero_is_never_picked() {
        assert_eq!(pick(&servers(&[(0, 0, 0), (1, 5000, 0)])), Some(1));
        assert_eq!(pick(&servers(&[(0, 0, 0)])), None);
    }

    #[test]
    fn extreme_counts_and_weights_do_not_overflow() {
        let max = u32::MAX;
        assert_eq!(pick(&servers(&[(max, max, 0), (max - 1, max, 0)])), Some(0));
        assert_eq!(pick(&servers(&[(max - 1, max, 0), (max, max, 0)])), Some(1));
        assert_eq!(
            pick(&servers(&[(65_535, max, 0), (65_535, max - 1, 0)])),
            Some(1)
        );
        assert_eq!(pick(&servers(&[(1, 0, 0), (max, max - 1, 0)])), Some(0));
    }

    #[test]
    fn the_scheduler_trait_runs_this_algorithm() {
        let mut s = servers(&[(1, 0, 0), (10, 0, 0)]);
        assert_eq!(Sed.pick(&mut s), Some(1));
    }

    proptest! {
        #[test]
        fn the_pick_has_the_shortest_expected_delay_and_comes_first_among_equals(
            specs in prop::collection::vec(
                (
                    prop_oneof![Just(0u32), 1u32..=65_535, Just(u32::MAX)],
                    prop_oneof![0u32..100, Just(u32::MAX), any::<u32>()],
                    any::<u32>(),
                ),
                0..12,
            )
        ) {
            let s = servers(&specs);
            let delay = |i: usize| {
                (u128::from(s[i].active) + 1, u128::from(s[i].weight))
            };
            match pick(&s) {
                None => prop_assert!(specs.iter().all(|&(w, _, _)| w == 0)),
                Some(chosen) => {
                    prop_assert!(s[chosen].weight > 0);
                    let (dc, wc) = delay(chosen);
                    for other in (0..s.len()).filter(|&i| s[i].weight > 0) {
                        let (d, w) = delay(other);
                        prop_assert!(dc * w <= d * wc);
                        if other < chosen {
                            prop_assert!(dc * w < d * wc);
                        }
                    }
                }
            }
        }
    }
}
