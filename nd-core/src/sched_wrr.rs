//! Smooth weighted round robin.
//!
//! Every pick adds each server's weight to its running credit, picks the server with the most
//! credit and takes the sum of all weights from it. Over any window of `sum(w)` picks, server
//! `i` is chosen exactly `w(i)` times, and its picks are spread through the window instead of
//! coming in a burst (weights 5:1:1 give a a b a c a a, not a a a a a b c). A weight of 0
//! quiesces a server: it gets no credit and is never picked. Cost: O(servers), no allocation.

/// The scheduler's per-server state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrrCredit(i64);

/// What the scheduler needs of a server.
pub trait WrrServer {
    /// The server's current weight; 0 means quiesced.
    fn weight(&self) -> u32;
    /// The server's scheduler state.
    fn credit(&mut self) -> &mut WrrCredit;
}

/// Picks the next server, or `None` when every weight is 0.
pub fn pick<S: WrrServer>(servers: &mut [S]) -> Option<usize> {
    let mut total: i64 = 0;
    let mut best: Option<(usize, i64)> = None;
    for (index, server) in servers.iter_mut().enumerate() {
        let weight = i64::from(server.weight());
        let credit = server.credit();
        if weight == 0 {
            // A quiesced server starts from nothing when it comes back.
            credit.0 = 0;
            continue;
        }
        credit.0 += weight;
        total += weight;
        if best.is_none_or(|(_, most)| credit.0 > most) {
            best = Some((index, credit.0));
        }
    }
    let (chosen, _) = best?;
    servers[chosen].credit().0 -= total;
    Some(chosen)
}

/// Forgets all credit, so that a new set of weights takes effect from a clean cycle.
pub fn reset<S: WrrServer>(servers: &mut [S]) {
    for server in servers {
        *server.credit() = WrrCredit::default();
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    struct Server {
        weight: u32,
        credit: WrrCredit,
    }

    impl WrrServer for Server {
        fn weight(&self) -> u32 {
            self.weight
        }
        fn credit(&mut self) -> &mut WrrCredit {
            &mut self.credit
        }
    }

    fn servers(weights: &[u32]) -> Vec<Server> {
        weights
            .iter()
            .map(|&weight| Server {
                weight,
                credit: WrrCredit::default(),
            })
            .collect()
    }

    fn counts(servers: &mut [Server], picks: usize) -> Vec<usize> {
        let mut counts = std::vec![0; servers.len()];
        for _ in 0..picks {
            counts[pick(servers).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn every_cycle_gives_each_server_exactly_its_weight() {
        let mut s = servers(&[1, 2, 3]);
        for _ in 0..100 {
            assert_eq!(counts(&mut s, 6), [1, 2, 3]);
        }
    }

    #[test]
    fn picks_are_interleaved_not_bursty() {
        let mut s = servers(&[5, 1, 1]);
        let order: Vec<usize> = (0..7).map(|_| pick(&mut s).unwrap()).collect();
        assert_eq!(order, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn zero_weight_is_never_picked_and_all_zero_picks_none() {
        let mut s = servers(&[0, 4, 0]);
        assert_eq!(counts(&mut s, 40), [0, 40, 0]);
        let mut none = servers(&[0, 0]);
        assert_eq!(pick(&mut none), None);
        assert_eq!(pick::<Server>(&mut []), None);
    }

    #[test]
    fn weight_changes_take_effect_within_one_cycle() {
        let mut s = servers(&[1, 1, 1]);
        counts(&mut s, 4);
        s[0].weight = 0;
        s[2].weight = 3;
        reset(&mut s);
        assert_eq!(counts(&mut s, 8), [0, 2, 6]);
        s[0].weight = 1;
        assert_eq!(counts(&mut s, 5 * 10), [10, 10, 30]);
    }

    #[test]
    fn largest_configuration_does_not_overflow() {
        let mut s: Vec<Server> = servers(&[65_535; 256]);
        let c = counts(&mut s, 256 * 3);
        assert!(c.iter().all(|&n| n == 3));
    }
}
