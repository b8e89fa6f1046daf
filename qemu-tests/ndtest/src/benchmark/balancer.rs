//! The balancer each measurement goes through: a namespace of its own on the LAN holding the
//! cluster address, with the Executor or IPVS configured alike, made afresh for every
//! measurement so that no run inherits another's connection table; or no balancer at all.
//! The load-sharing evaluation uses it too, with its own ports, weights and IPVS scheduler.
//!
//! The Executor's module is loaded only for its own runs, so that the other paths do not pay
//! for its hook.

use super::results::PathKind;
use crate::suite::cluster::{
    in_netns, ip, module_command, ndadm, remove_module, run, Outcome, CLIENT_NS, SERVERS, VIP,
};

/// The balancer's namespace and its address on the LAN.
pub const BALANCER_NS: &str = "bench-lb";
pub const BALANCER_ADDR: &str = "10.0.0.5";
/// The ports of the cluster address: HTTP transactions, a discard sink, injected frames.
pub const HTTP_PORT: u16 = 8000;
pub const DISCARD_PORT: u16 = 9000;
pub const INJECT_PORT: u16 = 7000;
const PORTS: [u16; 3] = [HTTP_PORT, DISCARD_PORT, INJECT_PORT];
/// Room for the largest table the benchmark fills, with its half-full pressure mark above it.
const CONN_LIMIT: u32 = 4 << 20;

/// How a balancer's ports are configured: every port of `ports` on the cluster address, with
/// the servers of `SERVERS` at `weights` (in that order).
#[derive(Clone, Copy, Debug)]
pub struct Services<'a> {
    pub ports: &'a [u16],
    pub weights: &'a [u32; 3],
    /// IPVS's scheduler (`ipvsadm -s`); the Executor has weighted round robin only.
    pub ipvs_scheduler: &'a str,
}

/// The benchmark's: its three ports, equal weights, weighted round robin.
pub const BENCHMARK_SERVICES: Services<'static> = Services {
    ports: &PORTS,
    weights: &[1, 1, 1],
    ipvs_scheduler: "wrr",
};

/// Whether the Executor's module is loaded.
pub fn module_loaded() -> bool {
    std::fs::read_to_string("/proc/modules")
        .is_ok_and(|modules| modules.lines().any(|line| line.starts_with("nd ")))
}

/// Loads the Executor's module or unloads it.
pub fn set_module_loaded(loaded: bool) -> Outcome {
    match (loaded, module_loaded()) {
        (true, false) => module_command("insmod", "/nd/nd.ko"),
        (false, true) => remove_module(),
        _ => Ok(()),
    }
}

/// Loads or unloads the Executor's module as `path` wants it.
fn module_for(path: PathKind) -> Outcome {
    set_module_loaded(path == PathKind::Ours)
}

/// Where the client sends to on `path`: the cluster address, or the first server.
pub fn target(path: PathKind) -> &'static str {
    match path {
        PathKind::Direct => SERVERS[0],
        _ => VIP,
    }
}

/// A balancer set up for one measurement, taken down when dropped.
pub struct Balancer {
    path: PathKind,
}

impl Balancer {
    /// Sets up `path`: for the Executor and IPVS, a fresh namespace holding the cluster
    /// address with the three servers at weight 1 on every benchmark port.
    pub fn up(path: PathKind) -> Result<Balancer, String> {
        Balancer::up_with(path, &BENCHMARK_SERVICES)
    }

    /// Sets up `path` with `services` on the cluster address.
    pub fn up_with(path: PathKind, services: &Services<'_>) -> Result<Balancer, String> {
        module_for(path)?;
        let balancer = Balancer { path };
        if path == PathKind::Direct {
            return Ok(balancer);
        }
        remove_namespace();
        ip(&["netns", "add", BALANCER_NS])?;
        ip(&[
            "link",
            "add",
            "v-bench",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            BALANCER_NS,
        ])?;
        ip(&["link", "set", "v-bench", "master", "br0", "up"])?;
        let address = format!("{BALANCER_ADDR}/24");
        let vip = format!("{VIP}/32");
        for args in [
            vec!["addr", "add", address.as_str(), "dev", "eth0"],
            vec!["addr", "add", vip.as_str(), "dev", "eth0"],
            vec!["link", "set", "eth0", "up"],
            vec!["link", "set", "lo", "up"],
        ] {
            let mut full = vec!["-n", BALANCER_NS];
            full.extend(args);
            ip(&full)?;
        }
        // The client learns the new balancer's MAC for the cluster address.
        ip(&["-n", CLIENT_NS, "neigh", "flush", "dev", "eth0"])?;
        match path {
            PathKind::Ours => configure_executor(services)?,
            _ => configure_ipvs(services)?,
        }
        Ok(balancer)
    }

