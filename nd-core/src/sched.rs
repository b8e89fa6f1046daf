//! Connection schedulers: the interface every algorithm implements, and their names.
//!
//! A port's scheduler picks the server of each new connection from the port's servers, given
//! their weights and connection counts. Each algorithm lives in its own file, as IPVS's do:
//!
//! | name | file | picks |
//! | --- | --- | --- |
//! | `wrr` | `sched_wrr.rs` | in proportion to weight, smoothly interleaved |
//! | `wlc` | `sched_wlc.rs` | least `(256 * active + inactive) / weight` |
//! | `sed` | `sched_sed.rs` | least `(active + 1) / weight` |
//!
//! Every pick is O(servers), allocates nothing and uses integers only. A weight of 0 means
//! quiesced under every algorithm: such a server is never picked, and when every weight is 0
//! nothing is.

use crate::sched_wrr::WrrServer;
use crate::{sched_sed, sched_wlc, sched_wrr};

/// What a scheduler knows of one server: its weight and round-robin credit (from
/// [`WrrServer`]) and its connection counts.
pub trait SchedServer: WrrServer {
    /// Its established connections now.
    fn active(&self) -> u32;
    /// Its connections that are open but not established (half-open or closing).
    fn inactive(&self) -> u32;
}

/// A scheduling algorithm.
pub trait Scheduler {
    /// The index of the server for the next new connection, or `None` when every weight is
    /// 0. Only round robin changes the servers (their credit).
    fn pick<S: SchedServer>(&self, servers: &mut [S]) -> Option<usize>;
}

/// The algorithms, by the names an operator gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SchedulerKind {
    /// Smooth weighted round robin.
    #[default]
    Wrr,
    /// Weighted least-connection.
    Wlc,
    /// Shortest expected delay.
    Sed,
}

impl SchedulerKind {
    /// Every algorithm, in the order of the table above.
    pub const ALL: [SchedulerKind; 3] =
        [SchedulerKind::Wrr, SchedulerKind::Wlc, SchedulerKind::Sed];

    /// The algorithm called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<SchedulerKind> {
        SchedulerKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The algorithm's name.
    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::Wrr => "wrr",
            SchedulerKind::Wlc => "wlc",
            SchedulerKind::Sed => "sed",
        }
    }
}

impl Scheduler for SchedulerKind {
    fn pick<S: SchedServer>(&self, servers: &mut [S]) -> Option<usize> {
        match self {
            SchedulerKind::Wrr => sched_wrr::pick(servers),
            SchedulerKind::Wlc => sched_wlc::pick(servers),
            SchedulerKind::Sed => sched_sed::pick(servers),
        }
    }
}

/// Servers for the algorithms' tests.
#[cfg(test)]
pub(crate) mod test_support {
    extern crate std;
    use super::*;
    use crate::sched_wrr::WrrCredit;
    use std::vec::Vec;

    /// A server with a weight and counts.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct TestServer {
        pub(crate) weight: u32,
        pub(crate) active: u32,
        pub(crate) inactive: u32,
        pub(crate) credit: WrrCredit,
    }

    impl WrrServer for TestServer {
        fn weight(&self) -> u32 {
            self.weight
        }
        fn credit(&mut self) -> &mut WrrCredit {
            &mut self.credit
        }
    }

    impl SchedServer for TestServer {
        fn active(&self) -> u32 {
            self.active
        }
        fn inactive(&self) -> u32 {
            self.inactive
        }
    }

    /// Servers of `(weight, active, inactive)`.
    pub(crate) fn servers(specs: &[(u32, u32, u32)]) -> Vec<TestServer> {
        specs
            .iter()
            .map(|&(weight, active, inactive)| TestServer {
                weight,
                active,
                inactive,
                credit: WrrCredit::default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::test_support::{servers, TestServer};
    use super::*;
    use std::vec::Vec;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for kind in SchedulerKind::ALL {
            assert_eq!(SchedulerKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(SchedulerKind::from_name("lc"), None);
        assert_eq!(SchedulerKind::from_name("WRR"), None);
        assert_eq!(SchedulerKind::default(), SchedulerKind::Wrr);
    }

    #[test]
    fn each_kind_runs_its_own_algorithm() {
        // Weights 1 and 3, server 1 far busier: round robin still favours it by weight,
        // the connection-counting algorithms avoid it.
        let mut s = servers(&[(1, 0, 0), (3, 100, 0)]);
        let wrr: Vec<usize> = (0..4)
            .map(|_| SchedulerKind::Wrr.pick(&mut s).unwrap())
            .collect();
        assert_eq!(wrr.iter().filter(|&&i| i == 1).count(), 3);
        assert_eq!(SchedulerKind::Wlc.pick(&mut s), Some(0));
        assert_eq!(SchedulerKind::Sed.pick(&mut s), Some(0));
    }

    #[test]
    fn no_algorithm_picks_when_every_weight_is_zero() {
        for kind in SchedulerKind::ALL {
            let mut s = servers(&[(0, 0, 0), (0, 5, 5)]);
            assert_eq!(kind.pick(&mut s), None, "{}", kind.name());
            assert_eq!(kind.pick::<TestServer>(&mut []), None, "{}", kind.name());
        }
    }
}
