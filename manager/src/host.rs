//! Host metrics: the agents' reports, and how fresh each server's values are.
//!
//! Reports arrive over UDP; the sender is known by its source address, and only configured
//! server addresses are heard. Each metric keeps its own time of arrival because an agent
//! leaves out a metric whose command failed. A value older than the metric's `stale_after`
//! makes the server down; so does never having reported once `stale_after` has passed since
//! the Manager started watching that server for that metric.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tracing::{debug, info};

use crate::agent_report::{AgentReport, ReportError, MAX_DATAGRAM};
use crate::config::{show_duration, Config};
use crate::shutdown::Shutdown;

/// What is known of one host metric of one server.
#[derive(Clone, Debug, PartialEq)]
pub enum HostMetricState {
    /// A value recent enough to use.
    Fresh(f64),
    /// No value yet, but the server is still within its first `stale_after`.
    Pending,
    /// No usable value: the server counts as down.
    Stale(Staleness),
}

/// Why a host metric is stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staleness {
    /// The last report is this old.
    Old(Duration),
    /// No report came within the first `stale_after`.
    NeverReported,
}

impl HostMetricState {
    /// The value, if it is fresh.
    pub fn value(&self) -> Option<f64> {
        match self {
            HostMetricState::Fresh(value) => Some(*value),
            _ => None,
        }
    }
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Staleness::Old(age) => write!(f, "last report {} ago", show_duration(round(*age))),
            Staleness::NeverReported => f.write_str("never reported"),
        }
    }
}

fn round(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis().try_into().unwrap_or(u64::MAX))
}

/// The state of a metric last received as `last` (value, time), watched since `since`.
pub fn freshness(
    last: Option<(f64, Instant)>,
    since: Instant,
    stale_after: Duration,
    now: Instant,
) -> HostMetricState {
    match last {
        Some((value, at)) if now.saturating_duration_since(at) <= stale_after => {
            HostMetricState::Fresh(value)
        }
        Some((_, at)) => HostMetricState::Stale(Staleness::Old(now.saturating_duration_since(at))),
        None if now.saturating_duration_since(since) < stale_after => HostMetricState::Pending,
        None => HostMetricState::Stale(Staleness::NeverReported),
    }
}

/// Why a datagram was ignored.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Ignored {
    /// It came from an address that is not a configured server.
    #[error("from {0}, which is not a configured server")]
    UnknownSource(IpAddr),
    /// It is not a valid report.
    #[error("{0}")]
    Report(#[from] ReportError),
}

/// How many datagrams were ignored, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IgnoredCounts {
    /// From addresses that are not configured servers.
    pub unknown_source: u64,
    /// Not valid reports.
    pub bad_report: u64,
}

/// The latest host metric values of every configured server.
#[derive(Debug)]
pub struct HostBoard {
    servers: BTreeSet<Ipv4Addr>,
    stale_after: HashMap<String, Duration>,
    latest: HashMap<(Ipv4Addr, String), (f64, Instant)>,
    watched_since: HashMap<(Ipv4Addr, String), Instant>,
    ignored: IgnoredCounts,
}

/// Every `(server, host metric)` state of a configuration at one instant.
pub type HostSnapshot = HashMap<(Ipv4Addr, String), HostMetricState>;

impl HostBoard {
    /// A board for `config`, watching from `now`.
    pub fn new(config: &Config, now: Instant) -> HostBoard {
        let mut board = HostBoard {
            servers: BTreeSet::new(),
            stale_after: HashMap::new(),
            latest: HashMap::new(),
            watched_since: HashMap::new(),
            ignored: IgnoredCounts::default(),
        };
        board.reconfigure(config, now);
        board
    }

    /// Follows a new configuration: pairs it adds are watched from `now`, values of pairs it
    /// drops are forgotten, and the others keep their values.
    pub fn reconfigure(&mut self, config: &Config, now: Instant) {
        self.servers = config.server_addresses();
        self.stale_after = config
            .host_metrics
            .iter()
            .map(|metric| (metric.name.clone(), metric.stale_after))
            .collect();
        let mut watched = HashMap::new();
        for &server in &self.servers {
            for name in self.stale_after.keys() {
                let key = (server, name.clone());
                let since = self.watched_since.get(&key).copied().unwrap_or(now);
                watched.insert(key, since);
            }
        }
        self.latest.retain(|key, _| watched.contains_key(key));
        self.watched_since = watched;
    }

