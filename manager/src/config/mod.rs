//! The Manager's configuration file: its TOML model, defaults and validation.
//!
//! ```toml
//! interval = "2s"
//! smoothing = 0.5
//! sensitivity = 0.05
//! max_weight = 100
//! agent_listen = "0.0.0.0:7050"
//!
//! [metrics]
//! new_conns = 0.3
//! active_conns = 0.2
//! http = 0.3
//! load = 0.2
//!
//! [[advisor]]
//! name = "http"
//! kind = "http"
//! timeout = "2s"
//!
//! [[host_metric]]
//! name = "load"
//!
//! [[service]]
//! vip = "10.0.0.100"
//! port = 80
//!   [[service.server]]
//!   address = "10.0.0.11"
//! ```
//!
//! `manager/examples/nd-manager.toml` documents every field. A file is either valid as a whole
//! or rejected with the first problem found; nothing of a rejected file is used.

mod file;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use nd_netlink_proto::family::{MAX_SERVERS_PER_PORT, MAX_WEIGHT};
use ndadm::model::{SchedulerKind, Service};
use serde::Deserialize;
use toml::Spanned;

pub(crate) use file::{checked, first_seen, positive_duration, required, unique_name};
pub use file::{show_duration, ConfigError, DurationValue, Source};

use crate::agent_report;
use crate::metric::{Metric, MetricWeight};

/// How often the Manager reads the Executor and decides, unless configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
/// The share of the previous weight kept in each new weight, unless configured.
pub const DEFAULT_SMOOTHING: f64 = 0.5;
/// The relative weight change below which nothing is committed, unless configured.
pub const DEFAULT_SENSITIVITY: f64 = 0.05;
/// The largest weight the Manager gives, unless configured.
pub const DEFAULT_MAX_WEIGHT: u32 = 100;
/// Where agent reports arrive, unless configured.
pub const DEFAULT_AGENT_LISTEN: &str = "0.0.0.0:7050";
/// An advisor's timeout, unless configured (or the interval, if that is shorter).
pub const DEFAULT_ADVISOR_TIMEOUT: Duration = Duration::from_secs(2);
/// A host metric goes stale after this many intervals without a report, unless configured.
pub const DEFAULT_STALE_INTERVALS: u32 = 3;
/// The path an HTTP advisor requests, unless configured.
pub const DEFAULT_HTTP_PATH: &str = "/";
/// How far the relative weights may sum from 1.
const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// A validated Manager configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Time between two decisions.
    pub interval: Duration,
    /// The share of the old weight kept in a new one: new = s * old + (1 - s) * target.
    pub smoothing: f64,
    /// Weights are committed only when sum|new - old| / sum(old) exceeds this.
    pub sensitivity: f64,
    /// Computed weights lie in 1..=max_weight (0 for servers that are down).
    pub max_weight: u32,
    /// The UDP address agent reports arrive at.
    pub agent_listen: SocketAddr,
    /// The metrics of the Load Metric Index with their relative weights, in file order.
    pub metrics: Vec<MetricWeight>,
    /// The advisors; each checks every server of every service.
    pub advisors: Vec<AdvisorConfig>,
    /// The metrics agents report; each is also a health check.
    pub host_metrics: Vec<HostMetricConfig>,
    /// The services whose weights the Manager sets.
    pub services: Vec<ServiceConfig>,
}

/// An advisor: a timed request to each server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisorConfig {
    /// Its name, which `[metrics]` refers to.
    pub name: String,
    /// What it sends.
    pub kind: AdvisorKind,
    /// The port it probes; `None` probes each service's own port.
    pub port: Option<u16>,
    /// How long a probe may take before the server counts as down.
    pub timeout: Duration,
}

impl AdvisorConfig {
    /// The port this advisor probes on the servers of `service`.
    pub fn port_for(&self, service: Service) -> u16 {
        self.port.unwrap_or(service.port)
    }
}

/// What an advisor sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdvisorKind {
    /// `GET path HTTP/1.0`; a 2xx or 3xx status is healthy.
    Http {
        /// The requested path.
        path: String,
    },
    /// A TCP connection, closed once established.
    Tcp,
}

/// A metric reported by the agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostMetricConfig {
    /// The name agents report it under.
    pub name: String,
    /// A server whose last report of it is older than this is down.
    pub stale_after: Duration,
}

/// How a service's weights are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Weights in inverse proportion to load (the default under `wrr`).
    Weighted,
    /// Every new connection to the least-loaded healthy server.
    Best,
    /// Weights in proportion to each server's measured capacity (the default under `wlc`
    /// and `sed`).
    Capacity,
}

