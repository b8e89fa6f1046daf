//! End-to-end tests of the load-sharing evaluation's subcommands on 127.0.0.1: the emulated
//! server's timing, its files and its handling of clients that give up, and the workload
//! against it.

use ndtest::bench::report::{PsServeReport, WorkloadReport};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const NDTEST: &str = env!("CARGO_BIN_EXE_ndtest");

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ndtest-eval-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An `ndtest ps-serve` child on 127.0.0.1: stopped with SIGTERM for its report, killed when
/// dropped.
struct PsServe {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
}

impl PsServe {
    fn start(name: &str, capacity: &str, extra: &[&str]) -> PsServe {
        let mut child = Command::new(NDTEST)
            .args(["ps-serve", "--listen", "127.0.0.1:0", "--name", name])
            .args(["--capacity", capacity])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let Ok(first) = lines.recv_timeout(Duration::from_secs(10)) else {
            let _ = child.kill();
            panic!("ps-serve did not announce its address");
        };
        let addr = first
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected ps-serve output {first:?}"))
            .parse()
            .unwrap();
        PsServe { child, addr, lines }
    }

    fn stop(mut self) -> PsServeReport {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: signals our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("ps-serve printed no report");
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "ps-serve exit");
        PsServeReport::from_json(&line).unwrap()
    }
}

impl Drop for PsServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request sent on a connection of its own, answered later.
struct Pending {
    stream: TcpStream,
    sent: Instant,
}

fn send(addr: SocketAddr, path: &str) -> Pending {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
    Pending {
        stream,
        sent: Instant::now(),
    }
}

impl Pending {
    /// The whole answer, and how long it took from the request.
    fn answer(mut self) -> (String, Duration) {
        let mut text = String::new();
        self.stream.read_to_string(&mut text).unwrap();
        (text, self.sent.elapsed())
    }
}

