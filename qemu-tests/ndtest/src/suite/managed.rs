//! A cluster run by the Manager: nd-manager in the dispatcher's namespace, and on each server
//! an nd-agent reporting a `load` read from a file and an HTTP health endpoint for the
//! advisor. Every process belongs to the scenario and ends with it.

use super::cluster::*;
use super::daemon::Daemon;
use super::manager_config::{agent_config, ManagerSetup, Metrics};
use std::fs;
use std::time::{Duration, Instant};

/// The Manager's interval in these scenarios.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// The port of the servers' health endpoints.
const HEALTH_PORT: u16 = 8080;
/// How long the HTTP advisor waits for an answer.
pub const ADVISOR_TIMEOUT: Duration = Duration::from_millis(800);
/// How long an agent's report stays valid at the Manager.
/// Several agent periods: a slow moment of the emulated machine must not make a server look
/// down.
pub const STALE_AFTER: Duration = Duration::from_secs(6);
/// The largest weight the Manager may give.
pub const MAX_WEIGHT: u64 = 100;
/// Where the agents send their reports.
pub const AGENT_PORT: u16 = 7050;
const MANAGER_CONFIG: &str = "/tmp/nd-manager.toml";
const MANAGER_LOG: &str = "/tmp/nd-manager.log";

/// The Manager's configuration for `VIP`:80 and the three servers.
fn manager_config(metrics: Metrics<'_>) -> String {
    ManagerSetup {
        interval: INTERVAL,
        agent_listen: &format!("{LB_ADDR}:{AGENT_PORT}"),
        metrics,
        advisor_port: HEALTH_PORT,
        advisor_path: "/",
        advisor_timeout: ADVISOR_TIMEOUT,
        stale_after: STALE_AFTER,
        vip: VIP,
        port: 80,
        scheduler: "wrr",
        policy: "weighted",
        servers: &SERVERS,
        capacities: None,
        max_weight: MAX_WEIGHT,
    }
    .render()
}

fn load_file(server: usize) -> String {
    format!("/tmp/nd-load-{}", SERVER_NAMES[server])
}

/// Three servers with agents and health endpoints, and the Manager over them.
pub struct ManagedCluster {
    // Dropped first: the Manager stops before what it watches.
    manager: Option<Daemon>,
    agents: [Option<Daemon>; 3],
    health: [Option<Daemon>; 3],
}

impl ManagedCluster {
    /// Configures `VIP`:80 with the three servers at weight 1, sets every server's load to
    /// 10, and starts the agents, the health endpoints (`slow` answers after `slow_ms`) and
    /// the Manager weighing `metrics`.
    pub fn start(metrics: Metrics<'_>, slow: Option<(usize, u64)>) -> Result<Self, String> {
        configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
        let _ = fs::remove_file(MANAGER_LOG);
        let mut agents = [None, None, None];
        let mut health = [None, None, None];
        for server in 0..SERVERS.len() {
            set_load(server, 10)?;
            agents[server] = Some(start_agent(server)?);
            let delay = slow.filter(|(s, _)| *s == server).map_or(0, |(_, ms)| ms);
            health[server] = Some(start_health(server, delay, None)?);
        }
        fs::write(MANAGER_CONFIG, manager_config(metrics)).map_err(|e| e.to_string())?;
        let manager = Daemon::start(
            LB_NS,
            &["nd-manager", "--config", MANAGER_CONFIG],
            MANAGER_LOG,
        )?;
        Ok(ManagedCluster {
            manager: Some(manager),
            agents,
            health,
        })
    }

    /// Stops server `server`'s health endpoint.
    pub fn stop_health(&mut self, server: usize) {
        self.health[server] = None;
    }

    /// Starts server `server`'s health endpoint again.
    pub fn restart_health(&mut self, server: usize) -> Outcome {
        self.health[server] = None;
        self.health[server] = Some(start_health(server, 0, None)?);
        Ok(())
    }

    /// Replaces server `server`'s health endpoint with one that answers as `fault` says.
    pub fn break_health(&mut self, server: usize, fault: &str) -> Outcome {
        self.health[server] = None;
        self.health[server] = Some(start_health(server, 0, Some(fault))?);
        Ok(())
    }

    /// The Manager's log so far.
    pub fn manager_log(&self) -> String {
        fs::read_to_string(MANAGER_LOG).unwrap_or_default()
    }

    /// Stops server `server`'s agent.
    pub fn stop_agent(&mut self, server: usize) {
        self.agents[server] = None;
    }