impl Policy {
    /// The policy's name in configuration and logs.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Weighted => "weighted",
            Policy::Best => "best",
            Policy::Capacity => "capacity",
        }
    }

    /// The policy a service scheduled by `scheduler` has when the file names none: weights
    /// that follow load for round robin, which deals connections out blind to the servers'
    /// state, and capacities for the schedulers that follow each server's connections.
    pub fn default_for(scheduler: SchedulerKind) -> Policy {
        match scheduler {
            SchedulerKind::Wrr => Policy::Weighted,
            SchedulerKind::Wlc | SchedulerKind::Sed => Policy::Capacity,
        }
    }

    /// Whether the policy's weights may be given to `scheduler`. The load-following
    /// policies fight a scheduler that already reacts to every connection (the weights
    /// oscillate), so only `capacity` goes with `wlc` and `sed`.
    pub fn suits(self, scheduler: SchedulerKind) -> bool {
        self == Policy::Capacity || scheduler == SchedulerKind::Wrr
    }
}

/// A port of a cluster address and the servers the Manager weighs for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// The `VIP:PORT`.
    pub service: Service,
    /// The Executor's connection scheduler for the port.
    pub scheduler: SchedulerKind,
    /// How weights are computed.
    pub policy: Policy,
    /// The servers, in file order.
    pub servers: Vec<ServerConfig>,
}

