//! The event calendar: events in time order, first scheduled first among equal times, so that
//! a run is a pure function of its inputs.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Debug)]
struct Entry<E> {
    time: f64,
    order: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.order.cmp(&other.order))
    }
}

/// Future events of type `E`.
#[derive(Debug)]
pub struct Calendar<E> {
    entries: BinaryHeap<Reverse<Entry<E>>>,
    scheduled: u64,
}

impl<E> Default for Calendar<E> {
    fn default() -> Self {
        Calendar {
            entries: BinaryHeap::new(),
            scheduled: 0,
        }
    }
}

impl<E> Calendar<E> {
    /// An empty calendar.
    pub fn new() -> Calendar<E> {
        Calendar::default()
    }

    /// Schedules `event` at `time`.
    pub fn schedule(&mut self, time: f64, event: E) {
        self.scheduled += 1;
        self.entries.push(Reverse(Entry {
            time,
            order: self.scheduled,
            event,
        }));
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(f64, E)> {
        self.entries
            .pop()
            .map(|Reverse(entry)| (entry.time, entry.event))
    }

    /// Events scheduled so far.
    pub fn scheduled(&self) -> u64 {
        self.scheduled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_in_time_order_and_ties_in_scheduling_order() {
        let mut calendar = Calendar::new();
        calendar.schedule(2.0, "late");
        calendar.schedule(1.0, "first");
        calendar.schedule(1.0, "second");
        calendar.schedule(0.5, "early");
        let order: Vec<&str> = std::iter::from_fn(|| calendar.pop().map(|e| e.1)).collect();
        assert_eq!(order, ["early", "first", "second", "late"]);
        assert_eq!(calendar.scheduled(), 4);
    }
}
