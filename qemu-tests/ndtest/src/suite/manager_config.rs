//! The configuration files of the Manager and its agents that the guest's drivers write:
//! one Manager over one port of a cluster address with an HTTP advisor and a `load` host
//! metric, and agents that report the `load` a file holds.

use std::fmt::Write as _;
use std::time::Duration;

/// What the Manager weighs, as `[metrics]` lines, e.g. `http = 1.0`.
pub type Metrics<'a> = &'a [(&'a str, f64)];

/// The README's relative weights of the Load Metric Index.
pub const DEFAULT_METRICS: Metrics<'static> = &[
    ("new_conns", 0.3),
    ("active_conns", 0.2),
    ("http", 0.3),
    ("load", 0.2),
];

/// One Manager over `vip`:`port`.
#[derive(Clone, Debug)]
pub struct ManagerSetup<'a> {
    pub interval: Duration,
    /// The address agents send their reports to: the Manager's host's, and a port.
    pub agent_listen: &'a str,
    pub metrics: Metrics<'a>,
    /// The servers' port the HTTP advisor probes, and the path it asks for.
    pub advisor_port: u16,
    pub advisor_path: &'a str,
    pub advisor_timeout: Duration,
    /// How long an agent's report stays valid.
    pub stale_after: Duration,
    pub vip: &'a str,
    pub port: u16,
    /// The Executor's scheduler for the port, which the Manager gives it: `wrr`, `wlc` or
    /// `sed`.
    pub scheduler: &'a str,
    /// `weighted`, `best` or `capacity`.
    pub policy: &'a str,
    pub servers: &'a [&'a str],
    /// Each server's relative capacity; `None` declares none (every server alike).
    pub capacities: Option<&'a [f64]>,
    pub max_weight: u64,
}

impl ManagerSetup<'_> {
    /// The configuration file.
    pub fn render(&self) -> String {
        let mut text = format!(
            "interval = \"{}ms\"\nsmoothing = 0.5\nsensitivity = 0.05\nmax_weight = {}\n\
             agent_listen = \"{}\"\n\n[metrics]\n",
            self.interval.as_millis(),
            self.max_weight,
            self.agent_listen
        );
        for (name, weight) in self.metrics {
            let _ = writeln!(text, "{name} = {weight}");
        }
        let _ = write!(
            text,
            "\n[[advisor]]\nname = \"http\"\nkind = \"http\"\nport = {}\npath = \"{}\"\n\
             timeout = \"{}ms\"\n\n[[host_metric]]\nname = \"load\"\nstale_after = \"{}ms\"\n\n\
             [[service]]\nvip = \"{}\"\nport = {}\nscheduler = \"{}\"\npolicy = \"{}\"\n",
            self.advisor_port,
            self.advisor_path,
            self.advisor_timeout.as_millis(),
            self.stale_after.as_millis(),
            self.vip,
            self.port,
            self.scheduler,
            self.policy
        );
        for (index, server) in self.servers.iter().enumerate() {
            let _ = writeln!(text, "  [[service.server]]\n  address = \"{server}\"");
            if let Some(capacity) = self.capacities.and_then(|c| c.get(index)) {
                let _ = writeln!(text, "  capacity = {capacity:?}");
            }
        }
        text
    }
}

/// An agent's configuration: every second it reports to `manager` the `load` that
/// `load_file` holds.
pub fn agent_config(manager: &str, load_file: &str) -> String {
    format!(
        "manager = \"{manager}\"\nperiod = \"1s\"\n\n[[metric]]\nname = \"load\"\n\
         command = \"cat {load_file}\"\ntimeout = \"1s\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(policy: &str) -> ManagerSetup<'_> {
        ManagerSetup {
            interval: Duration::from_secs(2),
            agent_listen: "10.0.0.5:7050",
            metrics: DEFAULT_METRICS,
            advisor_port: 8000,
            advisor_path: "/",
            advisor_timeout: Duration::from_millis(1500),
            stale_after: Duration::from_secs(6),
            vip: "10.0.0.100",
            port: 8000,
            scheduler: "wrr",
            policy,
            servers: &["10.0.0.11", "10.0.0.12"],
            capacities: None,
            max_weight: 100,
        }
    }

    #[test]
    fn the_manager_accepts_what_is_written() {
        for policy in ["weighted", "best"] {
            let text = setup(policy).render();
            let config = nd_manager::config::Config::parse("test.toml", &text)
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(config.services.len(), 1);
            assert_eq!(config.services[0].servers.len(), 2);
            assert_eq!(config.services[0].policy.name(), policy);
            assert_eq!(config.interval, Duration::from_secs(2));
        }
    }

    #[test]
    fn the_scheduler_and_capacities_are_written() {
        let text = ManagerSetup {
            scheduler: "wlc",
            capacities: Some(&[1.0, 0.5]),
            ..setup("capacity")
        }
        .render();
        let config = nd_manager::config::Config::parse("test.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let service = &config.services[0];
        assert_eq!(service.scheduler.name(), "wlc");
        assert_eq!(service.policy.name(), "capacity");
        let capacities: Vec<f64> = service.servers.iter().map(|s| s.capacity).collect();
        assert_eq!(capacities, [1.0, 0.5]);
    }

    #[test]
    fn a_policy_the_manager_lacks_is_refused() {
        let text = setup("fastest").render();
        assert!(nd_manager::config::Config::parse("test.toml", &text).is_err());
    }

    #[test]
    fn the_agent_reads_its_load_file() {
        let text = agent_config("10.0.0.5:7050", "/tmp/load-srv1");
        let config = nd_manager::agent::AgentConfig::parse("agent.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.manager.to_string(), "10.0.0.5:7050");
        assert_eq!(config.metrics[0].name, "load");
        assert_eq!(config.metrics[0].command, "cat /tmp/load-srv1");
    }
}
