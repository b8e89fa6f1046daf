//! `ndtest ps-serve`: an emulated server of the load-sharing evaluation. It serves HTTP/1.0
//! requests as a processor-sharing server of a given capacity would ([`super::ps_emulation`]):
//! a request `GET /work/N` is answered once it has had N work units of service, all requests
//! in progress sharing the capacity equally ([`super::work_path`]). The answer is a 200 whose
//! body starts with the server's name, so that clients count where requests went.
//!
//! One thread, one epoll instance: the listener, every connection, a stop flag, a timer set
//! to the next completion and a periodic tick that publishes the load and statistics files
//! and reads the external load. A client that resets its connection (one that gave up) takes
//! its request out of service: it no longer takes a share.
//!
//! A schedule ([`super::ps_schedule`]) may change the server while it runs: its speed, work
//! the balancer does not see (which shows in the load file as one more runnable task, as a
//! CPU hog shows in a host's load average), or a failure that answers every request at once
//! with an error or a reset. Speed and external load follow the schedule at every tick; a
//! failure is decided as each request arrives.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::clock::{nanos, now_ns, timeout_ms_until};
use super::event_loop::{Events, Interest, Poller, Readiness};
use super::http_head::HeadEnd;
use super::ps_emulation::PsEmulation;
use super::ps_schedule::{Failure, Schedule};
use super::ps_status::{load_text, read_busy_fraction, LoadMeter};
use super::report::PsServeReport;
use super::slab::{reserved_token, Slab};
use super::termination::StopFlag;
use super::timer::{DeadlineTimer, PeriodicTimer};
use super::work_path::work_of;
use crate::atomic_file::write_atomically;
use crate::net::failure;
use crate::report::{count, ErrorCounts};

/// How often the load and statistics files are rewritten and the external load is read.
pub const TICK: Duration = Duration::from_millis(200);
/// The longest request head served; a longer one is answered 400.
const MAX_HEAD: usize = 8 * 1024;
const LISTEN_BACKLOG: i32 = 4096;
const ACCEPT_BURST: usize = 64;
/// How long accepting pauses when this process is out of descriptors or memory.
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);
const READ_BUFFER: usize = 4096;

const LISTENER: u64 = reserved_token(0);
const STOP: u64 = reserved_token(1);
const COMPLETIONS: u64 = reserved_token(2);
const TICKS: u64 = reserved_token(3);

/// What `ndtest ps-serve` does.
#[derive(Debug, Clone)]
pub struct PsServeOptions {
    pub listen: SocketAddr,
    /// The name that starts every answer's body.
    pub name: String,
    /// Work units a second, positive.
    pub capacity: f64,
    /// The share of the capacity external load takes, unless `busy_file` says otherwise.
    pub busy_fraction: f64,
    /// A file whose number (0 to 1), read every tick, replaces `busy_fraction` while it is
    /// there.
    pub busy_file: Option<PathBuf>,
    /// Rewritten every tick with the load: the mean number of requests in progress over the
    /// last second.
    pub load_file: Option<PathBuf>,
    /// Rewritten every tick with the statistics ([`PsServeReport`] as JSON).
    pub stats_file: Option<PathBuf>,
    /// What happens to it while it runs.
    pub schedule: Schedule,
}

/// A bound emulated server, not yet serving.
pub struct PsServer {
    serving: Serving,
}

