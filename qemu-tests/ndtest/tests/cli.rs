//! End-to-end tests of the `ndtest` binary on 127.0.0.1 with ephemeral ports.

use ndtest::greeting::Greeting;
use ndtest::hold::{chunks_per_connection, CHUNK_LEN};
use ndtest::report::{ConnectReport, HoldReport, RawPacketsReport};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const NDTEST: &str = env!("CARGO_BIN_EXE_ndtest");
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

fn wait_with_deadline(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ndtest did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Collects a spawned ndtest's output, killing it if it outlives `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).unwrap();
        text
    });
    let err_reader = thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).unwrap();
        text
    });
    let status = wait_with_deadline(&mut child, limit);
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn spawn_ndtest(args: &[&str]) -> Child {
    Command::new(NDTEST)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run_ndtest(args: &[&str]) -> Output {
    finish(spawn_ndtest(args), COMMAND_LIMIT)
}

fn run_connect(args: &[&str]) -> ConnectReport {
    let output = run_ndtest(&[&["connect"], args].concat());
    assert!(output.status.success(), "connect failed: {output:?}");
    ConnectReport::from_json(std::str::from_utf8(&output.stdout).unwrap()).unwrap()
}

fn hold_report(output: Output) -> HoldReport {
    assert!(output.status.success(), "hold failed: {output:?}");
    HoldReport::from_json(std::str::from_utf8(&output.stdout).unwrap()).unwrap()
}

/// An `ndtest serve` child, killed when dropped.
struct ServeProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServeProcess {
    fn start(name: &str, extra: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", name, extra)
    }

    fn start_on(listen: &str, name: &str, extra: &[&str]) -> Self {
        let mut child =
            spawn_ndtest(&[&["serve", "--listen", listen, "--name", name], extra].concat());
        let stdout = child.stdout.take().unwrap();
        let (sender, announced) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = match announced.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not announce its address");
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected serve output {line:?}"))
            .parse()
            .unwrap();
        ServeProcess { child, addr }
    }

    fn to(&self) -> String {
        self.addr.to_string()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port with nothing listening on it (at the time of the call).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener on 127.0.0.1 whose connections are handled by `handle` on
/// their own threads, standing in for a server that misbehaves.
fn fake_server(handle: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            thread::spawn(move || handle(stream));
        }
    });
    addr
}

fn send_greeting(stream: &mut TcpStream, name: &str) {
    let greeting = Greeting {
        server: name.to_owned(),
        peer: stream.peer_addr().unwrap(),
        local: stream.local_addr().unwrap(),
    };
    stream.write_all(greeting.to_line().as_bytes()).unwrap();
}

/// Echoes with every byte upper-cased: a server that corrupts data.
fn uppercase_echo(mut stream: TcpStream) {
    send_greeting(&mut stream, "upper");
    let mut buffer = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buffer) {
        let shouted = buffer[..n].to_ascii_uppercase();
        if stream.write_all(&shouted).is_err() {
            break;
        }
    }
}

fn wait_for_file(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn scratch_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ndtest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn connect_counts_connections_per_server() {
    let srv1 = ServeProcess::start("srv1", &[]);
    let srv2 = ServeProcess::start("srv2", &[]);

    let first = run_connect(&["--to", &srv1.to(), "--count", "20", "--parallel", "4"]);
    let second = run_connect(&["--to", &srv2.to(), "--count", "30", "--parallel", "8"]);

    assert_eq!(
        first,
        ConnectReport {
            attempted: 20,
            ok: 20,
            failed: 0,
            per_server: [("srv1".to_owned(), 20)].into(),
            errors: Default::default(),
            server_saw_peer: vec!["127.0.0.1".to_owned()],
            server_saw_local: vec!["127.0.0.1".to_owned()],
        }
    );
    assert_eq!(second.ok, 30);
    assert_eq!(second.failed, 0);
    assert_eq!(second.per_server, [("srv2".to_owned(), 30)].into());
}

#[test]
fn serve_handles_hundreds_of_concurrent_connections() {
    let server = ServeProcess::start("busy", &[]);
    let report = run_connect(&["--to", &server.to(), "--count", "600", "--parallel", "300"]);
    assert_eq!(report.ok, 600, "{report:?}");
    assert_eq!(report.per_server["busy"], 600);
}

#[test]
fn greeting_reports_peer_and_local_address() {
    let server = ServeProcess::start("srv1", &[]);
    let stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(&stream);

    let greeting = Greeting::read_from(&mut reader).unwrap();
    assert_eq!(greeting.server, "srv1");
    assert_eq!(greeting.peer, stream.local_addr().unwrap());
    assert_eq!(greeting.local, stream.peer_addr().unwrap());

    (&stream).write_all(b"hello, echo").unwrap();
    let mut echo = [0u8; 11];
    reader.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"hello, echo");
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(
        reader.read(&mut echo).unwrap(),
        0,
        "server closes after EOF"
    );
}

