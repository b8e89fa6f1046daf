//! `ndadm port add|set|del|show`.

use std::net::Ipv4Addr;

use clap::{Args, Subcommand};
use ndadm::client::Client;
use ndadm::model::{AffinityQuiesced, Port, PortOptions, SchedulerKind, Service};

use super::Failure;
use crate::args;
use crate::output::{affinity_cell, stats_table, Align, Output, Render, Table};

/// Commands on ports of cluster addresses.
#[derive(Debug, Subcommand, PartialEq)]
pub enum PortCommand {
    /// Add a port to a cluster address
    Add {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        #[command(flatten)]
        settings: PortSettings,
    },
    /// Change a port's scheduler or client affinity; open connections stay with their
    /// servers, and a change of affinity forgets the port's bound clients
    Set {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        #[command(flatten)]
        change: PortChange,
    },
    /// Remove a port with its servers and connections
    #[command(alias = "delete")]
    Del {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
    },
    /// List ports with their schedulers, affinity and counters
    #[command(alias = "list")]
    Show {
        /// Only the ports of this cluster address
        #[arg(value_name = "VIP", value_parser = args::address)]
        vip: Option<Ipv4Addr>,
    },
}

/// The settings of a new port; those left out take the module's defaults.
#[derive(Debug, Args, PartialEq)]
pub struct PortSettings {
    /// How new connections pick a server: wrr (weighted round robin, the default), wlc
    /// (fewest connections per weight) or sed (shortest expected delay)
    #[arg(long, value_name = "NAME", value_parser = args::scheduler)]
    scheduler: Option<SchedulerKind>,
    /// Client affinity: send a client's new connections to the server it had, until S
    /// seconds after its last connection ended; 0 (the default) turns affinity off
    #[arg(long, value_name = "S", value_parser = args::affinity_timeout)]
    affinity_timeout: Option<u32>,
    /// Bind clients by network: the length of the netmask that groups them (default 32,
    /// each address on its own)
    #[arg(long, value_name = "N", value_parser = args::affinity_prefix)]
    affinity_prefix: Option<u8>,
    /// What the clients of a quiesced server do: keep it until their binding expires (the
    /// default), or rebalance onto the servers that take new connections
    #[arg(long, value_name = "keep|rebalance", value_parser = args::affinity_quiesced)]
    affinity_quiesced: Option<AffinityQuiesced>,
}

/// What `port set` changes: at least one setting.
#[derive(Debug, Args, PartialEq)]
#[group(required = true, multiple = true)]
pub struct PortChange {
    /// New scheduler: wrr, wlc or sed
    #[arg(long, value_name = "NAME", value_parser = args::scheduler)]
    scheduler: Option<SchedulerKind>,
    /// New affinity timeout in seconds; 0 turns affinity off
    #[arg(long, value_name = "S", value_parser = args::affinity_timeout)]
    affinity_timeout: Option<u32>,
    /// New length of the netmask that groups clients, 0 to 32
    #[arg(long, value_name = "N", value_parser = args::affinity_prefix)]
    affinity_prefix: Option<u8>,
    /// What a quiesced server's clients do: keep or rebalance
    #[arg(long, value_name = "keep|rebalance", value_parser = args::affinity_quiesced)]
    affinity_quiesced: Option<AffinityQuiesced>,
}

impl PortSettings {
    fn options(&self) -> PortOptions {
        PortOptions {
            scheduler: self.scheduler,
            affinity_timeout: self.affinity_timeout,
            affinity_prefix: self.affinity_prefix,
            affinity_quiesced: self.affinity_quiesced,
        }
    }
}

impl PortChange {
    fn options(&self) -> PortOptions {
        PortOptions {
            scheduler: self.scheduler,
            affinity_timeout: self.affinity_timeout,
            affinity_prefix: self.affinity_prefix,
            affinity_quiesced: self.affinity_quiesced,
        }
    }
}

impl PortCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            PortCommand::Add { service, settings } => {
                client.add_port(service, settings.options())?
            }
            PortCommand::Set { service, change } => client.set_port(service, change.options())?,
            PortCommand::Del { service } => client.del_port(service)?,
            PortCommand::Show { vip } => {
                let mut ports = client.ports()?;
                ports.retain(|port| vip.is_none_or(|vip| port.vip == vip));
                ports.sort_by_key(Port::service);
                output.print(ports.as_slice())?;
            }
        }
        Ok(())
    }
}