impl PsServer {
    /// Checks the options, binds and listens (with SO_REUSEADDR, so that a server restarted
    /// between runs gets its port back while old connections sit in TIME_WAIT), and writes
    /// the load and statistics files a first time: they exist once it is bound.
    pub fn bind(options: &PsServeOptions) -> io::Result<PsServer> {
        if !(options.capacity.is_finite() && options.capacity > 0.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the capacity must be a positive number of work units a second",
            ));
        }
        let listener = Socket::new(
            Domain::for_address(options.listen),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        listener.set_reuse_address(true)?;
        listener.bind(&options.listen.into())?;
        listener.listen(LISTEN_BACKLOG)?;
        let listen = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an internet address"))?;
        let start_ns = now_ns();
        let mut serving = Serving {
            listen,
            start_ns,
            external_share: 0.0,
            emulation: PsEmulation::new(options.capacity, start_ns),
            options: options.clone(),
            listener,
            poller: Poller::new()?,
            connections: Slab::with_capacity(1024),
            tally: Tally::default(),
            meter: LoadMeter::default(),
            load: 0.0,
            buffer: vec![0u8; READ_BUFFER],
            done: Vec::new(),
        };
        serving.follow_schedule(start_ns);
        // A file that cannot be written is a mistake to hear of at once, not in a report.
        serving.publish(start_ns).map_err(io::Error::other)?;
        Ok(PsServer { serving })
    }

    /// The address bound, with the port the kernel chose for port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.serving.listen
    }

    /// Serves until `stop` is raised; then the final statistics.
    pub fn serve(self, stop: &StopFlag) -> Result<PsServeReport, String> {
        let epoll = |e: io::Error| format!("epoll: {e}");
        let timer = |e: io::Error| format!("timerfd: {e}");
        let mut serving = self.serving;
        let mut completions = DeadlineTimer::new().map_err(timer)?;
        let ticks = PeriodicTimer::start(now_ns() + nanos(TICK), nanos(TICK)).map_err(timer)?;
        let poller = &serving.poller;
        poller
            .add(&serving.listener, LISTENER, Interest::READ)
            .map_err(epoll)?;
        poller.add(stop, STOP, Interest::READ).map_err(epoll)?;
        poller
            .add(&completions, COMPLETIONS, Interest::READ)
            .map_err(epoll)?;
        poller.add(&ticks, TICKS, Interest::READ).map_err(epoll)?;
        let mut events = Events::with_capacity(256);
        let mut accept_resumes_ns: Option<u64> = None;
        loop {
            let timeout = accept_resumes_ns.map_or(-1, |at| timeout_ms_until(at, now_ns()));
            serving.poller.wait(&mut events, timeout).map_err(epoll)?;
            for (token, readiness) in events.iter() {
                match token {
                    STOP => {
                        let now = now_ns();
                        let _ = serving.publish(now);
                        return Ok(serving.report(now));
                    }
                    LISTENER => {
                        if let Err(error) = serving.accept_burst() {
                            count(&mut serving.tally.errors, &failure("accept", &error));
                            serving.poller.delete(&serving.listener).map_err(epoll)?;
                            accept_resumes_ns = Some(now_ns() + nanos(ACCEPT_PAUSE));
                        }
                    }
                    // Answered below, with any that other events found done.
                    COMPLETIONS => {
                        completions.fired().map_err(timer)?;
                    }
                    TICKS => {
                        ticks.expirations().map_err(timer)?;
                        if let Err(error) = serving.publish(now_ns()) {
                            count(&mut serving.tally.errors, "file_write");
                            eprintln!("ndtest ps-serve: {error}");
                        }
                    }
                    token => serving.connection_event(token, readiness),
                }
            }
            if let Some(at) = accept_resumes_ns {
                if now_ns() >= at {
                    serving
                        .poller
                        .add(&serving.listener, LISTENER, Interest::READ)
                        .map_err(epoll)?;
                    accept_resumes_ns = None;
                }
            }
            serving.complete(now_ns());
            completions
                .set(serving.emulation.next_completion_ns())
                .map_err(timer)?;
        }
    }
}

/// Counts for the report.
#[derive(Default)]
struct Tally {
    accepted: u64,
    requests: u64,
    completed: u64,
    cancelled: u64,
    bad_requests: u64,
    failed_fast: u64,
    errors: ErrorCounts,
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Reading the request head.
    Reading,
    /// In service: the queue holds its request of this much work.
    InService(f64),
    /// Its answer is partly written; the rest is in `unsent`.
    Answering,
}

struct Connection {
    socket: Socket,
    head: Vec<u8>,
    head_end: HeadEnd,
    phase: Phase,
    unsent: Vec<u8>,
}

/// The server's state.
struct Serving {
    options: PsServeOptions,
    listen: SocketAddr,
    /// When it started: the schedule's epoch unless the schedule names one.
    start_ns: u64,
    /// The share of its speed the schedule's external load takes now.
    external_share: f64,
    listener: Socket,
    poller: Poller,
    emulation: PsEmulation<u64>,
    connections: Slab<Connection>,
    tally: Tally,
    meter: LoadMeter,
    load: f64,
    buffer: Vec<u8>,
    /// The tokens of the requests just done, reused from one completion to the next.
    done: Vec<u64>,
}

