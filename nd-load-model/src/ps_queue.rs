//! A processor-sharing queue with exact completion times.
//!
//! A server of speed `c` holding `n` jobs gives each of them `c / n` work per second. Rather
//! than step time, the queue keeps a virtual clock `V`: the service each job present has
//! received since the queue started, which grows at `c / n` per second. A job of work `w`
//! arriving when the clock reads `V` finishes when it reads `V + w`, whatever arrives or
//! leaves meanwhile, so each job is kept under that finishing tag in a min-heap. The next
//! completion is the smallest tag, reached after `(tag - V) * n / c` seconds if nothing
//! changes; every arrival, departure or change of speed moves the clock up to date first.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// One job, ordered by finishing tag, then by arrival order.
#[derive(Debug)]
struct Job<T> {
    finish_tag: f64,
    order: u64,
    payload: T,
}

impl<T> PartialEq for Job<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Job<T> {}

impl<T> PartialOrd for Job<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Job<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.finish_tag
            .total_cmp(&other.finish_tag)
            .then(self.order.cmp(&other.order))
    }
}

/// A processor-sharing server's queue of jobs carrying `T`.
#[derive(Debug)]
pub struct PsQueue<T> {
    speed: f64,
    virtual_clock: f64,
    updated_at: f64,
    jobs: BinaryHeap<Reverse<Job<T>>>,
    arrivals: u64,
    busy_time: f64,
    work_done: f64,
    job_seconds: f64,
}

impl<T> PsQueue<T> {
    /// An empty queue serving `speed` work per second from time 0.
    pub fn new(speed: f64) -> PsQueue<T> {
        assert!(speed > 0.0, "a server's speed must be positive");
        PsQueue {
            speed,
            virtual_clock: 0.0,
            updated_at: 0.0,
            jobs: BinaryHeap::new(),
            arrivals: 0,
            busy_time: 0.0,
            work_done: 0.0,
            job_seconds: 0.0,
        }
    }

    /// Jobs in progress.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether no job is in progress.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Work per second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Moves the clocks and the counters up to `now`.
    pub fn advance(&mut self, now: f64) {
        let elapsed = now - self.updated_at;
        debug_assert!(elapsed >= -1e-9, "time went back by {}", -elapsed);
        if elapsed > 0.0 && !self.jobs.is_empty() {
            let n = self.jobs.len() as f64;
            self.virtual_clock += elapsed * self.speed / n;
            self.busy_time += elapsed;
            self.work_done += elapsed * self.speed;
            self.job_seconds += elapsed * n;
        }
        self.updated_at = self.updated_at.max(now);
    }

    /// Adds a job of `work` at `now`.
    pub fn push(&mut self, now: f64, work: f64, payload: T) {
        self.advance(now);
        self.arrivals += 1;
        self.jobs.push(Reverse(Job {
            finish_tag: self.virtual_clock + work,
            order: self.arrivals,
            payload,
        }));
    }

    /// When the next job finishes if nothing arrives first.
    pub fn next_completion(&self) -> Option<f64> {
        let Reverse(first) = self.jobs.peek()?;
        let remaining = (first.finish_tag - self.virtual_clock).max(0.0);
        Some(self.updated_at + remaining * self.jobs.len() as f64 / self.speed)
    }

    /// Takes out the job that finishes first, at `now` (its completion time).
    pub fn pop_next(&mut self, now: f64) -> Option<T> {
        self.advance(now);
        self.jobs.pop().map(|Reverse(job)| job.payload)
    }

    /// Takes out, at `now`, the first job whose payload `which` picks (a request whose
    /// client gave up before it was done): the others share the speed without it from then on.
    /// Linear in the jobs held, for an event that is rare beside arrivals and completions.
    pub fn remove(&mut self, now: f64, mut which: impl FnMut(&T) -> bool) -> Option<T> {
        self.advance(now);
        let mut jobs = std::mem::take(&mut self.jobs).into_vec();
        let removed = jobs
            .iter()
            .position(|Reverse(job)| which(&job.payload))
            .map(|index| jobs.swap_remove(index).0.payload);
        self.jobs = BinaryHeap::from(jobs);
        removed
    }

    /// Changes the speed from `now` on.
    pub fn set_speed(&mut self, now: f64, speed: f64) {
        assert!(speed > 0.0, "a server's speed must be positive");
        self.advance(now);
        self.speed = speed;
    }

    /// Seconds with at least one job in progress, up to the last update.
    pub fn busy_time(&self) -> f64 {
        self.busy_time
    }

    /// Work done, up to the last update.
    pub fn work_done(&self) -> f64 {
        self.work_done
    }

