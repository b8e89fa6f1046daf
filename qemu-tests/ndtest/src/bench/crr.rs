//! `ndtest bench-crr`: closed-loop connect, request, response, close. Each of N places starts
//! its next transaction as soon as the last one ends, so the rate is what client, balancer
//! and server sustain together: the connection-rate benchmark.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use super::clock::{nanos, now_ns};
use super::report::CrrReport;
use super::timer::PeriodicTimer;
use super::transaction_loop::{run_transactions, Due, Schedule, TransactionTally, Window};

/// How long starting pauses after a start failed for lack of descriptors or ports: they free
/// up only as other connections end.
const RESOURCE_BACKOFF: Duration = Duration::from_millis(10);

/// What `ndtest bench-crr` does.
#[derive(Debug, Clone)]
pub struct CrrOptions {
    pub to: SocketAddr,
    /// Transactions under way at once, over all threads.
    pub concurrency: u32,
    /// Event-loop threads sharing the concurrency.
    pub threads: u32,
    /// The measured window.
    pub duration: Duration,
    /// A transaction not done this long after its connect fails.
    pub timeout: Duration,
    /// How long transactions under way at the end of the window may finish.
    pub drain: Duration,
}

/// Keeps every place busy: as many starts as there is room, all due now.
struct ClosedLoop {
    resumes_ns: u64,
}

impl Schedule for ClosedLoop {
    fn take_due(&mut self, now_ns: u64, room: usize, due: &mut Vec<Due>) {
        if now_ns >= self.resumes_ns {
            due.extend(std::iter::repeat_n(Due::plain(now_ns), room));
        }
    }

    fn start_failed(&mut self, local_resource: bool, now_ns: u64) -> bool {
        if local_resource {
            self.resumes_ns = now_ns + nanos(RESOURCE_BACKOFF);
        }
        !local_resource
    }

    fn next_due_ns(&self) -> Option<u64> {
        (self.resumes_ns > now_ns()).then_some(self.resumes_ns)
    }

    fn timer(&self) -> Option<&PeriodicTimer> {
        None
    }

    fn unstarted(&self) -> u64 {
        0
    }
}

/// The share of `total` that thread `index` of `threads` takes.
pub fn share(total: u32, threads: u32, index: u32) -> u32 {
    total / threads + u32::from(index < total % threads)
}

/// Runs the benchmark and reports it.
pub fn run(options: &CrrOptions) -> Result<CrrReport, String> {
    let threads = options.threads.clamp(1, options.concurrency.max(1));
    let start_ns = now_ns();
    let stop_ns = start_ns + nanos(options.duration);
    let drain_deadline_ns = stop_ns + nanos(options.drain);
    let results: Vec<Result<TransactionTally, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let window = Window {
                    concurrency: share(options.concurrency, threads, index) as usize,
                    stop_ns,
                    drain_deadline_ns,
                    timeout: options.timeout,
                    measure_from_ns: start_ns,
                };
                scope.spawn(move || {
                    let mut schedule = ClosedLoop { resumes_ns: 0 };
                    run_transactions(options.to, &mut schedule, window)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("bench-crr thread panicked"))
            .collect()
    });
    let mut total = TransactionTally::default();
    for result in results {
        total.merge(&result?);
    }
    let seconds = options.duration.as_secs_f64();
    Ok(CrrReport {
        to: options.to.to_string(),
        concurrency: options.concurrency,
        threads,
        seconds: options.duration.as_secs(),
        completed: total.completed,
        rate: if seconds > 0.0 {
            total.completed as f64 / seconds
        } else {
            0.0
        },
        failed: total.failed,
        errors: total.errors,
        drained: total.drained,
        abandoned: total.abandoned,
        latency_us: total.service.summary_us(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_one_at_most() {
        for (total, threads) in [(10, 3), (2, 2), (7, 1), (1000, 7)] {
            let shares: Vec<u32> = (0..threads).map(|i| share(total, threads, i)).collect();
            assert_eq!(shares.iter().sum::<u32>(), total);
            let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(max - min <= 1, "{shares:?}");
        }
    }

    #[test]
    fn a_resource_shortage_pauses_the_starts() {
        let mut schedule = ClosedLoop { resumes_ns: 0 };
        let mut due = Vec::new();
        schedule.take_due(100, 3, &mut due);
        assert_eq!(due, vec![Due::plain(100); 3]);
        assert!(
            schedule.start_failed(false, 100),
            "a peer's refusal does not pause"
        );
        assert!(!schedule.start_failed(true, 100));
        due.clear();
        schedule.take_due(200, 3, &mut due);
        assert!(due.is_empty());
        schedule.take_due(100 + nanos(RESOURCE_BACKOFF), 1, &mut due);
        assert_eq!(due.len(), 1);
    }
}
