//! `ndtest bench-latency`: open-loop transactions. They start on a fixed schedule, R a
//! second, whether or not earlier ones have finished, and each one's latency counts from the
//! instant it was due, not from when the loop got round to it. A stalled path therefore
//! shows as the latency every client on the schedule would have suffered, instead of
//! quietly slowing the schedule down ("coordinated omission").

use std::net::SocketAddr;
use std::time::Duration;

use super::clock::{nanos, now_ns, NANOS_PER_SECOND};
use super::report::LatencyReport;
use super::timer::PeriodicTimer;
use super::transaction_loop::{run_transactions, Due, Schedule, Window};

/// Highest `--rate`: a start every microsecond.
pub const MAX_RATE: u64 = 1_000_000;

/// What `ndtest bench-latency` does.
#[derive(Debug, Clone)]
pub struct LatencyOptions {
    pub to: SocketAddr,
    /// Transactions started per second, from 1 to [`MAX_RATE`].
    pub rate: u64,
    /// The window in which transactions are started.
    pub duration: Duration,
    /// Most transactions under way at once; due ones wait beyond it.
    pub concurrency_limit: u32,
    /// A transaction not done this long after its connect fails.
    pub timeout: Duration,
    /// How long transactions under way at the end of the window may finish.
    pub drain: Duration,
}

/// Transaction k is due at `start + k * period`, for k below `total`. The period is
/// 1 s / rate rounded down to a nanosecond, so the last start falls inside the window.
struct OpenLoop {
    start_ns: u64,
    period_ns: u64,
    total: u64,
    started: u64,
    max_backlog: u64,
    timer: PeriodicTimer,
}

impl OpenLoop {
    /// Starts due by `now_ns`, the first one at `start_ns`.
    fn due_by(&self, now_ns: u64) -> u64 {
        if now_ns < self.start_ns {
            return 0;
        }
        ((now_ns - self.start_ns) / self.period_ns + 1).min(self.total)
    }
}

impl Schedule for OpenLoop {
    fn take_due(&mut self, now_ns: u64, room: usize, due: &mut Vec<Due>) {
        let backlog = self.due_by(now_ns) - self.started;
        let starting = backlog.min(room as u64);
        due.extend(
            (self.started..self.started + starting)
                .map(|k| Due::plain(self.start_ns + k * self.period_ns)),
        );
        self.started += starting;
        self.max_backlog = self.max_backlog.max(backlog - starting);
    }

    /// A failed start is that transaction's failure; the others due go ahead.
    fn start_failed(&mut self, _local_resource: bool, _now_ns: u64) -> bool {
        true
    }

    fn next_due_ns(&self) -> Option<u64> {
        None
    }

    fn timer(&self) -> Option<&PeriodicTimer> {
        Some(&self.timer)
    }

    fn unstarted(&self) -> u64 {
        self.total - self.started
    }
}

/// Runs the benchmark and reports it.
pub fn run(options: &LatencyOptions) -> Result<LatencyReport, String> {
    let rate = options.rate.clamp(1, MAX_RATE);
    let period_ns = NANOS_PER_SECOND / rate;
    let total = rate.saturating_mul(options.duration.as_secs());
    // A little ahead, so that the first start is not late already.
    let start_ns = now_ns() + 1_000_000;
    let stop_ns = start_ns + nanos(options.duration);
    let mut schedule = OpenLoop {
        start_ns,
        period_ns,
        total,
        started: 0,
        max_backlog: 0,
        timer: PeriodicTimer::start(start_ns, period_ns).map_err(|e| format!("timerfd: {e}"))?,
    };
    let window = Window {
        concurrency: options.concurrency_limit.max(1) as usize,
        stop_ns,
        drain_deadline_ns: stop_ns + nanos(options.drain),
        timeout: options.timeout,
        measure_from_ns: start_ns,
    };
    let tally = run_transactions(options.to, &mut schedule, window)?;
    let completed = tally.completed + tally.drained;
    let seconds = options.duration.as_secs_f64();
    Ok(LatencyReport {
        to: options.to.to_string(),
        target_rate: rate,
        seconds: options.duration.as_secs(),
        concurrency_limit: options.concurrency_limit,
        scheduled: total,
        started: tally.started,
        completed,
        achieved_rate: if seconds > 0.0 {
            completed as f64 / seconds
        } else {
            0.0
        },
        failed: tally.failed,
        errors: tally.errors,
        unstarted: tally.unstarted,
        abandoned: tally.abandoned,
        max_backlog: schedule.max_backlog,
        latency_us: tally.latency.summary_us(),
        service_us: tally.service.summary_us(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The due times of the starts `open` gives at `now` with `room`.
    fn take(open: &mut OpenLoop, now: u64, room: usize) -> Vec<u64> {
        let mut due = Vec::new();
        open.take_due(now, room, &mut due);
        due.into_iter().map(|due| due.scheduled_ns).collect()
    }

    fn schedule(period_ns: u64, total: u64) -> OpenLoop {
        OpenLoop {
            start_ns: 1_000,
            period_ns,
            total,
            started: 0,
            max_backlog: 0,
            timer: PeriodicTimer::start(u64::MAX / 2, 1).unwrap(),
        }
    }

    #[test]
    fn starts_fall_due_on_the_period_and_stop_at_the_total() {
        let mut open = schedule(100, 5);
        assert!(
            take(&mut open, 999, 10).is_empty(),
            "nothing before the start"
        );
        assert_eq!(take(&mut open, 1_000, 10), [1_000]);
        assert_eq!(
            take(&mut open, 1_250, 10),
            [1_100, 1_200],
            "each keeps its own due time"
        );
        assert_eq!(take(&mut open, 1_000_000, 10), [1_300, 1_400]);
        assert_eq!(open.unstarted(), 0);
    }

    #[test]
    fn the_limit_holds_starts_back_and_the_backlog_is_seen() {
        let mut open = schedule(100, 10);
        assert_eq!(take(&mut open, 1_450, 2), [1_000, 1_100]);
        assert_eq!(open.max_backlog, 3);
        assert_eq!(
            take(&mut open, 1_450, 5),
            [1_200, 1_300, 1_400],
            "late starts keep their due times"
        );
        assert_eq!(open.unstarted(), 5);
    }

    #[test]
    fn the_last_start_falls_inside_the_window() {
        for rate in [1, 3, 7, 999, 123_457, MAX_RATE] {
            let period = NANOS_PER_SECOND / rate;
            let seconds = 10;
            let last_due = (rate * seconds - 1) * period;
            assert!(last_due < seconds * NANOS_PER_SECOND, "rate {rate}");
        }
    }
}
