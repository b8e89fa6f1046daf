//! One pass of the feedback loop over the Executor: read its servers, gather each managed
//! server's metrics and health, take every port's decision, and commit the weights that
//! changed enough.
//!
//! Everything here is synchronous and every Executor call blocks; the daemon runs a pass on
//! tokio's blocking pool, and tests drive it directly with a simulated Executor.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ndadm::model::{Service, WeightEntry};
use tracing::{error, info, warn};

use crate::advisor::{AdvisorResults, Verdict};
use crate::config::{AdvisorKind, Config, ServerConfig};
use crate::decision::{decide, Decision, DecisionInput, ServerInput};
use crate::executor::{Executor, ExecutorError, ServerReading};
use crate::host::{HostMetricState, HostSnapshot};
use crate::input::{InputMetrics, InputTracker};
use crate::metric::Metric;
use crate::wcf::{self, ProbeTiming, RecentRates, WeightComputation};

/// What the advisors and the agents say at the time of a pass.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// The advisors' latest verdicts.
    pub advisors: AdvisorResults,
    /// The host metrics' states.
    pub host: HostSnapshot,
    /// Each server's established connections over all its ports as the probes went out
    /// ([`connections_by_server`]); without it, the pass's own reading, taken after the
    /// probes, stands in.
    pub probe_connections: Option<HashMap<Ipv4Addr, u32>>,
}

/// Each server's established connections, summed over the ports it serves: they all share
/// its speed with a probe.
pub fn connections_by_server(readings: &[ServerReading]) -> HashMap<Ipv4Addr, u32> {
    let mut connections: HashMap<Ipv4Addr, u32> = HashMap::new();
    for reading in readings {
        let held = connections.entry(reading.server).or_default();
        *held = held.saturating_add(reading.active);
    }
    connections
}

impl Observations {
    fn host_state(&self, server: Ipv4Addr, name: &str) -> HostMetricState {
        self.host
            .get(&(server, name.to_string()))
            .cloned()
            .unwrap_or(HostMetricState::Pending)
    }
}

/// The state the feedback loop keeps between passes.
#[derive(Default)]
pub struct Feedback {
    inputs: InputTracker,
    rates: HashMap<(Service, Ipv4Addr), RecentRates>,
    weight_computation: Option<Arc<dyn WeightComputation>>,
}

impl Feedback {
    /// A loop that has read nothing yet and computes weights as each service's policy says.
    pub fn new() -> Feedback {
        Feedback::default()
    }

    /// A loop that computes every service's weights with `wcf` instead of its policy's.
    pub fn with_weight_computation(wcf: Arc<dyn WeightComputation>) -> Feedback {
        Feedback {
            inputs: InputTracker::new(),
            rates: HashMap::new(),
            weight_computation: Some(wcf),
        }
    }

    /// Takes one decision per configured port, logs it, and commits it if it says so. Fails
    /// only if the Executor cannot be read; a failed commit is logged and retried naturally
    /// by the next pass, which starts again from the Executor's weights.
    pub fn run(
        &mut self,
        config: &Config,
        executor: &dyn Executor,
        observations: &Observations,
    ) -> Result<Vec<Decision>, ExecutorError> {
        let readings = executor.servers()?;
        // A standby's weights come from its active peer (nd-syncd): it decides, to log what it
        // would do, but commits nothing. An Executor that cannot tell is taken as active.
        let standby = executor.is_standby().unwrap_or(false);
        let inputs = self.inputs.observe(&readings);
        let connections = match &observations.probe_connections {
            Some(connections) => connections.clone(),
            None => connections_by_server(&readings),
        };
        let mut rates = HashMap::new();
        let mut decisions = Vec::new();
        for service in &config.services {
            let on_port: Vec<&ServerReading> = readings
                .iter()
                .filter(|reading| reading.service == service.service)
                .collect();
            let mut servers = Vec::new();
            for server in &service.servers {
                let Some(reading) = on_port.iter().find(|r| r.server == server.address) else {
                    warn!(
                        service = %service.service, server = %server.address,
                        "server {} of {} is configured but not in the Executor",
                        server.address, service.service
                    );
                    continue;
                };
                let input = inputs[&(service.service, server.address)];
                let mut input = server_input(
                    config,
                    service.service,
                    server,
                    reading,
                    Measured {
                        input,
                        connections: connections.get(&server.address).copied().unwrap_or(0),
                    },
                    observations,
                );
                // A server's rates run from its latest return to health and timing on.
                let key = (service.service, server.address);
                let mut recent = self.rates.get(&key).copied().unwrap_or_default();
                match input.timing {
                    Some(timing) if input.is_healthy() => recent.push(timing.rate()),
                    _ => recent = RecentRates::new(),
                }
                rates.insert(key, recent);
                input.rates = recent;
                servers.push(input);
            }
            if servers.is_empty() {
                continue;
            }
            let wcf = match &self.weight_computation {
                Some(wcf) => wcf.as_ref(),
                None => wcf::for_policy(service.policy),
            };
            let decision = decide(
                DecisionInput {
                    service: service.service,
                    policy: service.policy,
                    metrics: &config.metrics,
                    servers,
                    max_weight: config.max_weight,
                    smoothing: config.smoothing,
                    sensitivity: config.sensitivity,
                },
                wcf,
            );
            decision.log();
            if decision.servers.iter().all(|s| s.new_weight == 0) {
                warn!(
                    service = %service.service,
                    "no server of {} is up: its new connections are refused", service.service
                );
            }
            if decision.outcome.is_commit() {
                if standby {
                    info!(
                        service = %service.service,
                        "standby: {} keeps the weights its active peer gives it",
                        service.service
                    );
                } else {
                    commit(executor, &decision, &on_port);
                }
            }
            decisions.push(decision);
        }
        self.rates = rates;
        Ok(decisions)
    }
}