/// The bytes of an answer with `status` and `body`.
fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Serving {
    /// Accepts up to [`ACCEPT_BURST`] connections; fails only on an error that calls for a
    /// pause (out of descriptors or memory).
    fn accept_burst(&mut self) -> io::Result<()> {
        for _ in 0..ACCEPT_BURST {
            let socket = match self
                .listener
                .accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            {
                Ok((socket, _)) => socket,
                Err(error) => match error.raw_os_error() {
                    Some(libc::EAGAIN) => return Ok(()),
                    Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => continue,
                    _ => return Err(error),
                },
            };
            let _ = socket.set_tcp_nodelay(true);
            let token = self.connections.insert(Connection {
                socket,
                head: Vec::new(),
                head_end: HeadEnd::default(),
                phase: Phase::Reading,
                unsent: Vec::new(),
            });
            let connection = self.connections.get_mut(token).expect("just inserted");
            if let Err(error) =
                self.poller
                    .add(&connection.socket, token, Interest::READ_WRITE_EDGE)
            {
                self.connections.remove(token);
                return Err(error);
            }
            self.tally.accepted += 1;
        }
        Ok(())
    }

    /// Handles what epoll reported for connection `token`.
    fn connection_event(&mut self, token: u64, readiness: Readiness) {
        let Some(connection) = self.connections.get_mut(token) else {
            return;
        };
        match connection.phase {
            Phase::Reading => self.read_head(token),
            Phase::InService(_) => {
                // Watched for nothing: only a reset or an error is reported (`EPOLLERR` and
                // `EPOLLHUP` always are). The client has given up; its share goes back.
                if readiness.is_error() || readiness.is_hangup() {
                    self.emulation.cancel(now_ns(), |&job| job == token);
                    self.tally.cancelled += 1;
                    self.connections.remove(token);
                }
            }
            Phase::Answering => {
                if readiness.is_writable() || readiness.is_error() || readiness.is_hangup() {
                    let unsent = std::mem::take(&mut connection.unsent);
                    self.send(token, &unsent);
                }
            }
        }
    }

    /// Reads what there is of connection `token`'s request head; puts the request in
    /// service once the head is whole.
    fn read_head(&mut self, token: u64) {
        loop {
            let connection = self.connections.get_mut(token).expect("present");
            let n = match (&connection.socket).read(&mut self.buffer) {
                Ok(0) => {
                    // Gone before asking anything.
                    self.connections.remove(token);
                    return;
                }
                Ok(n) => n,
                Err(error) => match error.kind() {
                    io::ErrorKind::WouldBlock => return,
                    io::ErrorKind::Interrupted => continue,
                    _ => {
                        count(&mut self.tally.errors, &failure("read", &error));
                        self.connections.remove(token);
                        return;
                    }
                },
            };
            let bytes = &self.buffer[..n];
            // Whatever follows the head (clients of this server send nothing) is left.
            let end = connection.head_end.find(bytes);
            connection
                .head
                .extend_from_slice(&bytes[..end.unwrap_or(n)]);
            if connection.head.len() > MAX_HEAD {
                self.refuse(token, "head too long");
                return;
            }
            if end.is_none() {
                continue;
            }
            if let Some(failure) = self.options.schedule.at(self.start_ns, now_ns()).failing {
                self.fail(token, failure);
                return;
            }
            match work_of(&connection.head) {
                Ok(work) => {
                    connection.phase = Phase::InService(work);
                    connection.head = Vec::new();
                    // Silent until answered, but for a reset or an error.
                    if let Err(error) =
                        self.poller
                            .modify(&connection.socket, token, Interest::NONE)
                    {
                        count(&mut self.tally.errors, &failure("epoll", &error));
                        self.connections.remove(token);
                        return;
                    }
                    self.emulation.arrive(now_ns(), work, token);
                    self.tally.requests += 1;
                }
                Err(why) => self.refuse(token, why),
            }
            return;
        }
    }

    /// Fails a request at once, as the schedule says.
    fn fail(&mut self, token: u64, failure: Failure) {
        self.tally.failed_fast += 1;
        match failure {
            Failure::Status(status) => {
                let body = format!("{} failing\n", self.options.name);
                self.send(token, &answer(&format!("{status} Failing"), &body));
            }
            Failure::Reset => {
                // Closing with a zero linger sends a reset instead of a FIN.
                if let Some(connection) = self.connections.get_mut(token) {
                    let _ = connection.socket.set_linger(Some(Duration::ZERO));
                }
                self.connections.remove(token);
            }
        }
    }

    /// Answers a request that cannot be served with 400.
    fn refuse(&mut self, token: u64, why: &str) {
        self.tally.bad_requests += 1;
        let body = format!("{} {why}\n", self.options.name);
        self.send(token, &answer("400 Bad Request", &body));
    }

    /// Answers every request done by `now`.
    fn complete(&mut self, now: u64) {
        let mut done = std::mem::take(&mut self.done);
        self.emulation.take_done(now, &mut done);
        for token in done.drain(..) {
            let work = match self.connections.get_mut(token).map(|c| c.phase) {
                Some(Phase::InService(work)) => work,
                _ => continue,
            };
            self.tally.completed += 1;
            let body = format!("{} {work}\n", self.options.name);
            self.send(token, &answer("200 OK", &body));
        }
        self.done = done;
    }

    /// Writes `bytes` to connection `token` as far as it takes them, and closes it once all
    /// are written (first, so that TIME_WAIT stays here; see `bench::tcp`).
    fn send(&mut self, token: u64, bytes: &[u8]) {
        let Some(connection) = self.connections.get_mut(token) else {
            return;
        };
        let mut written = 0;
        while written < bytes.len() {
            match (&connection.socket).write(&bytes[written..]) {
                Ok(n) => written += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    connection.unsent = bytes[written..].to_vec();
                    if connection.phase != Phase::Answering {
                        connection.phase = Phase::Answering;
                        let watched = self.poller.modify(
                            &connection.socket,
                            token,
                            Interest::READ_WRITE_EDGE,
                        );
                        if let Err(error) = watched {
                            count(&mut self.tally.errors, &failure("epoll", &error));
                            self.connections.remove(token);
                        }
                    }
                    return;
                }
                Err(error) => {
                    count(&mut self.tally.errors, &failure("write", &error));
                    break;
                }
            }
        }
        self.connections.remove(token);
    }

    /// Sets the speed and external load the schedule, the busy file and the busy fraction
    /// give for `now`: the busy file's or fraction's share and the schedule's add up.
    fn follow_schedule(&mut self, now: u64) {
        let conditions = self.options.schedule.at(self.start_ns, now);
        let busy = self
            .options
            .busy_file
            .as_ref()
            .and_then(|path| read_busy_fraction(path))
            .unwrap_or(self.options.busy_fraction);
        self.external_share = conditions.external_share;
        self.emulation
            .set_speed_factor(now, conditions.speed_factor);
        self.emulation
            .set_busy_fraction(now, busy + conditions.external_share);
    }

    /// Follows the schedule, measures the load, and rewrites the files.
    fn publish(&mut self, now: u64) -> Result<(), String> {
        self.follow_schedule(now);
        let usage = self.emulation.usage(now);
        let hog = if self.external_share > 0.0 { 1.0 } else { 0.0 };
        self.load = self
            .meter
            .record(now, usage.request_seconds, usage.in_progress)
            + hog;
        if let Some(path) = &self.options.load_file {
            write_atomically(path, &load_text(self.load))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if let Some(path) = self.options.stats_file.clone() {
            let json = self.report(now).to_json();
            write_atomically(&path, &json).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// The statistics at `now`.
    fn report(&mut self, now: u64) -> PsServeReport {
        let usage = self.emulation.usage(now);
        PsServeReport {
            name: self.options.name.clone(),
            listen: self.listen.to_string(),
            capacity: self.emulation.capacity(),
            speed: self.emulation.speed(),
            at_ns: now,
            accepted: self.tally.accepted,
            requests: self.tally.requests,
            completed: self.tally.completed,
            cancelled: self.tally.cancelled,
            bad_requests: self.tally.bad_requests,
            failed_fast: self.tally.failed_fast,
            in_progress: usage.in_progress as u64,
            busy_seconds: usage.busy_seconds,
            work_done: usage.work_done,
            load: self.load,
            errors: self.tally.errors.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_say_their_length() {
        let bytes = answer("200 OK", "srv1 12.5\n");
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(body, "srv1 12.5\n");
    }

    #[test]
    fn a_capacity_must_be_positive() {
        for capacity in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let options = PsServeOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                name: "x".into(),
                capacity,
                busy_fraction: 0.0,
                busy_file: None,
                load_file: None,
                stats_file: None,
                schedule: Schedule::default(),
            };
            assert!(PsServer::bind(&options).is_err(), "{capacity}");
        }
    }
}
