//! The two binaries as an operator runs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANAGER: &str = env!("CARGO_BIN_EXE_nd-manager");
const AGENT: &str = env!("CARGO_BIN_EXE_nd-agent");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nd-manager-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_accepts_the_examples() {
    for (binary, file, summary) in [
        (MANAGER, "nd-manager.toml", "valid (1 services, 3 servers)"),
        (AGENT, "nd-agent.toml", "valid (1 metrics)"),
    ] {
        let path = example(file);
        let output = Command::new(binary)
            .args(["--check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "{binary}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(stdout.trim(), format!("{}: {summary}", path.display()));
    }
}

#[test]
fn check_refuses_an_invalid_file_naming_line_and_field() {
    let dir = scratch("check");
    let path = dir.join("manager.toml");
    std::fs::write(&path, "[metrics]\nnew_conns = 0.5\nload = 0.5\n").unwrap();
    let output = Command::new(MANAGER)
        .args(["--check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "nd-manager: {}: line 3: field `metrics.load`: unknown metric \"load\"",
            path.display()
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn signal(pid: &str, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A daemon that is killed if the test fails before it stops.
struct Daemon(Option<Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the daemon without the nd module: it logs that the Executor cannot be read and goes
/// on; SIGHUP reloads, SIGTERM stops it cleanly and removes the pid file.
#[test]
fn the_daemon_survives_a_missing_module_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = scratch("signals");
    let config = dir.join("manager.toml");
    let pid_file = dir.join("nd-manager.pid");
    let text = "interval = \"200ms\"\n[metrics]\nactive_conns = 1\n[[service]]\n\
                vip = \"10.0.0.100\"\nport = 80\n";
    std::fs::write(&config, text).unwrap();
    let mut daemon = Daemon(Some(
        Command::new(MANAGER)
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
    assert_eq!(pid, daemon.0.as_ref().unwrap().id().to_string());

    // An invalid file is refused and the daemon goes on.
    std::fs::write(&config, text.replace("200ms", "0s")).unwrap();
    signal(&pid, "HUP");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&config, text).unwrap();
    signal(&pid, "HUP");
    std::thread::sleep(Duration::from_millis(500));
    signal(&pid, "TERM");

    let output = daemon.0.take().unwrap().wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(!pid_file.exists());
    for expected in [
        "cannot bring the Executor up to the configuration",
        "no decision this round",
        "reload refused, going on with the previous configuration",
        "line 1: field `interval`: must be longer than 0",
        "configuration reloaded",
        "stopped; the Executor keeps the weights it has",
    ] {
        assert!(log.contains(expected), "no {expected:?} in:\n{log}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_agent_sends_one_report_and_prints_it() {
    let dir = scratch("agent");
    let config = dir.join("agent.toml");
    let manager = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    std::fs::write(
        &config,
        format!(
            "manager = \"{}\"\n[[metric]]\nname = \"load\"\ncommand = \"echo 0.5\"\n",
            manager.local_addr().unwrap()
        ),
    )
    .unwrap();
    let output = Command::new(AGENT)
        .arg("--once")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed.trim(), r#"{"version":1,"metrics":{"load":0.5}}"#);
    let mut buffer = [0u8; 2048];
    manager
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let length = manager.recv(&mut buffer).unwrap();
    assert_eq!(&buffer[..length], printed.trim().as_bytes());
    std::fs::remove_dir_all(dir).unwrap();
}
