//! The binary as an operator runs it, without the nd module.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SYNCD: &str = env!("CARGO_BIN_EXE_nd-syncd");

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nd-syncd-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(path: &Path) -> std::process::Output {
    Command::new(SYNCD)
        .args(["--check", "--config"])
        .arg(path)
        .output()
        .unwrap()
}

/// Checks `file` of the repository and expects it valid, with `summary`.
fn assert_valid(file: &str, summary: &str) {
    let path = repository().join(file);
    let output = check(&path);
    assert!(output.status.success(), "{file}: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.trim(), format!("{}: {summary}", path.display()));
}

#[test]
fn check_accepts_the_example() {
    assert_valid(
        "syncd/examples/nd-syncd.toml",
        "valid (node lb-a, listening on 10.0.0.1:7060, peer 10.0.0.2:7060)",
    );
}

#[test]
fn check_accepts_the_configurations_of_the_keepalived_pair() {
    assert_valid(
        "examples/ha/node-a/nd-syncd.toml",
        "valid (node lb-a, listening on 10.0.0.1:7060, peer 10.0.0.2:7060)",
    );
    assert_valid(
        "examples/ha/node-b/nd-syncd.toml",
        "valid (node lb-b, listening on 10.0.0.2:7060, peer 10.0.0.1:7060)",
    );
}

#[test]
fn check_refuses_an_invalid_file_naming_line_and_field() {
    let dir = scratch("check");
    let path = dir.join("nd-syncd.toml");
    std::fs::write(
        &path,
        "peer = \"192.168.0.2:7060\"\nkeepalive = \"1 fortnight\"\n",
    )
    .unwrap();
    let output = check(&path);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "nd-syncd: {}: line 2: field `keepalive`: \"1 fortnight\" is not a duration",
            path.display()
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A daemon that is killed if the test fails before it stops.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: &str, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Without the module the daemon cannot read its role: it says so and goes on. SIGHUP
/// reloads; SIGTERM stops it cleanly and removes the pid file.
#[test]
fn the_daemon_survives_a_missing_module_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = scratch("signals");
    let config = dir.join("nd-syncd.toml");
    let pid_file = dir.join("nd-syncd.pid");
    // Port 1 of loopback: nothing answers, so the daemon keeps dialling with backoff.
    let text = "node = \"lb-a\"\nlisten = \"127.0.0.1:0\"\npeer = \"127.0.0.1:1\"\n\
                role_poll = \"50ms\"\nretry_max = \"200ms\"\n";
    std::fs::write(&config, text).unwrap();
    let mut daemon = Running(Some(
        Command::new(SYNCD)
            .arg("--config")
            .arg(&config)
            .arg("--pid-file")
            .arg(&pid_file)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let started = Instant::now();
    let pid = loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            break pid.trim().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no pid file appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300));

    // An invalid file is refused and the daemon goes on; a change of peer needs a restart.
    std::fs::write(&config, text.replace("50ms", "0s")).unwrap();
    signal(&pid, "HUP");
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&config, text.replace("127.0.0.1:1\"", "127.0.0.1:2\"")).unwrap();
    signal(&pid, "HUP");
    std::thread::sleep(Duration::from_millis(200));
    signal(&pid, "TERM");

    let mut child = daemon.0.take().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!pid_file.exists(), "the pid file is removed");
    for expected in [
        "cannot read the Executor's role",
        "reload refused, going on with the previous configuration",
        "peer changed: that takes a restart",
        "stopped",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in:\n{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
