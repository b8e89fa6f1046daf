//! Advisors: forward metrics, measured by timing a request to each server the way a client
//! would make it.
//!
//! Every advisor probes every managed server of every service, at the server's real address
//! and the advisor's port (or the service's). The response time in milliseconds is the
//! metric; a probe that fails or takes longer than the advisor's timeout marks the server
//! down for the service. All probes of a round run at once, so a round lasts at most the
//! longest timeout.

pub mod http;
pub mod tcp;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{self, Instant};

use crate::config::{show_duration, AdvisorKind, Config};

/// An advisor's verdict on one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The server answered as expected, in this time.
    Up {
        /// From the start of the connection to the end of the answer.
        response: Duration,
    },
    /// The server failed the probe.
    Down {
        /// What went wrong: refused, timed out, an error status.
        reason: String,
    },
}

impl Verdict {
    /// The response time in milliseconds, if the server is up.
    pub fn response_ms(&self) -> Option<f64> {
        match self {
            Verdict::Up { response } => Some(response.as_secs_f64() * 1000.0),
            Verdict::Down { .. } => None,
        }
    }

    /// Whether the server failed the probe.
    pub fn is_down(&self) -> bool {
        matches!(self, Verdict::Down { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Up { response } => {
                write!(f, "up in {:.1} ms", response.as_secs_f64() * 1000.0)
            }
            Verdict::Down { reason } => write!(f, "down: {reason}"),
        }
    }
}

/// One advisor's probe of one server port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Probe {
    /// The advisor's name.
    pub advisor: String,
    /// The server's address.
    pub server: Ipv4Addr,
    /// The port probed.
    pub port: u16,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "advisor {} on {}:{}",
            self.advisor, self.server, self.port
        )
    }
}

/// The verdicts of one round of probes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdvisorResults(HashMap<Probe, Verdict>);

impl AdvisorResults {
    /// Results holding `verdicts`.
    pub fn new(verdicts: HashMap<Probe, Verdict>) -> AdvisorResults {
        AdvisorResults(verdicts)
    }

    /// The verdict of advisor `advisor` on `server`:`port`, if it probed it.
    pub fn get(&self, advisor: &str, server: Ipv4Addr, port: u16) -> Option<&Verdict> {
        self.0.get(&Probe {
            advisor: advisor.to_string(),
            server,
            port,
        })
    }

    /// The probes whose server went down or came back since `previous`, with the new
    /// verdict, in a stable order. A first verdict counts as a change only if it is down.
    pub fn changes_since(&self, previous: &AdvisorResults) -> Vec<(&Probe, &Verdict)> {
        let mut changes: Vec<(&Probe, &Verdict)> = self
            .0
            .iter()
            .filter(|(probe, verdict)| match previous.0.get(probe) {
                Some(before) => before.is_down() != verdict.is_down(),
                None => verdict.is_down(),
            })
            .collect();
        changes.sort_by(|a, b| a.0.cmp(b.0));
        changes
    }
}

/// Every probe `config` calls for, each once even when several services share a server.
pub fn probes(config: &Config) -> BTreeSet<Probe> {
    let mut probes = BTreeSet::new();
    for advisor in &config.advisors {
        for service in &config.services {
            for server in &service.servers {
                probes.insert(Probe {
                    advisor: advisor.name.clone(),
                    server: server.address,
                    port: advisor.port_for(service.service),
                });
            }
        }
    }
    probes
}

/// Probes `server`:`port` as `kind` says, giving up after `timeout`.
pub async fn probe(kind: &AdvisorKind, server: Ipv4Addr, port: u16, timeout: Duration) -> Verdict {
    let target = SocketAddr::from((server, port));
    let started = Instant::now();
    let checked = match kind {
        AdvisorKind::Http { path } => time::timeout(timeout, http::check(target, path)).await,
        AdvisorKind::Tcp => time::timeout(timeout, tcp::check(target)).await,
    };
    match checked {
        Ok(Ok(())) => Verdict::Up {
            response: started.elapsed(),
        },
        Ok(Err(reason)) => Verdict::Down { reason },
        Err(_) => Verdict::Down {
            reason: format!("no answer within {}", show_duration(timeout)),
        },
    }
}

/// Runs every probe of `config` at once and collects the verdicts.
pub async fn probe_all(config: &Config) -> AdvisorResults {
    let mut running = JoinSet::new();
    for probe in probes(config) {
        let Some(advisor) = config.advisors.iter().find(|a| a.name == probe.advisor) else {
            continue;
        };
        let (kind, timeout) = (advisor.kind.clone(), advisor.timeout);
        running.spawn(async move {
            let verdict = self::probe(&kind, probe.server, probe.port, timeout).await;
            (probe, verdict)
        });
    }
    let mut verdicts = HashMap::new();
    while let Some(finished) = running.join_next().await {
        // A probe task only ends by returning: nothing in it panics and nothing aborts it.
        let (probe, verdict) = finished.expect("a probe task does not panic");
        verdicts.insert(probe, verdict);
    }
    AdvisorResults(verdicts)
}

/// An I/O error as a short reason, without the "(os error N)" Rust appends.
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_lowercase(),
        None => text,
    }
}

#[cfg(test)]
mod tests;