impl Render for [Port] {
    fn table(&self) -> Table {
        stats_table(
            &[
                ("VIP:PORT", Align::Left),
                ("SCHED", Align::Left),
                ("AFFINITY", Align::Left),
            ],
            self.iter().map(|port| {
                (
                    vec![
                        port.service().to_string(),
                        port.scheduler.clone(),
                        affinity_cell(&port.affinity),
                    ],
                    &port.stats,
                )
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use ndadm::model::{Affinity, Stats, WireState};

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    const SERVICE: Service = Service {
        vip: Ipv4Addr::new(10, 0, 0, 1),
        port: 80,
    };

    fn options(argv: &[&str]) -> Result<PortOptions, clap::Error> {
        match parse(argv)? {
            Object::Port(PortCommand::Add { settings, .. }) => Ok(settings.options()),
            Object::Port(PortCommand::Set { change, .. }) => Ok(change.options()),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_services_and_the_optional_filter() {
        assert_eq!(
            options(&["ndadm", "port", "add", "10.0.0.1:80"]).unwrap(),
            PortOptions::default()
        );
        assert_eq!(
            options(&["ndadm", "port", "add", "10.0.0.1:80", "--scheduler", "wlc"]).unwrap(),
            PortOptions::scheduled(SchedulerKind::Wlc)
        );
        assert_eq!(
            options(&["ndadm", "port", "set", "10.0.0.1:80", "--scheduler", "sed"]).unwrap(),
            PortOptions::scheduled(SchedulerKind::Sed)
        );
        let error =
            parse(&["ndadm", "port", "set", "10.0.0.1:80", "--scheduler", "lc"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("one of wrr, wlc, sed"),
            "{error}"
        );
        assert_eq!(
            parse(&["ndadm", "port", "delete", "10.0.0.1:80"]).unwrap(),
            Object::Port(PortCommand::Del { service: SERVICE })
        );
        assert_eq!(
            parse(&["ndadm", "port", "show"]).unwrap(),
            Object::Port(PortCommand::Show { vip: None })
        );
        assert_eq!(
            parse(&["ndadm", "port", "show", "10.0.0.1"]).unwrap(),
            Object::Port(PortCommand::Show {
                vip: Some(SERVICE.vip)
            })
        );
    }

    #[test]
    fn parses_affinity_settings_on_add_and_set() {
        assert_eq!(
            options(&[
                "ndadm",
                "port",
                "add",
                "10.0.0.1:80",
                "--affinity-timeout",
                "300",
                "--affinity-prefix",
                "24",
                "--affinity-quiesced",
                "rebalance",
            ])
            .unwrap(),
            PortOptions {
                scheduler: None,
                affinity_timeout: Some(300),
                affinity_prefix: Some(24),
                affinity_quiesced: Some(AffinityQuiesced::Rebalance),
            }
        );
        assert_eq!(
            options(&[
                "ndadm",
                "port",
                "set",
                "10.0.0.1:80",
                "--affinity-timeout",
                "0"
            ])
            .unwrap(),
            PortOptions {
                affinity_timeout: Some(0),
                ..PortOptions::default()
            }
        );
        for bad in [
            &["--affinity-timeout", "86401"][..],
            &["--affinity-prefix", "33"],
            &["--affinity-quiesced", "drop"],
        ] {
            let mut argv = vec!["ndadm", "port", "set", "10.0.0.1:80"];
            argv.extend_from_slice(bad);
            let error = parse(&argv).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn set_needs_at_least_one_setting() {
        let error = parse(&["ndadm", "port", "set", "10.0.0.1:80"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn rejects_port_zero_out_of_range_and_missing_ports() {
        for bad in ["10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1", "10.0.0.1:http"] {
            let error = parse(&["ndadm", "port", "add", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad}");
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
        let message = parse(&["ndadm", "port", "add", "10.0.0.1:0"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("port 0"), "{message}");
    }

    #[test]
    fn lists_affinity_beside_the_scheduler() {
        let port = |port, affinity| Port {
            vip: SERVICE.vip,
            port,
            scheduler: "wrr".into(),
            affinity,
            stats: Stats::default(),
        };
        let ports = [
            port(80, Affinity::default()),
            port(
                443,
                Affinity {
                    timeout: 600,
                    prefix: 24,
                    quiesced: WireState::Known(AffinityQuiesced::Rebalance),
                },
            ),
        ];
        assert_eq!(
            Output::default().render(&ports[..]),
            "VIP:PORT      SCHED  AFFINITY           CONNS  ACTIVE  INACTIVE  PACKETS  BYTES  DROPS\n\
             10.0.0.1:80   wrr    -                      0       0         0        0      0      -\n\
             10.0.0.1:443  wrr    600s/24 rebalance      0       0         0        0      0      -\n"
        );
        let json: serde_json::Value = serde_json::from_str(
            &Output {
                json: true,
                pretty: false,
            }
            .render(&ports[..]),
        )
        .unwrap();
        assert_eq!(
            json[1]["affinity"],
            serde_json::json!({"timeout": 600, "prefix": 24, "quiesced": "rebalance"})
        );
    }
}
