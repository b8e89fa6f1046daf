//! `ndtest bench-sink`: the server side of the benchmarks. A few event-loop threads share one
//! listener and serve many connections each: discarding what arrives (for `bench-stream`),
//! echoing it, or answering one small HTTP/1.0 request per connection and closing first (for
//! `bench-crr` and `bench-latency`). It counts what it saw and reports it when stopped.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::clock::{nanos, now_ns, timeout_ms_until};
use super::event_loop::{Events, Interest, Poller, Readiness};
use super::http_head::HeadEnd;
use super::report::{add_counts, SinkReport};
use super::slab::{reserved_token, Slab};
use super::termination::StopFlag;
use crate::net::failure;
use crate::report::{count, ErrorCounts};

/// The answer to every HTTP request: small, so that a transaction costs its packets and not
/// its bytes.
pub const HTTP_RESPONSE: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// Room for the SYN bursts of thousands of concurrent clients (the kernel caps it at
/// `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;
/// Connections accepted per wakeup before the other sockets get a turn; the listener is
/// level-triggered, so the rest are reported again.
const ACCEPT_BURST: usize = 64;
/// How long accepting pauses when this process is out of descriptors or memory.
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);
const READ_BUFFER: usize = 64 * 1024;

const LISTENER: u64 = reserved_token(0);
const STOP: u64 = reserved_token(1);

/// What the sink does with a connection's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// Reads and drops everything; closes at the client's end of file.
    Discard,
    /// Sends everything back.
    Echo,
    /// Reads a request head to its blank line, answers [`HTTP_RESPONSE`] and closes.
    Http,
}

impl SinkMode {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            SinkMode::Discard => "discard",
            SinkMode::Echo => "echo",
            SinkMode::Http => "http",
        }
    }
}

/// What `ndtest bench-sink` does.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    pub listen: SocketAddr,
    pub mode: SinkMode,
    /// Event-loop threads; at least one.
    pub threads: u32,
}

/// A bound sink, not yet serving.
pub struct Sink {
    listener: Socket,
    options: SinkOptions,
    bound_ns: u64,
}

impl Sink {
    /// Binds and listens, with SO_REUSEADDR so that a sink restarted between benchmark
    /// rounds gets its port back while old connections sit in TIME_WAIT.
    pub fn bind(options: &SinkOptions) -> io::Result<Sink> {
        let listener = Socket::new(
            Domain::for_address(options.listen),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        listener.set_reuse_address(true)?;
        listener.bind(&options.listen.into())?;
        listener.listen(LISTEN_BACKLOG)?;
        Ok(Sink {
            listener,
            options: options.clone(),
            bound_ns: now_ns(),
        })
    }

    /// The address bound, with the port the kernel chose for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an internet address"))
    }

    /// Serves until `stop` is raised, then reports what all threads saw.
    pub fn serve(self, stop: &StopFlag) -> Result<SinkReport, String> {
        let listen = self.local_addr().map_err(|e| e.to_string())?;
        let tallies: Vec<Result<Tally, String>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..self.options.threads.max(1))
                .map(|_| scope.spawn(|| serve_thread(&self.listener, self.options.mode, stop)))
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("sink thread panicked"))
                .collect()
        });
        let mut report = SinkReport {
            listen: listen.to_string(),
            mode: self.options.mode.name().to_owned(),
            threads: self.options.threads.max(1),
            elapsed_ms: (now_ns() - self.bound_ns) / 1_000_000,
            ..SinkReport::default()
        };
        for tally in tallies {
            tally?.add_to(&mut report);
        }
        Ok(report)
    }
}

/// What one thread saw.
#[derive(Default)]
struct Tally {
    accepted: u64,
    closed: u64,
    bytes_received: u64,
    bytes_sent: u64,
    requests: u64,
    errors: ErrorCounts,
}

impl Tally {
    fn error(&mut self, phase: &str, error: &io::Error) {
        count(&mut self.errors, &failure(phase, error));
    }

    fn add_to(&self, report: &mut SinkReport) {
        report.accepted += self.accepted;
        report.closed += self.closed;
        report.bytes_received += self.bytes_received;
        report.bytes_sent += self.bytes_sent;
        report.requests += self.requests;
        report.failed += self.errors.values().sum::<u64>();
        add_counts(&mut report.errors, &self.errors);
    }
}

/// One served connection.
struct Connection {
    socket: Socket,
    /// Bytes accepted for sending that the socket had no room for yet.
    unsent: Vec<u8>,
    head: HeadEnd,
    /// The HTTP answer is written (perhaps partly, into `unsent`).
    answered: bool,
}

/// Whether a connection stays open after an event.
#[derive(PartialEq, Eq)]
enum Keep {
    Open,
    Close,
}

