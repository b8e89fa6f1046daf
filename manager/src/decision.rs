//! One port's decision: the servers' metrics, their normalized shares and Load Metric Index,
//! the old and new weights, and whether the new weights are committed.
//!
//! Only healthy servers are compared with each other; a server that is down gets weight 0.
//! New weights are committed when a server stops or starts taking new connections (it went
//! down or came back), whatever the size of the change; otherwise only when
//!
//! ```text
//! sum |new - old| / max(sum old, 1) > sensitivity
//! ```
//!
//! so that small wobbles of the metrics do not turn into a stream of netlink requests.

use std::fmt;
use std::net::Ipv4Addr;

use ndadm::model::{Service, WeightEntry};
use tracing::{info, info_span};

use crate::config::Policy;
use crate::lmi::load_metric_index;
use crate::metric::MetricWeight;
use crate::normalize::shares;
use crate::wcf::{ProbeTiming, RecentRates, WcfInput, WcfServer, WeightComputation};

/// What is known of one server when its port's decision is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerInput {
    /// The server's address.
    pub server: Ipv4Addr,
    /// Its configured capacity.
    pub capacity: f64,
    /// Its weight in the Executor now.
    pub old_weight: u32,
    /// Why it is down (an advisor's verdict, a stale host metric); empty when healthy.
    pub down: Vec<String>,
    /// Its value of each metric of the index, in configuration order; `None` when there is
    /// none yet.
    pub values: Vec<Option<f64>>,
    /// Its HTTP advisors' probe time and the connections it held, if they timed it.
    pub timing: Option<ProbeTiming>,
    /// Its rates of service from this round's probe and the latest before.
    pub rates: RecentRates,
}

impl ServerInput {
    /// Whether nothing says the server is down.
    pub fn is_healthy(&self) -> bool {
        self.down.is_empty()
    }
}

/// Everything one port's decision depends on.
#[derive(Clone, Debug)]
pub struct DecisionInput<'a> {
    /// The port.
    pub service: Service,
    /// How its weights are computed.
    pub policy: Policy,
    /// The metrics of the index and their relative weights.
    pub metrics: &'a [MetricWeight],
    /// Its managed servers.
    pub servers: Vec<ServerInput>,
    /// The largest weight to give.
    pub max_weight: u32,
    /// The share of the old weight kept in the new one.
    pub smoothing: f64,
    /// The relative change a commit needs.
    pub sensitivity: f64,
}

/// A port's decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The port.
    pub service: Service,
    /// How its weights were computed.
    pub policy: Policy,
    /// The metrics of the index, in the order of each server's values.
    pub metrics: Vec<MetricWeight>,
    /// Each managed server's inputs and result.
    pub servers: Vec<ServerDecision>,
    /// Whether the new weights go to the Executor, and why.
    pub outcome: Outcome,
}

/// One server's part of a decision.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerDecision {
    /// What was known of it.
    pub input: ServerInput,
    /// Its share of each metric among the healthy servers; `None` where the metric was not
    /// used or the server is down.
    pub shares: Vec<Option<f64>>,
    /// Its Load Metric Index, if it is healthy.
    pub lmi: Option<f64>,
    /// The weight computed for it.
    pub new_weight: u32,
}

/// Whether new weights are committed.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The new weights go to the Executor.
    Commit(CommitReason),
    /// The weights stay as they are.
    Hold(HoldReason),
}

/// Why new weights are committed.
#[derive(Clone, Debug, PartialEq)]
pub enum CommitReason {
    /// Servers stop or start taking new connections; committed at once, whatever the change.
    Availability {
        /// Servers whose weight goes to 0.
        quiesced: Vec<Ipv4Addr>,
        /// Servers whose weight comes up from 0.
        reintroduced: Vec<Ipv4Addr>,
    },
    /// The weights moved by more than the sensitivity.
    Change {
        /// The relative change.
        change: f64,
        /// The configured threshold.
        sensitivity: f64,
    },
}

