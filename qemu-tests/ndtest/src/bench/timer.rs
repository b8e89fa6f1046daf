//! A periodic `timerfd` for open-loop schedules: it fires at absolute instants of
//! `CLOCK_MONOTONIC` with nanosecond resolution, and a late reader learns how many periods
//! went by, so a busy loop falls behind its schedule without losing track of it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::clock::NANOS_PER_SECOND;

/// A timer firing at `first_ns`, then every `period_ns`.
pub struct PeriodicTimer {
    fd: OwnedFd,
}

fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        // `as _`: the field's type is spelled differently on glibc and musl.
        tv_sec: (ns / NANOS_PER_SECOND) as _,
        tv_nsec: (ns % NANOS_PER_SECOND) as _,
    }
}

impl PeriodicTimer {
    /// Starts the timer: first expiry at `first_ns` of [`super::clock::now_ns`]'s clock (at
    /// once if already past), then one every `period_ns` (not zero).
    pub fn start(first_ns: u64, period_ns: u64) -> io::Result<PeriodicTimer> {
        assert!(period_ns > 0, "a timer period must not be zero");
        // SAFETY: timerfd_create takes no pointers; a non-negative result is a new descriptor.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just created and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // it_value zero would disarm the timer; one nanosecond after the epoch is as good as
        // "at once" for a start in the past.
        let spec = libc::itimerspec {
            it_interval: timespec(period_ns),
            it_value: timespec(first_ns.max(1)),
        };
        // SAFETY: `spec` lives across the call, which only reads it; no old value is asked for.
        let rc = unsafe {
            libc::timerfd_settime(
                fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PeriodicTimer { fd })
    }

    /// Expiries since the last call; 0 when none.
    pub fn expirations(&self) -> io::Result<u64> {
        let mut count = 0u64;
        // SAFETY: the kernel writes exactly eight bytes into `count`, which lives across the
        // call.
        let read = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        if read == std::mem::size_of::<u64>() as isize {
            return Ok(count);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(error),
        }
    }
}

impl AsRawFd for PeriodicTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::now_ns;
    use super::*;

    #[test]
    fn counts_the_periods_that_went_by() {
        let start = now_ns();
        let timer = PeriodicTimer::start(start, 1_000_000).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let fired = timer.expirations().unwrap();
        // The first expiry is at the start, then one a millisecond.
        let elapsed_ms = (now_ns() - start) / 1_000_000;
        assert!(
            fired >= 20 && fired <= elapsed_ms + 1,
            "{fired} in {elapsed_ms} ms"
        );
        assert!(timer.expirations().unwrap() <= 1);
    }

    #[test]
    fn a_future_start_has_not_fired_yet() {
        let timer = PeriodicTimer::start(now_ns() + 10 * NANOS_PER_SECOND, 1_000).unwrap();
        assert_eq!(timer.expirations().unwrap(), 0);
    }
}
