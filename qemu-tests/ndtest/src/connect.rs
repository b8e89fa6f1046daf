//! `ndtest connect`: many short connections, each checked end to end.

use crate::greeting::Greeting;
use crate::net::{self, CONNECTION_THREAD_STACK};
use crate::report::{count, ConnectReport};
use std::collections::BTreeSet;
use std::io::{BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub to: SocketAddr,
    pub count: u32,
    /// Most connections open at once; at least 1.
    pub parallel: u32,
    /// Limit for the handshake and for each read or write.
    pub timeout: Duration,
    /// Connection `i` (from 0) binds source port `first + i`.
    pub source_ports_from: Option<u16>,
    /// The address connections come from (one of this host's).
    pub source_address: Option<std::net::IpAddr>,
}

/// Whether every connection gets a source port when counting up from
/// `first`.
pub fn source_ports_fit(first: u16, count: u32) -> bool {
    count == 0 || u32::from(first) + (count - 1) <= u32::from(u16::MAX)
}

#[derive(Default)]
struct Tally {
    report: ConnectReport,
    peers: BTreeSet<String>,
    locals: BTreeSet<String>,
}

impl Tally {
    fn record(&mut self, outcome: Result<Greeting, String>) {
        match outcome {
            Ok(greeting) => {
                self.report.ok += 1;
                count(&mut self.report.per_server, &greeting.server);
                self.peers.insert(greeting.peer.ip().to_string());
                self.locals.insert(greeting.local.ip().to_string());
            }
            Err(kind) => {
                self.report.failed += 1;
                count(&mut self.report.errors, &kind);
            }
        }
    }

    fn finish(self, attempted: u32) -> ConnectReport {
        ConnectReport {
            attempted: attempted.into(),
            server_saw_peer: self.peers.into_iter().collect(),
            server_saw_local: self.locals.into_iter().collect(),
            ..self.report
        }
    }
}

/// Opens `options.count` connections, `options.parallel` at a time.
///
/// # Panics
/// If the source ports would run past 65535 (see [`source_ports_fit`]).
pub fn run(options: &ConnectOptions) -> ConnectReport {
    if let Some(first) = options.source_ports_from {
        assert!(
            source_ports_fit(first, options.count),
            "source ports overflow"
        );
    }
    let next_index = AtomicU32::new(0);
    let tally = Mutex::new(Tally::default());
    let workers = options.parallel.clamp(1, options.count.max(1));
    thread::scope(|scope| {
        for _ in 0..workers {
            thread::Builder::new()
                .stack_size(CONNECTION_THREAD_STACK)
                .spawn_scoped(scope, || loop {
                    let index = next_index.fetch_add(1, Ordering::Relaxed);
                    if index >= options.count {
                        break;
                    }
                    let outcome = one_connection(options, index);
                    tally.lock().unwrap().record(outcome);
                })
                .expect("spawn connect worker");
        }
    });
    tally.into_inner().unwrap().finish(options.count)
}

/// Connect, read the greeting, check an echo, close; the error is the
/// report key of the first step that failed.
fn one_connection(options: &ConnectOptions, index: u32) -> Result<Greeting, String> {
    let source_port = options
        .source_ports_from
        .map(|first| (u32::from(first) + index) as u16);
    let stream = net::connect(
        options.to,
        options.source_address,
        source_port,
        options.timeout,
    )?;
    let mut reader = BufReader::new(&stream);
    let greeting = Greeting::read_from(&mut reader)?;

    let payload = format!("ndtest connect {index}\n");
    (&stream)
        .write_all(payload.as_bytes())
        .map_err(|e| net::failure("send", &e))?;
    let mut echo = vec![0u8; payload.len()];
    reader
        .read_exact(&mut echo)
        .map_err(|e| net::failure("echo", &e))?;
    if echo != payload.as_bytes() {
        return Err("echo_mismatch".to_owned());
    }
    net::close_cleanly(&stream, &mut reader)?;
    Ok(greeting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_port_range_must_fit() {
        assert!(source_ports_fit(65535, 1));
        assert!(source_ports_fit(65000, 536));
        assert!(!source_ports_fit(65000, 537));
        assert!(source_ports_fit(65535, 0));
    }
}