    /// Makes the HTTP port schedule by `scheduler` (`wrr` or `wlc`): `ndadm port set` for the
    /// Executor, `ipvsadm -E` for IPVS.
    pub fn schedule_http_by(&self, scheduler: &str) -> Outcome {
        let service = format!("{VIP}:{HTTP_PORT}");
        match self.path {
            PathKind::Ours => ndadm(
                BALANCER_NS,
                &["port", "set", &service, "--scheduler", scheduler],
            )
            .map(drop),
            PathKind::Ipvs => run(
                BALANCER_NS,
                &["ipvsadm", "-E", "-t", &service, "-s", scheduler],
            )
            .map(drop),
            PathKind::Direct => Ok(()),
        }
    }

    /// The MAC frames for `path` are injected to.
    pub fn mac(&self) -> Result<String, String> {
        let ns = match self.path {
            PathKind::Direct => "srv1",
            _ => BALANCER_NS,
        };
        Ok(run(ns, &["cat", "/sys/class/net/eth0/address"])?
            .trim()
            .to_owned())
    }

    /// Entries in the balancer's connection table.
    pub fn entries(&self) -> Result<u64, String> {
        match self.path {
            PathKind::Ours => {
                let info = ndadm_json(&["info"])?;
                Ok(info["conn_count"].as_u64().unwrap_or(0))
            }
            PathKind::Ipvs => in_netns(BALANCER_NS, || {
                use std::io::{BufRead, BufReader};
                // /proc/net is the namespace of the process; thread-self's that of this thread.
                let path = "/proc/thread-self/net/ip_vs_conn";
                let table = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
                // One line a connection, under a header.
                let lines = BufReader::new(table).split(b'\n').count() as u64;
                Ok(lines.saturating_sub(1))
            }),
            PathKind::Direct => Ok(0),
        }
    }

    /// What the Executor says its table's slots take, in bytes.
    pub fn table_bytes(&self) -> Result<Option<u64>, String> {
        if self.path != PathKind::Ours {
            return Ok(None);
        }
        Ok(ndadm_json(&["info"])?["conn_table_bytes"].as_u64())
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if self.path != PathKind::Direct {
            remove_namespace();
        }
    }
}

/// Deletes the balancer's namespace, if there is one (a run that failed may leave it).
fn remove_namespace() {
    if std::path::Path::new("/run/netns")
        .join(BALANCER_NS)
        .exists()
    {
        let _ = ip(&["netns", "del", BALANCER_NS]);
    }
}

fn ndadm_json(args: &[&str]) -> Result<serde_json::Value, String> {
    let mut full = vec!["-j"];
    full.extend_from_slice(args);
    let out = ndadm(BALANCER_NS, &full)?;
    serde_json::from_str(&out).map_err(|e| format!("ndadm {}: {e}: {out}", args.join(" ")))
}

fn configure_executor(services: &Services<'_>) -> Outcome {
    let limit = CONN_LIMIT.to_string();
    ndadm(
        BALANCER_NS,
        &[
            "config",
            "set",
            "--conn-limit",
            &limit,
            "--timeout-syn-pressure",
            "0",
        ],
    )?;
    ndadm(BALANCER_NS, &["vip", "add", VIP])?;
    for port in services.ports {
        let service = format!("{VIP}:{port}");
        ndadm(BALANCER_NS, &["port", "add", &service])?;
        for (server, weight) in SERVERS.iter().zip(services.weights) {
            let weight = weight.to_string();
            ndadm(
                BALANCER_NS,
                &["server", "add", &service, server, "--weight", &weight],
            )?;
        }
    }
    Ok(())
}

fn configure_ipvs(services: &Services<'_>) -> Outcome {
    for port in services.ports {
        let service = format!("{VIP}:{port}");
        run(
            BALANCER_NS,
            &[
                "ipvsadm",
                "-A",
                "-t",
                &service,
                "-s",
                services.ipvs_scheduler,
            ],
        )?;
        for (server, weight) in SERVERS.iter().zip(services.weights) {
            let real = format!("{server}:{port}");
            let weight = weight.to_string();
            run(
                BALANCER_NS,
                &[
                    "ipvsadm", "-a", "-t", &service, "-r", &real, "-g", "-w", &weight,
                ],
            )?;
        }
    }
    Ok(())
}
