//! A processor-sharing server on the real clock: the emulated servers of the load-sharing
//! evaluation do no real work (all of them share the VM's two emulated CPUs), they only
//! decide when each request would be done on a server of a given capacity.
//!
//! The arithmetic is the simulator's own queue ([`nd_load_model::ps_queue`]): every request
//! in progress gets an equal share of the speed, and each completion is known exactly, so a
//! server needs one timer, set to the next completion, instead of stepping time. Its times
//! are seconds since the server started, from nanoseconds of `CLOCK_MONOTONIC`.
//!
//! The timer fires a little late, and the event loop may see an arrival before a completion
//! that was due earlier. So every operation at an instant first takes out, each at its own
//! instant, the requests done by then: a late wakeup delays an answer, as a busy host would,
//! but never gives a finished request a share it no longer needs.

use nd_load_model::ps_queue::PsQueue;

use super::clock::NANOS_PER_SECOND;

/// A job this close to its end (in seconds) when the timer fires is done: the timer is set
/// to the nanosecond, and the rest is rounding.
const COMPLETION_SLACK: f64 = 1e-6;
/// The largest share of the capacity external load may take; the queue needs some speed.
pub const MAX_BUSY_FRACTION: f64 = 0.99;

/// What an emulated server's queue did, up to an instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// Seconds with at least one request in progress.
    pub busy_seconds: f64,
    /// Work units served.
    pub work_done: f64,
    /// The integral of the requests in progress over time, in request-seconds.
    pub request_seconds: f64,
    /// Requests in progress.
    pub in_progress: usize,
}

/// A processor-sharing server of `capacity` work units a second, less what external load
/// takes, whose jobs carry a `T` (a connection's token).
#[derive(Debug)]
pub struct PsEmulation<T> {
    queue: PsQueue<T>,
    epoch_ns: u64,
    capacity: f64,
    busy_fraction: f64,
    /// Its speed over its capacity, external load aside: a slower machine than it was.
    speed_factor: f64,
    /// Done, in the order they finished, and not yet taken.
    finished: Vec<T>,
}

impl<T> PsEmulation<T> {
    /// An idle server of `capacity` units a second (positive and finite), started at
    /// `epoch_ns`.
    pub fn new(capacity: f64, epoch_ns: u64) -> PsEmulation<T> {
        assert!(
            capacity.is_finite() && capacity > 0.0,
            "a capacity must be positive"
        );
        PsEmulation {
            queue: PsQueue::new(capacity),
            epoch_ns,
            capacity,
            busy_fraction: 0.0,
            speed_factor: 1.0,
            finished: Vec::new(),
        }
    }

    fn seconds(&self, ns: u64) -> f64 {
        ns.saturating_sub(self.epoch_ns) as f64 / NANOS_PER_SECOND as f64
    }

    /// Takes out every request done by `now` (seconds) at the instant it finished.
    fn settle(&mut self, now: f64) {
        while let Some(at) = self.queue.next_completion() {
            if at > now + COMPLETION_SLACK {
                break;
            }
            // Within the slack, the instant is `now`: the clock never runs ahead of it.
            self.finished.extend(self.queue.pop_next(at.min(now)));
        }
    }

    /// Work units a second it serves now.
    pub fn speed(&self) -> f64 {
        self.queue.speed()
    }

