//! A thin safe layer over `epoll`, shared by every benchmark: register descriptors under a
//! 64-bit token, wait, and walk the ready tokens. One poller per thread, many sockets each.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// What a descriptor is watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(u32);

impl Interest {
    /// Data to read, a connection to accept, or end of file.
    pub const READ: Interest = Interest(libc::EPOLLIN as u32);
    /// Both, edge-triggered: one report per change, so a socket is read or written until
    /// `EAGAIN` once reported, and never reported again while nothing changes.
    pub const READ_WRITE_EDGE: Interest =
        Interest((libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLET) as u32);
    /// Reading, edge-triggered.
    pub const READ_EDGE: Interest = Interest((libc::EPOLLIN | libc::EPOLLET) as u32);
    /// A listener shared by several pollers: each new connection wakes only one of them.
    /// Such a registration cannot be modified, only deleted and added again.
    pub const ACCEPT_EXCLUSIVE: Interest = Interest((libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32);
    /// Nothing: the descriptor stays registered but silent.
    pub const NONE: Interest = Interest(0);
}

/// What a ready descriptor reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness(u32);

impl Readiness {
    /// Readable (or at end of file).
    pub fn is_readable(self) -> bool {
        self.0 & libc::EPOLLIN as u32 != 0
    }

    /// Writable (or a nonblocking connect finished, well or not).
    pub fn is_writable(self) -> bool {
        self.0 & libc::EPOLLOUT as u32 != 0
    }

    /// A pending socket error, such as a refused connect.
    pub fn is_error(self) -> bool {
        self.0 & libc::EPOLLERR as u32 != 0
    }

    /// Both directions closed.
    pub fn is_hangup(self) -> bool {
        self.0 & libc::EPOLLHUP as u32 != 0
    }
}

/// An epoll instance.
pub struct Poller {
    epoll: OwnedFd,
}

impl Poller {
    /// A new, empty poller.
    pub fn new() -> io::Result<Poller> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new descriptor
        // that nothing else owns.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        Ok(Poller {
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for `interest`, reporting it as `token`.
    pub fn add(&self, fd: &impl AsRawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_ADD, fd.as_raw_fd(), token, interest)
    }

    /// Changes what `fd`, already added, is watched for.
    pub fn modify(&self, fd: &impl AsRawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_MOD, fd.as_raw_fd(), token, interest)
    }

    /// Stops watching `fd`. (Closing a descriptor does that by itself.)
    pub fn delete(&self, fd: &impl AsRawFd) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, Interest::NONE)
    }

    fn control(&self, operation: i32, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest.0,
            u64: token,
        };
        // SAFETY: `event` lives across the call, which only reads it; both descriptors are
        // open (the caller's by its borrow, ours by ownership).
        let rc = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), operation, fd, &mut event) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Waits up to `timeout_ms` (-1: without limit) for ready descriptors and puts them in
    /// `events`. A signal's interruption is an empty, successful wait.
    pub fn wait(&self, events: &mut Events, timeout_ms: i32) -> io::Result<()> {
        events.len = 0;
        let capacity = i32::try_from(events.buffer.len()).unwrap_or(i32::MAX);
        // SAFETY: the buffer holds `capacity` initialized events and the kernel writes at most
        // that many; it lives across the call.
        let ready = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.buffer.as_mut_ptr(),
                capacity,
                timeout_ms,
            )
        };
        if ready < 0 {
            let error = io::Error::last_os_error();
            return if error.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(error)
            };
        }
        events.len = ready as usize;
        Ok(())
    }
}

/// The ready descriptors of one wait.
pub struct Events {
    buffer: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    /// Room for `capacity` ready descriptors per wait; more wait for the next one.
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            buffer: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(1)],
            len: 0,
        }
    }

    /// The token and readiness of each ready descriptor.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Readiness)> + '_ {
        self.buffer[..self.len]
            .iter()
            .map(|event| (event.u64, Readiness(event.events)))
    }

    /// Whether the last wait returned nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn reports_a_readable_socket_under_its_token() {
        let poller = Poller::new().unwrap();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        poller.add(&reader, 42, Interest::READ).unwrap();
        let mut events = Events::with_capacity(8);

        poller.wait(&mut events, 0).unwrap();
        assert!(events.is_empty());

        writer.write_all(b"x").unwrap();
        poller.wait(&mut events, 1000).unwrap();
        let ready: Vec<_> = events.iter().collect();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].0, 42);
        assert!(ready[0].1.is_readable());
        assert!(!ready[0].1.is_writable());
    }

    #[test]
    fn edge_triggered_reports_once_per_change() {
        let poller = Poller::new().unwrap();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        poller.add(&reader, 7, Interest::READ_EDGE).unwrap();
        let mut events = Events::with_capacity(8);
        writer.write_all(b"x").unwrap();
        poller.wait(&mut events, 1000).unwrap();
        assert_eq!(events.iter().count(), 1);
        poller.wait(&mut events, 0).unwrap();
        assert!(events.is_empty(), "unread data is not reported again");
        writer.write_all(b"y").unwrap();
        poller.wait(&mut events, 1000).unwrap();
        assert_eq!(events.iter().count(), 1);
    }

    #[test]
    fn silenced_descriptors_stay_quiet() {
        let poller = Poller::new().unwrap();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        poller.add(&reader, 1, Interest::READ).unwrap();
        poller.modify(&reader, 1, Interest::NONE).unwrap();
        writer.write_all(b"x").unwrap();
        let mut events = Events::with_capacity(8);
        poller.wait(&mut events, 10).unwrap();
        assert!(events.is_empty());
        poller.modify(&reader, 2, Interest::READ).unwrap();
        poller.wait(&mut events, 1000).unwrap();
        assert_eq!(events.iter().next().map(|(token, _)| token), Some(2));
    }
}