    /// Takes in a datagram from `from`. Returns whether it brought back a metric that was
    /// stale, which may bring its server back up.
    pub fn receive(
        &mut self,
        from: IpAddr,
        datagram: &[u8],
        now: Instant,
    ) -> Result<bool, Ignored> {
        let result = self.accept(from, datagram, now);
        match &result {
            Err(Ignored::UnknownSource(_)) => self.ignored.unknown_source += 1,
            Err(Ignored::Report(_)) => self.ignored.bad_report += 1,
            Ok(_) => {}
        }
        result
    }

    fn accept(&mut self, from: IpAddr, datagram: &[u8], now: Instant) -> Result<bool, Ignored> {
        let server = match from {
            IpAddr::V4(v4) if self.servers.contains(&v4) => v4,
            // An IPv4 agent heard on a dual-stack socket.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if self.servers.contains(&v4) => v4,
                _ => return Err(Ignored::UnknownSource(from)),
            },
            IpAddr::V4(_) => return Err(Ignored::UnknownSource(from)),
        };
        let report = AgentReport::decode(datagram)?;
        let mut revived = false;
        for (name, value) in report.metrics {
            // Metrics the configuration does not name are not kept.
            let key = (server, name);
            if !self.watched_since.contains_key(&key) {
                continue;
            }
            revived |= matches!(self.state_of(&key, now), HostMetricState::Stale(_));
            self.latest.insert(key, (value, now));
        }
        Ok(revived)
    }

    fn state_of(&self, key: &(Ipv4Addr, String), now: Instant) -> HostMetricState {
        let since = self.watched_since.get(key).copied().unwrap_or(now);
        let stale_after = self.stale_after.get(&key.1).copied().unwrap_or_default();
        freshness(self.latest.get(key).copied(), since, stale_after, now)
    }

    /// The state of metric `name` of `server`.
    pub fn state(&self, server: Ipv4Addr, name: &str, now: Instant) -> HostMetricState {
        self.state_of(&(server, name.to_string()), now)
    }

    /// The state of every watched pair at `now`.
    pub fn snapshot(&self, now: Instant) -> HostSnapshot {
        self.watched_since
            .keys()
            .map(|key| (key.clone(), self.state_of(key, now)))
            .collect()
    }

    /// How many datagrams were ignored since start.
    pub fn ignored(&self) -> IgnoredCounts {
        self.ignored
    }
}

