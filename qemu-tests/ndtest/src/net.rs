//! Socket helpers shared by the client subcommands.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Stack size for per-connection threads: they hold only small buffers, and
/// the VM has little memory for hundreds of default 2 MiB stacks.
pub const CONNECTION_THREAD_STACK: usize = 128 * 1024;

/// Names a failure as `<phase>_<cause>`, the key used in report `errors`.
pub fn failure(phase: &str, error: &io::Error) -> String {
    format!("{phase}_{}", cause(error))
}

fn cause(error: &io::Error) -> String {
    use io::ErrorKind::*;
    let name = match error.kind() {
        ConnectionRefused => "refused",
        ConnectionReset => "reset",
        ConnectionAborted => "aborted",
        // A socket read timeout surfaces as EAGAIN on Linux.
        TimedOut | WouldBlock => "timeout",
        UnexpectedEof => "eof",
        BrokenPipe => "broken_pipe",
        HostUnreachable => "host_unreachable",
        NetworkUnreachable => "network_unreachable",
        AddrInUse => "addr_in_use",
        AddrNotAvailable => "addr_not_available",
        _ => {
            return match error.raw_os_error() {
                Some(libc::EMFILE) => "too_many_open_files".to_owned(),
                Some(libc::ENFILE) => "file_table_full".to_owned(),
                Some(libc::ENOBUFS) => "no_buffer_space".to_owned(),
                Some(errno) => format!("errno{errno}"),
                None => "other".to_owned(),
            }
        }
    };
    name.to_owned()
}

/// Connects to `to` within `timeout`, from `source_address` and `source_port` when given.
///
/// The returned stream has read and write timeouts of `timeout` and Nagle
/// disabled, so small request/echo exchanges are not delayed.
pub fn connect(
    to: SocketAddr,
    source_address: Option<IpAddr>,
    source_port: Option<u16>,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let socket = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| failure("socket", &e))?;
    if source_address.is_some() || source_port.is_some() {
        // Reuse lets a rerun bind ports still held by TIME_WAIT sockets.
        socket
            .set_reuse_address(true)
            .map_err(|e| failure("bind", &e))?;
        let any: IpAddr = if to.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let source = SocketAddr::new(source_address.unwrap_or(any), source_port.unwrap_or(0));
        socket
            .bind(&source.into())
            .map_err(|e| failure("bind", &e))?;
    }
    socket
        .connect_timeout(&to.into(), timeout)
        .map_err(|e| failure("connect", &e))?;
    let stream: TcpStream = socket.into();
    let configure = || -> io::Result<()> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))
    };
    configure().map_err(|e| failure("setup", &e))?;
    Ok(stream)
}

/// Half-closes our side and expects the server to close its side in turn,
/// with nothing more to read.
pub fn close_cleanly(stream: &TcpStream, reader: &mut impl io::Read) -> Result<(), String> {
    stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| failure("close", &e))?;
    let mut rest = [0u8; 64];
    match reader.read(&mut rest) {
        Ok(0) => Ok(()),
        Ok(_) => Err("close_unexpected_data".to_owned()),
        Err(e) => Err(failure("close", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_phase_and_cause() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(failure("connect", &refused), "connect_refused");
        let timeout = io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(failure("echo", &timeout), "echo_timeout");
        let out_of_files = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(
            failure("socket", &out_of_files),
            "socket_too_many_open_files"
        );
        let odd = io::Error::from_raw_os_error(libc::EPROTO);
        assert_eq!(
            failure("greeting", &odd),
            format!("greeting_errno{}", libc::EPROTO)
        );
    }
}
