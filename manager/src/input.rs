//! Input metrics: what the Executor's counters say about each server.
//!
//! The Executor counts every new connection it gives a server (`conns`, cumulative) and
//! keeps the number of established ones (`active`). New connections per interval are the
//! difference of two readings. A counter that went backwards belongs to a server that was
//! removed and added again, so it counts from 0; a server seen for the first time has no
//! difference yet.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ndadm::model::Service;

use crate::executor::ServerReading;

/// One server's input metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputMetrics {
    /// New connections since the previous reading; `None` on the first one.
    pub new_conns: Option<u64>,
    /// Established connections now.
    pub active_conns: u32,
}

/// New connections between a previous reading of a cumulative counter and the current one.
pub fn new_connections(previous: Option<u64>, current: u64) -> Option<u64> {
    let previous = previous?;
    // A counter that went backwards restarted from 0 when its server was added again.
    Some(current.checked_sub(previous).unwrap_or(current))
}

/// The previous reading of each server's counter, to difference the next one against.
#[derive(Clone, Debug, Default)]
pub struct InputTracker {
    previous: HashMap<(Service, Ipv4Addr), u64>,
}

impl InputTracker {
    /// A tracker that has seen no reading.
    pub fn new() -> InputTracker {
        InputTracker::default()
    }

    /// Takes a reading of every server, returning each one's input metrics. Servers absent
    /// from the reading are forgotten.
    pub fn observe(
        &mut self,
        readings: &[ServerReading],
    ) -> HashMap<(Service, Ipv4Addr), InputMetrics> {
        let mut current = HashMap::with_capacity(readings.len());
        let metrics = readings
            .iter()
            .map(|reading| {
                let key = (reading.service, reading.server);
                let previous = self.previous.get(&key).copied();
                current.insert(key, reading.conns);
                let metrics = InputMetrics {
                    new_conns: new_connections(previous, reading.conns),
                    active_conns: reading.active,
                };
                (key, metrics)
            })
            .collect();
        self.previous = current;
        metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reading(server: u8, conns: u64, active: u32) -> ServerReading {
        ServerReading {
            service: Service::new(Ipv4Addr::new(10, 0, 0, 100), 80),
            server: Ipv4Addr::new(10, 0, 0, server),
            weight: 1,
            conns,
            active,
        }
    }

    fn key(server: u8) -> (Service, Ipv4Addr) {
        let reading = reading(server, 0, 0);
        (reading.service, reading.server)
    }

    #[test]
    fn differences_two_readings() {
        let mut tracker = InputTracker::new();
        let first = tracker.observe(&[reading(11, 1000, 4)]);
        assert_eq!(
            first[&key(11)],
            InputMetrics {
                new_conns: None,
                active_conns: 4
            }
        );
        let second = tracker.observe(&[reading(11, 1042, 7)]);
        assert_eq!(
            second[&key(11)],
            InputMetrics {
                new_conns: Some(42),
                active_conns: 7
            }
        );
    }

    #[test]
    fn a_counter_going_backwards_counts_from_zero() {
        let mut tracker = InputTracker::new();
        tracker.observe(&[reading(11, 1000, 0)]);
        let after_readd = tracker.observe(&[reading(11, 3, 0)]);
        assert_eq!(after_readd[&key(11)].new_conns, Some(3));
    }

    #[test]
    fn a_server_that_left_the_reading_starts_over() {
        let mut tracker = InputTracker::new();
        tracker.observe(&[reading(11, 10, 0), reading(12, 10, 0)]);
        tracker.observe(&[reading(11, 20, 0)]);
        let back = tracker.observe(&[reading(11, 30, 0), reading(12, 50, 0)]);
        assert_eq!(back[&key(11)].new_conns, Some(10));
        assert_eq!(back[&key(12)].new_conns, None);
    }

    proptest! {
        #[test]
        fn new_connections_are_never_more_than_the_counter(previous: u64, current: u64) {
            let new = new_connections(Some(previous), current).unwrap();
            prop_assert!(new <= current);
            if current >= previous {
                prop_assert_eq!(previous + new, current);
            }
        }
    }
}
