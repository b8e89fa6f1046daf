//! `ndtest bench-stream`: long-lived connections to a discarding sink, each writing small
//! segments with Nagle off as fast as its socket takes them: the forwarding cost of
//! established flows, where the balancer only looks each packet up in its table.
//!
//! Connections are first all established, then written for the window, then half-closed;
//! a connection whose sink closes in turn got all its bytes through.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use socket2::Socket;

use super::clock::{nanos, now_ns, seconds_between, timeout_ms_until};
use super::crr::share;
use super::event_loop::{Events, Interest, Poller};
use super::report::{add_counts, StreamReport};
use super::slab::Slab;
use super::tcp;
use crate::net::failure;
use crate::report::{count, ErrorCounts};

/// Writes per connection per turn, so that one fast socket does not starve the others.
const WRITE_BURST: usize = 32;
/// Largest `--segment`.
pub const MAX_SEGMENT: u32 = 64 * 1024;

/// What `ndtest bench-stream` does.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    pub to: SocketAddr,
    pub conns: u32,
    pub threads: u32,
    /// The window during which connections write.
    pub duration: Duration,
    /// Bytes per write, from 1 to [`MAX_SEGMENT`].
    pub segment: u32,
    /// Limit for establishing the connections.
    pub connect_timeout: Duration,
    /// How long the sink has to read the rest and close after the window.
    pub drain: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Writing,
    /// Half-closed after the window; waiting for the sink's end of file.
    Closing,
}

struct Connection {
    socket: Socket,
    state: State,
    /// Bytes of the current segment already written.
    offset: usize,
    /// In the ready queue.
    queued: bool,
}

/// What one thread's connections did.
#[derive(Default)]
struct StreamTally {
    established: u64,
    failed: u64,
    errors: ErrorCounts,
    segments: u64,
    bytes: u64,
    tcp_data_segs_out: u64,
    tcp_bytes_acked: u64,
    closed_cleanly: u64,
    window_s: f64,
}

impl StreamTally {
    fn fail(&mut self, kind: &str) {
        self.failed += 1;
        count(&mut self.errors, kind);
    }
}

/// Runs the benchmark and reports it.
pub fn run(options: &StreamOptions) -> Result<StreamReport, String> {
    let threads = options.threads.clamp(1, options.conns.max(1));
    let established = Barrier::new(threads as usize);
    let results: Vec<Result<StreamTally, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let conns = share(options.conns, threads, index);
                let established = &established;
                scope.spawn(move || stream_thread(options, conns, established))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("bench-stream thread panicked"))
            .collect()
    });
    let mut report = StreamReport {
        to: options.to.to_string(),
        conns: options.conns,
        threads,
        seconds: options.duration.as_secs(),
        segment: options.segment,
        ..StreamReport::default()
    };
    let mut window_s: f64 = 0.0;
    for result in results {
        let tally = result?;
        report.established += tally.established;
        report.failed += tally.failed;
        add_counts(&mut report.errors, &tally.errors);
        report.segments += tally.segments;
        report.bytes += tally.bytes;
        report.tcp_data_segs_out += tally.tcp_data_segs_out;
        report.tcp_bytes_acked += tally.tcp_bytes_acked;
        report.closed_cleanly += tally.closed_cleanly;
        window_s = window_s.max(tally.window_s);
    }
    if window_s > 0.0 {
        report.segments_per_second = report.segments as f64 / window_s;
        report.bytes_per_second = report.bytes as f64 / window_s;
        report.tcp_data_segs_per_second = report.tcp_data_segs_out as f64 / window_s;
    }
    Ok(report)
}

fn epoll_error(error: io::Error) -> String {
    format!("epoll: {error}")
}

/// Establishes `conns` connections, waits for the other threads at `established`, then
/// writes for the window and closes.
fn stream_thread(
    options: &StreamOptions,
    conns: u32,
    established: &Barrier,
) -> Result<StreamTally, String> {
    let poller = Poller::new().map_err(epoll_error)?;
    let mut connections: Slab<Connection> = Slab::with_capacity(conns as usize);
    let mut events = Events::with_capacity(1024);
    let mut tally = StreamTally::default();
    let connected = establish(
        options,
        conns,
        &poller,
        &mut connections,
        &mut events,
        &mut tally,
    );
    // Every thread reaches the barrier, even a failed one, or the others would wait forever.
    established.wait();
    connected?;

    let segment = vec![b'n'; options.segment as usize];
    let start_ns = now_ns();
    let stop_ns = start_ns + nanos(options.duration);
    let mut ready: VecDeque<u64> = connections.tokens_where(|_| true).into();
    for &token in &ready {
        connections.get_mut(token).expect("listed").queued = true;
    }
    loop {
        let now = now_ns();
        if now >= stop_ns {
            break;
        }
        let timeout = if ready.is_empty() {
            timeout_ms_until(stop_ns, now)
        } else {
            0
        };
        poller.wait(&mut events, timeout).map_err(epoll_error)?;
        for (token, _) in events.iter() {
            if let Some(connection) = connections.get_mut(token) {
                if !connection.queued {
                    connection.queued = true;
                    ready.push_back(token);
                }
            }
        }
        // One turn for each connection that was ready when the turn began.
        for _ in 0..ready.len() {
            let Some(token) = ready.pop_front() else {
                break;
            };
            let Some(connection) = connections.get_mut(token) else {
                continue;
            };
            match write_burst(connection, &segment, &mut tally) {
                Ok(true) => ready.push_back(token),
                Ok(false) => connection.queued = false,
                Err(kind) => {
                    connections.remove(token);
                    tally.fail(&kind);
                }
            }
        }
    }
    tally.window_s = seconds_between(start_ns, now_ns());
    close_all(options, &poller, &mut connections, &mut events, &mut tally)?;
    Ok(tally)
}

