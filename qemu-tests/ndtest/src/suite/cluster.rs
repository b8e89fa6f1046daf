//! The cluster the guest's topology.sh builds, and the commands scenarios drive it with.

use crate::report::{ConnectReport, HoldReport};
use serde_json::Value;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The namespaces and addresses of topology.sh.
pub const CLIENT_NS: &str = "client";
pub const LB_NS: &str = "lb";
pub const LB2_NS: &str = "lb2";
pub const CLIENT: &str = "10.0.0.2";
pub const LB_ADDR: &str = "10.0.0.1";
pub const VIP: &str = "10.0.0.100";
pub const VIP2: &str = "10.0.0.200";
pub const SERVERS: [&str; 3] = ["10.0.0.11", "10.0.0.12", "10.0.0.13"];
pub const SERVER_NAMES: [&str; 3] = ["srv1", "srv2", "srv3"];
/// The servers' addresses on the second LAN, which only they and the first dispatcher share.
pub const BACK_SERVERS: [&str; 3] = ["10.1.0.11", "10.1.0.12", "10.1.0.13"];

pub type Outcome = Result<(), String>;

/// `ci` in the suite, `full` when the VM runs the adversarial scenarios at full size
/// (`make stress`).
pub fn scaled(ci: u32, full: u32) -> u32 {
    if std::env::var("ND_STRESS").is_ok_and(|v| v == "1") {
        full
    } else {
        ci
    }
}

/// One of the address constants above, parsed for the netlink client.
pub fn ipv4(addr: &str) -> std::net::Ipv4Addr {
    addr.parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)
}

/// Fails the scenario with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

/// Runs `ip ARGS` in the root namespace.
pub fn ip(args: &[&str]) -> Outcome {
    let status = Command::new("/sbin/ip")
        .args(args)
        .status()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    ensure(status.success(), || {
        format!("ip {}: {status}", args.join(" "))
    })
}

/// `insmod` or `rmmod` with one argument.
pub fn module_command(program: &str, arg: &str) -> Outcome {
    let status = Command::new(program)
        .arg(arg)
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    ensure(status.success(), || format!("{program} {arg}: {status}"))
}

/// `rmmod nd`, retried for a while: a dump in progress, or a namespace being torn down,
/// holds a reference to the module.
pub fn remove_module() -> Outcome {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match module_command("rmmod", "nd") {
            Err(e) if attempts >= 50 => return Err(format!("{e} ({attempts} attempts)")),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
            Ok(()) => return Ok(()),
        }
    }
}

fn in_ns(ns: &str, args: &[&str]) -> Command {
    let mut command = Command::new("/sbin/ip");
    command.args(["netns", "exec", ns]).args(args);
    command
}

/// Runs `args` in namespace `ns`: its stdout, or its stderr as the error.
pub fn run(ns: &str, args: &[&str]) -> Result<String, String> {
    let output = in_ns(ns, args)
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "`{}` in {ns} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim(),
            stdout.trim()
        ))
    }
}

/// Runs ndadm in `ns`.
pub fn ndadm(ns: &str, args: &[&str]) -> Result<String, String> {
    let mut full = vec!["ndadm"];
    full.extend_from_slice(args);
    run(ns, &full)
}

/// Runs ndadm with JSON output in `ns`.
pub fn ndadm_json(ns: &str, args: &[&str]) -> Result<Value, String> {
    let mut full = vec!["-j"];
    full.extend_from_slice(args);
    let out = ndadm(ns, &full)?;
    serde_json::from_str(&out)
        .map_err(|e| format!("ndadm {}: bad JSON ({e}): {out}", args.join(" ")))
}

/// Replaces the dispatcher's configuration with `vip`:80 and `servers` with weights.
pub fn configure(ns: &str, vip: &str, servers: &[(&str, u32)]) -> Outcome {
    ndadm(ns, &["flush"])?;
    ndadm(
        ns,
        &[
            "config",
            "set",
            "--timeout-syn",
            "60",
            "--timeout-established",
            "900",
            "--timeout-fin",
            "120",
            "--timeout-close",
            "10",
        ],
    )?;
    ndadm(ns, &["vip", "add", vip])?;
    let service = format!("{vip}:80");
    ndadm(ns, &["port", "add", &service])?;
    for (server, weight) in servers {
        ndadm(
            ns,
            &[
                "server",
                "add",
                &service,
                server,
                "--weight",
                &weight.to_string(),
            ],
        )?;
    }
    Ok(())
}

/// Sets one server's weight.
pub fn set_weight(ns: &str, vip: &str, server: &str, weight: u32) -> Outcome {
    ndadm(
        ns,
        &[
            "server",
            "set",
            &format!("{vip}:80"),
            server,
            "--weight",
            &weight.to_string(),
        ],
    )
    .map(drop)
}

/// `count` short connections from the client to `vip`:`port`.
pub fn connect(vip: &str, port: u16, count: u32, parallel: u32) -> Result<ConnectReport, String> {
    let out = run(
        CLIENT_NS,
        &[
            "ndtest",
            "connect",
            "--to",
            &format!("{vip}:{port}"),
            "--count",
            &count.to_string(),
            "--parallel",
            &parallel.to_string(),
            "--timeout-ms",
            "5000",
        ],
    )?;
    ConnectReport::from_json(out.trim()).map_err(|e| format!("connect report: {e}: {out}"))
}

/// Long-lived connections running in the background; a hold given up unfinished (its
/// scenario failed) is killed, so that it streams into no later scenario.
pub struct Hold {
    child: Option<Child>,
    ready: String,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.ready);
    }
}

