//! `timerfd` timers on `CLOCK_MONOTONIC`, at absolute instants with nanosecond resolution.
//! A periodic one drives open-loop schedules: a late reader learns how many periods went by,
//! so a busy loop falls behind its schedule without losing track of it. A deadline timer
//! wakes an event loop once, at an instant it moves as it likes (the next completion of an
//! emulated server).

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

/// A new, disarmed, nonblocking timerfd.
fn create() -> io::Result<OwnedFd> {
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
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Arms `fd` for an absolute first expiry `first_ns` and then every `period_ns` (0: once);
/// `first_ns` 0 disarms it.
fn set(fd: &OwnedFd, first_ns: u64, period_ns: u64) -> io::Result<()> {
    let spec = libc::itimerspec {
        it_interval: timespec(period_ns),
        it_value: timespec(first_ns),
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
    Ok(())
}

/// Expiries of `fd` since the last read; 0 when none.
fn expirations(fd: &OwnedFd) -> io::Result<u64> {
    let mut count = 0u64;
    // SAFETY: the kernel writes exactly eight bytes into `count`, which lives across the
    // call.
    let read = unsafe {
        libc::read(
            fd.as_raw_fd(),
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

impl PeriodicTimer {
    /// Starts the timer: first expiry at `first_ns` of [`super::clock::now_ns`]'s clock (at
    /// once if already past), then one every `period_ns` (not zero).
    pub fn start(first_ns: u64, period_ns: u64) -> io::Result<PeriodicTimer> {
        assert!(period_ns > 0, "a timer period must not be zero");
        let fd = create()?;
        // it_value zero would disarm the timer; one nanosecond after the epoch is as good as
        // "at once" for a start in the past.
        set(&fd, first_ns.max(1), period_ns)?;
        Ok(PeriodicTimer { fd })
    }

    /// Expiries since the last call; 0 when none.
    pub fn expirations(&self) -> io::Result<u64> {
        expirations(&self.fd)
    }
}

impl AsRawFd for PeriodicTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A one-shot timer that is armed for one instant at a time, or not at all.
pub struct DeadlineTimer {
    fd: OwnedFd,
    armed_at: Option<u64>,
}

impl DeadlineTimer {
    /// A disarmed timer.
    pub fn new() -> io::Result<DeadlineTimer> {
        Ok(DeadlineTimer {
            fd: create()?,
            armed_at: None,
        })
    }

    /// Fires once at `at_ns` of [`super::clock::now_ns`]'s clock (at once if already past),
    /// instead of any instant set before; `None` disarms it. Setting the instant it is
    /// already armed for costs no system call.
    pub fn set(&mut self, at_ns: Option<u64>) -> io::Result<()> {
        if at_ns == self.armed_at {
            return Ok(());
        }
        // One nanosecond after the epoch is "at once" too, and 0 would disarm.
        set(&self.fd, at_ns.map_or(0, |at| at.max(1)), 0)?;
        self.armed_at = at_ns;
        Ok(())
    }

    /// Takes the expiry, if it fired: whether it did. It stays disarmed until set again.
    pub fn fired(&mut self) -> io::Result<bool> {
        let fired = expirations(&self.fd)? > 0;
        if fired {
            self.armed_at = None;
        }
        Ok(fired)
    }
}

impl AsRawFd for DeadlineTimer {
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
    fn a_deadline_fires_once_where_it_was_last_moved() {
        let mut timer = DeadlineTimer::new().unwrap();
        timer.set(Some(now_ns() + 10 * NANOS_PER_SECOND)).unwrap();
        timer.set(Some(now_ns() + 5_000_000)).unwrap();
        assert!(!timer.fired().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(timer.fired().unwrap());
        assert!(!timer.fired().unwrap(), "one shot");
        timer.set(Some(now_ns() + 1_000_000)).unwrap();
        timer.set(None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!timer.fired().unwrap(), "disarmed");
        timer.set(Some(1)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(timer.fired().unwrap(), "a past instant fires at once");
    }

    #[test]
    fn a_future_start_has_not_fired_yet() {
        let timer = PeriodicTimer::start(now_ns() + 10 * NANOS_PER_SECOND, 1_000).unwrap();
        assert_eq!(timer.expirations().unwrap(), 0);
    }
}
