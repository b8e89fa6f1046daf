//! The event loop that runs request transactions for a window of time: a [`Schedule`] says
//! when to start them and what each asks, the loop drives all those under way on one epoll
//! instance, times out the slow ones, stops starting at the end of the window and gives those
//! still under way until the drain deadline. Closed loop (`bench-crr`) and open loop
//! (`bench-latency`, `workload`) differ only in their schedule. Transactions due before the
//! measured part of the window (a warm-up) run like the others but are only counted apart.

use std::net::SocketAddr;
use std::time::Duration;

use super::clock::{nanos, now_ns, timeout_ms_until};
use super::event_loop::{Events, Interest, Poller};
use super::histogram::Histogram;
use super::report::add_counts;
use super::slab::{reserved_token, Slab};
use super::timer::PeriodicTimer;
use super::transaction::{Progress, Request, Transaction, REQUEST};
use crate::report::{count, Counts, ErrorCounts};

/// How often transactions are checked against their timeout.
const TIMEOUT_SWEEP: Duration = Duration::from_millis(10);
const TIMER: u64 = reserved_token(0);
/// Bytes read per call past a response's status line.
const SCRATCH: usize = 4096;

/// A transaction to start: when it was due, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub scheduled_ns: u64,
    pub request: Request,
}

impl Due {
    /// A transaction due at `scheduled_ns` sending the benchmarks' [`REQUEST`].
    pub fn plain(scheduled_ns: u64) -> Due {
        Due {
            scheduled_ns,
            request: Request::Borrowed(REQUEST),
        }
    }
}

/// When transactions start.
pub trait Schedule {
    /// Appends to `due` each transaction to start now, at most `room` of them (the free
    /// places under the concurrency limit).
    fn take_due(&mut self, now_ns: u64, room: usize, due: &mut Vec<Due>);

    /// A start failed before its connect was under way; `local_resource` if for lack of
    /// descriptors, memory or ports here. Whether to go on starting the others due now.
    fn start_failed(&mut self, local_resource: bool, now_ns: u64) -> bool;

    /// The next instant at which a start falls due without any event, if the schedule has
    /// no timer to say so.
    fn next_due_ns(&self) -> Option<u64>;

    /// A timer to wake the loop when starts fall due.
    fn timer(&self) -> Option<&PeriodicTimer>;

    /// Starts that fell due within the window but never took place.
    fn unstarted(&self) -> u64;

    /// Whether starts that fell due within the window are made, late, by a loop that wakes
    /// only after its end: an open-loop load counts such a delay in those requests' times
    /// rather than losing them.
    fn starts_late(&self) -> bool {
        false
    }
}

/// The loop's limits.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Most transactions under way at once.
    pub concurrency: usize,
    /// No transaction starts at or after this instant.
    pub stop_ns: u64,
    /// Transactions still under way at this instant are aborted.
    pub drain_deadline_ns: u64,
    /// A transaction not finished this long after its connect fails as a timeout.
    pub timeout: Duration,
    /// Transactions due before this instant are the warm-up: counted only in
    /// [`TransactionTally::warmup_completed`] and [`TransactionTally::warmup_failed`].
    pub measure_from_ns: u64,
}

/// What the transactions of one loop came to.
#[derive(Debug, Clone, Default)]
pub struct TransactionTally {
    /// Starts attempted.
    pub started: u64,
    /// Completed before the end of the window.
    pub completed: u64,
    /// Completed after the end of the window, before the drain deadline.
    pub drained: u64,
    pub failed: u64,
    pub errors: ErrorCounts,
    /// Under way at the drain deadline.
    pub abandoned: u64,
    /// Due within the window but never started.
    pub unstarted: u64,
    /// From scheduled start to completion, in nanoseconds.
    pub latency: Histogram,
    /// From connect to completion, in nanoseconds.
    pub service: Histogram,
    /// Completed transactions by the server their response named.
    pub per_server: Counts,
    /// Warm-up transactions that completed, and that failed or were abandoned.
    pub warmup_completed: u64,
    pub warmup_failed: u64,
}

impl TransactionTally {
    /// Counts a failure of kind `kind` of a transaction due at `scheduled_ns`.
    fn fail(&mut self, window: &Window, scheduled_ns: u64, kind: &str) {
        if scheduled_ns < window.measure_from_ns {
            self.warmup_failed += 1;
        } else {
            self.failed += 1;
            count(&mut self.errors, kind);
        }
    }

    /// Counts a transaction that completed at `done_ns`.
    fn complete(&mut self, window: &Window, transaction: &Transaction, done_ns: u64) {
        if transaction.scheduled_ns < window.measure_from_ns {
            self.warmup_completed += 1;
            return;
        }
        if done_ns < window.stop_ns {
            self.completed += 1;
        } else {
            self.drained += 1;
        }
        self.latency
            .record(done_ns.saturating_sub(transaction.scheduled_ns));
        self.service
            .record(done_ns.saturating_sub(transaction.started_ns));
        if let Some(server) = transaction.server() {
            count(&mut self.per_server, server);
        }
    }