    /// Starts server `server`'s agent again.
    pub fn restart_agent(&mut self, server: usize) -> Outcome {
        self.agents[server] = Some(start_agent(server)?);
        Ok(())
    }

    /// Rewrites the Manager's configuration with `metrics` and makes it reload.
    pub fn reload(&mut self, metrics: Metrics<'_>) -> Outcome {
        fs::write(MANAGER_CONFIG, manager_config(metrics)).map_err(|e| e.to_string())?;
        self.manager()?.signal(libc::SIGHUP)
    }

    /// Stops the Manager.
    pub fn stop_manager(&mut self) {
        self.manager = None;
    }

    fn manager(&mut self) -> Result<&mut Daemon, String> {
        self.manager
            .as_mut()
            .ok_or_else(|| "the Manager was stopped".to_owned())
    }

    /// Waits up to `limit` until `done` holds for the weights of the three servers (in the
    /// order of `SERVERS`); returns them and the time it took.
    pub fn wait_for_weights(
        &mut self,
        limit: Duration,
        done: impl Fn(&[u64; 3]) -> bool,
    ) -> Result<([u64; 3], Duration), String> {
        let start = Instant::now();
        loop {
            self.manager()?.alive()?;
            let weights = weights()?;
            // When the reading is done, the weights were so at some point before.
            let seen = start.elapsed();
            if done(&weights) && seen <= limit {
                return Ok((weights, seen));
            }
            if seen > limit {
                return Err(format!(
                    "weights {weights:?} after {seen:?}, limit {limit:?}; manager log:\n{}",
                    manager_log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Sets the `load` server `server`'s agent reports.
pub fn set_load(server: usize, load: u32) -> Outcome {
    let path = load_file(server);
    // The file may be the FIFO of `hang_load`.
    let _ = fs::remove_file(&path);
    fs::write(path, format!("{load}\n")).map_err(|e| e.to_string())
}

/// Makes server `server`'s agent command hang: the file it reads becomes a FIFO nobody
/// writes to.
pub fn hang_load(server: usize) -> Outcome {
    let path = load_file(server);
    let _ = fs::remove_file(&path);
    let c_path = std::ffi::CString::new(path.clone()).map_err(|e| e.to_string())?;
    // SAFETY: `c_path` is a valid NUL-terminated path for the call's duration.
    if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } == 0 {
        Ok(())
    } else {
        Err(format!(
            "mkfifo {path}: {}",
            std::io::Error::last_os_error()
        ))
    }
}

fn start_agent(server: usize) -> Result<Daemon, String> {
    let name = SERVER_NAMES[server];
    let config = format!("/tmp/nd-agent-{name}.toml");
    let text = agent_config(&format!("{LB_ADDR}:{AGENT_PORT}"), &load_file(server));
    fs::write(&config, text).map_err(|e| e.to_string())?;
    Daemon::start(
        name,
        &["nd-agent", "--config", &config],
        &format!("/tmp/nd-agent-{name}.log"),
    )
}

fn start_health(server: usize, delay_ms: u64, fault: Option<&str>) -> Result<Daemon, String> {
    let name = SERVER_NAMES[server];
    let listen = format!("0.0.0.0:{HEALTH_PORT}");
    let delay = delay_ms.to_string();
    let mut args = vec![
        "ndtest",
        "serve",
        "--http",
        "--listen",
        &listen,
        "--name",
        name,
        "--delay-ms",
        &delay,
    ];
    if let Some(fault) = fault {
        args.extend(["--fault", fault]);
    }
    let daemon = Daemon::start(name, &args, "/dev/null")?;
    run(
        LB_NS,
        &[
            "ndtest",
            "wait-port",
            "--to",
            &format!("{}:{HEALTH_PORT}", SERVERS[server]),
            "--timeout-ms",
            "10000",
        ],
    )?;
    Ok(daemon)
}

/// The weights of the three servers of `VIP`:80, in the order of `SERVERS`.
pub fn weights() -> Result<[u64; 3], String> {
    let rows = servers(LB_NS)?;
    let mut weights = [0; 3];
    for (weight, addr) in weights.iter_mut().zip(SERVERS) {
        *weight = rows
            .iter()
            .find(|r| r.server == addr)
            .ok_or_else(|| format!("{addr} missing from server show"))?
            .weight;
    }
    Ok(weights)
}

/// The end of the Manager's log, for failure messages.
pub fn manager_log_tail() -> String {
    let log = fs::read_to_string(MANAGER_LOG).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