fn serve_thread(listener: &Socket, mode: SinkMode, stop: &StopFlag) -> Result<Tally, String> {
    let poller = Poller::new().map_err(|e| format!("epoll: {e}"))?;
    poller
        .add(listener, LISTENER, Interest::ACCEPT_EXCLUSIVE)
        .map_err(|e| format!("epoll: {e}"))?;
    poller
        .add(stop, STOP, Interest::READ)
        .map_err(|e| format!("epoll: {e}"))?;
    let mut tally = Tally::default();
    let mut connections: Slab<Connection> = Slab::with_capacity(1024);
    let mut events = Events::with_capacity(256);
    let mut buffer = vec![0u8; READ_BUFFER];
    // While out of descriptors, the listener is off the poller until this time.
    let mut accept_resumes_ns: Option<u64> = None;
    loop {
        let timeout = accept_resumes_ns.map_or(-1, |at| timeout_ms_until(at, now_ns()));
        poller
            .wait(&mut events, timeout)
            .map_err(|e| format!("epoll: {e}"))?;
        for (token, readiness) in events.iter() {
            match token {
                STOP => return Ok(tally),
                LISTENER => {
                    let accepted = accept_burst(listener, &poller, &mut connections, &mut tally);
                    if let Err(error) = accepted {
                        tally.error("accept", &error);
                        poller.delete(listener).map_err(|e| format!("epoll: {e}"))?;
                        accept_resumes_ns = Some(now_ns() + nanos(ACCEPT_PAUSE));
                    }
                }
                token => {
                    let Some(connection) = connections.get_mut(token) else {
                        continue;
                    };
                    if serve_event(connection, readiness, mode, &mut buffer, &mut tally)
                        == Keep::Close
                    {
                        connections.remove(token);
                        tally.closed += 1;
                    }
                }
            }
        }
        if let Some(at) = accept_resumes_ns {
            if now_ns() >= at {
                poller
                    .add(listener, LISTENER, Interest::ACCEPT_EXCLUSIVE)
                    .map_err(|e| format!("epoll: {e}"))?;
                accept_resumes_ns = None;
            }
        }
    }
}

/// Accepts up to [`ACCEPT_BURST`] connections; fails only on an error that calls for a pause
/// (out of descriptors or memory). Connections aborted before they were accepted are skipped.
fn accept_burst(
    listener: &Socket,
    poller: &Poller,
    connections: &mut Slab<Connection>,
    tally: &mut Tally,
) -> io::Result<()> {
    for _ in 0..ACCEPT_BURST {
        let socket = match listener.accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) {
            Ok((socket, _)) => socket,
            Err(error) => match error.raw_os_error() {
                Some(libc::EAGAIN) => return Ok(()),
                Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => continue,
                _ => return Err(error),
            },
        };
        // Echoes and answers are small writes that must not wait for Nagle.
        let _ = socket.set_tcp_nodelay(true);
        let token = connections.insert(Connection {
            socket,
            unsent: Vec::new(),
            head: HeadEnd::default(),
            answered: false,
        });
        let connection = connections.get_mut(token).expect("just inserted");
        if let Err(error) = poller.add(&connection.socket, token, Interest::READ_WRITE_EDGE) {
            connections.remove(token);
            return Err(error);
        }
        tally.accepted += 1;
    }
    Ok(())
}

/// Writes `bytes` as far as the socket takes them; the rest goes to `unsent`.
fn send(connection: &mut Connection, bytes: &[u8], tally: &mut Tally) -> io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        match (&connection.socket).write(&bytes[written..]) {
            Ok(n) => {
                written += n;
                tally.bytes_sent += n as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    connection.unsent.extend_from_slice(&bytes[written..]);
    Ok(())
}

/// Serves what the socket reported (edge triggered: everything readable is read, everything
/// pending is written, until `EAGAIN`).
fn serve_event(
    connection: &mut Connection,
    readiness: Readiness,
    mode: SinkMode,
    buffer: &mut [u8],
    tally: &mut Tally,
) -> Keep {
    if readiness.is_writable() && !connection.unsent.is_empty() {
        let unsent = std::mem::take(&mut connection.unsent);
        if let Err(error) = send(connection, &unsent, tally) {
            tally.error("write", &error);
            return Keep::Close;
        }
    }
    if !connection.unsent.is_empty() {
        // Backpressure: read nothing more until the client takes what it was sent.
        return Keep::Open;
    }
    if connection.answered {
        tally.requests += 1;
        return Keep::Close;
    }
    loop {
        let n = match (&connection.socket).read(buffer) {
            // Nothing is unsent here: reading stops while anything is.
            Ok(0) => return Keep::Close,
            Ok(n) => n,
            Err(error) => match error.kind() {
                io::ErrorKind::WouldBlock => return Keep::Open,
                io::ErrorKind::Interrupted => continue,
                _ => {
                    tally.error("read", &error);
                    return Keep::Close;
                }
            },
        };
        tally.bytes_received += n as u64;
        let reply: &[u8] = match mode {
            SinkMode::Discard => continue,
            SinkMode::Echo => &buffer[..n],
            SinkMode::Http if connection.head.feed(&buffer[..n]) => {
                connection.answered = true;
                HTTP_RESPONSE
            }
            SinkMode::Http => continue,
        };
        if let Err(error) = send(connection, reply, tally) {
            tally.error("write", &error);
            return Keep::Close;
        }
        if !connection.unsent.is_empty() {
            return Keep::Open;
        }
        if connection.answered {
            // Closing first leaves TIME_WAIT here, not on the client (see `bench::tcp`).
            tally.requests += 1;
            return Keep::Close;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_is_well_formed() {
        let text = std::str::from_utf8(HTTP_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200 OK"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
