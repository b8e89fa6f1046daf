//! The Manager in the loop: its configuration, its in-memory Executor, and one decision
//! from what the simulated servers show.
//!
//! Nothing of the Manager is modelled: each decision is the real feedback pass
//! ([`Feedback::run`]) on a configuration parsed by [`Config::parse`], over a
//! [`MemoryExecutor`] that the Manager provisions as at its start (which gives the port its
//! configured scheduler), whose counters the simulation copies in (new connections given to
//! each server, requests in progress as its established connections) and whose weights it
//! copies back. The advisor's verdicts are those of simulated probes, with the requests in
//! progress as they went out; the host metric `load` is what an agent would report.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use nd_core::sched::SchedulerKind;
use nd_manager::advisor::{AdvisorResults, Probe, Verdict};
use nd_manager::config::{show_duration, Config};
use nd_manager::cycle::{Feedback, Observations};
use nd_manager::executor::MemoryExecutor;
use nd_manager::host::{HostMetricState, HostSnapshot};
use nd_manager::provision::provision;
use nd_manager::wcf::InverseLoad;
use ndadm::model::Service;

use crate::alternatives::ProportionalCorrection;
use crate::policy::{ManagerSetup, Replacement};

/// The simulated cluster's VIP and port.
pub const SERVICE: Service = Service {
    vip: Ipv4Addr::new(10, 0, 0, 100),
    port: 80,
};

/// The advisor's name in the configuration.
pub const ADVISOR: &str = "http";

/// The host metric's name in the configuration.
pub const HOST_METRIC: &str = "load";

/// The address of server `index`: 10.0.1.1, 10.0.1.2, ...
pub fn server_address(index: usize) -> Ipv4Addr {
    let index = u32::try_from(index).expect("fewer than 2^32 servers");
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 1, 1)) + index)
}

/// The Manager's configuration for servers of `capacities` (as declared), a port scheduled
/// by `scheduler`, and `setup`: the example configuration of the project's README, with the
/// Manager's defaults for what it leaves out (the interval unless `setup` gives one, the
/// smoothing, sensitivity, maximum weight and advisor timeout, and the policy unless `setup`
/// gives one).
pub fn config_text(capacities: &[f64], scheduler: SchedulerKind, setup: ManagerSetup) -> String {
    let mut text = String::new();
    if let Some(interval) = setup.interval {
        text.push_str(&format!("interval = \"{}\"\n\n", show_duration(interval)));
    }
    text.push_str(
        "[metrics]\nnew_conns = 0.3\nactive_conns = 0.2\nhttp = 0.3\nload = 0.2\n\n\
         [[advisor]]\nname = \"http\"\nkind = \"http\"\npath = \"/\"\n\n\
         [[host_metric]]\nname = \"load\"\n\n",
    );
    text.push_str(&format!(
        "[[service]]\nvip = \"{}\"\nport = {}\nscheduler = \"{}\"\n",
        SERVICE.vip,
        SERVICE.port,
        scheduler.name()
    ));
    if let Some(policy) = setup.policy {
        text.push_str(&format!("policy = \"{}\"\n", policy.name()));
    }
    for (index, capacity) in capacities.iter().enumerate() {
        text.push_str(&format!(
            "  [[service.server]]\n  address = \"{}\"\n  capacity = {capacity:?}\n",
            server_address(index)
        ));
    }
    text
}

/// How a server answered the advisor's probe.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeOutcome {
    /// It answered, after this many seconds.
    Answered(f64),
    /// It answered with an error status.
    Error(u16),
    /// It had not answered when the advisor's timeout ran out.
    NoAnswer,
}

/// What the Manager sees of one server at a decision.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerView {
    /// New connections the Executor gave it since it was added.
    pub conns: u64,
    /// Its established connections now.
    pub active: u32,
    /// Its established connections as the probes went out.
    pub active_at_probe: u32,
    /// The advisor's probe of this round.
    pub probe: ProbeOutcome,
    /// The agent's latest `load` report.
    pub load: f64,
}

/// A Manager with its own Executor.
pub struct ManagerLink {
    config: Config,
    executor: MemoryExecutor,
    feedback: Feedback,
    addresses: Vec<Ipv4Addr>,
}

impl ManagerLink {
    /// A Manager for servers declared with `capacities`, configured for a port scheduled by
    /// `scheduler` and by `setup`, over an Executor whose servers start with `weights`. The
    /// Manager provisions the Executor as at its start, which gives the port its scheduler.
    pub fn new(
        capacities: &[f64],
        scheduler: SchedulerKind,
        setup: ManagerSetup,
        weights: &[u32],
    ) -> ManagerLink {
        let text = config_text(capacities, scheduler, setup);
        let config = Config::parse("simulation.toml", &text)
            .expect("the simulation's configuration is valid");
        let executor = MemoryExecutor::new();
        let addresses: Vec<Ipv4Addr> = (0..capacities.len()).map(server_address).collect();
        for (&address, &weight) in addresses.iter().zip(weights) {
            executor.insert(SERVICE, address, weight);
        }
        provision(&executor, &config).expect("the in-memory Executor answers");
        ManagerLink {
            config,
            executor,
            feedback: match setup.replaced_by {
                Some(Replacement::InverseLoad) => {
                    Feedback::with_weight_computation(Arc::new(InverseLoad))
                }
                Some(Replacement::ProportionalCorrection) => {
                    Feedback::with_weight_computation(Arc::new(ProportionalCorrection))
                }
                None => Feedback::new(),
            },
            addresses,
        }
    }

