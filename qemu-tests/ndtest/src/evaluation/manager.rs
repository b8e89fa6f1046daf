//! The Manager of one run, for the Manager's policies: nd-manager in the balancer's namespace
//! over the evaluation's port, with an HTTP advisor that probes the emulated servers (its
//! [`PROBE_PATH`] is a request that waits in their queues, so its timing reflects the load,
//! as in the paper) and a `load` host metric that an nd-agent on each server reads
//! from the server's load file. The Manager gives the port the policy's scheduler. All of
//! them end with the run.

use super::servers::{load_file, SERVICE_PORT, WORK_DIR};
use crate::benchmark::balancer::{BALANCER_ADDR, BALANCER_NS};
use crate::suite::cluster::{Outcome, SERVERS, SERVER_NAMES, VIP};
use crate::suite::daemon::Daemon;
use crate::suite::manager_config::{agent_config, ManagerSetup, DEFAULT_METRICS};
use std::time::Duration;

use super::policy::{Policy, MAX_WEIGHT};

/// What the HTTP advisor asks for: 20 work units, near the mean request (22.6), 20 ms on
/// an idle fast server: large next to the few milliseconds a request costs the emulated
/// machine outside the server's queue, which a one-unit probe would time instead (see the
/// limits of `nd_manager::wcf::MeasuredCapacity`).
pub const PROBE_PATH: &str = "/work/20";

/// Where the agents send their reports.
const AGENT_PORT: u16 = 7050;

fn manager_log() -> String {
    format!("{WORK_DIR}/nd-manager.log")
}

/// The Manager's configuration for `policy` (one of the Manager's) deciding every
/// `interval`: the README's metric weights, and `capacities` declared if given.
pub fn config(policy: Policy, capacities: Option<&[f64]>, interval: Duration) -> String {
    ManagerSetup {
        interval,
        agent_listen: &format!("{BALANCER_ADDR}:{AGENT_PORT}"),
        metrics: DEFAULT_METRICS,
        advisor_port: SERVICE_PORT,
        advisor_path: PROBE_PATH,
        // Within the interval, as the Manager requires.
        advisor_timeout: interval * 3 / 4,
        stale_after: interval * 3,
        vip: VIP,
        port: SERVICE_PORT,
        scheduler: policy.executor_scheduler(),
        policy: policy.manager_policy().unwrap_or("weighted"),
        servers: &SERVERS,
        capacities,
        max_weight: u64::from(MAX_WEIGHT),
    }
    .render()
}

/// nd-manager and the agents of one run.
pub struct ManagerRun {
    // Dropped first: the Manager stops before what it watches.
    manager: Daemon,
    _agents: Vec<Daemon>,
}

impl ManagerRun {
    /// Starts the agents, then the Manager for `policy` with `capacities` declared,
    /// deciding every `interval`.
    pub fn start(
        policy: Policy,
        capacities: Option<&[f64]>,
        interval: Duration,
    ) -> Result<ManagerRun, String> {
        let manager_address = format!("{BALANCER_ADDR}:{AGENT_PORT}");
        let mut agents = Vec::new();
        for (server, name) in SERVER_NAMES.iter().enumerate() {
            let path = format!("{WORK_DIR}/nd-agent-{name}.toml");
            std::fs::write(&path, agent_config(&manager_address, &load_file(server)))
                .map_err(|e| format!("{path}: {e}"))?;
            let log = format!("{WORK_DIR}/nd-agent-{name}.log");
            agents.push(Daemon::start(name, &["nd-agent", "--config", &path], &log)?);
        }
        let path = format!("{WORK_DIR}/nd-manager.toml");
        std::fs::write(&path, config(policy, capacities, interval))
            .map_err(|e| format!("{path}: {e}"))?;
        let _ = std::fs::remove_file(manager_log());
        let manager = Daemon::start(
            BALANCER_NS,
            &["nd-manager", "--config", &path],
            &manager_log(),
        )?;
        Ok(ManagerRun {
            manager,
            _agents: agents,
        })
    }

    /// Fails, with the end of its log, if the Manager has exited.
    pub fn alive(&mut self) -> Outcome {
        self.manager
            .alive()
            .map_err(|e| format!("{e}; its log ends:\n{}", log_tail()))
    }
}

/// The last lines of the Manager's log.
pub fn log_tail() -> String {
    let log = std::fs::read_to_string(manager_log()).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manager_accepts_the_evaluation_s_configuration() {
        let managed = Policy::ALL
            .into_iter()
            .filter(|p| p.manager_policy().is_some());
        for policy in managed {
            for capacities in [None, Some(&[1.0, 1.0, 0.5][..])] {
                let text = config(policy, capacities, Duration::from_secs(2));
                let parsed = nd_manager::config::Config::parse("evaluation.toml", &text)
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                let service = &parsed.services[0];
                assert_eq!(service.service.port, SERVICE_PORT);
                assert_eq!(service.scheduler.name(), policy.executor_scheduler());
                assert_eq!(Some(service.policy.name()), policy.manager_policy());
                let declared: Vec<f64> = service.servers.iter().map(|s| s.capacity).collect();
                assert_eq!(declared, capacities.map_or(vec![1.0; 3], <[f64]>::to_vec));
                assert_eq!(parsed.advisors[0].timeout, Duration::from_millis(1500));
                assert_eq!(
                    parsed.advisors[0].kind,
                    nd_manager::config::AdvisorKind::Http {
                        path: PROBE_PATH.into()
                    }
                );
            }
        }
    }
}