    /// The integral of the number of jobs over time, up to the last update.
    pub fn job_seconds(&self) -> f64 {
        self.job_seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Runs the queue until it is empty, returning (completion time, payload) in order.
    fn drain(queue: &mut PsQueue<u32>) -> Vec<(f64, u32)> {
        let mut done = Vec::new();
        while let Some(at) = queue.next_completion() {
            done.push((at, queue.pop_next(at).unwrap()));
        }
        done
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn jobs_share_the_speed_equally() {
        // Work 1 and 2 from time 0 at speed 1: both run at 1/2 until the first is done at 2,
        // then the second alone finishes its last unit at 3.
        let mut queue = PsQueue::new(1.0);
        queue.push(0.0, 2.0, 2);
        queue.push(0.0, 1.0, 1);
        let done = drain(&mut queue);
        assert_eq!(done.iter().map(|d| d.1).collect::<Vec<_>>(), [1, 2]);
        assert!(close(done[0].0, 2.0) && close(done[1].0, 3.0), "{done:?}");
        assert!(close(queue.busy_time(), 3.0) && close(queue.work_done(), 3.0));
        // Two jobs for 2 s, one for 1 s.
        assert!(close(queue.job_seconds(), 5.0));
    }

    #[test]
    fn a_late_arrival_slows_the_job_in_progress() {
        // Work 4 at speed 2 alone would end at 2. Work 1 arrives at 1, when 2 remain: both
        // at 1 per second, the newcomer ends at 2, the first then has 1 left at speed 2.
        let mut queue = PsQueue::new(2.0);
        queue.push(0.0, 4.0, 1);
        assert!(close(queue.next_completion().unwrap(), 2.0));
        queue.push(1.0, 1.0, 2);
        let done = drain(&mut queue);
        assert_eq!(done[0].1, 2);
        assert!(close(done[0].0, 2.0) && close(done[1].0, 2.5), "{done:?}");
    }

    #[test]
    fn a_speed_change_applies_to_the_remaining_work() {
        let mut queue = PsQueue::new(1.0);
        queue.push(0.0, 2.0, 1);
        queue.set_speed(1.0, 0.5);
        assert!(close(queue.next_completion().unwrap(), 3.0));
        assert!(close(
            queue.pop_next(3.0).map(|_| queue.work_done()).unwrap(),
            2.0
        ));
        // Idle time is not busy time.
        queue.push(10.0, 1.0, 2);
        drain(&mut queue);
        assert!(close(queue.busy_time(), 5.0), "{}", queue.busy_time());
    }

    #[test]
    fn a_removed_job_gives_its_share_back() {
        // Two jobs of work 2 at speed 1 have each received 0.5 at time 1. Without the second,
        // the first does its remaining 1.5 alone and finishes at 2.5, not at 4.
        let mut queue = PsQueue::new(1.0);
        queue.push(0.0, 2.0, 1);
        queue.push(0.0, 2.0, 2);
        assert!(close(queue.next_completion().unwrap(), 4.0));
        assert_eq!(queue.remove(1.0, |&job| job == 2), Some(2));
        assert_eq!(queue.remove(1.0, |&job| job == 7), None);
        assert_eq!(queue.len(), 1);
        let done = drain(&mut queue);
        assert_eq!(done.len(), 1);
        assert!(close(done[0].0, 2.5), "{done:?}");
        assert!(close(queue.work_done(), 2.5));
    }

    #[test]
    fn mean_response_matches_the_m_m_1_ps_formula() {
        // Poisson arrivals at rate 0.7, exponential work of mean 1, speed 1: the mean
        // response time of M/M/1-PS (of M/G/1-PS too) is E[S] / (1 - rho) = 1 / 0.3.
        let mut rng = Rng::new(5, "mm1");
        let mut queue = PsQueue::new(1.0);
        let (mut now, mut total, mut count) = (0.0, 0.0, 0u32);
        let mut next_arrival = rng.exponential(0.7);
        while count < 400_000 {
            match queue.next_completion() {
                Some(at) if at <= next_arrival => {
                    let arrived = queue.pop_next(at).unwrap();
                    total += at - arrived;
                    count += 1;
                    now = at;
                }
                _ => {
                    now = now.max(next_arrival);
                    queue.push(next_arrival, rng.exponential(1.0), next_arrival);
                    next_arrival += rng.exponential(0.7);
                }
            }
        }
        let mean = total / f64::from(count);
        assert!((mean - 1.0 / 0.3).abs() < 0.1, "mean response {mean}");
    }
}
