//! End-to-end tests of the benchmark subcommands, run against each other on 127.0.0.1 for a
//! second or two each; the injector in a private network namespace with a veth pair.

use ndtest::bench::report::{
    CountRxReport, CrrReport, InjectReport, LatencyReport, SinkReport, StreamReport,
};
use ndtest::bench::sink::HTTP_RESPONSE;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const NDTEST: &str = env!("CARGO_BIN_EXE_ndtest");
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Collects a child's output, killing it if it outlives `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).unwrap();
        text
    });
    let err = thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn run_ndtest(args: &[&str]) -> Output {
    finish(spawn(NDTEST, args), COMMAND_LIMIT)
}

/// The JSON report of a run that must have succeeded.
fn report_text(output: &Output) -> &str {
    assert!(output.status.success(), "{output:?}");
    let text = std::str::from_utf8(&output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one line of JSON: {text}");
    text
}

/// An `ndtest bench-sink` child: stopped with SIGTERM for its report, killed when dropped.
struct SinkProcess {
    child: Child,
    addr: SocketAddr,
    /// The lines of its standard output after the first.
    lines: mpsc::Receiver<String>,
}

impl SinkProcess {
    fn start(extra: &[&str]) -> SinkProcess {
        Self::start_with(NDTEST, &[], extra)
    }

    /// Runs `program` with `before`, ndtest's bench-sink arguments and `extra`.
    fn start_with(program: &str, before: &[&str], extra: &[&str]) -> SinkProcess {
        let sink = ["bench-sink", "--listen", "127.0.0.1:0"];
        let mut child = spawn(program, &[before, &sink[..], extra].concat());
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
            panic!("bench-sink did not announce its address");
        };
        let addr = first
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected bench-sink output {first:?}"))
            .parse()
            .unwrap();
        SinkProcess { child, addr, lines }
    }

    fn to(&self) -> String {
        self.addr.to_string()
    }

    /// Sends SIGTERM; the report it prints, after checking that it exits 0.
    fn stop(mut self) -> SinkReport {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: signals our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("bench-sink printed no report");
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "bench-sink exit");
        SinkReport::from_json(&line).unwrap()
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn closed_port() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

fn scratch_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ndtest-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn crr_against_an_http_sink_completes_transactions_without_errors() {
    let sink = SinkProcess::start(&["--mode", "http"]);
    let output = run_ndtest(&[
        "bench-crr",
        "--to",
        &sink.to(),
        "--concurrency",
        "16",
        "--seconds",
        "1",
    ]);
    let report = CrrReport::from_json(report_text(&output)).unwrap();
    assert!(report.completed > 0, "{report:?}");
    assert_eq!((report.failed, report.abandoned), (0, 0), "{report:?}");
    assert!(report.errors.is_empty());
    assert_eq!(report.rate, report.completed as f64);
    let latency = &report.latency_us;
    assert_eq!(latency.count, report.completed + report.drained);
    assert!(latency.min <= latency.p50, "{latency:?}");
    assert!(
        latency.p50 <= latency.p90 && latency.p90 <= latency.p99,
        "{latency:?}"
    );
    assert!(latency.p99 <= latency.max && latency.max > 0, "{latency:?}");

    let seen = sink.stop();
    assert_eq!(seen.mode, "http");
    assert_eq!(seen.requests, report.completed + report.drained);
    assert_eq!(seen.accepted, seen.requests);
    assert_eq!(seen.closed, seen.accepted);
    assert_eq!(seen.failed, 0, "{seen:?}");
    assert_eq!(seen.bytes_sent, seen.requests * HTTP_RESPONSE.len() as u64);
}

#[test]
fn crr_shares_its_concurrency_between_threads() {
    let sink = SinkProcess::start(&["--mode", "http", "--threads", "2"]);
    let output = run_ndtest(&[
        "bench-crr",
        "--to",
        &sink.to(),
        "--concurrency",
        "5",
        "--threads",
        "2",
        "--seconds",
        "1",
    ]);
    let report = CrrReport::from_json(report_text(&output)).unwrap();
    assert_eq!(report.threads, 2);
    assert!(report.completed > 0 && report.failed == 0, "{report:?}");
    let seen = sink.stop();
    assert_eq!(seen.threads, 2);
    assert_eq!(seen.requests, report.completed + report.drained);
}

#[test]
fn latency_at_a_low_rate_completes_rate_times_seconds() {
    let sink = SinkProcess::start(&["--mode", "http"]);
    let started = Instant::now();
    let output = run_ndtest(&[
        "bench-latency",
        "--to",
        &sink.to(),
        "--rate",
        "200",
        "--seconds",
        "2",
    ]);
    let report = LatencyReport::from_json(report_text(&output)).unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(report.scheduled, 400);
    assert_eq!(report.started + report.unstarted, 400, "{report:?}");
    assert_eq!(
        report.completed + report.failed + report.abandoned,
        report.started,
        "{report:?}"
    );
    // A loaded host may fail or delay a few; the schedule must still have been kept.
    assert!(report.completed >= 380, "{report:?}");
    assert!((report.achieved_rate - 200.0).abs() <= 10.0, "{report:?}");
    let (latency, service) = (&report.latency_us, &report.service_us);
    assert_eq!(latency.count, report.completed);
    assert!(latency.p50 <= latency.p90 && latency.p90 <= latency.p99);
    assert!(latency.p99 <= latency.p999 && latency.p999 <= latency.max);
    // Timed from the scheduled start, a transaction takes at least its service time.
    assert!(
        latency.p50 >= service.p50 && latency.max >= service.max,
        "{report:?}"
    );
    assert_eq!(sink.stop().requests, report.completed);
}

#[test]
fn stream_bytes_reach_the_sink() {
    let report_file = scratch_path("stream-sink.json");
    let sink = SinkProcess::start(&[
        "--mode",
        "discard",
        "--report-file",
        report_file.to_str().unwrap(),
    ]);
    let output = run_ndtest(&[
        "bench-stream",
        "--to",
        &sink.to(),
        "--conns",
        "8",
        "--seconds",
        "1",
        "--segment",
        "100",
    ]);
    let report = StreamReport::from_json(report_text(&output)).unwrap();
    assert_eq!((report.established, report.failed), (8, 0), "{report:?}");
    assert_eq!(report.closed_cleanly, 8, "{report:?}");
    assert!(report.segments > 0, "{report:?}");
    // Whole segments, plus at most one partly written segment per connection.
    assert!(report.bytes >= report.segments * 100);
    assert!(report.bytes < (report.segments + 8) * 100);
    assert!(report.tcp_data_segs_out > 0 && report.tcp_bytes_acked <= report.bytes);
    assert!(report.bytes_per_second > 0.0);

    let seen = sink.stop();
    assert_eq!(
        seen.bytes_received, report.bytes,
        "every byte counted on arrival"
    );
    assert_eq!((seen.accepted, seen.closed), (8, 8));
    assert_eq!(seen.bytes_sent, 0);
    let from_file = std::fs::read_to_string(&report_file).unwrap();
    assert_eq!(SinkReport::from_json(from_file.trim()).unwrap(), seen);
    std::fs::remove_file(report_file).unwrap();
}

#[test]
fn crr_against_a_closed_port_reports_errors() {
    let output = run_ndtest(&[
        "bench-crr",
        "--to",
        &closed_port(),
        "--concurrency",
        "4",
        "--seconds",
        "1",
    ]);
    let report = CrrReport::from_json(report_text(&output)).unwrap();
    assert_eq!(report.completed, 0);
    assert!(report.failed > 0, "{report:?}");
    assert_eq!(
        report.errors.keys().collect::<Vec<_>>(),
        ["connect_refused"]
    );
    assert_eq!(report.errors["connect_refused"], report.failed);
    assert_eq!(report.latency_us.count, 0);
}

#[test]
fn latency_against_a_closed_port_reports_errors() {
    let output = run_ndtest(&[
        "bench-latency",
        "--to",
        &closed_port(),
        "--rate",
        "50",
        "--seconds",
        "1",
    ]);
    let report = LatencyReport::from_json(report_text(&output)).unwrap();
    assert_eq!(report.completed, 0);
    assert_eq!(report.errors.get("connect_refused"), Some(&report.failed));
    assert_eq!(report.failed, 50, "{report:?}");
}

#[test]
fn transactions_that_get_no_answer_time_out() {
    // Accepts (the kernel does, from the backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = silent.local_addr().unwrap().to_string();
    let output = run_ndtest(&[
        "bench-crr",
        "--to",
        &to,
        "--concurrency",
        "3",
        "--seconds",
        "1",
        "--timeout-ms",
        "300",
        "--drain-ms",
        "100",
    ]);
    let report = CrrReport::from_json(report_text(&output)).unwrap();
    assert_eq!(report.completed, 0);
    assert!(
        report.errors.get("response_timeout").copied().unwrap_or(0) >= 3,
        "{report:?}"
    );
    assert!(report.abandoned <= 3);
}

/// Arguments for `sh` to run ndtest with at most `files` descriptors (soft and hard limit,
/// so that ndtest cannot raise it).
fn with_file_limit(files: u32) -> Vec<String> {
    vec![
        "-c".to_owned(),
        format!("ulimit -n {files} && exec \"$0\" \"$@\""),
        NDTEST.to_owned(),
    ]
}

#[test]
fn running_out_of_descriptors_is_counted_not_fatal() {
    let limit = with_file_limit(12);
    let before: Vec<&str> = limit.iter().map(String::as_str).collect();
    let sink = SinkProcess::start_with("sh", &before, &["--mode", "http"]);
    let limit = with_file_limit(24);
    let client = [
        "bench-crr",
        "--to",
        &sink.to(),
        "--concurrency",
        "40",
        "--seconds",
        "1",
    ];
    let args: Vec<&str> = limit.iter().map(String::as_str).chain(client).collect();
    let output = finish(spawn("sh", &args), COMMAND_LIMIT);
    let report = CrrReport::from_json(report_text(&output)).unwrap();
    assert!(report.completed > 0, "{report:?}");
    assert!(
        report.errors.get("socket_too_many_open_files").copied() > Some(0),
        "{report:?}"
    );
    let only_shortage = report
        .errors
        .keys()
        .all(|k| k == "socket_too_many_open_files");
    assert!(only_shortage, "{report:?}");
    let seen = sink.stop();
    assert!(
        seen.errors.get("accept_too_many_open_files").copied() > Some(0),
        "{seen:?}"
    );
    assert_eq!(seen.requests, report.completed + report.drained, "{seen:?}");
}

#[test]
fn sink_echoes_and_answers_http() {
    let echo = SinkProcess::start(&["--mode", "echo"]);
    let mut stream = TcpStream::connect(echo.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let sent = vec![7u8; 200_000];
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let sent = sent.clone();
        thread::spawn(move || {
            stream.write_all(&sent).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert_eq!(echoed, sent);
    let seen = echo.stop();
    assert_eq!((seen.bytes_received, seen.bytes_sent), (200_000, 200_000));

    let http = SinkProcess::start(&["--mode", "http"]);
    let mut stream = TcpStream::connect(http.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n").unwrap();
    thread::sleep(Duration::from_millis(50));
    stream.write_all(b"Host: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, HTTP_RESPONSE);
    assert_eq!(http.stop().requests, 1);
}

#[test]
fn sink_fails_when_the_port_is_taken() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let output = run_ndtest(&["bench-sink", "--listen", &listen]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"));
}

#[test]
fn bench_argument_errors_exit_2_with_a_message() {
    let to = ["--to", "127.0.0.1:1"];
    let crr = |extra: &[&str]| run_ndtest(&[&["bench-crr"], &to[..], extra].concat());
    let latency = |extra: &[&str]| run_ndtest(&[&["bench-latency"], &to[..], extra].concat());
    let stream = |extra: &[&str]| run_ndtest(&[&["bench-stream"], &to[..], extra].concat());
    let inject = |extra: &[&str]| {
        let base = [
            "bench-inject",
            "--ifname",
            "lo",
            "--dst-mac",
            "02:00:00:00:00:01",
            "--vip",
            "192.0.2.1",
            "--port",
            "80",
            "--seconds",
            "1",
        ];
        run_ndtest(&[&base[..], extra].concat())
    };
    let outputs = [
        crr(&["--concurrency", "0", "--seconds", "1"]),
        crr(&["--concurrency", "4", "--seconds", "0"]),
        crr(&["--concurrency", "4", "--seconds", "1", "--threads", "0"]),
        crr(&["--concurrency", "4"]),
        run_ndtest(&["bench-crr", "--concurrency", "4", "--seconds", "1"]),
        run_ndtest(&[
            "bench-crr",
            "--to",
            "nowhere",
            "--concurrency",
            "4",
            "--seconds",
            "1",
        ]),
        latency(&["--rate", "0", "--seconds", "1"]),
        latency(&["--rate", "2000000", "--seconds", "1"]),
        latency(&["--rate", "10", "--seconds", "1", "--concurrency-limit", "0"]),
        stream(&["--conns", "1", "--seconds", "1", "--segment", "0"]),
        stream(&["--conns", "1", "--seconds", "1", "--segment", "70000"]),
        stream(&["--conns", "0", "--seconds", "1", "--segment", "10"]),
        inject(&["--flows", "0"]),
        inject(&["--flows", "10", "--payload", "2000"]),
        inject(&["--flows", "10", "--open-rate", "100"]),
        inject(&["--flows", "10", "--rate", "0"]),
        inject(&[
            "--flows",
            "10",
            "--src-mac",
            "02:00:00:00:00:02",
            "--src-mac-auto",
        ]),
        inject(&["--flows", "10", "--sources", "10.0.0.0/33"]),
        run_ndtest(&[
            "bench-inject",
            "--ifname",
            "lo",
            "--dst-mac",
            "02:00:00",
            "--vip",
            "192.0.2.1",
            "--port",
            "80",
            "--seconds",
            "1",
            "--flows",
            "10",
        ]),
        run_ndtest(&[
            "bench-sink",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            "sideways",
        ]),
        run_ndtest(&["bench-sink", "--listen", "127.0.0.1:0", "--threads", "0"]),
        run_ndtest(&[
            "count-rx",
            "--ifname",
            "lo",
            "--seconds",
            "1",
            "--interval-ms",
            "0",
        ]),
    ];
    for output in outputs {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert!(!output.stderr.is_empty());
    }
}

#[test]
fn inject_refuses_more_flows_than_its_block_holds() {
    let output = run_ndtest(&[
        "bench-inject",
        "--ifname",
        "lo",
        "--dst-mac",
        "02:00:00:00:00:01",
        "--vip",
        "192.0.2.1",
        "--port",
        "80",
        "--seconds",
        "1",
        "--sources",
        "192.0.2.10/32",
        "--flows",
        "70000",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("do not fit"));
}

#[test]
fn count_rx_names_a_missing_interface() {
    let output = run_ndtest(&["count-rx", "--ifname", "nd-nosuch0", "--seconds", "1"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("nd-nosuch0"));
}

/// Sets up a veth pair in a private network and mount namespace (with its own sysfs, so that
/// `/sys/class/net` shows the pair), counts what `inj1` receives while `bench-inject` sends
/// from `inj0`, and prints the two reports and the namespace's TCP counters before and
/// after, one per line. `inj1` holds the cluster address, so that its stack takes the frames
/// as TCP segments and checks their checksums.
const INJECT_SCRIPT: &str = r#"
set -e
ndtest=$0
ready=$1
mount -t sysfs sysfs /sys
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add inj0 type veth peer name inj1
ip link set inj0 up
ip link set inj1 up
ip addr add 192.0.2.1/32 dev inj1
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.inj1.rp_filter=0
tcp_counters() { grep '^Tcp:' /proc/net/snmp | tail -n 1; }
tcp_counters
"$ndtest" count-rx --ifname inj1 --seconds 3 --ready-file "$ready" > "$ready.rx" &
while [ ! -e "$ready" ]; do sleep 0.05; done
"$ndtest" bench-inject --ifname inj0 --dst-mac "$(cat /sys/class/net/inj1/address)" \
    --vip 192.0.2.1 --port 80 --flows 500 --seconds 1 --open --sources 198.18.0.0/15
wait
cat "$ready.rx"
tcp_counters
"#;

/// The TCP counters of one `/proc/net/snmp` line, by name.
fn tcp_counter(line: &str, name: &str) -> u64 {
    const NAMES: [&str; 15] = [
        "RtoAlgorithm",
        "RtoMin",
        "RtoMax",
        "MaxConn",
        "ActiveOpens",
        "PassiveOpens",
        "AttemptFails",
        "EstabResets",
        "CurrEstab",
        "InSegs",
        "OutSegs",
        "RetransSegs",
        "InErrs",
        "OutRsts",
        "InCsumErrors",
    ];
    let index = NAMES.iter().position(|&n| n == name).unwrap() + 1;
    line.split_whitespace().nth(index).unwrap().parse().unwrap()
}

#[test]
fn inject_frames_reach_a_veth_peer_as_valid_tcp() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root for a network namespace and CAP_NET_RAW");
        return;
    }
    let ready = scratch_path("inject-ready");
    let args = [
        "--net",
        "--mount",
        "sh",
        "-c",
        INJECT_SCRIPT,
        NDTEST,
        ready.to_str().unwrap(),
    ];
    let output = finish(spawn("unshare", &args), COMMAND_LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && (stderr.contains("unshare") || stderr.contains("ip:")) {
        eprintln!("skipped: no private network namespace here: {stderr}");
        return;
    }
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let inject = InjectReport::from_json(lines[1]).unwrap();
    let received = CountRxReport::from_json(lines[2]).unwrap();

    assert_eq!(inject.syns_sent, 500, "{inject:?}");
    assert!(inject.frames_sent > 500, "every flow got ACKs: {inject:?}");
    assert_eq!(inject.send_errors, 0, "{inject:?}");
    assert_eq!(inject.frame_len, 14 + 20 + 20 + 16);
    assert_eq!(inject.open_acks_sent, 500, "{inject:?}");
    let sent = inject.syns_sent + inject.open_acks_sent + inject.frames_sent;
    assert_eq!(received.rx_packets, sent, "{received:?}");
    assert_eq!(
        received.rx_bytes,
        500 * 58 + 500 * inject.frame_len + inject.bytes_sent
    );
    assert!(received.median_active_pps > 0.0);

    let segments = tcp_counter(lines[3], "InSegs") - tcp_counter(lines[0], "InSegs");
    assert_eq!(
        segments, sent,
        "the stack took every frame as a TCP segment"
    );
    assert_eq!(tcp_counter(lines[3], "InCsumErrors"), 0);
    assert_eq!(tcp_counter(lines[3], "InErrs"), 0);
    for path in [
        ready.clone(),
        PathBuf::from(format!("{}.rx", ready.display())),
    ] {
        let _ = std::fs::remove_file(path);
    }
}