    /// The scheduler the Manager gave the Executor's port.
    pub fn scheduler(&self) -> SchedulerKind {
        self.executor
            .scheduler(SERVICE)
            .expect("the port was provisioned")
    }

    /// The configuration the Manager runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Seconds between two rounds.
    pub fn interval(&self) -> f64 {
        self.config.interval.as_secs_f64()
    }

    /// How long the advisor waits for an answer.
    pub fn probe_timeout(&self) -> f64 {
        self.config.advisors[0].timeout.as_secs_f64()
    }

    /// One round: the counters go into the Executor, the Manager decides and commits, and
    /// the Executor's weights come back, one per server.
    pub fn decide(&mut self, views: &[ServerView]) -> Vec<u32> {
        assert_eq!(views.len(), self.addresses.len());
        let index: HashMap<Ipv4Addr, usize> = self
            .addresses
            .iter()
            .enumerate()
            .map(|(i, &address)| (address, i))
            .collect();
        self.executor.with(|state| {
            for reading in &mut state.servers {
                let view = &views[index[&reading.server]];
                reading.conns = view.conns;
                reading.active = view.active;
            }
        });
        let observations = self.observations(views);
        self.feedback
            .run(&self.config, &self.executor, &observations)
            .expect("the in-memory Executor answers");
        self.executor.with(|state| {
            let mut weights = vec![0; self.addresses.len()];
            for reading in &state.servers {
                weights[index[&reading.server]] = reading.weight;
            }
            weights
        })
    }

    fn observations(&self, views: &[ServerView]) -> Observations {
        let timeout = self.config.advisors[0].timeout;
        let mut verdicts = HashMap::new();
        let mut host = HostSnapshot::new();
        let mut probe_connections = HashMap::new();
        for (&address, view) in self.addresses.iter().zip(views) {
            probe_connections.insert(address, view.active_at_probe);
            let verdict = match view.probe {
                ProbeOutcome::Answered(seconds) => Verdict::Up {
                    response: Duration::from_secs_f64(seconds),
                },
                ProbeOutcome::Error(status) => Verdict::Down {
                    reason: format!("HTTP status {status}"),
                },
                ProbeOutcome::NoAnswer => Verdict::Down {
                    reason: format!("no answer within {}", show_duration(timeout)),
                },
            };
            let probe = Probe {
                advisor: ADVISOR.to_string(),
                server: address,
                port: SERVICE.port,
            };
            verdicts.insert(probe, verdict);
            host.insert(
                (address, HOST_METRIC.to_string()),
                HostMetricState::Fresh(view.load),
            );
        }
        Observations {
            advisors: AdvisorResults::new(verdicts),
            host,
            probe_connections: Some(probe_connections),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nd_manager::config::Policy;

    fn view(conns: u64, active: u32, probe: ProbeOutcome, load: f64) -> ServerView {
        ServerView {
            conns,
            active,
            active_at_probe: active,
            probe,
            load,
        }
    }

    #[test]
    fn addresses_count_up_from_10_0_1_1() {
        assert_eq!(server_address(0), Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(server_address(255), Ipv4Addr::new(10, 0, 2, 0));
    }

    use crate::policy::DEFAULTS;

    #[test]
    fn the_configuration_parses_with_the_declared_capacities() {
        let best = ManagerSetup {
            policy: Some(Policy::Best),
            interval: Some(Duration::from_secs(2)),
            ..DEFAULTS
        };
        let text = config_text(&[1.0, 0.5], SchedulerKind::Wrr, best);
        let config = Config::parse("t.toml", &text).unwrap();
        assert_eq!(config.services[0].policy, Policy::Best);
        assert_eq!(config.services[0].servers[1].capacity, 0.5);
        assert_eq!(config.interval, Duration::from_secs(2));
        let text = config_text(&[1.0, 0.5], SchedulerKind::Wlc, DEFAULTS);
        let config = Config::parse("t.toml", &text).unwrap();
        assert_eq!(config.services[0].policy, Policy::Capacity);
        assert_eq!(config.interval, nd_manager::config::DEFAULT_INTERVAL);
    }

    #[test]
    fn the_manager_gives_the_port_its_scheduler() {
        let manager = ManagerLink::new(&[1.0; 2], SchedulerKind::Sed, DEFAULTS, &[1; 2]);
        assert_eq!(manager.scheduler(), SchedulerKind::Sed);
    }

    #[test]
    fn a_loaded_server_loses_weight_and_a_failing_one_is_quiesced() {
        let mut manager = ManagerLink::new(&[1.0; 3], SchedulerKind::Wrr, DEFAULTS, &[100; 3]);
        let idle = |conns| view(conns, 1, ProbeOutcome::Answered(0.001), 1.0);
        // The first round has no new-connection counts yet; the second has.
        manager.decide(&[idle(0), idle(0), idle(0)]);
        let weights = manager.decide(&[
            idle(100),
            idle(100),
            view(100, 40, ProbeOutcome::Answered(0.05), 40.0),
        ]);
        assert_eq!(weights[0], 100);
        assert!(weights[2] < 60, "{weights:?}");
        let weights = manager.decide(&[
            idle(200),
            idle(200),
            view(150, 0, ProbeOutcome::Error(500), 0.0),
        ]);
        assert_eq!(weights[2], 0, "{weights:?}");
        let weights = manager.decide(&[
            idle(300),
            idle(300),
            view(150, 0, ProbeOutcome::NoAnswer, 0.0),
        ]);
        assert_eq!(weights[2], 0, "{weights:?}");
        let weights = manager.decide(&[idle(400), idle(400), idle(150)]);
        assert!(weights[2] > 0, "{weights:?}");
    }
}