#[test]
fn connect_binds_the_requested_source_ports() {
    static PEER_PORTS: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    fn record_and_echo(mut stream: TcpStream) {
        PEER_PORTS
            .lock()
            .unwrap()
            .push(stream.peer_addr().unwrap().port());
        send_greeting(&mut stream, "fake");
        let _ = std::io::copy(&mut stream.try_clone().unwrap(), &mut stream);
    }
    let addr = fake_server(record_and_echo);
    // Two adjacent ports that are free right now.
    let first = (0..100)
        .map(|_| closed_port())
        .find(|&port| port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok())
        .unwrap();

    let report = run_connect(&[
        "--to",
        &addr.to_string(),
        "--count",
        "2",
        "--source-ports-from",
        &first.to_string(),
    ]);

    assert_eq!(report.ok, 2, "{report:?}");
    let ports: BTreeSet<u16> = PEER_PORTS.lock().unwrap().iter().copied().collect();
    assert_eq!(ports, [first, first + 1].into());
}

#[test]
fn connect_reports_refused_connections_on_a_closed_port() {
    let to = format!("127.0.0.1:{}", closed_port());
    let report = run_connect(&["--to", &to, "--count", "3", "--parallel", "2"]);
    assert_eq!(
        report,
        ConnectReport {
            attempted: 3,
            ok: 0,
            failed: 3,
            errors: [("connect_refused".to_owned(), 3)].into(),
            ..Default::default()
        }
    );
}

#[test]
fn connect_detects_a_corrupted_echo() {
    let addr = fake_server(uppercase_echo);
    let report = run_connect(&["--to", &addr.to_string(), "--count", "4"]);
    assert_eq!(report.ok, 0);
    assert_eq!(report.failed, 4);
    assert_eq!(report.errors, [("echo_mismatch".to_owned(), 4)].into());
}

