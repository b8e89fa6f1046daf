//! `ndadm config show|set`.

use clap::{Args, Subcommand};
use ndadm::client::Client;
use ndadm::model::{Config, ConfigChange};

use super::Failure;
use crate::args;
use crate::output::{Align, Output, Render, Table};

/// Commands on timeouts and limits.
#[derive(Debug, Subcommand, PartialEq)]
pub enum ConfigCommand {
    /// Print the timeouts (seconds) and the bounds of the connection and affinity tables
    #[command(alias = "list")]
    Show,
    /// Change timeouts and/or the bounds
    Set(ConfigSetArgs),
}

/// The settings `config set` changes: at least one.
#[derive(Debug, Args, PartialEq)]
#[group(required = true, multiple = true)]
pub struct ConfigSetArgs {
    /// Timeout of a connection that has seen only a SYN, in seconds
    #[arg(long, value_name = "S", value_parser = args::timeout)]
    timeout_syn: Option<u32>,
    /// Timeout of a new half-open connection while the connection table is more than half
    /// full, in seconds; 0 turns this early expiry off
    #[arg(long, value_name = "S", value_parser = args::timeout_or_off)]
    timeout_syn_pressure: Option<u32>,
    /// Timeout of an established connection, in seconds
    #[arg(long, value_name = "S", value_parser = args::timeout)]
    timeout_established: Option<u32>,
    /// Timeout after the client's FIN, in seconds
    #[arg(long, value_name = "S", value_parser = args::timeout)]
    timeout_fin: Option<u32>,
    /// Timeout after a RST, in seconds
    #[arg(long, value_name = "S", value_parser = args::timeout)]
    timeout_close: Option<u32>,
    /// Bound on the connection table's entries
    #[arg(long, value_name = "N", value_parser = args::conn_limit)]
    conn_limit: Option<u32>,
    /// Bound on the affinity records (clients bound to servers) of all ports
    #[arg(long, value_name = "N", value_parser = args::affinity_limit)]
    affinity_limit: Option<u32>,
}

impl ConfigSetArgs {
    fn change(&self) -> ConfigChange {
        ConfigChange {
            timeout_syn: self.timeout_syn,
            timeout_syn_pressure: self.timeout_syn_pressure,
            timeout_established: self.timeout_established,
            timeout_fin: self.timeout_fin,
            timeout_close: self.timeout_close,
            conn_limit: self.conn_limit,
            affinity_limit: self.affinity_limit,
        }
    }
}

impl ConfigCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            ConfigCommand::Show => output.print(&client.config()?)?,
            ConfigCommand::Set(args) => client.set_config(args.change())?,
        }
        Ok(())
    }
}

impl Render for Config {
    fn table(&self) -> Table {
        let mut table = Table::headerless(&[Align::Left, Align::Right]);
        let seconds = |s: u32| format!("{s}s");
        table.row(vec!["timeout-syn".into(), seconds(self.timeout_syn)]);
        let syn_pressure = match self.timeout_syn_pressure {
            0 => "off".into(),
            secs => seconds(secs),
        };
        table.row(vec!["timeout-syn-pressure".into(), syn_pressure]);
        table.row(vec![
            "timeout-established".into(),
            seconds(self.timeout_established),
        ]);
        table.row(vec!["timeout-fin".into(), seconds(self.timeout_fin)]);
        table.row(vec!["timeout-close".into(), seconds(self.timeout_close)]);
        table.row(vec!["conn-limit".into(), self.conn_limit.to_string()]);
        table.row(vec![
            "affinity-limit".into(),
            self.affinity_limit.to_string(),
        ]);
        table
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use clap::Parser;

    use super::*;
    use crate::cmd::{Cli, Object};

    const CONFIG: Config = Config {
        timeout_syn: 60,
        timeout_syn_pressure: 5,
        timeout_established: 900,
        timeout_fin: 120,
        timeout_close: 10,
        conn_limit: 65536,
        affinity_limit: 4096,
    };

    fn change(argv: &[&str]) -> Result<ConfigChange, clap::Error> {
        let mut full = vec!["ndadm", "config", "set"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full)?.object {
            Object::Config(ConfigCommand::Set(args)) => Ok(args.change()),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn set_takes_any_subset() {
        assert_eq!(
            change(&["--timeout-syn", "30", "--conn-limit", "1000"]).unwrap(),
            ConfigChange {
                timeout_syn: Some(30),
                conn_limit: Some(1000),
                ..ConfigChange::default()
            }
        );
        assert_eq!(
            change(&[
                "--timeout-established",
                "900",
                "--timeout-fin",
                "120",
                "--timeout-close",
                "10"
            ])
            .unwrap(),
            ConfigChange {
                timeout_established: Some(900),
                timeout_fin: Some(120),
                timeout_close: Some(10),
                ..ConfigChange::default()
            }
        );
    }

    #[test]
    fn syn_pressure_timeout_takes_zero_for_off_up_to_the_maximum() {
        assert_eq!(
            change(&["--timeout-syn-pressure", "0"]).unwrap(),
            ConfigChange {
                timeout_syn_pressure: Some(0),
                ..ConfigChange::default()
            }
        );
        assert_eq!(
            change(&["--timeout-syn-pressure", "604800", "--timeout-syn", "30"]).unwrap(),
            ConfigChange {
                timeout_syn: Some(30),
                timeout_syn_pressure: Some(604_800),
                ..ConfigChange::default()
            }
        );
        for bad in ["604801", "off"] {
            let error = change(&["--timeout-syn-pressure", bad]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad}");
        }
    }

    #[test]
    fn set_takes_an_affinity_limit() {
        assert_eq!(
            change(&["--affinity-limit", "100000"]).unwrap(),
            ConfigChange {
                affinity_limit: Some(100_000),
                ..ConfigChange::default()
            }
        );
        let error = change(&["--affinity-limit", "0"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn set_needs_at_least_one_setting_in_range() {
        assert_eq!(
            change(&[]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        for bad in [
            &["--timeout-syn", "0"][..],
            &["--timeout-fin", "604801"],
            &["--conn-limit", "16777217"],
            &["--conn-limit", "lots"],
        ] {
            let error = change(bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad:?}");
            assert_eq!(error.exit_code(), 2);
        }
    }

    #[test]
    fn show_prints_seconds_and_the_limit() {
        let config = CONFIG;
        assert_eq!(
            Output::default().render(&config),
            "timeout-syn             60s\n\
             timeout-syn-pressure     5s\n\
             timeout-established    900s\n\
             timeout-fin            120s\n\
             timeout-close           10s\n\
             conn-limit            65536\n\
             affinity-limit         4096\n"
        );
        let output = Output {
            json: true,
            pretty: false,
        };
        assert_eq!(
            output.render(&config),
            "{\"timeout_syn\":60,\"timeout_syn_pressure\":5,\"timeout_established\":900,\
             \"timeout_fin\":120,\"timeout_close\":10,\"conn_limit\":65536,\
             \"affinity_limit\":4096}\n"
        );
    }

    #[test]
    fn show_prints_off_for_a_syn_pressure_timeout_of_zero() {
        let config = Config {
            timeout_syn_pressure: 0,
            ..CONFIG
        };
        let text = Output::default().render(&config);
        assert!(text.contains("\ntimeout-syn-pressure    off\n"), "{text}");
        let json = Output {
            json: true,
            pretty: false,
        };
        assert!(json.render(&config).contains("\"timeout_syn_pressure\":0,"));
    }
}