/// Why weights are not committed.
#[derive(Clone, Debug, PartialEq)]
pub enum HoldReason {
    /// The new weights are the old ones.
    Unchanged,
    /// The weights moved by no more than the sensitivity.
    BelowSensitivity {
        /// The relative change.
        change: f64,
        /// The configured threshold.
        sensitivity: f64,
    },
}

impl Outcome {
    /// Whether the new weights go to the Executor.
    pub fn is_commit(&self) -> bool {
        matches!(self, Outcome::Commit(_))
    }
}

/// Takes one port's decision with weight computation `wcf`.
pub fn decide(input: DecisionInput<'_>, wcf: &dyn WeightComputation) -> Decision {
    let healthy: Vec<usize> = (0..input.servers.len())
        .filter(|&index| input.servers[index].is_healthy())
        .collect();
    let capacities: Vec<f64> = healthy
        .iter()
        .map(|&index| input.servers[index].capacity)
        .collect();
    // A metric enters the index only if every healthy server has a value for it.
    let metric_shares: Vec<Option<Vec<f64>>> = (0..input.metrics.len())
        .map(|metric| {
            let values: Option<Vec<f64>> = healthy
                .iter()
                .map(|&index| input.servers[index].values[metric])
                .collect();
            values.map(|values| shares(&values, &capacities))
        })
        .collect();
    let relative_weights: Vec<f64> = input.metrics.iter().map(|m| m.weight).collect();
    let loads = load_metric_index(&relative_weights, &metric_shares, healthy.len());

    let mut server_shares = vec![vec![None; input.metrics.len()]; input.servers.len()];
    let mut lmi = vec![None; input.servers.len()];
    for (position, &index) in healthy.iter().enumerate() {
        lmi[index] = Some(loads[position]);
        for (metric, shares) in metric_shares.iter().enumerate() {
            server_shares[index][metric] = shares.as_ref().map(|shares| shares[position]);
        }
    }

    let wcf_servers: Vec<WcfServer> = input
        .servers
        .iter()
        .zip(&lmi)
        .map(|(server, &load)| WcfServer {
            load,
            old_weight: server.old_weight,
            capacity: server.capacity,
            rates: server.rates,
        })
        .collect();
    let new_weights = wcf.compute(&WcfInput {
        servers: &wcf_servers,
        max_weight: input.max_weight,
        smoothing: input.smoothing,
        switch_margin: input.sensitivity,
    });
    let addresses: Vec<Ipv4Addr> = input.servers.iter().map(|s| s.server).collect();
    let old_weights: Vec<u32> = input.servers.iter().map(|s| s.old_weight).collect();
    let outcome = judge(&addresses, &old_weights, &new_weights, input.sensitivity);

    let servers = input
        .servers
        .into_iter()
        .zip(server_shares)
        .zip(lmi)
        .zip(new_weights)
        .map(|(((input, shares), lmi), new_weight)| ServerDecision {
            input,
            shares,
            lmi,
            new_weight,
        })
        .collect();
    Decision {
        service: input.service,
        policy: input.policy,
        metrics: input.metrics.to_vec(),
        servers,
        outcome,
    }
}

/// sum |new - old| / max(sum old, 1).
pub fn relative_change(old: &[u32], new: &[u32]) -> f64 {
    let moved: u64 = old
        .iter()
        .zip(new)
        .map(|(&o, &n)| u64::from(o.abs_diff(n)))
        .sum();
    let before: u64 = old.iter().map(|&o| u64::from(o)).sum();
    moved as f64 / before.max(1) as f64
}

/// Whether weights `new` replace `old` on servers `servers`.
pub fn judge(servers: &[Ipv4Addr], old: &[u32], new: &[u32], sensitivity: f64) -> Outcome {
    if old == new {
        return Outcome::Hold(HoldReason::Unchanged);
    }
    let changed = |from_zero: bool| -> Vec<Ipv4Addr> {
        servers
            .iter()
            .zip(old.iter().zip(new))
            .filter(|(_, (&o, &n))| {
                (o == 0 && n > 0 && from_zero) || (o > 0 && n == 0 && !from_zero)
            })
            .map(|(&server, _)| server)
            .collect()
    };
    let (quiesced, reintroduced) = (changed(false), changed(true));
    if !quiesced.is_empty() || !reintroduced.is_empty() {
        return Outcome::Commit(CommitReason::Availability {
            quiesced,
            reintroduced,
        });
    }
    let change = relative_change(old, new);
    if change > sensitivity {
        Outcome::Commit(CommitReason::Change {
            change,
            sensitivity,
        })
    } else {
        Outcome::Hold(HoldReason::BelowSensitivity {
            change,
            sensitivity,
        })
    }
}