/// A server behind a service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// Its real address, which advisors probe and agents report from.
    pub address: Ipv4Addr,
    /// Its relative capacity: metric values are divided by it before normalization.
    pub capacity: f64,
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = Source::read(path)?;
        Config::parse(&path.display().to_string(), &text)
    }

    /// Validates `text`, the contents of the file named `file` in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let source = Source { file, text };
        let raw: RawConfig = source.deserialize()?;
        raw.validate(&source)
    }

    /// Every configured server address, whatever its services.
    pub fn server_addresses(&self) -> BTreeSet<Ipv4Addr> {
        self.services
            .iter()
            .flat_map(|service| service.servers.iter().map(|server| server.address))
            .collect()
    }

    /// Every `(service, server)` pair the Manager manages.
    pub fn managed_servers(&self) -> BTreeSet<(Service, Ipv4Addr)> {
        self.services
            .iter()
            .flat_map(|service| {
                service
                    .servers
                    .iter()
                    .map(move |server| (service.service, server.address))
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    interval: Option<Spanned<DurationValue>>,
    smoothing: Option<Spanned<f64>>,
    sensitivity: Option<Spanned<f64>>,
    max_weight: Option<Spanned<i64>>,
    agent_listen: Option<Spanned<String>>,
    metrics: Spanned<BTreeMap<Spanned<String>, Spanned<f64>>>,
    #[serde(default)]
    advisor: Vec<RawAdvisor>,
    #[serde(default)]
    host_metric: Vec<RawHostMetric>,
    #[serde(default)]
    service: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisor {
    name: Spanned<String>,
    kind: Spanned<RawAdvisorKind>,
    port: Option<Spanned<i64>>,
    path: Option<Spanned<String>>,
    timeout: Option<Spanned<DurationValue>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawAdvisorKind {
    Http,
    Tcp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHostMetric {
    name: Spanned<String>,
    stale_after: Option<Spanned<DurationValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    vip: Spanned<String>,
    port: Spanned<i64>,
    scheduler: Option<Spanned<String>>,
    policy: Option<Spanned<Policy>>,
    #[serde(default)]
    server: Vec<RawServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    address: Spanned<String>,
    capacity: Option<Spanned<f64>>,
}

fn port_number(value: &i64) -> Result<u16, String> {
    match u16::try_from(*value) {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{value} is not a port (1 to 65535)")),
    }
}

fn unicast_address(text: &String) -> Result<Ipv4Addr, String> {
    let address: Ipv4Addr = text
        .parse()
        .map_err(|_| format!("\"{text}\" is not an IPv4 address"))?;
    if address.is_unspecified() || address.is_broadcast() || address.is_multicast() {
        return Err(format!("{address} is not a unicast address"));
    }
    Ok(address)
}

fn scheduler_name(text: &String) -> Result<SchedulerKind, String> {
    SchedulerKind::from_name(text).ok_or_else(|| {
        let names: Vec<String> = SchedulerKind::ALL
            .iter()
            .map(|kind| format!("\"{}\"", kind.name()))
            .collect();
        format!(
            "\"{text}\" is not a scheduler; known are {}",
            names.join(", ")
        )
    })
}

fn metric_name(text: &String) -> Result<String, String> {
    agent_report::check_metric_name(text)?;
    if Metric::is_input_name(text) {
        return Err(format!("\"{text}\" is the name of an input metric"));
    }
    Ok(text.clone())
}

fn http_path(text: &String) -> Result<String, String> {
    // The path goes into the request line as written, so it must not break the line.
    if !text.starts_with('/') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "\"{text}\" is not a request path (it starts with '/' and has no spaces)"
        ));
    }
    Ok(text.clone())
}

impl RawConfig {
    fn validate(self, source: &Source<'_>) -> Result<Config, ConfigError> {
        let interval = checked(
            source,
            "interval",
            self.interval.as_ref(),
            DEFAULT_INTERVAL,
            positive_duration,
        )?;
        let smoothing = checked(
            source,
            "smoothing",
            self.smoothing.as_ref(),
            DEFAULT_SMOOTHING,
            |&s| {
                if (0.0..1.0).contains(&s) {
                    Ok(s)
                } else {
                    Err(format!("{s} is not from 0 to below 1"))
                }
            },
        )?;
        let sensitivity = checked(
            source,
            "sensitivity",
            self.sensitivity.as_ref(),
            DEFAULT_SENSITIVITY,
            |&s| {
                if s.is_finite() && s >= 0.0 {
                    Ok(s)
                } else {
                    Err(format!("{s} is not a number of 0 or more"))
                }
            },
        )?;
        let max_weight = checked(
            source,
            "max_weight",
            self.max_weight.as_ref(),
            DEFAULT_MAX_WEIGHT,
            |&w| match u32::try_from(w) {
                Ok(w) if (1..=MAX_WEIGHT).contains(&w) => Ok(w),
                _ => Err(format!("{w} is not from 1 to {MAX_WEIGHT}")),
            },
        )?;
        let default_listen = DEFAULT_AGENT_LISTEN.parse().expect("a valid default");
        let agent_listen = checked(
            source,
            "agent_listen",
            self.agent_listen.as_ref(),
            default_listen,
            |text| {
                text.parse()
                    .map_err(|_| format!("\"{text}\" is not an ADDRESS:PORT like 0.0.0.0:7050"))
            },
        )?;

        // Advisors and host metrics share one name space, which [metrics] refers to.
        let mut names = BTreeMap::new();
        let mut advisors = Vec::new();
        for raw in &self.advisor {
            let name = unique_name(source, &mut names, "advisor.name", &raw.name, metric_name)?;
            advisors.push(raw.validate(source, interval, name)?);
        }
        let mut host_metrics = Vec::new();
        for raw in &self.host_metric {
            let name = unique_name(
                source,
                &mut names,
                "host_metric.name",
                &raw.name,
                metric_name,
            )?;
            let stale_after = checked(
                source,
                "host_metric.stale_after",
                raw.stale_after.as_ref(),
                interval * DEFAULT_STALE_INTERVALS,
                positive_duration,
            )?;
            host_metrics.push(HostMetricConfig { name, stale_after });
        }

        let metrics = self.metric_weights(source, &advisors, &host_metrics)?;

        let mut services = Vec::new();
        let mut service_lines = BTreeMap::new();
        for raw in &self.service {
            let service = raw.validate(source)?;
            first_seen(
                source,
                &mut service_lines,
                service.service,
                &raw.vip,
                "service.vip",
                format!("service {}", service.service),
            )?;
            services.push(service);
        }

        Ok(Config {
            interval,
            smoothing,
            sensitivity,
            max_weight,
            agent_listen,
            metrics,
            advisors,
            host_metrics,
            services,
        })
    }

    fn metric_weights(
        &self,
        source: &Source<'_>,
        advisors: &[AdvisorConfig],
        host_metrics: &[HostMetricConfig],
    ) -> Result<Vec<MetricWeight>, ConfigError> {
        let mut entries: Vec<_> = self.metrics.get_ref().iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        let mut metrics = Vec::new();
        for (name, weight) in entries {
            let text = name.get_ref();
            let field = format!("metrics.{text}");
            let metric = match text.as_str() {
                Metric::NEW_CONNS => Metric::NewConns,
                Metric::ACTIVE_CONNS => Metric::ActiveConns,
                _ if advisors.iter().any(|a| &a.name == text) => Metric::Advisor(text.clone()),
                _ if host_metrics.iter().any(|h| &h.name == text) => Metric::Host(text.clone()),
                _ => {
                    let known: Vec<&str> = [Metric::NEW_CONNS, Metric::ACTIVE_CONNS]
                        .into_iter()
                        .chain(advisors.iter().map(|a| a.name.as_str()))
                        .chain(host_metrics.iter().map(|h| h.name.as_str()))
                        .collect();
                    return Err(source.error(
                        name.span(),
                        field,
                        format!(
                            "unknown metric \"{text}\"; known are {} (advisors and host \
                             metrics are declared in [[advisor]] and [[host_metric]])",
                            known.join(", ")
                        ),
                    ));
                }
            };
            let weight = required(source, &field, weight, |&w| {
                if w.is_finite() && w >= 0.0 {
                    Ok(w)
                } else {
                    Err(format!("{w} is not a relative weight (0 to 1)"))
                }
            })?;
            metrics.push(MetricWeight { metric, weight });
        }
        let sum: f64 = metrics.iter().map(|m| m.weight).sum();
        if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(source.error(
                self.metrics.span(),
                "metrics",
                format!("the relative weights sum to {sum}; they must sum to 1"),
            ));
        }
        Ok(metrics)
    }
}

impl RawAdvisor {
    fn validate(
        &self,
        source: &Source<'_>,
        interval: Duration,
        name: String,
    ) -> Result<AdvisorConfig, ConfigError> {
        let port = match &self.port {
            Some(port) => Some(required(source, "advisor.port", port, port_number)?),
            None => None,
        };
        let kind = match self.kind.get_ref() {
            RawAdvisorKind::Http => AdvisorKind::Http {
                path: checked(
                    source,
                    "advisor.path",
                    self.path.as_ref(),
                    DEFAULT_HTTP_PATH.to_string(),
                    http_path,
                )?,
            },
            RawAdvisorKind::Tcp => {
                if let Some(path) = &self.path {
                    return Err(source.error(
                        path.span(),
                        "advisor.path",
                        "a tcp advisor sends no request, so it takes no path",
                    ));
                }
                AdvisorKind::Tcp
            }
        };
        let timeout = checked(
            source,
            "advisor.timeout",
            self.timeout.as_ref(),
            DEFAULT_ADVISOR_TIMEOUT.min(interval),
            |value| {
                let timeout = positive_duration(value)?;
                if timeout > interval {
                    return Err(format!(
                        "{} is longer than the interval ({}); a probe must end before the \
                         next decision",
                        show_duration(timeout),
                        show_duration(interval)
                    ));
                }
                Ok(timeout)
            },
        )?;
        Ok(AdvisorConfig {
            name,
            kind,
            port,
            timeout,
        })
    }
}

impl RawService {
    fn validate(&self, source: &Source<'_>) -> Result<ServiceConfig, ConfigError> {
        let vip = required(source, "service.vip", &self.vip, unicast_address)?;
        let port = required(source, "service.port", &self.port, port_number)?;
        let service = Service::new(vip, port);
        if self.server.len() > MAX_SERVERS_PER_PORT {
            return Err(source.error(
                self.vip.span(),
                "service.server",
                format!("{service} has more than {MAX_SERVERS_PER_PORT} servers"),
            ));
        }
        let mut servers = Vec::new();
        let mut server_lines = BTreeMap::new();
        for raw in &self.server {
            let address = required(
                source,
                "service.server.address",
                &raw.address,
                unicast_address,
            )?;
            first_seen(
                source,
                &mut server_lines,
                address,
                &raw.address,
                "service.server.address",
                format!("server {address} of {service}"),
            )?;
            let capacity = checked(
                source,
                "service.server.capacity",
                raw.capacity.as_ref(),
                1.0,
                |&c| {
                    if c.is_finite() && c > 0.0 {
                        Ok(c)
                    } else {
                        Err(format!("{c} is not a capacity (a number above 0)"))
                    }
                },
            )?;
            servers.push(ServerConfig { address, capacity });
        }
        let scheduler = checked(
            source,
            "service.scheduler",
            self.scheduler.as_ref(),
            SchedulerKind::default(),
            scheduler_name,
        )?;
        let policy = match &self.policy {
            Some(policy) => required(source, "service.policy", policy, |&policy| {
                if policy.suits(scheduler) {
                    Ok(policy)
                } else {
                    Err(format!(
                        "policy \"{}\" follows load, which the {} scheduler already does \
                         for every connection; with {} the weights are capacities (policy \
                         \"capacity\", the default)",
                        policy.name(),
                        scheduler.name(),
                        scheduler.name()
                    ))
                }
            })?,
            None => Policy::default_for(scheduler),
        };
        Ok(ServiceConfig {
            service,
            scheduler,
            policy,
            servers,
        })
    }
}

#[cfg(test)]
mod tests;
