//! One request transaction on its own connection, as a state machine an event loop drives:
//! nonblocking connect, a small HTTP/1.0 request, the response read to the server's close,
//! then the client's close. Shared by the closed-loop (`bench-crr`) and open-loop
//! (`bench-latency`, `workload`) generators.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::Socket;

use super::event_loop::Readiness;
use super::response::ResponseReader;
use super::tcp::{self, StartFailure};
use crate::net::failure;

/// The request of the benchmarks, which ask the same of every server.
pub const REQUEST: &[u8] = b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n";

/// The bytes of one transaction's request: [`REQUEST`], or one made for it.
pub type Request = Cow<'static, [u8]>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    /// Sending the request; this much of it is written.
    Sending(usize),
    Receiving,
}

/// Where a transaction stands after an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Waiting for the socket.
    Pending,
    /// The response came whole and the server closed: the client has closed too.
    /// [`Transaction::server`] says which server answered, if it said.
    Completed,
    /// Failed; the report key of the first step that failed (`connect_refused`, ...).
    Failed(String),
}

/// A transaction under way.
pub struct Transaction {
    socket: Socket,
    phase: Phase,
    request: Request,
    /// When the transaction was due to start (open loop) or started (closed loop).
    pub scheduled_ns: u64,
    /// When its connect was issued.
    pub started_ns: u64,
    response: ResponseReader,
    server: Option<String>,
}

impl Transaction {
    /// Starts connecting to `to`, to send `request`.
    pub fn start(
        to: SocketAddr,
        request: Request,
        scheduled_ns: u64,
        now_ns: u64,
    ) -> Result<Self, StartFailure> {
        Ok(Transaction {
            socket: tcp::start_connect(to)?,
            phase: Phase::Connecting,
            request,
            scheduled_ns,
            started_ns: now_ns,
            response: ResponseReader::default(),
            server: None,
        })
    }

    /// The server that answered, by the first word of its response's body; once completed.
    pub fn server(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// Moves on as far as the socket allows, after epoll reported `readiness` (edge
    /// triggered: reads and writes go on until `EAGAIN`). `scratch` is any buffer for the
    /// response's bytes.
    pub fn advance(&mut self, readiness: Readiness, scratch: &mut [u8]) -> Progress {
        loop {
            match self.phase {
                Phase::Connecting => {
                    if !(readiness.is_writable() || readiness.is_error() || readiness.is_hangup()) {
                        return Progress::Pending;
                    }
                    if let Err(error) = tcp::connect_result(&self.socket) {
                        return Progress::Failed(failure("connect", &error));
                    }
                    self.phase = Phase::Sending(0);
                }
                Phase::Sending(written) => match (&self.socket).write(&self.request[written..]) {
                    Ok(n) if written + n == self.request.len() => {
                        // The response cannot be there before the request: wait for it.
                        self.phase = Phase::Receiving;
                        return Progress::Pending;
                    }
                    Ok(n) => self.phase = Phase::Sending(written + n),
                    Err(error) => match error.kind() {
                        io::ErrorKind::WouldBlock => return Progress::Pending,
                        io::ErrorKind::Interrupted => {}
                        _ => return Progress::Failed(failure("request", &error)),
                    },
                },
                Phase::Receiving => match (&self.socket).read(scratch) {
                    Ok(0) => return self.judge_response(),
                    Ok(n) => self.response.feed(&scratch[..n]),
                    Err(error) => match error.kind() {
                        io::ErrorKind::WouldBlock => return Progress::Pending,
                        io::ErrorKind::Interrupted => {}
                        _ => return Progress::Failed(failure("response", &error)),
                    },
                },
            }
        }
    }

    fn judge_response(&mut self) -> Progress {
        match self.response.finish() {
            Ok(server) => {
                self.server = server;
                Progress::Completed
            }
            Err(kind) => Progress::Failed(kind.to_owned()),
        }
    }

    /// The step under way, to name a timeout by.
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Connecting => "connect",
            Phase::Sending(_) => "request",
            Phase::Receiving => "response",
        }
    }

    /// Gives up on the transaction without leaving a socket behind.
    pub fn abort(self) {
        tcp::abort(self.socket);
    }
}

impl AsRawFd for Transaction {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::now_ns;
    use super::super::event_loop::{Events, Interest, Poller};
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    /// Drives one transaction to its end with a poller of its own.
    fn run_one(to: SocketAddr) -> Progress {
        run_one_naming(to).0
    }

    /// Drives one transaction to its end; also the server it names.
    fn run_one_naming(to: SocketAddr) -> (Progress, Option<String>) {
        let poller = Poller::new().unwrap();
        let now = now_ns();
        let mut transaction = match Transaction::start(to, Cow::Borrowed(REQUEST), now, now) {
            Ok(transaction) => transaction,
            Err(failure) => return (Progress::Failed(failure.kind), None),
        };
        poller
            .add(&transaction, 1, Interest::READ_WRITE_EDGE)
            .unwrap();
        let mut events = Events::with_capacity(4);
        let mut scratch = [0u8; 64];
        loop {
            poller.wait(&mut events, 5000).unwrap();
            assert!(!events.is_empty(), "transaction stalled");
            for (_, readiness) in events.iter() {
                match transaction.advance(readiness, &mut scratch) {
                    Progress::Pending => {}
                    done => return (done, transaction.server().map(str::to_owned)),
                }
            }
        }
    }

    fn one_shot_server(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut stream, _): (TcpStream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            assert_eq!(head, REQUEST);
            stream.write_all(response).unwrap();
        });
        addr
    }

    #[test]
    fn a_200_answer_completes_and_names_its_server() {
        let addr = one_shot_server(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nsrv3\n");
        assert_eq!(
            run_one_naming(addr),
            (Progress::Completed, Some("srv3".to_owned()))
        );
    }

    #[test]
    fn another_status_or_silence_fails() {
        let addr = one_shot_server(b"HTTP/1.0 503 Busy\r\n\r\n");
        assert_eq!(run_one(addr), Progress::Failed("response_not_200".into()));
        let addr = one_shot_server(b"HTTP/1.0 20");
        assert_eq!(run_one(addr), Progress::Failed("response_not_200".into()));
        let addr = one_shot_server(b"");
        assert_eq!(run_one(addr), Progress::Failed("response_eof".into()));
    }

    #[test]
    fn a_closed_port_fails_the_connect() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let progress = run_one(([127, 0, 0, 1], port).into());
        assert_eq!(progress, Progress::Failed("connect_refused".into()));
    }
}