impl Decision {
    /// The new weight of every managed server, as the Executor takes them.
    pub fn weight_entries(&self) -> Vec<WeightEntry> {
        self.servers
            .iter()
            .map(|server| WeightEntry {
                server: server.input.server,
                weight: server.new_weight,
            })
            .collect()
    }

    /// The new weight of `server`, if it is managed here.
    pub fn new_weight(&self, server: Ipv4Addr) -> Option<u32> {
        self.servers
            .iter()
            .find(|s| s.input.server == server)
            .map(|s| s.new_weight)
    }

    /// Logs the decision at info level, in a span naming the port: one line for the outcome
    /// and one per server with every input, so that an operator can see why each weight is
    /// what it is.
    pub fn log(&self) {
        let span = info_span!("decision", service = %self.service);
        let _entered = span.enter();
        info!("{}: {}", self.policy.name(), self.outcome);
        for server in &self.servers {
            let health = if server.input.is_healthy() {
                "up".to_string()
            } else {
                format!("down ({})", server.input.down.join("; "))
            };
            let timing = match (self.policy, server.input.timing) {
                (Policy::Capacity, Some(timing)) => format!(
                    "; probe {} ms at {} connections, rate {}/s (median of {} rounds {}/s)",
                    number(timing.seconds * 1000.0),
                    timing.connections,
                    number(timing.rate()),
                    server.input.rates.as_slice().len(),
                    server.input.rates.median().map_or("-".into(), number),
                ),
                (Policy::Capacity, None) => "; no probe timing".to_string(),
                _ => String::new(),
            };
            info!(
                "{} {health}; {}; lmi {}{timing}; weight {} -> {}",
                server.input.server,
                self.metric_text(server),
                server.lmi.map_or("-".into(), number),
                server.input.old_weight,
                server.new_weight,
            );
        }
    }

    /// `name=value/share` for each metric of `server`; `-` where there is none.
    fn metric_text(&self, server: &ServerDecision) -> String {
        self.metrics
            .iter()
            .zip(server.input.values.iter().zip(&server.shares))
            .map(|(metric, (value, share))| {
                format!(
                    "{}={}/{}",
                    metric.metric,
                    value.map_or("-".into(), number),
                    share.map_or("-".into(), number)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A number with at most three decimals and no trailing zeros.
fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn list(servers: &[Ipv4Addr]) -> String {
    servers
        .iter()
        .map(Ipv4Addr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn percent(fraction: f64) -> String {
    format!("{}%", number(fraction * 100.0))
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Commit(CommitReason::Availability {
                quiesced,
                reintroduced,
            }) => {
                f.write_str("committed:")?;
                if !quiesced.is_empty() {
                    write!(f, " quiesced {}", list(quiesced))?;
                }
                if !reintroduced.is_empty() {
                    let joint = if quiesced.is_empty() { "" } else { ";" };
                    write!(f, "{joint} reintroduced {}", list(reintroduced))?;
                }
                Ok(())
            }
            Outcome::Commit(CommitReason::Change {
                change,
                sensitivity,
            }) => write!(
                f,
                "committed: weights moved {}, above the sensitivity of {}",
                percent(*change),
                percent(*sensitivity)
            ),
            Outcome::Hold(HoldReason::Unchanged) => f.write_str("not committed: weights unchanged"),
            Outcome::Hold(HoldReason::BelowSensitivity {
                change,
                sensitivity,
            }) => write!(
                f,
                "not committed: weights moved {}, not above the sensitivity of {}",
                percent(*change),
                percent(*sensitivity)
            ),
        }
    }
}

#[cfg(test)]
mod tests;
