//! Nonblocking TCP sockets for the benchmark clients, and how their connections end.
//!
//! A transaction's connection is closed by the server first: it answers and closes, as
//! HTTP/1.0 does, so the TIME_WAIT state stays on the server, where it costs no port (its side
//! of every tuple is the listening port). The client's socket then only passes through
//! CLOSE_WAIT and LAST_ACK and gives its ephemeral port back once the server acknowledges the
//! client's FIN, a round trip later. Had the client closed first, each of its ports would sit
//! in TIME_WAIT for 60 s, capping a run at about 28 000 ports / 60 s = 470 transactions a
//! second. `SO_LINGER` 0 would free the port at once too, but by a RST, an abnormal end that
//! the balancers handle differently from a FIN (a RST ends a connection entry at once); the
//! benchmark would then not measure what real clients cost. So linger 0 is kept for
//! connections the client gives up on ([`abort`]: timeouts and the drain deadline), where
//! nothing must be left behind. SO_REUSEADDR is not set: it only matters to a socket that
//! binds a port itself, and the clients let connect pick theirs. Ports in use still run out
//! when too many connections are in flight or in LAST_ACK at once: connect then fails with
//! `EADDRNOTAVAIL`, which is counted and, as a [`StartFailure::local_resource`], makes the
//! loop back off briefly.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::net::failure;

/// Why a connection could not be started.
#[derive(Debug)]
pub struct StartFailure {
    /// Report key, like `socket_too_many_open_files` or `connect_addr_not_available`.
    pub kind: String,
    /// Out of descriptors, memory or ports on this host: retrying at once would spin, as
    /// only time (other connections ending) frees them.
    pub local_resource: bool,
}

fn is_local_resource(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOBUFS
                | libc::ENOMEM
                | libc::EADDRNOTAVAIL
                // What connect used to return when no ephemeral port was free.
                | libc::EAGAIN
        )
    )
}

fn start_failure(phase: &str, error: &io::Error) -> StartFailure {
    StartFailure {
        kind: failure(phase, error),
        local_resource: is_local_resource(error),
    }
}

/// A nonblocking socket connecting to `to`: the connect is under way, or already done.
/// Nagle is off, so that small requests and segments leave at once.
pub fn start_connect(to: SocketAddr) -> Result<Socket, StartFailure> {
    let socket = Socket::new(
        Domain::for_address(to),
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )
    .map_err(|e| start_failure("socket", &e))?;
    socket
        .set_tcp_nodelay(true)
        .map_err(|e| start_failure("socket", &e))?;
    match socket.connect(&to.into()) {
        Ok(()) => Ok(socket),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(error) => Err(start_failure("connect", &error)),
    }
}

/// Whether a nonblocking connect reported ready by epoll succeeded: `Ok` if so, the
/// connect's error otherwise.
pub fn connect_result(socket: &Socket) -> io::Result<()> {
    match socket.take_error()? {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Closes a connection the client gives up on with a RST, so that it leaves no socket in
/// TIME_WAIT or FIN_WAIT behind (see the module notes).
pub fn abort(socket: Socket) {
    // Closing goes ahead even if linger cannot be set: the socket must go.
    let _ = socket.set_linger(Some(Duration::ZERO));
}

/// The counters of a connected socket's `TCP_INFO`.
pub fn tcp_info(socket: &Socket) -> io::Result<libc::tcp_info> {
    use std::os::fd::AsRawFd;
    // SAFETY: tcp_info is plain integers, for which all zeroes is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info` and updates `len`; both live
    // across the call, and the descriptor is open for the borrow's length.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_refused_connect_is_reported_as_refused() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let to: SocketAddr = ([127, 0, 0, 1], port).into();
        let socket = start_connect(to).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let error = connect_result(&socket).unwrap_err();
        assert_eq!(failure("connect", &error), "connect_refused");
    }

    #[test]
    fn a_connect_to_a_listener_succeeds_with_nagle_off() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = start_connect(listener.local_addr().unwrap()).unwrap();
        let _accepted = listener.accept().unwrap();
        connect_result(&socket).unwrap();
        assert!(socket.tcp_nodelay().unwrap());
        assert!(tcp_info(&socket).unwrap().tcpi_segs_out >= 1);
        abort(socket);
    }

    #[test]
    fn resource_shortages_are_told_apart_from_peer_failures() {
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        assert!(start_failure("socket", &emfile).local_resource);
        let no_port = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        let failure = start_failure("connect", &no_port);
        assert!(failure.local_resource);
        assert_eq!(failure.kind, "connect_addr_not_available");
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert!(!start_failure("connect", &refused).local_resource);
    }
}