/// Receives agent reports on `socket` into `board` until shutdown, notifying `revived` when a
/// report brings back a metric that was stale.
pub async fn receive_reports(
    socket: UdpSocket,
    board: Arc<Mutex<HostBoard>>,
    revived: Arc<Notify>,
    mut shutdown: Shutdown,
) {
    let mut buffer = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let (length, from): (usize, SocketAddr) = tokio::select! {
            _ = shutdown.recv() => return,
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(error) => {
                    debug!(%error, "receiving an agent report failed");
                    continue;
                }
            },
        };
        let outcome = board
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .receive(from.ip(), &buffer[..length], Instant::now());
        match outcome {
            Ok(true) => {
                info!(agent = %from.ip(), "a stale host metric of {} is reported again", from.ip());
                revived.notify_one();
            }
            Ok(false) => {}
            Err(reason) => debug!(agent = %from, %reason, "agent report ignored: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
        interval = "1s"
        [metrics]
        load = 1
        [[host_metric]]
        name = "load"
        stale_after = "10s"
        [[host_metric]]
        name = "mem"
        [[service]]
        vip = "10.0.0.100"
        port = 80
        server = [{ address = "10.0.0.11" }, { address = "10.0.0.12" }]
    "#;

    const S11: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 11);
    const S12: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 12);

    fn config(text: &str) -> Config {
        Config::parse("m.toml", text).unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn freshness_follows_the_age_of_the_last_value() {
        let start = Instant::now();
        let stale_after = secs(10);
        let at = |n| start + secs(n);
        assert_eq!(
            freshness(None, start, stale_after, at(9)),
            HostMetricState::Pending
        );
        assert_eq!(
            freshness(None, start, stale_after, at(10)),
            HostMetricState::Stale(Staleness::NeverReported)
        );
        assert_eq!(
            freshness(Some((2.5, at(5))), start, stale_after, at(15)),
            HostMetricState::Fresh(2.5)
        );
        assert_eq!(
            freshness(Some((2.5, at(5))), start, stale_after, at(16)),
            HostMetricState::Stale(Staleness::Old(secs(11)))
        );
    }

    #[test]
    fn reports_are_kept_per_server_and_metric() {
        let start = Instant::now();
        let mut board = HostBoard::new(&config(CONFIG), start);
        let report = br#"{"version":1,"metrics":{"load":0.7,"mem":40,"disk":9}}"#;
        assert_eq!(board.receive(S11.into(), report, start), Ok(false));
        assert_eq!(board.state(S11, "load", start), HostMetricState::Fresh(0.7));
        assert_eq!(board.state(S11, "mem", start), HostMetricState::Fresh(40.0));
        assert_eq!(board.state(S12, "load", start), HostMetricState::Pending);
        // Unconfigured metrics are not kept.
        assert_eq!(board.snapshot(start).len(), 4);
        // mem's default stale_after is 3 intervals.
        let later = start + secs(4);
        assert_eq!(
            board.state(S11, "mem", later),
            HostMetricState::Stale(Staleness::Old(secs(4)))
        );
        assert_eq!(board.state(S11, "load", later), HostMetricState::Fresh(0.7));
    }

    #[test]
    fn a_report_bringing_back_a_stale_metric_says_so() {
        let start = Instant::now();
        let mut board = HostBoard::new(&config(CONFIG), start);
        let report = br#"{"version":1,"metrics":{"load":1}}"#;
        assert_eq!(board.receive(S11.into(), report, start), Ok(false));
        assert_eq!(
            board.receive(S11.into(), report, start + secs(5)),
            Ok(false)
        );
        assert_eq!(
            board.receive(S11.into(), report, start + secs(20)),
            Ok(true)
        );
        assert_eq!(
            board.receive(S11.into(), report, start + secs(21)),
            Ok(false)
        );
    }

    #[test]
    fn ignores_strangers_and_junk_and_counts_them() {
        let start = Instant::now();
        let mut board = HostBoard::new(&config(CONFIG), start);
        let stranger = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 99));
        let report = br#"{"version":1,"metrics":{"load":1}}"#;
        assert_eq!(
            board.receive(stranger, report, start),
            Err(Ignored::UnknownSource(stranger))
        );
        assert!(matches!(
            board.receive(S11.into(), b"load=1", start),
            Err(Ignored::Report(ReportError::Malformed(_)))
        ));
        assert_eq!(
            board.receive(S11.into(), br#"{"version":7}"#, start),
            Err(Ignored::Report(ReportError::Version(7)))
        );
        assert_eq!(
            board.ignored(),
            IgnoredCounts {
                unknown_source: 1,
                bad_report: 2
            }
        );
        assert_eq!(board.state(S11, "load", start), HostMetricState::Pending);
        // An IPv4 agent seen through a dual-stack socket is still itself.
        let mapped = IpAddr::V6(S11.to_ipv6_mapped());
        assert_eq!(board.receive(mapped, report, start), Ok(false));
        assert_eq!(board.state(S11, "load", start), HostMetricState::Fresh(1.0));
    }

    #[test]
    fn a_reload_keeps_values_and_gives_new_servers_their_grace() {
        let start = Instant::now();
        let mut board = HostBoard::new(&config(CONFIG), start);
        board
            .receive(S11.into(), br#"{"version":1,"metrics":{"load":3}}"#, start)
            .unwrap();
        let reload = start + secs(8);
        let grown = CONFIG.replace(
            r#"{ address = "10.0.0.12" }"#,
            r#"{ address = "10.0.0.12" }, { address = "10.0.0.13" }"#,
        );
        board.reconfigure(&config(&grown), reload);
        let s13 = Ipv4Addr::new(10, 0, 0, 13);
        let check = start + secs(12);
        assert_eq!(
            board.state(S11, "load", start + secs(9)),
            HostMetricState::Fresh(3.0)
        );
        assert_eq!(
            board.state(S12, "load", check),
            HostMetricState::Stale(Staleness::NeverReported)
        );
        assert_eq!(board.state(s13, "load", check), HostMetricState::Pending);
    }
}