/// Closes with a reset (linger 0), as a client that timed out does.
fn reset(pending: Pending) {
    socket2::SockRef::from(&pending.stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// Whether `took` is `want` give or take the scheduling of a loaded test machine.
fn about(took: Duration, want_ms: u64) -> bool {
    let ms = took.as_millis() as u64;
    ms + 20 >= want_ms && ms <= want_ms + 150
}

#[test]
fn requests_share_the_capacity_and_answers_name_the_server() {
    let server = PsServe::start("srv7", "1000", &[]);
    // 200 units at 1000 a second: 0.2 s alone, 0.4 s for two at once.
    let (text, alone) = send(server.addr, "/work/200").answer();
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nsrv7 200\n"), "{text}");
    assert!(about(alone, 200), "alone: {alone:?}");
    let (first, second) = (
        send(server.addr, "/work/200"),
        send(server.addr, "/work/200"),
    );
    let (a, b) = (first.answer().1, second.answer().1);
    assert!(about(a, 400) && about(b, 400), "together: {a:?} {b:?}");
    // Any other path costs one unit: a millisecond.
    let (text, advisor) = send(server.addr, "/").answer();
    assert!(text.contains("srv7 1\n") && advisor < Duration::from_millis(100));
    let report = server.stop();
    assert_eq!(
        (report.requests, report.completed, report.cancelled),
        (4, 4, 0)
    );
    assert!((report.work_done - 601.0).abs() < 0.1, "{report:?}");
    assert!((report.busy_seconds - 0.601).abs() < 0.01, "{report:?}");
}

#[test]
fn a_client_that_resets_gives_its_share_back() {
    let dir = scratch_dir("reset");
    let stats = dir.join("stats.json");
    let server = PsServe::start("srv1", "1000", &["--stats-file", stats.to_str().unwrap()]);
    let long = send(server.addr, "/work/100000");
    thread::sleep(Duration::from_millis(100));
    reset(long);
    thread::sleep(Duration::from_millis(100));
    let (_, took) = send(server.addr, "/work/200").answer();
    assert!(
        about(took, 200),
        "the long request still took a share: {took:?}"
    );
    thread::sleep(Duration::from_millis(400));
    let text = std::fs::read_to_string(&stats).unwrap();
    let published = PsServeReport::from_json(text.trim()).unwrap();
    assert_eq!((published.cancelled, published.completed), (1, 1));
    assert_eq!(published.in_progress, 0);
    assert_eq!(published.name, "srv1");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_load_file_shows_requests_in_progress_and_the_busy_file_slows_the_server() {
    let dir = scratch_dir("files");
    let (load, busy) = (dir.join("load"), dir.join("busy"));
    let server = PsServe::start(
        "srv2",
        "100",
        &[
            "--load-file",
            load.to_str().unwrap(),
            "--busy-file",
            busy.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&load).unwrap(), "0.00\n");
    // Three requests of 1000 units at 100 a second stay in progress for 30 s.
    let held: Vec<Pending> = (0..3).map(|_| send(server.addr, "/work/1000")).collect();
    thread::sleep(Duration::from_millis(1500));
    let shown: f64 = std::fs::read_to_string(&load)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((shown - 3.0).abs() < 0.3, "load {shown}");
    for pending in held {
        reset(pending);
    }
    // Half the capacity taken: 10 units take 0.2 s instead of 0.1 s.
    std::fs::write(&busy, "0.5\n").unwrap();
    thread::sleep(Duration::from_millis(500));
    let (_, took) = send(server.addr, "/work/10").answer();
    assert!(about(took, 200), "{took:?}");
    let report = server.stop();
    assert_eq!(report.speed, 50.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_request_it_cannot_serve_is_answered_400() {
    let server = PsServe::start("srv3", "1000", &[]);
    for path in ["/work/-1", "/work/many"] {
        let (text, _) = send(server.addr, path).answer();
        assert!(text.starts_with("HTTP/1.0 400 "), "{path}: {text}");
    }
    let mut garbage = TcpStream::connect(server.addr).unwrap();
    garbage.write_all(b"HELLO\r\n\r\n").unwrap();
    let mut text = String::new();
    garbage.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.0 400 "), "{text}");
    assert_eq!(server.stop().bad_requests, 3);
}

#[test]
fn a_capacity_schedule_slows_the_server_from_its_time_on() {
    let dir = scratch_dir("schedule");
    let stats = dir.join("stats.json");
    let server = PsServe::start(
        "srv4",
        "1000",
        &[
            "--capacity-schedule",
            "0.5:0.5",
            "--stats-file",
            stats.to_str().unwrap(),
        ],
    );
    let (_, before) = send(server.addr, "/work/100").answer();
    assert!(about(before, 100), "full speed at first: {before:?}");
    thread::sleep(Duration::from_millis(700));
    let (_, after) = send(server.addr, "/work/100").answer();
    assert!(about(after, 200), "half speed from 0.5 s: {after:?}");
    let report = server.stop();
    assert_eq!((report.capacity, report.speed), (1000.0, 500.0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn external_load_slows_the_server_for_its_window_and_shows_in_the_load_file() {
    let dir = scratch_dir("external");
    let load = dir.join("load");
    let server = PsServe::start(
        "srv5",
        "1000",
        &[
            "--external-load",
            "0-1.5:0.5",
            "--load-file",
            load.to_str().unwrap(),
        ],
    );
    thread::sleep(Duration::from_millis(300));
    let (_, during) = send(server.addr, "/work/100").answer();
    assert!(about(during, 200), "half the speed taken: {during:?}");
    let shown: f64 = std::fs::read_to_string(&load)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (shown - 1.0).abs() < 0.3,
        "the hog is one more task: {shown}"
    );
    thread::sleep(Duration::from_millis(1600));
    let (_, after) = send(server.addr, "/work/100").answer();
    assert!(about(after, 100), "the window is over: {after:?}");
    thread::sleep(Duration::from_millis(1200));
    let shown: f64 = std::fs::read_to_string(&load)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(shown < 0.3, "no hog after the window: {shown}");
    assert_eq!(server.stop().speed, 1000.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_server_answers_at_once_with_its_error_then_recovers() {
    let server = PsServe::start(
        "srv6",
        "10",
        &["--fail-with", "500", "--fail-during", "0-1"],
    );
    // 1000 units would take 100 s; failing, the answer is immediate.
    let (text, took) = send(server.addr, "/work/1000").answer();
    assert!(text.starts_with("HTTP/1.0 500 "), "{text}");
    assert!(took < Duration::from_millis(100), "{took:?}");
    thread::sleep(Duration::from_millis(1100));
    let (text, _) = send(server.addr, "/work/1").answer();
    assert!(text.starts_with("HTTP/1.0 200 OK"), "recovered: {text}");
    let report = server.stop();
    assert_eq!((report.failed_fast, report.completed), (1, 1));

    let resetting = PsServe::start("srv7", "10", &["--fail-with", "reset"]);
    let mut pending = send(resetting.addr, "/work/1");
    let mut buffer = Vec::new();
    let read = pending.stream.read_to_end(&mut buffer);
    assert!(
        read.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "reset, read {buffer:?}"
    );
    assert_eq!(resetting.stop().failed_fast, 1);
}

fn run_ndtest(args: &[&str]) -> Output {
    Command::new(NDTEST)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_workload_measures_its_window_and_counts_where_requests_went() {
    let server = PsServe::start("srv1", "2000", &[]);
    let started = Instant::now();
    let output = run_ndtest(&[
        "workload",
        "--to",
        &server.addr.to_string(),
        "--rate",
        "40",
        "--seconds",
        "2",
        "--warmup-seconds",
        "1",
        "--seed",
        "4",
    ]);
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    let report =
        WorkloadReport::from_json(std::str::from_utf8(&output.stdout).unwrap().trim()).unwrap();
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(report.mix, "abcd");
    assert_eq!(report.window_end_ns - report.window_start_ns, 2_000_000_000);
    assert!((40..=130).contains(&report.scheduled), "{report:?}");
    assert_eq!(report.completed, report.scheduled, "{report:?}");
    assert_eq!(
        (report.failed, report.unstarted, report.abandoned),
        (0, 0, 0)
    );
    assert!(report.warmup_completed > 10, "{report:?}");
    assert_eq!(report.per_server.get("srv1"), Some(&report.completed));
    let in_buckets: u64 = report.response_buckets.iter().map(|b| b.1).sum();
    assert_eq!(in_buckets, report.completed);
    assert!(report.response_us.p50 < 100_000, "{:?}", report.response_us);
    let served = server.stop();
    assert_eq!(served.completed, report.completed + report.warmup_completed);
    assert!(served.work_done >= report.work_scheduled);
}

#[test]
fn requests_that_outlive_the_timeout_fail_and_are_given_up_by_the_server() {
    // 10 units a second: the class D requests (about 1000 units) never finish in time.
    let server = PsServe::start("slow", "10", &[]);
    let output = run_ndtest(&[
        "workload",
        "--to",
        &server.addr.to_string(),
        "--rate",
        "20",
        "--seconds",
        "2",
        "--timeout-ms",
        "500",
        "--drain-ms",
        "1000",
        "--seed",
        "2",
    ]);
    assert!(output.status.success(), "{output:?}");
    let report =
        WorkloadReport::from_json(std::str::from_utf8(&output.stdout).unwrap().trim()).unwrap();
    assert!(report.failed > 0, "{report:?}");
    assert_eq!(report.errors.get("response_timeout"), Some(&report.failed));
    thread::sleep(Duration::from_millis(300));
    let served = server.stop();
    assert!(served.cancelled >= report.failed, "{served:?}");
    assert_eq!(served.in_progress, 0, "{served:?}");
}

#[test]
fn argument_errors_exit_2_with_a_message() {
    let serve = |extra: &[&str]| {
        let base = ["ps-serve", "--listen", "127.0.0.1:0", "--name", "x"];
        run_ndtest(&[&base[..], extra].concat())
    };
    let workload = |extra: &[&str]| {
        let base = ["workload", "--to", "127.0.0.1:1", "--seconds", "1"];
        run_ndtest(&[&base[..], extra].concat())
    };
    let outputs = [
        serve(&["--capacity", "0"]),
        serve(&["--capacity", "-5"]),
        serve(&["--capacity", "fast"]),
        serve(&["--capacity", "inf"]),
        serve(&["--capacity", "10", "--busy-fraction", "1"]),
        serve(&["--capacity", "10", "--capacity-schedule", "30"]),
        serve(&["--capacity", "10", "--capacity-schedule", "30:0"]),
        serve(&["--capacity", "10", "--external-load", "30-20:0.5"]),
        serve(&["--capacity", "10", "--external-load", "0:1"]),
        serve(&["--capacity", "10", "--fail-with", "200"]),
        serve(&["--capacity", "10", "--fail-during", "5"]),
        serve(&[]),
        run_ndtest(&[
            "ps-serve",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "two words",
            "--capacity",
            "1",
        ]),
        workload(&["--rate", "0"]),
        workload(&["--rate", "NaN"]),
        workload(&["--rate", "1e9"]),
        workload(&["--rate", "10", "--mix", "uniform"]),
        workload(&["--rate", "10", "--concurrency-limit", "0"]),
        workload(&["--rate", "10", "--timeout-ms", "0"]),
        run_ndtest(&["workload", "--to", "127.0.0.1:1", "--rate", "10"]),
        run_ndtest(&["evaluate", "--rounds", "3"]),
    ];
    for output in outputs {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert!(!output.stderr.is_empty());
    }
}
