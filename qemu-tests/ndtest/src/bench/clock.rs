//! The benchmarks' one clock: `CLOCK_MONOTONIC` in nanoseconds, the clock `timerfd` schedules
//! on, so that scheduled starts and measured completions are on the same time line.

use std::time::Duration;

/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Nanoseconds since an arbitrary fixed point (boot, on Linux).
pub fn now_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec passed to it, which lives across the
    // call. CLOCK_MONOTONIC always exists on Linux, so the call cannot fail.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    now.tv_sec as u64 * NANOS_PER_SECOND + now.tv_nsec as u64
}

/// `duration` in nanoseconds, saturating far beyond any benchmark's length.
pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The `epoll_wait` timeout in milliseconds that wakes at or just after `deadline_ns`:
/// rounded up, so a loop never wakes early and spins until the deadline.
pub fn timeout_ms_until(deadline_ns: u64, now_ns: u64) -> i32 {
    let wait = deadline_ns.saturating_sub(now_ns);
    i32::try_from(wait.div_ceil(1_000_000)).unwrap_or(i32::MAX)
}

/// Seconds between two instants of this clock, for rates.
pub fn seconds_between(from_ns: u64, to_ns: u64) -> f64 {
    to_ns.saturating_sub(from_ns) as f64 / NANOS_PER_SECOND as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward() {
        let before = now_ns();
        std::thread::sleep(Duration::from_millis(2));
        assert!(now_ns() >= before + 2_000_000);
    }

    #[test]
    fn timeouts_round_up_and_never_go_negative() {
        assert_eq!(timeout_ms_until(5_000_001, 0), 6);
        assert_eq!(timeout_ms_until(5_000_000, 0), 5);
        assert_eq!(timeout_ms_until(1, 2), 0);
        assert_eq!(timeout_ms_until(u64::MAX, 0), i32::MAX);
    }

    #[test]
    fn rates_divide_by_seconds() {
        assert_eq!(seconds_between(0, 1_500_000_000), 1.5);
        assert_eq!(seconds_between(10, 5), 0.0);
    }
}