/// Connects everything and waits until each connect has succeeded, failed or timed out.
fn establish(
    options: &StreamOptions,
    conns: u32,
    poller: &Poller,
    connections: &mut Slab<Connection>,
    events: &mut Events,
    tally: &mut StreamTally,
) -> Result<(), String> {
    let mut connecting = 0;
    for _ in 0..conns {
        match tcp::start_connect(options.to) {
            Ok(socket) => {
                let token = connections.insert(Connection {
                    socket,
                    state: State::Connecting,
                    offset: 0,
                    queued: false,
                });
                let socket = &connections.get_mut(token).expect("just inserted").socket;
                poller
                    .add(socket, token, Interest::READ_WRITE_EDGE)
                    .map_err(epoll_error)?;
                connecting += 1;
            }
            Err(failure) => tally.fail(&failure.kind),
        }
    }
    let deadline_ns = now_ns() + nanos(options.connect_timeout);
    while connecting > 0 && now_ns() < deadline_ns {
        poller
            .wait(events, timeout_ms_until(deadline_ns, now_ns()))
            .map_err(epoll_error)?;
        for (token, readiness) in events.iter() {
            let Some(connection) = connections.get_mut(token) else {
                continue;
            };
            if connection.state != State::Connecting
                || !(readiness.is_writable() || readiness.is_error() || readiness.is_hangup())
            {
                continue;
            }
            connecting -= 1;
            match tcp::connect_result(&connection.socket) {
                Ok(()) => {
                    connection.state = State::Writing;
                    tally.established += 1;
                }
                Err(error) => {
                    connections.remove(token);
                    tally.fail(&failure("connect", &error));
                }
            }
        }
    }
    for token in connections.tokens_where(|c| c.state == State::Connecting) {
        tcp::abort(connections.remove(token).expect("listed").socket);
        tally.fail("connect_timeout");
    }
    Ok(())
}

/// Writes up to [`WRITE_BURST`] segments; whether the socket would take more now.
fn write_burst(
    connection: &mut Connection,
    segment: &[u8],
    tally: &mut StreamTally,
) -> Result<bool, String> {
    for _ in 0..WRITE_BURST {
        match (&connection.socket).write(&segment[connection.offset..]) {
            Ok(n) => {
                tally.bytes += n as u64;
                connection.offset += n;
                if connection.offset == segment.len() {
                    tally.segments += 1;
                    connection.offset = 0;
                }
            }
            Err(error) => match error.kind() {
                io::ErrorKind::WouldBlock => return Ok(false),
                io::ErrorKind::Interrupted => {}
                _ => return Err(failure("write", &error)),
            },
        }
    }
    Ok(true)
}

/// Reads the connections' counters, half-closes them and waits until the sink has closed
/// each in turn or the drain deadline passes.
fn close_all(
    options: &StreamOptions,
    poller: &Poller,
    connections: &mut Slab<Connection>,
    events: &mut Events,
    tally: &mut StreamTally,
) -> Result<(), String> {
    let tokens = connections.tokens_where(|_| true);
    for &token in &tokens {
        let connection = connections.get_mut(token).expect("listed");
        if let Ok(info) = tcp::tcp_info(&connection.socket) {
            tally.tcp_data_segs_out += u64::from(info.tcpi_data_segs_out);
            // The count starts with the SYN's one sequence number.
            tally.tcp_bytes_acked += info.tcpi_bytes_acked.saturating_sub(1);
        }
        connection.state = State::Closing;
        if let Err(error) = connection.socket.shutdown(std::net::Shutdown::Write) {
            connections.remove(token);
            tally.fail(&failure("close", &error));
        }
    }
    // The sink's end of file may have come before the shutdown: look once before waiting.
    for token in tokens {
        read_to_eof(connections, token, tally);
    }
    let deadline_ns = now_ns() + nanos(options.drain);
    while !connections.is_empty() && now_ns() < deadline_ns {
        poller
            .wait(events, timeout_ms_until(deadline_ns, now_ns()))
            .map_err(epoll_error)?;
        for (token, _) in events.iter() {
            read_to_eof(connections, token, tally);
        }
    }
    for connection in connections.drain() {
        tcp::abort(connection.socket);
        tally.fail("close_timeout");
    }
    Ok(())
}

/// Reads a half-closed connection; removes it at the sink's end of file or an error.
fn read_to_eof(connections: &mut Slab<Connection>, token: u64, tally: &mut StreamTally) {
    let Some(connection) = connections.get_mut(token) else {
        return;
    };
    let mut buffer = [0u8; 512];
    loop {
        match (&connection.socket).read(&mut buffer) {
            Ok(0) => {
                connections.remove(token);
                tally.closed_cleanly += 1;
                return;
            }
            // A discarding sink sends nothing; an echoing one may.
            Ok(_) => {}
            Err(error) => match error.kind() {
                io::ErrorKind::WouldBlock => return,
                io::ErrorKind::Interrupted => {}
                _ => {
                    connections.remove(token);
                    tally.fail(&failure("close", &error));
                    return;
                }
            },
        }
    }
}
