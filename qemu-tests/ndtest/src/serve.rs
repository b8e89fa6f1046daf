//! `ndtest serve`: greets each connection with what it saw, then echoes; or, as an HTTP
//! endpoint for the Manager's advisors, answers each request with that greeting.

use crate::greeting::Greeting;
use crate::net::CONNECTION_THREAD_STACK;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Room for bursts of SYNs when tests open hundreds of connections at once.
const LISTEN_BACKLOG: i32 = 1024;

/// Longest HTTP request head read before answering.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// What the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeMode {
    /// The greeting line, then an echo of everything received.
    GreetAndEcho,
    /// HTTP/1.0: each request is answered with 200 and the greeting line as the body.
    Http,
    /// An HTTP endpoint gone wrong in the way `HttpFault` says.
    BrokenHttp(HttpFault),
}

/// How a broken HTTP endpoint answers a request, for the Manager's fault scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpFault {
    /// Reads the request and never answers, holding the connection open.
    Hang,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Answers at once with 500 Internal Server Error.
    Error,
    /// Resets the connection once the request has arrived.
    Reset,
}

/// Long enough that a hung request outlives any advisor's timeout.
const HANG: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Sent as the first greeting field; must not contain whitespace.
    pub name: String,
    /// Wait before sending the greeting or response, to act as a slow server.
    pub greeting_delay: Duration,
    pub mode: ServeMode,
}

pub struct Server {
    listener: TcpListener,
    name: Arc<str>,
    greeting_delay: Duration,
    mode: ServeMode,
}

impl Server {
    /// Binds with SO_REUSEADDR so a restarted server can take its port back
    /// while old connections linger in TIME_WAIT.
    pub fn bind(options: &ServeOptions) -> io::Result<Server> {
        let socket = Socket::new(
            Domain::for_address(options.listen),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.bind(&options.listen.into())?;
        socket.listen(LISTEN_BACKLOG)?;
        Ok(Server {
            listener: socket.into(),
            name: options.name.as_str().into(),
            greeting_delay: options.greeting_delay,
            mode: options.mode,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts and serves connections, one thread each, until the process
    /// ends; returns only if accepting fails for good.
    pub fn run(self) -> io::Error {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(error) if is_transient_accept_error(&error) => {
                    // Out of descriptors or memory: let some connections end.
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(error) => return error,
            };
            let name = Arc::clone(&self.name);
            let (delay, mode) = (self.greeting_delay, self.mode);
            let spawned = thread::Builder::new()
                .stack_size(CONNECTION_THREAD_STACK)
                .spawn(move || serve_connection(stream, &name, delay, mode));
            if let Err(error) = spawned {
                eprintln!("ndtest serve: cannot start connection thread: {error}");
            }
        }
    }
}

fn is_transient_accept_error(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(
            libc::ECONNABORTED
                | libc::EINTR
                | libc::EMFILE
                | libc::ENFILE
                | libc::ENOBUFS
                | libc::ENOMEM
                | libc::EPROTO
                | libc::EPERM
        )
    )
}

fn serve_connection(mut stream: TcpStream, name: &str, delay: Duration, mode: ServeMode) {
    // Errors end the connection; the client reports what it observed.
    let _ = match mode {
        ServeMode::GreetAndEcho => greet_and_echo(&mut stream, name, delay),
        ServeMode::Http => answer_http(&mut stream, name, delay),
        ServeMode::BrokenHttp(fault) => answer_broken_http(&mut stream, fault),
    };
}

fn greeting(stream: &TcpStream, name: &str) -> io::Result<Greeting> {
    Ok(Greeting {
        server: name.to_owned(),
        peer: stream.peer_addr()?,
        local: stream.local_addr()?,
    })
}

fn greet_and_echo(stream: &mut TcpStream, name: &str, greeting_delay: Duration) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let greeting = greeting(stream, name)?;
    if !greeting_delay.is_zero() {
        thread::sleep(greeting_delay);
    }
    stream.write_all(greeting.to_line().as_bytes())?;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => stream.write_all(&buffer[..n])?,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Reads a request head; false if the client closed first. An oversized head is answered
/// with 431 and counts as closed.
fn read_request_head(stream: &mut TcpStream) -> io::Result<bool> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_HEAD {
            stream.write_all(b"HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n")?;
            return Ok(false);
        }
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(false),
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(true)
}

/// Reads one request head and answers it with the greeting line; the connection then closes,
/// as HTTP/1.0 has it.
fn answer_http(stream: &mut TcpStream, name: &str, delay: Duration) -> io::Result<()> {
    if !read_request_head(stream)? {
        return Ok(());
    }
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    let body = greeting(stream, name)?.to_line();
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())
}

/// Not HTTP: no status line, control bytes and a stray NUL, as a confused peer would send.
const GARBAGE: &[u8] = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 \xff\xfe\x00garbage\r\n\r\n";

/// Answers one request the way `fault` says.
fn answer_broken_http(stream: &mut TcpStream, fault: HttpFault) -> io::Result<()> {
    if !read_request_head(stream)? {
        return Ok(());
    }
    match fault {
        HttpFault::Hang => {
            thread::sleep(HANG);
            Ok(())
        }
        HttpFault::Garbage => stream.write_all(GARBAGE),
        HttpFault::Error => stream.write_all(
            b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
        HttpFault::Reset => {
            // A zero linger makes close send a RST instead of a FIN.
            socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO))?;
            Ok(())
        }
    }
}