    /// Its capacity without external load.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// Lets external load take `fraction` of the capacity from `now_ns` on (clamped to
    /// `0..=`[`MAX_BUSY_FRACTION`]).
    pub fn set_busy_fraction(&mut self, now_ns: u64, fraction: f64) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, MAX_BUSY_FRACTION)
        } else {
            0.0
        };
        if fraction != self.busy_fraction {
            self.busy_fraction = fraction;
            self.apply_speed(now_ns);
        }
    }

    /// Makes the server `factor` times as fast as its capacity from `now_ns` on (positive;
    /// anything else leaves it as it was), external load aside.
    pub fn set_speed_factor(&mut self, now_ns: u64, factor: f64) {
        if factor.is_finite() && factor > 0.0 && factor != self.speed_factor {
            self.speed_factor = factor;
            self.apply_speed(now_ns);
        }
    }

    /// Serves at the speed the capacity, the factor and external load leave, from `now_ns`.
    fn apply_speed(&mut self, now_ns: u64) {
        let now = self.seconds(now_ns);
        self.settle(now);
        let speed = self.capacity * self.speed_factor * (1.0 - self.busy_fraction);
        self.queue.set_speed(now, speed);
    }

    /// A request of `work` units arrives at `now_ns`.
    pub fn arrive(&mut self, now_ns: u64, work: f64, job: T) {
        let now = self.seconds(now_ns);
        self.settle(now);
        self.queue.push(now, work, job);
    }

    /// The request whose job `which` picks leaves at `now_ns` (its client went), unfinished
    /// or finished but not yet taken; its job, if it was there.
    pub fn cancel(&mut self, now_ns: u64, mut which: impl FnMut(&T) -> bool) -> Option<T> {
        let now = self.seconds(now_ns);
        self.settle(now);
        if let Some(index) = self.finished.iter().position(&mut which) {
            return Some(self.finished.remove(index));
        }
        self.queue.remove(now, which)
    }

    /// When the next request will be done if nothing arrives first, rounded up to the
    /// nanosecond (a timer set to it never fires early).
    pub fn next_completion_ns(&self) -> Option<u64> {
        let at = self.queue.next_completion()?;
        let ns = (at * NANOS_PER_SECOND as f64).ceil();
        Some(self.epoch_ns.saturating_add(ns as u64))
    }

    /// Appends to `done` the jobs of the requests done by `now_ns`, in the order they
    /// finished.
    pub fn take_done(&mut self, now_ns: u64, done: &mut Vec<T>) {
        let now = self.seconds(now_ns);
        self.settle(now);
        done.append(&mut self.finished);
    }

    /// Its usage up to `now_ns`.
    pub fn usage(&mut self, now_ns: u64) -> Usage {
        let now = self.seconds(now_ns);
        self.settle(now);
        self.queue.advance(now);
        Usage {
            busy_seconds: self.queue.busy_time(),
            work_done: self.queue.work_done(),
            request_seconds: self.queue.job_seconds(),
            in_progress: self.queue.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = NANOS_PER_SECOND;
    /// An epoch far from zero, as the monotonic clock's is.
    const EPOCH: u64 = 5_000 * S;

    /// Runs the server's timer to the end: (completion time since the epoch, job) in order.
    fn drain(server: &mut PsEmulation<u32>) -> Vec<(u64, u32)> {
        let mut finished = Vec::new();
        while let Some(at) = server.next_completion_ns() {
            let mut done = Vec::new();
            server.take_done(at, &mut done);
            assert!(
                !done.is_empty(),
                "the timer fired with nothing done at {at}"
            );
            finished.extend(done.into_iter().map(|job| (at - EPOCH, job)));
        }
        finished
    }

    fn near(ns: u64, want_ns: u64) -> bool {
        ns.abs_diff(want_ns) <= 2
    }

    #[test]
    fn two_requests_of_one_unit_at_capacity_one_finish_together_at_two_seconds() {
        let mut server = PsEmulation::new(1.0, EPOCH);
        server.arrive(EPOCH, 1.0, 1);
        server.arrive(EPOCH, 1.0, 2);
        assert!(near(server.next_completion_ns().unwrap(), EPOCH + 2 * S));
        let mut done = Vec::new();
        server.take_done(EPOCH + 2 * S - MS, &mut done);
        assert!(done.is_empty(), "not a millisecond early");
        server.take_done(server.next_completion_ns().unwrap(), &mut done);
        assert_eq!(done, [1, 2], "both at once, in arrival order");
        assert_eq!(server.next_completion_ns(), None);
        let usage = server.usage(EPOCH + 3 * S);
        assert!((usage.busy_seconds - 2.0).abs() < 1e-6 && (usage.work_done - 2.0).abs() < 1e-6);
        assert!((usage.request_seconds - 4.0).abs() < 1e-6);
    }

    #[test]
    fn a_long_request_finishes_later_when_others_arrive() {
        // 10 units at 10 a second: alone, done at 1 s. Two requests of 1 unit arrive at
        // 0.5 s, when 5 units are left: three share 10 a second, the small ones get their
        // unit by 0.8 s, and the long one, with 4 left, finishes alone at 1.2 s.
        let mut server = PsEmulation::new(10.0, EPOCH);
        server.arrive(EPOCH, 10.0, 1);
        assert!(near(server.next_completion_ns().unwrap(), EPOCH + S));
        server.arrive(EPOCH + S / 2, 1.0, 2);
        server.arrive(EPOCH + S / 2, 1.0, 3);
        let finished = drain(&mut server);
        assert_eq!(finished.len(), 3, "{finished:?}");
        assert!(near(finished[0].0, 800 * MS) && near(finished[1].0, 800 * MS));
        assert_eq!((finished[0].1, finished[1].1), (2, 3));
        assert!(near(finished[2].0, 1200 * MS), "{finished:?}");
        assert_eq!(finished[2].1, 1);
    }

    #[test]
    fn a_late_look_takes_each_request_out_when_it_finished() {
        // Work 1 and 3 at speed 1: the first is done at 2 s, the second at 4 s. Looked at
        // only at 3 s, when a third request arrives, the first must not have been sharing
        // the speed from 2 s to 3 s.
        let mut server = PsEmulation::new(1.0, EPOCH);
        server.arrive(EPOCH, 1.0, 1);
        server.arrive(EPOCH, 3.0, 2);
        server.arrive(EPOCH + 3 * S, 0.5, 3);
        let mut done = Vec::new();
        server.take_done(EPOCH + 3 * S, &mut done);
        assert_eq!(done, [1], "done at 2 s, taken at 3 s");
        // At 3 s the second has 1 unit left, shared with the third's half unit.
        let finished = drain(&mut server);
        assert!(
            near(finished[0].0, 4 * S) && finished[0].1 == 3,
            "{finished:?}"
        );
        assert!(near(finished[1].0, 4 * S + S / 2) && finished[1].1 == 2);
        let usage = server.usage(EPOCH + 5 * S);
        assert!((usage.work_done - 4.5).abs() < 1e-6, "{usage:?}");
        assert!((usage.busy_seconds - 4.5).abs() < 1e-6, "{usage:?}");
    }

    #[test]
    fn external_load_takes_its_share_of_the_capacity() {
        // Half the capacity taken at 1 s: the 2 units left of 3 take 4 s more.
        let mut server = PsEmulation::new(1.0, EPOCH);
        server.arrive(EPOCH, 3.0, 1);
        server.set_busy_fraction(EPOCH + S, 0.5);
        assert_eq!(server.speed(), 0.5);
        assert!(near(server.next_completion_ns().unwrap(), EPOCH + 5 * S));
        server.set_busy_fraction(EPOCH + S, 7.0);
        assert!((server.speed() - 0.01).abs() < 1e-12, "clamped");
        server.set_busy_fraction(EPOCH + S, f64::NAN);
        assert_eq!(server.speed(), server.capacity());
    }

    #[test]
    fn a_speed_step_and_external_load_compound() {
        // 4 units at 2 a second; halved at 1 s (2 units left take 2 s), then half of what is
        // left taken by external load at 2 s (1 unit left at 0.5 a second).
        let mut server = PsEmulation::new(2.0, EPOCH);
        server.arrive(EPOCH, 4.0, 1);
        server.set_speed_factor(EPOCH + S, 0.5);
        assert_eq!(server.speed(), 1.0);
        assert!(near(server.next_completion_ns().unwrap(), EPOCH + 3 * S));
        server.set_busy_fraction(EPOCH + 2 * S, 0.5);
        assert_eq!(server.speed(), 0.5);
        assert!(near(server.next_completion_ns().unwrap(), EPOCH + 4 * S));
        for bad in [0.0, -1.0, f64::NAN] {
            server.set_speed_factor(EPOCH + 2 * S, bad);
            assert_eq!(server.speed(), 0.5, "{bad} is ignored");
        }
        assert_eq!(server.capacity(), 2.0, "the capacity stays the nominal one");
    }

    #[test]
    fn a_cancelled_request_stops_taking_a_share() {
        let mut server = PsEmulation::new(1.0, EPOCH);
        server.arrive(EPOCH, 2.0, 1);
        server.arrive(EPOCH, 100.0, 2);
        assert_eq!(server.cancel(EPOCH + S, |&job| job == 2), Some(2));
        assert_eq!(server.cancel(EPOCH + S, |&job| job == 2), None);
        // 0.5 served by 1 s, then 1.5 alone.
        let finished = drain(&mut server);
        assert_eq!(finished.len(), 1);
        assert!(near(finished[0].0, 2500 * MS), "{finished:?}");
        // A request done but not yet taken can still be given up.
        server.arrive(EPOCH + 3 * S, 0.5, 3);
        assert_eq!(server.cancel(EPOCH + 4 * S, |&job| job == 3), Some(3));
        let mut done = Vec::new();
        server.take_done(EPOCH + 4 * S, &mut done);
        assert!(done.is_empty());
    }
}
