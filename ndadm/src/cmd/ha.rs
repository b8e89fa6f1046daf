//! `ndadm ha show|role`: the Executor's part in a pair of dispatchers.

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::{HaRole, HaStatus};

use super::Failure;
use crate::args;
use crate::output::{duration_ms, Align, Output, Render, Table};

/// Commands on high availability.
#[derive(Debug, Subcommand, PartialEq)]
pub enum HaCommand {
    /// Print the role, the link to the peer as nd-syncd last reported it, the sync lag and
    /// the records sent, received, installed and dropped
    #[command(alias = "list")]
    Show,
    /// Make this Executor active (it dispatches and publishes its table) or standby (it
    /// forwards nothing and holds its peer's table); setting the role it has changes nothing
    Role {
        /// active or standby
        #[arg(value_name = "active|standby", value_parser = args::ha_role)]
        role: HaRole,
    },
}

impl HaCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            HaCommand::Show => output.print(&client.ha()?)?,
            HaCommand::Role { role } => client.set_ha_role(role)?,
        }
        Ok(())
    }
}

impl Render for HaStatus {
    fn table(&self) -> Table {
        let mut table = Table::headerless(&[Align::Left, Align::Left]);
        let mut row = |key: &str, value: String| table.row(vec![key.into(), value]);
        row("role", self.role.to_string());
        match &self.daemon {
            None => row("sync", "no report from nd-syncd".into()),
            Some(report) => {
                let status = &report.status;
                let link = if status.connected { "up" } else { "down" };
                row("peer", format!("{} (link {link})", status.peer));
                row(
                    "lag",
                    format!("{} records, {} ms", status.lag_records, status.lag_ms),
                );
                row("sent", status.sent.to_string());
                row("received", status.received.to_string());
                let age = duration_ms(report.report_age_ms);
                row(
                    "reported",
                    if report.is_stale() {
                        format!("{age} ago: stale, is nd-syncd running?")
                    } else {
                        format!("{age} ago")
                    },
                );
            }
        }
        let counters = &self.counters;
        row("emitted", counters.emitted.to_string());
        row("dropped", counters.dropped.to_string());
        row("installed", counters.installed.to_string());
        row("refused", counters.refused.to_string());
        table
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ndadm::model::{DaemonReport, SyncCounters, SyncStatus, WireState};

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    fn status(report_age_ms: u32) -> HaStatus {
        HaStatus {
            role: WireState::Known(HaRole::Active),
            counters: SyncCounters {
                emitted: 1500,
                dropped: 2,
                installed: 0,
                refused: 0,
            },
            daemon: Some(DaemonReport {
                status: SyncStatus {
                    peer: Ipv4Addr::new(192, 168, 0, 2),
                    connected: true,
                    lag_records: 12,
                    lag_ms: 3,
                    sent: 1498,
                    received: 0,
                },
                report_age_ms,
            }),
        }
    }

    #[test]
    fn parses_show_and_role() {
        assert_eq!(
            parse(&["ndadm", "ha", "show"]).unwrap(),
            Object::Ha(HaCommand::Show)
        );
        assert_eq!(
            parse(&["ndadm", "ha", "role", "standby"]).unwrap(),
            Object::Ha(HaCommand::Role {
                role: HaRole::Standby
            })
        );
        let error = parse(&["ndadm", "ha", "role", "master"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("neither active nor standby"));
        let error = parse(&["ndadm", "ha", "role"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn show_prints_role_link_lag_and_counters() {
        assert_eq!(
            Output::default().render(&status(300)),
            "role       active\n\
             peer       192.168.0.2 (link up)\n\
             lag        12 records, 3 ms\n\
             sent       1498\n\
             received   0\n\
             reported   0.3s ago\n\
             emitted    1500\n\
             dropped    2\n\
             installed  0\n\
             refused    0\n"
        );
    }

    #[test]
    fn show_says_when_the_daemon_is_silent() {
        let stale = Output::default().render(&status(9_000));
        assert!(
            stale.contains("reported   9.0s ago: stale, is nd-syncd running?\n"),
            "{stale}"
        );
        let alone = HaStatus {
            daemon: None,
            ..status(0)
        };
        let text = Output::default().render(&alone);
        assert!(text.starts_with("role       active\nsync       no report from nd-syncd\n"));
    }

    #[test]
    fn json_flattens_the_counters_and_nests_the_report() {
        let output = Output {
            json: true,
            pretty: false,
        };
        let json: serde_json::Value = serde_json::from_str(&output.render(&status(300))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "role": "active", "emitted": 1500, "dropped": 2, "installed": 0, "refused": 0,
                "daemon": {
                    "peer": "192.168.0.2", "connected": true, "lag_records": 12, "lag_ms": 3,
                    "sent": 1498, "received": 0, "report_age_ms": 300
                }
            })
        );
    }
}