#[test]
fn connect_times_out_on_a_slow_greeting_only_when_the_timeout_is_shorter() {
    let slow = ServeProcess::start("slow", &["--delay-ms", "400"]);

    let impatient = run_connect(&["--to", &slow.to(), "--count", "2", "--timeout-ms", "100"]);
    assert_eq!(impatient.ok, 0);
    assert_eq!(
        impatient.errors,
        [("greeting_timeout".to_owned(), 2)].into()
    );

    let started = Instant::now();
    let patient = run_connect(&["--to", &slow.to(), "--count", "2", "--parallel", "2"]);
    assert_eq!(patient.ok, 2, "{patient:?}");
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn hold_keeps_streams_intact() {
    let server = ServeProcess::start("srv1", &[]);
    let ready = scratch_path("intact-ready");
    let report = hold_report(run_ndtest(&[
        "hold",
        "--to",
        &server.to(),
        "--conns",
        "300",
        "--seconds",
        "1",
        "--interval-ms",
        "100",
        "--ready-file",
        ready.to_str().unwrap(),
    ]));

    let chunks = chunks_per_connection(Duration::from_secs(1), Duration::from_millis(100));
    assert_eq!(
        report,
        HoldReport {
            conns: 300,
            established: 300,
            intact: 300,
            broken: 0,
            per_server: [("srv1".to_owned(), 300)].into(),
            bytes_echoed: 300 * chunks * CHUNK_LEN as u64,
            errors: Default::default(),
        }
    );
    assert_eq!(
        std::fs::read_to_string(&ready).unwrap(),
        "established=300 conns=300\n"
    );
    std::fs::remove_file(ready).unwrap();
}

#[test]
fn hold_reports_connections_broken_by_a_killed_server() {
    let survivor = ServeProcess::start("survivor", &[]);
    let mut victim = ServeProcess::start("victim", &[]);
    let survivor_ready = scratch_path("survivor-ready");
    let victim_ready = scratch_path("victim-ready");
    let hold = |server: &ServeProcess, ready: &Path| {
        spawn_ndtest(&[
            "hold",
            "--to",
            &server.to(),
            "--conns",
            "3",
            "--seconds",
            "3",
            "--interval-ms",
            "100",
            "--ready-file",
            ready.to_str().unwrap(),
        ])
    };
    let survivor_hold = hold(&survivor, &survivor_ready);
    let victim_hold = hold(&victim, &victim_ready);

    wait_for_file(&survivor_ready, Duration::from_secs(10));
    wait_for_file(&victim_ready, Duration::from_secs(10));
    thread::sleep(Duration::from_millis(500));
    victim.kill();

    let survivor_report = hold_report(finish(survivor_hold, COMMAND_LIMIT));
    let victim_report = hold_report(finish(victim_hold, COMMAND_LIMIT));

    assert_eq!(survivor_report.established, 3);
    assert_eq!(survivor_report.intact, 3, "{survivor_report:?}");
    assert_eq!(survivor_report.broken, 0);

    let full = 3 * 30 * CHUNK_LEN as u64;
    assert_eq!(victim_report.established, 3);
    assert_eq!(victim_report.per_server, [("victim".to_owned(), 3)].into());
    assert_eq!(victim_report.intact, 0, "{victim_report:?}");
    assert_eq!(victim_report.broken, 3);
    assert!(victim_report.bytes_echoed > 0 && victim_report.bytes_echoed < full);
    assert_eq!(victim_report.errors.values().sum::<u64>(), 3);
    assert!(
        victim_report
            .errors
            .keys()
            .all(|kind| kind.starts_with("echo_") || kind.starts_with("send_")),
        "{victim_report:?}"
    );
    for ready in [survivor_ready, victim_ready] {
        std::fs::remove_file(ready).unwrap();
    }
}

#[test]
fn hold_detects_a_corrupted_echo() {
    let addr = fake_server(uppercase_echo);
    let report = hold_report(run_ndtest(&[
        "hold",
        "--to",
        &addr.to_string(),
        "--conns",
        "2",
        "--seconds",
        "1",
    ]));
    assert_eq!(report.established, 2);
    assert_eq!(report.intact, 0);
    assert_eq!(report.broken, 2);
    assert_eq!(report.bytes_echoed, 0);
    assert_eq!(report.errors, [("echo_mismatch".to_owned(), 2)].into());
}

#[test]
fn hold_counts_connections_that_never_establish() {
    let to = format!("127.0.0.1:{}", closed_port());
    let ready = scratch_path("refused-ready");
    let report = hold_report(run_ndtest(&[
        "hold",
        "--to",
        &to,
        "--conns",
        "2",
        "--seconds",
        "1",
        "--ready-file",
        ready.to_str().unwrap(),
    ]));
    assert_eq!(
        report,
        HoldReport {
            conns: 2,
            errors: [("connect_refused".to_owned(), 2)].into(),
            ..Default::default()
        }
    );
    assert_eq!(
        std::fs::read_to_string(&ready).unwrap(),
        "established=0 conns=2\n"
    );
    std::fs::remove_file(ready).unwrap();
}

#[test]
fn serve_exits_zero_on_sigterm() {
    let mut server = ServeProcess::start("srv1", &[]);
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_with_deadline(&mut server.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn serve_fails_when_the_port_is_taken() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let output = run_ndtest(&["serve", "--listen", &listen, "--name", "srv1"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[test]
fn wait_port_gives_up_on_a_closed_port() {
    let to = format!("127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let output = run_ndtest(&["wait-port", "--to", &to, "--timeout-ms", "300"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn wait_port_returns_once_a_server_listens() {
    let port = closed_port();
    let to = format!("127.0.0.1:{port}");
    let waiter = spawn_ndtest(&["wait-port", "--to", &to, "--timeout-ms", "10000"]);
    thread::sleep(Duration::from_millis(300));
    let _server = ServeProcess::start_on(&to, "late", &[]);
    let output = finish(waiter, COMMAND_LIMIT);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn usage_errors_exit_with_status_2() {
    let overflow = run_ndtest(&[
        "connect",
        "--to",
        "127.0.0.1:1",
        "--count",
        "10",
        "--source-ports-from",
        "65530",
    ]);
    let missing_count = run_ndtest(&["connect", "--to", "127.0.0.1:1"]);
    let spaced_name = run_ndtest(&["serve", "--listen", "127.0.0.1:0", "--name", "a b"]);
    let zero_parallel = run_ndtest(&[
        "connect",
        "--to",
        "127.0.0.1:1",
        "--count",
        "1",
        "--parallel",
        "0",
    ]);
    for output in [overflow, missing_count, spaced_name, zero_parallel] {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn reports_are_single_json_lines() {
    let server = ServeProcess::start("srv1", &[]);
    let output = run_ndtest(&["connect", "--to", &server.to(), "--count", "1"]);
    let text = std::str::from_utf8(&output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    for key in [
        "attempted",
        "ok",
        "failed",
        "per_server",
        "errors",
        "server_saw_peer",
        "server_saw_local",
    ] {
        assert!(value.get(key).is_some(), "missing {key} in {text}");
    }
}

#[test]
fn http_mode_answers_a_request_with_the_greeting_as_body() {
    let server = ServeProcess::start("health1", &["--http"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();

    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head:?}");
    assert!(head.contains(&format!("Content-Length: {}", body.len())));
    let greeting = Greeting::parse(body).unwrap();
    assert_eq!(greeting.server, "health1");
    assert_eq!(greeting.peer, stream.local_addr().unwrap());
}

#[test]
fn http_mode_waits_for_the_whole_request_head() {
    let server = ServeProcess::start("health2", &["--http"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n").unwrap();
    let mut byte = [0u8; 1];
    let early = stream.read(&mut byte);
    assert!(early.is_err(), "answered before the head ended: {early:?}");
    stream.write_all(b"\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.0 200 OK"), "{response:?}");
}

/// The dispatcher `raw-packets` tests aim at: a documentation address no host has.
const RAW_TARGET: &[&str] = &[
    "--dst-mac",
    "02:00:00:00:00:01",
    "--vip",
    "192.0.2.1",
    "--port",
    "80",
];

#[test]
fn adversarial_generators_reject_bad_arguments_with_status_2() {
    let raw = |extra: &[&str]| {
        let base = [&["raw-packets", "--ifname", "lo"], RAW_TARGET].concat();
        run_ndtest(&[&base[..], &["--count", "1", "--seed", "1"], extra].concat())
    };
    let outputs = [
        raw(&["--kind", "sideways"]),
        raw(&["--kind", "synflood", "--dst-mac", "02:00:00:00:01"]),
        raw(&["--kind", "synflood", "--sources", "10.0.0.0/40"]),
        raw(&["--kind", "synflood", "--rate", "0"]),
        run_ndtest(&["fuzz-netlink", "--seed", "1"]),
        run_ndtest(&["replay-netlink"]),
    ];
    for output in outputs {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn raw_packets_names_a_missing_interface() {
    let output = run_ndtest(
        &[
            &["raw-packets", "--ifname", "nd-nosuch0"],
            RAW_TARGET,
            &["--count", "1", "--seed", "1", "--kind", "malformed"],
        ]
        .concat(),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("nd-nosuch0"));
}

#[test]
fn replay_netlink_names_a_missing_record_file() {
    let path = scratch_path("no-such-record");
    let output = run_ndtest(&["replay-netlink", "--file", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-record"), "{stderr}");
}

/// Runs `ndtest raw-packets` on the loopback of a new, empty network namespace, so the
/// frames reach no real stack; `None` where namespaces cannot be made (not root).
fn raw_packets_in_private_namespace(args: &[&str]) -> Option<RawPacketsReport> {
    let mut command = vec![
        "unshare",
        "--net",
        "sh",
        "-c",
        "ip link set lo up && exec \"$0\" \"$@\"",
        NDTEST,
        "raw-packets",
        "--ifname",
        "lo",
        "--sources",
        "198.18.0.0/15",
    ];
    command.extend_from_slice(RAW_TARGET);
    command.extend_from_slice(args);
    let child = Command::new(command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(child) = child else {
        eprintln!("skipped: unshare is not installed");
        return None;
    };
    let output = finish(child, COMMAND_LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && (stderr.contains("unshare") || stderr.contains("ip:")) {
        eprintln!("skipped: no private network namespace here: {stderr}");
        return None;
    }
    assert!(output.status.success(), "{output:?}");
    Some(RawPacketsReport::from_json(std::str::from_utf8(&output.stdout).unwrap()).unwrap())
}

#[test]
fn raw_packets_sends_every_malformed_kind() {
    let args = ["--count", "3000", "--seed", "7", "--kind", "malformed"];
    let Some(report) = raw_packets_in_private_namespace(&args) else {
        return;
    };
    assert_eq!(report.kind, "malformed");
    assert_eq!((report.sent, report.send_errors), (3000, 0), "{report:?}");
    assert_eq!(report.by_kind.values().sum::<u64>(), 3000);
    for kind in ndtest::raw_packets::frame::Malformed::ALL {
        assert!(
            report.by_kind.contains_key(kind.name()),
            "{kind:?}: {report:?}"
        );
    }
}

#[test]
fn raw_packets_paces_a_syn_flood() {
    let args = [
        "--count", "200", "--seed", "3", "--kind", "synflood", "--rate", "2000",
    ];
    let Some(report) = raw_packets_in_private_namespace(&args) else {
        return;
    };
    assert_eq!((report.sent, report.send_errors), (200, 0), "{report:?}");
    assert_eq!(report.by_kind["syn"], 200);
    // The last batch is due after 180 of the 200 frames: 90 ms at 2000 a second.
    assert!(report.elapsed_ms >= 85, "{report:?}");
}
