//! `ndtest hold`: long-lived connections carrying a checked stream of chunks.

use crate::greeting::Greeting;
use crate::net::{self, CONNECTION_THREAD_STACK};
use crate::report::{count, HoldReport};
use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Every chunk has this length and is unique per connection and sequence
/// number, so lost, repeated, reordered or cross-connection bytes all show
/// up as a mismatch.
pub const CHUNK_LEN: usize = 64;

#[derive(Debug, Clone)]
pub struct HoldOptions {
    pub to: SocketAddr,
    pub conns: u32,
    /// How long traffic runs once every connection attempt has finished.
    pub duration: Duration,
    /// Gap between chunks on one connection; not zero.
    pub interval: Duration,
    /// Limit for the handshake and for each read or write.
    pub timeout: Duration,
    /// Written once all connections are established (or have failed to).
    pub ready_file: Option<PathBuf>,
}

/// Chunks each connection sends: one at every multiple of `interval` that
/// falls strictly before `duration`.
pub fn chunks_per_connection(duration: Duration, interval: Duration) -> u64 {
    assert!(!interval.is_zero(), "interval must not be zero");
    duration.as_nanos().div_ceil(interval.as_nanos()) as u64
}

/// The chunk `sequence` of connection `connection`.
pub fn chunk(connection: u32, sequence: u64) -> [u8; CHUNK_LEN] {
    let mut bytes = [b'.'; CHUNK_LEN];
    let label = format!("conn {connection:010} seq {sequence:020} ");
    bytes[..label.len()].copy_from_slice(label.as_bytes());
    bytes[CHUNK_LEN - 1] = b'\n';
    bytes
}

/// Holds back traffic until every connection attempt has finished, so all
/// connections are open together for the whole duration.
struct StartGate {
    start: Mutex<Option<Instant>>,
    opened: Condvar,
}

impl StartGate {
    fn new() -> Self {
        StartGate {
            start: Mutex::new(None),
            opened: Condvar::new(),
        }
    }

    fn open(&self, at: Instant) {
        *self.start.lock().unwrap() = Some(at);
        self.opened.notify_all();
    }

    fn wait(&self) -> Instant {
        let guard = self.start.lock().unwrap();
        let guard = self
            .opened
            .wait_while(guard, |start| start.is_none())
            .unwrap();
        guard.expect("gate opened")
    }
}

struct Traffic {
    bytes_echoed: u64,
    result: Result<(), String>,
}

pub fn run(options: &HoldOptions) -> HoldReport {
    let mut report = HoldReport {
        conns: options.conns.into(),
        ..HoldReport::default()
    };
    let gate = StartGate::new();
    thread::scope(|scope| {
        let (established_sender, established) = mpsc::channel();
        let mut workers = Vec::new();
        for connection in 0..options.conns {
            let sender = established_sender.clone();
            let gate = &gate;
            let spawned = thread::Builder::new()
                .stack_size(CONNECTION_THREAD_STACK)
                .spawn_scoped(scope, move || {
                    hold_connection(options, connection, gate, sender)
                });
            match spawned {
                Ok(worker) => workers.push(worker),
                Err(_) => count(&mut report.errors, "thread_spawn"),
            }
        }
        drop(established_sender);

        // Ends once every worker has reported, as each drops its sender.
        for outcome in established {
            match outcome {
                Ok(server) => {
                    report.established += 1;
                    count(&mut report.per_server, &server);
                }
                Err(kind) => count(&mut report.errors, &kind),
            }
        }
        if let Some(path) = &options.ready_file {
            if let Err(error) = write_ready_file(path, report.established, report.conns) {
                eprintln!("ndtest hold: cannot write {}: {error}", path.display());
                count(&mut report.errors, "ready_file");
            }
        }
        gate.open(Instant::now());

        for worker in workers {
            let Some(traffic) = worker.join().expect("hold worker panicked") else {
                continue;
            };
            report.bytes_echoed += traffic.bytes_echoed;
            match traffic.result {
                Ok(()) => report.intact += 1,
                Err(kind) => count(&mut report.errors, &kind),
            }
        }
    });
    report.broken = report.established - report.intact;
    report
}

/// Writes via a rename so a script polling for the file never reads it
/// half-written.
fn write_ready_file(path: &Path, established: u64, conns: u64) -> io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(
        &partial,
        format!("established={established} conns={conns}\n"),
    )?;
    std::fs::rename(&partial, path)
}

/// Establishes one connection, reports that to `established`, then carries
/// traffic once the gate opens. Returns `None` if it never got established.
fn hold_connection(
    options: &HoldOptions,
    connection: u32,
    gate: &StartGate,
    established: mpsc::Sender<Result<String, String>>,
) -> Option<Traffic> {
    let stream = match net::connect(options.to, None, None, options.timeout) {
        Ok(stream) => stream,
        Err(kind) => {
            let _ = established.send(Err(kind));
            return None;
        }
    };
    let mut reader = BufReader::new(&stream);
    match Greeting::read_from(&mut reader) {
        Ok(greeting) => {
            let _ = established.send(Ok(greeting.server));
        }
        Err(kind) => {
            let _ = established.send(Err(kind));
            return None;
        }
    }
    drop(established);

    let start = gate.wait();
    let mut bytes_echoed = 0;
    let result = exchange_chunks(
        options,
        connection,
        start,
        &stream,
        &mut reader,
        &mut bytes_echoed,
    )
    .and_then(|()| net::close_cleanly(&stream, &mut reader));
    Some(Traffic {
        bytes_echoed,
        result,
    })
}

fn exchange_chunks(
    options: &HoldOptions,
    connection: u32,
    start: Instant,
    mut stream: &TcpStream,
    reader: &mut impl Read,
    bytes_echoed: &mut u64,
) -> Result<(), String> {
    let mut echo = [0u8; CHUNK_LEN];
    for sequence in 0..chunks_per_connection(options.duration, options.interval) {
        // Scheduled from the start so a slow echo does not shift later chunks.
        let due = start + options.interval * u32::try_from(sequence).unwrap_or(u32::MAX);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        let sent = chunk(connection, sequence);
        stream
            .write_all(&sent)
            .map_err(|e| net::failure("send", &e))?;
        reader
            .read_exact(&mut echo)
            .map_err(|e| net::failure("echo", &e))?;
        if echo != sent {
            return Err("echo_mismatch".to_owned());
        }
        *bytes_echoed += CHUNK_LEN as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_count_covers_the_duration() {
        let ms = Duration::from_millis;
        assert_eq!(chunks_per_connection(ms(1000), ms(200)), 5);
        assert_eq!(chunks_per_connection(ms(1000), ms(300)), 4);
        assert_eq!(chunks_per_connection(ms(0), ms(200)), 0);
    }

    #[test]
    fn chunks_are_distinct_and_fixed_size() {
        let first = chunk(0, 0);
        assert_eq!(first.len(), CHUNK_LEN);
        assert_eq!(first[CHUNK_LEN - 1], b'\n');
        assert_ne!(first, chunk(0, 1));
        assert_ne!(first, chunk(1, 0));
        assert_ne!(chunk(u32::MAX, u64::MAX), chunk(u32::MAX, u64::MAX - 1));
    }

    #[test]
    fn gate_releases_waiters_with_the_start_time() {
        let gate = StartGate::new();
        let at = Instant::now();
        thread::scope(|scope| {
            let waiter = scope.spawn(|| gate.wait());
            gate.open(at);
            assert_eq!(waiter.join().unwrap(), at);
        });
    }
}
