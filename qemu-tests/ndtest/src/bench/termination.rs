//! Ending a server cleanly on SIGTERM or SIGINT: the signals are blocked in every thread and
//! taken synchronously by one waiting thread, which then wakes the event loops through an
//! `eventfd` each of them watches. No signal handler runs, so the loops may finish their
//! reports with ordinary code.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// The set of SIGTERM and SIGINT.
fn termination_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initializes it before sigaddset uses it, and
    // both only touch the set passed to them.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        set
    }
}

/// Blocks SIGTERM and SIGINT in the calling thread and in the threads it starts afterwards,
/// so that they stay pending until [`wait_for_termination`] takes them. To be called before
/// any other thread exists, or one of those might take the signal and die of it.
pub fn block_termination_signals() -> io::Result<()> {
    let set = termination_signals();
    // SAFETY: `set` is an initialized signal set that lives across the call; no old mask is
    // asked for.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits up to `timeout` for SIGTERM or SIGINT (they must be blocked); the signal's number,
/// or `None` if none came in time.
pub fn wait_for_termination(timeout: Duration) -> io::Result<Option<i32>> {
    let set = termination_signals();
    let limit = libc::timespec {
        // `as _`: the field's type is spelled differently on glibc and musl.
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // SAFETY: `set` and `limit` are initialized and outlive the call; no siginfo is asked
    // for.
    let signal = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &limit) };
    if signal >= 0 {
        return Ok(Some(signal));
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EAGAIN | libc::EINTR) => Ok(None),
        _ => Err(error),
    }
}

/// An `eventfd` that, once raised, stays readable: every event loop watching it (level
/// triggered) sees the stop, however many there are.
pub struct StopFlag {
    fd: OwnedFd,
}

impl StopFlag {
    /// A lowered flag.
    pub fn new() -> io::Result<StopFlag> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a new descriptor.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just created and is owned by nothing else.
        Ok(StopFlag {
            fd: unsafe { OwnedFd::from_raw_fd(raw) },
        })
    }

    /// Raises the flag.
    pub fn raise(&self) -> io::Result<()> {
        let one = 1u64;
        // SAFETY: writes the eight bytes of `one`, which lives across the call.
        let written = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        if written < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for StopFlag {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Runs `serve` on a thread of its own, handing it a stop flag, until it returns or SIGTERM
/// or SIGINT arrives (blocked beforehand by [`block_termination_signals`]); then raises the
/// flag and returns what `serve` returned. `what` names the server in messages.
pub fn serve_until_terminated<R: Send>(
    what: &str,
    serve: impl FnOnce(&StopFlag) -> Result<R, String> + Send,
) -> Result<R, String> {
    let stop = StopFlag::new().map_err(|e| format!("eventfd: {e}"))?;
    std::thread::scope(|scope| {
        let server = scope.spawn(|| serve(&stop));
        // Polled, so that a server that failed on its own is noticed too.
        while !server.is_finished() {
            match wait_for_termination(Duration::from_millis(200)) {
                Ok(None) => {}
                Ok(Some(_)) => break,
                Err(error) => {
                    eprintln!("{what}: waiting for signals: {error}");
                    break;
                }
            }
        }
        let raised = stop.raise();
        let result = server.join().map_err(|_| format!("{what} panicked"))?;
        raised.map_err(|e| format!("eventfd: {e}"))?;
        result
    })
}

#[cfg(test)]
mod tests {
    use super::super::event_loop::{Events, Interest, Poller};
    use super::*;

    #[test]
    fn a_blocked_signal_waits_for_its_taker() {
        // Blocked in this test thread only; the signal is sent to this thread alone.
        block_termination_signals().unwrap();
        assert_eq!(
            wait_for_termination(Duration::from_millis(10)).unwrap(),
            None
        );
        // SAFETY: sends SIGINT to this thread, where it is blocked, so no handler runs.
        let rc = unsafe { libc::pthread_kill(libc::pthread_self(), libc::SIGINT) };
        assert_eq!(rc, 0);
        let taken = wait_for_termination(Duration::from_secs(5)).unwrap();
        assert_eq!(taken, Some(libc::SIGINT));
    }

    #[test]
    fn a_raised_flag_wakes_every_poller() {
        let flag = StopFlag::new().unwrap();
        let pollers: Vec<Poller> = (0..2).map(|_| Poller::new().unwrap()).collect();
        for poller in &pollers {
            poller.add(&flag, 9, Interest::READ).unwrap();
        }
        let mut events = Events::with_capacity(4);
        pollers[0].wait(&mut events, 0).unwrap();
        assert!(events.is_empty());
        flag.raise().unwrap();
        for poller in &pollers {
            poller.wait(&mut events, 1000).unwrap();
            assert_eq!(events.iter().next().map(|(token, _)| token), Some(9));
        }
    }
}