impl Hold {
    /// Opens `conns` connections to `vip`:80 that stream for `seconds`, and waits until they
    /// are established.
    pub fn start(vip: &str, conns: u32, seconds: u32) -> Result<Hold, String> {
        Hold::start_with(vip, conns, seconds, 5000, 200)
    }

    /// As `start`, each read or write waiting up to `timeout_ms`, each connection sending a
    /// chunk every `interval_ms`.
    pub fn start_with(
        vip: &str,
        conns: u32,
        seconds: u32,
        timeout_ms: u64,
        interval_ms: u64,
    ) -> Result<Hold, String> {
        // Several holds may be open at once: each has a file of its own.
        static HOLDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let number = HOLDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ready = format!("/tmp/hold-ready-{}-{number}", std::process::id());
        let _ = std::fs::remove_file(&ready);
        let child = in_ns(
            CLIENT_NS,
            &[
                "ndtest",
                "hold",
                "--to",
                &format!("{vip}:80"),
                "--conns",
                &conns.to_string(),
                "--seconds",
                &seconds.to_string(),
                "--ready-file",
                &ready,
                "--timeout-ms",
                &timeout_ms.to_string(),
                "--interval-ms",
                &interval_ms.to_string(),
            ],
        )
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("hold: {e}"))?;
        let hold = Hold {
            child: Some(child),
            ready,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::path::Path::new(&hold.ready).exists() {
            if Instant::now() > deadline {
                return Err("hold: connections not established within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(hold)
    }

    /// Waits for the streams to end and returns what they saw.
    pub fn finish(mut self) -> Result<HoldReport, String> {
        let child = self.child.take().ok_or("hold: already finished")?;
        let output = child.wait_with_output().map_err(|e| format!("hold: {e}"))?;
        let out = String::from_utf8_lossy(&output.stdout);
        HoldReport::from_json(out.trim()).map_err(|e| format!("hold report: {e}: {out}"))
    }
}

/// Fails unless some of the held streams went to server `name` and all `conns` came through
/// intact.
pub fn streams_intact(streams: &HoldReport, name: &str, conns: u32) -> Outcome {
    ensure(
        streams.per_server.get(name).copied().unwrap_or(0) > 0,
        || format!("no stream reached {name}: {:?}", streams.per_server),
    )?;
    ensure(streams.intact == u64::from(conns), || {
        format!(
            "{} of {conns} streams broke: {:?}",
            u64::from(conns).saturating_sub(streams.intact),
            streams.errors
        )
    })
}

/// Runs `work` on a thread that has entered network namespace `ns`, so the netlink sockets it
/// opens reach that namespace's Executor.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    // Where `ip netns add` put the namespace: /run/netns, or /var/run/netns on older systems.
    let path = ["/run/netns", "/var/run/netns"]
        .map(|dir| format!("{dir}/{ns}"))
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .ok_or_else(|| format!("no network namespace {ns}"))?;
    std::thread::spawn(move || {
        let file = File::open(&path).map_err(|e| format!("{path}: {e}"))?;
        // SAFETY: `file` is an open namespace file; setns changes only this thread's network
        // namespace, and the thread ends with `work`.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(format!("setns {path}: {}", std::io::Error::last_os_error()));
        }
        work()
    })
    .join()
    .map_err(|_| "the namespace thread panicked".to_owned())?
}

/// One server's row of `ndadm server show`.
#[derive(Debug, Default)]
pub struct ServerRow {
    pub server: String,
    pub weight: u64,
    pub conns: u64,
    pub active: u64,
    pub inactive: u64,
    pub packets: u64,
    /// Clients bound to it by affinity.
    pub affinity_records: u64,
}

fn field(v: &Value, name: &str) -> u64 {
    v.get(name).and_then(Value::as_u64).unwrap_or(0)
}

/// The servers of the dispatcher in `ns` with their counters.
pub fn servers(ns: &str) -> Result<Vec<ServerRow>, String> {
    let v = ndadm_json(ns, &["server", "show"])?;
    let rows = v
        .as_array()
        .ok_or_else(|| format!("server show: not a list: {v}"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let stats = r.get("stats").cloned().unwrap_or_default();
            ServerRow {
                server: r
                    .get("server")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                weight: field(r, "weight"),
                conns: field(&stats, "conns"),
                active: field(&stats, "active"),
                inactive: field(&stats, "inactive"),
                packets: field(&stats, "packets"),
                affinity_records: field(r, "affinity_records"),
            }
        })
        .collect())
}

/// The dispatcher's global figures (`ndadm info`).
pub fn info(ns: &str) -> Result<Value, String> {
    ndadm_json(ns, &["info"])
}

/// What the dispatcher in `ns` dropped, by reason, for failure messages.
pub fn drops(ns: &str) -> String {
    info(ns).map_or_else(|e| e, |v| v["drops"].to_string())
}

/// A number inside `v` at `path`.
pub fn number(v: &Value, path: &[&str]) -> u64 {
    path.iter()
        .try_fold(v, |v, key| v.get(*key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// A counter of a network device in `ns`.
pub fn device_counter(ns: &str, dev: &str, counter: &str) -> Result<u64, String> {
    let out = run(
        ns,
        &["cat", &format!("/sys/class/net/{dev}/statistics/{counter}")],
    )?;
    out.trim()
        .parse()
        .map_err(|e| format!("{dev} {counter}: {e}"))
}