/// Sends a decision's weights in one request. The Executor takes a port's weights only all
/// together, so servers the Manager does not manage are sent with the weight they have.
fn commit(executor: &dyn Executor, decision: &Decision, on_port: &[&ServerReading]) {
    let mut entries = decision.weight_entries();
    for reading in on_port {
        if decision.new_weight(reading.server).is_none() {
            entries.push(WeightEntry {
                server: reading.server,
                weight: reading.weight,
            });
        }
    }
    if let Err(e) = executor.set_weights(decision.service, &entries) {
        error!(service = %decision.service, "committing the weights of {} failed: {e}", decision.service);
    }
}

/// What the Executor's counters say of one managed server.
struct Measured {
    /// Its input metrics on this port.
    input: InputMetrics,
    /// Its established connections over all its ports.
    connections: u32,
}

/// Everything known of one managed server for its port's decision.
fn server_input(
    config: &Config,
    service: Service,
    server: &ServerConfig,
    reading: &ServerReading,
    measured: Measured,
    observations: &Observations,
) -> ServerInput {
    let input = measured.input;
    let address = server.address;
    let verdicts: HashMap<&str, &Verdict> = config
        .advisors
        .iter()
        .filter_map(|advisor| {
            let verdict =
                observations
                    .advisors
                    .get(&advisor.name, address, advisor.port_for(service))?;
            Some((advisor.name.as_str(), verdict))
        })
        .collect();
    // Every advisor and host metric is a health check, weighted in the index or not.
    let mut down = Vec::new();
    for advisor in &config.advisors {
        if let Some(Verdict::Down { reason }) = verdicts.get(advisor.name.as_str()) {
            down.push(format!("advisor {}: {reason}", advisor.name));
        }
    }
    for metric in &config.host_metrics {
        if let HostMetricState::Stale(why) = observations.host_state(address, &metric.name) {
            down.push(format!("host metric {}: {why}", metric.name));
        }
    }
    let values = config
        .metrics
        .iter()
        .map(|weighted| match &weighted.metric {
            Metric::NewConns => input.new_conns.map(|n| n as f64),
            Metric::ActiveConns => Some(f64::from(input.active_conns)),
            Metric::Advisor(name) => verdicts
                .get(name.as_str())
                .and_then(|verdict| verdict.response_ms()),
            Metric::Host(name) => observations.host_state(address, name).value(),
        })
        .collect();
    // The HTTP advisors' answers time the server's own work; a TCP connect is answered by
    // the kernel, so it does not.
    let http_times: Vec<f64> = config
        .advisors
        .iter()
        .filter(|advisor| matches!(advisor.kind, AdvisorKind::Http { .. }))
        .filter_map(|advisor| verdicts.get(advisor.name.as_str())?.response_ms())
        .collect();
    let timing = (!http_times.is_empty()).then(|| ProbeTiming {
        seconds: http_times.iter().sum::<f64>() / http_times.len() as f64 / 1000.0,
        connections: measured.connections,
    });
    ServerInput {
        server: address,
        capacity: server.capacity,
        old_weight: reading.weight,
        down,
        values,
        timing,
        rates: RecentRates::new(),
    }
}

#[cfg(test)]
mod tests;
