//! The agent: runs on each server, measures host metrics with commands, and reports them to
//! the Manager every period.
//!
//! Each period every command runs at once, each with its own timeout. A command that fails,
//! overruns or prints no number is logged and left out of that report, so the Manager sees the
//! metric age and, past its `stale_after`, takes the server out of rotation. A report is one
//! UDP datagram; a lost one is just a missed period.

mod command;
mod config;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio::time::{self, MissedTickBehavior};
use tracing::{debug, info, warn};

pub use command::{first_number, run_command, CommandError};
pub use config::{AgentConfig, AgentMetric, DEFAULT_PERIOD};

use crate::agent_report::AgentReport;
use crate::config::show_duration;
use crate::shutdown::Shutdown;

/// Runs every metric's command at once and puts the values that came out into a report.
pub async fn collect(metrics: &[AgentMetric]) -> AgentReport {
    let mut running = JoinSet::new();
    for metric in metrics {
        let metric = metric.clone();
        running.spawn(async move {
            let value = run_command(&metric.command, metric.timeout).await;
            (metric, value)
        });
    }
    let mut values = BTreeMap::new();
    while let Some(finished) = running.join_next().await {
        // A command task only ends by returning: nothing in it panics and nothing aborts it.
        let (metric, value) = finished.expect("a command task does not panic");
        match value {
            Ok(value) => {
                values.insert(metric.name, value);
            }
            Err(e) => warn!(
                metric = %metric.name,
                "metric {} left out of the report: `{}`: {e}", metric.name, metric.command
            ),
        }
    }
    AgentReport::new(values)
}

/// A UDP socket sending to the Manager, from the configured source address if there is one.
pub async fn connect(config: &AgentConfig) -> io::Result<UdpSocket> {
    let local = match (config.source, config.manager) {
        (Some(source), _) => SocketAddr::new(source, 0),
        (None, SocketAddr::V4(_)) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        (None, SocketAddr::V6(_)) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(config.manager).await?;
    Ok(socket)
}

/// Collects one report and sends it on `socket`; returns it.
pub async fn report_once(config: &AgentConfig, socket: &UdpSocket) -> io::Result<AgentReport> {
    let report = collect(&config.metrics).await;
    let datagram = report
        .encode()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    socket.send(&datagram).await?;
    debug!(metrics = report.metrics.len(), "report sent");
    Ok(report)
}

/// Reports every period until shutdown. Fails only if the socket cannot be set up; a report
/// that cannot be sent (the Manager not listening yet) is logged and the next one tried.
pub async fn run(config: AgentConfig, mut shutdown: Shutdown) -> io::Result<()> {
    let socket = connect(&config).await?;
    info!(
        manager = %config.manager,
        "reporting {} metrics to {} every {}",
        config.metrics.len(),
        config.manager,
        show_duration(config.period)
    );
    let mut tick = time::interval(config.period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.recv() => break,
            _ = tick.tick() => {}
        }
        tokio::select! {
            _ = shutdown.recv() => break,
            sent = report_once(&config, &socket) => {
                if let Err(e) = sent {
                    warn!("sending the report to {} failed: {e}", config.manager);
                }
            }
        }
    }
    info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent_report::AgentReport;
    use std::time::Duration;

    fn metric(name: &str, command: &str, timeout_ms: u64) -> AgentMetric {
        AgentMetric {
            name: name.into(),
            command: command.into(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[tokio::test]
    async fn a_report_holds_only_the_commands_that_gave_a_value() {
        let report = collect(&[
            metric("load", "echo 0.75", 10_000),
            metric("broken", "exit 1", 10_000),
            metric("slow", "sleep 30", 200),
            metric("mem", "printf 'used 61%%'", 10_000),
        ])
        .await;
        assert_eq!(
            report.metrics,
            BTreeMap::from([("load".to_string(), 0.75), ("mem".to_string(), 61.0)])
        );
    }

    #[tokio::test]
    async fn reports_reach_the_manager_from_the_source_address() {
        let manager = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let config = AgentConfig::parse(
            "agent.toml",
            &format!(
                "manager = \"{}\"\nsource = \"127.0.0.2\"\n[[metric]]\nname = \"load\"\n\
                 command = \"echo 3\"\n",
                manager.local_addr().unwrap()
            ),
        )
        .unwrap();
        let socket = connect(&config).await.unwrap();
        let sent = report_once(&config, &socket).await.unwrap();
        let mut buffer = [0u8; 2048];
        let (length, from) = manager.recv_from(&mut buffer).await.unwrap();
        assert_eq!(from.ip(), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(AgentReport::decode(&buffer[..length]).unwrap(), sent);
        assert_eq!(sent.metrics["load"], 3.0);
    }
}