    /// Adds the counts of another loop's tally.
    pub fn merge(&mut self, other: &TransactionTally) {
        self.started += other.started;
        self.completed += other.completed;
        self.drained += other.drained;
        self.failed += other.failed;
        add_counts(&mut self.errors, &other.errors);
        self.abandoned += other.abandoned;
        self.unstarted += other.unstarted;
        self.latency.merge(&other.latency);
        self.service.merge(&other.service);
        add_counts(&mut self.per_server, &other.per_server);
        self.warmup_completed += other.warmup_completed;
        self.warmup_failed += other.warmup_failed;
    }
}

/// Runs transactions to `to` as `schedule` starts them, within `window`.
pub fn run_transactions(
    to: SocketAddr,
    schedule: &mut impl Schedule,
    window: Window,
) -> Result<TransactionTally, String> {
    let epoll_error = |e: std::io::Error| format!("epoll: {e}");
    let poller = Poller::new().map_err(epoll_error)?;
    if let Some(timer) = schedule.timer() {
        poller
            .add(timer, TIMER, Interest::READ)
            .map_err(epoll_error)?;
    }
    let mut under_way: Slab<Transaction> = Slab::with_capacity(window.concurrency);
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; SCRATCH];
    let mut due = Vec::new();
    let mut tally = TransactionTally::default();
    let timeout_ns = nanos(window.timeout);
    let mut next_sweep_ns = now_ns() + nanos(TIMEOUT_SWEEP);
    let mut window_closed = false;
    loop {
        let now = now_ns();
        if !window_closed {
            // Past the window's end, one last pass for the late starts of arrivals due in it.
            window_closed = now >= window.stop_ns;
            if window_closed && !schedule.starts_late() {
                continue;
            }
            due.clear();
            let room = window.concurrency.saturating_sub(under_way.len());
            schedule.take_due(now, room, &mut due);
            for Due {
                scheduled_ns,
                request,
            } in due.drain(..)
            {
                if scheduled_ns >= window.measure_from_ns {
                    tally.started += 1;
                }
                match Transaction::start(to, request, scheduled_ns, now) {
                    Ok(transaction) => {
                        let token = under_way.insert(transaction);
                        let transaction = under_way.get_mut(token).expect("just inserted");
                        if let Err(error) =
                            poller.add(transaction, token, Interest::READ_WRITE_EDGE)
                        {
                            under_way.remove(token).expect("just inserted").abort();
                            let kind = crate::net::failure("epoll", &error);
                            tally.fail(&window, scheduled_ns, &kind);
                        }
                    }
                    Err(failure) => {
                        tally.fail(&window, scheduled_ns, &failure.kind);
                        if !schedule.start_failed(failure.local_resource, now) {
                            break;
                        }
                    }
                }
            }
        } else if under_way.is_empty() || now >= window.drain_deadline_ns {
            for transaction in under_way.drain() {
                if transaction.scheduled_ns < window.measure_from_ns {
                    tally.warmup_failed += 1;
                } else {
                    tally.abandoned += 1;
                }
                transaction.abort();
            }
            tally.unstarted = schedule.unstarted();
            return Ok(tally);
        }
        if now >= next_sweep_ns {
            for token in under_way.tokens_where(|t| now.saturating_sub(t.started_ns) >= timeout_ns)
            {
                let transaction = under_way.remove(token).expect("listed just now");
                let kind = format!("{}_timeout", transaction.phase_name());
                tally.fail(&window, transaction.scheduled_ns, &kind);
                transaction.abort();
            }
            next_sweep_ns = now + nanos(TIMEOUT_SWEEP);
        }
        let mut wake_ns = next_sweep_ns.min(if now < window.stop_ns {
            window.stop_ns
        } else {
            window.drain_deadline_ns
        });
        if let Some(due_ns) = schedule.next_due_ns() {
            wake_ns = wake_ns.min(due_ns);
        }
        poller
            .wait(&mut events, timeout_ms_until(wake_ns, now))
            .map_err(epoll_error)?;
        for (token, readiness) in events.iter() {
            if token == TIMER {
                if let Some(timer) = schedule.timer() {
                    timer.expirations().map_err(|e| format!("timerfd: {e}"))?;
                }
                continue;
            }
            let Some(transaction) = under_way.get_mut(token) else {
                continue;
            };
            match transaction.advance(readiness, &mut scratch) {
                Progress::Pending => {}
                Progress::Completed => {
                    let transaction = under_way.remove(token).expect("present");
                    tally.complete(&window, &transaction, now_ns());
                }
                Progress::Failed(kind) => {
                    let transaction = under_way.remove(token).expect("present");
                    tally.fail(&window, transaction.scheduled_ns, &kind);
                }
            }
        }
    }
}
