//! `ndadm server add|set|del|show`.

use std::net::Ipv4Addr;

use clap::{Args, Subcommand};
use ndadm::client::Client;
use ndadm::model::{MacAddr, Server, ServerOptions, Service};

use super::Failure;
use crate::args;
use crate::output::{mac_or_dash, stats_table, Align, Output, Render, Table};

/// Commands on the servers behind a port.
#[derive(Debug, Subcommand, PartialEq)]
pub enum ServerCommand {
    /// Add a server behind a port
    Add {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// The server's address
        #[arg(value_name = "SERVER", value_parser = args::address)]
        server: Ipv4Addr,
        /// Weight, 0 (quiesced) to 65535; the module's default is 1
        #[arg(long, value_name = "W", value_parser = args::weight)]
        weight: Option<u32>,
        /// Static MAC address; without one the neighbour table resolves the server
        #[arg(long, value_name = "MAC", value_parser = args::mac)]
        mac: Option<MacAddr>,
    },
    /// Change a server's weight and/or MAC address
    Set {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// The server's address
        #[arg(value_name = "SERVER", value_parser = args::address)]
        server: Ipv4Addr,
        #[command(flatten)]
        change: ServerChange,
    },
    /// Remove a server and end its connections
    #[command(alias = "delete")]
    Del {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// The server's address
        #[arg(value_name = "SERVER", value_parser = args::address)]
        server: Ipv4Addr,
    },
    /// List servers with their weights, states, bound clients (affinity records) and
    /// counters
    #[command(alias = "list")]
    Show {
        /// Only the servers of this port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Option<Service>,
    },
}

/// What `server set` changes: at least one of the two.
#[derive(Debug, Args, PartialEq)]
#[group(required = true, multiple = true)]
pub struct ServerChange {
    /// New weight, 0 (quiesced) to 65535
    #[arg(long, value_name = "W", value_parser = args::weight)]
    weight: Option<u32>,
    /// New static MAC address
    #[arg(long, value_name = "MAC", value_parser = args::mac)]
    mac: Option<MacAddr>,
}

impl ServerCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            ServerCommand::Add {
                service,
                server,
                weight,
                mac,
            } => client.add_server(service, server, ServerOptions { weight, mac })?,
            ServerCommand::Set {
                service,
                server,
                change: ServerChange { weight, mac },
            } => client.set_server(service, server, ServerOptions { weight, mac })?,
            ServerCommand::Del { service, server } => client.del_server(service, server)?,
            ServerCommand::Show { service } => {
                let mut servers = client.servers()?;
                servers.retain(|s| service.is_none_or(|service| s.service() == service));
                servers.sort_by_key(|s| (s.service(), s.server));
                output.print(servers.as_slice())?;
            }
        }
        Ok(())
    }
}

impl Render for [Server] {
    fn table(&self) -> Table {
        stats_table(
            &[
                ("VIP:PORT", Align::Left),
                ("SERVER", Align::Left),
                ("WEIGHT", Align::Right),
                ("STATE", Align::Left),
                ("MAC", Align::Left),
                ("BOUND", Align::Right),
            ],
            self.iter().map(|server| {
                let cells = vec![
                    server.service().to_string(),
                    server.server.to_string(),
                    server.weight.to_string(),
                    server.state.to_string(),
                    mac_or_dash(server.mac),
                    server.affinity_records.to_string(),
                ];
                (cells, &server.stats)
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use nd_netlink_proto::attr::ServerState;
    use ndadm::model::{Stats, WireState};

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    const SERVICE: Service = Service {
        vip: Ipv4Addr::new(10, 0, 0, 1),
        port: 80,
    };
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);

    #[test]
    fn parses_add_with_and_without_options() {
        assert_eq!(
            parse(&["ndadm", "server", "add", "10.0.0.1:80", "192.168.1.10"]).unwrap(),
            Object::Server(ServerCommand::Add {
                service: SERVICE,
                server: SERVER,
                weight: None,
                mac: None
            })
        );
        assert_eq!(
            parse(&[
                "ndadm",
                "server",
                "add",
                "10.0.0.1:80",
                "192.168.1.10",
                "--weight",
                "0",
                "--mac",
                "02:00:00:00:00:0a"
            ])
            .unwrap(),
            Object::Server(ServerCommand::Add {
                service: SERVICE,
                server: SERVER,
                weight: Some(0),
                mac: Some(MacAddr([2, 0, 0, 0, 0, 10]))
            })
        );
    }

    #[test]
    fn set_needs_a_weight_or_a_mac() {
        let error = parse(&["ndadm", "server", "set", "10.0.0.1:80", "192.168.1.10"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            parse(&[
                "ndadm",
                "server",
                "set",
                "10.0.0.1:80",
                "192.168.1.10",
                "--weight",
                "3"
            ])
            .unwrap(),
            Object::Server(ServerCommand::Set {
                service: SERVICE,
                server: SERVER,
                change: ServerChange {
                    weight: Some(3),
                    mac: None
                }
            })
        );
    }

    #[test]
    fn rejects_heavy_weights_and_bad_macs() {
        let heavy = parse(&[
            "ndadm",
            "server",
            "add",
            "10.0.0.1:80",
            "192.168.1.10",
            "--weight",
            "65536",
        ])
        .unwrap_err();
        assert_eq!(heavy.kind(), ErrorKind::ValueValidation);
        assert!(heavy.to_string().contains("above the maximum, 65535"));
        for mac in ["02:00:00:00:00", "01:00:5e:00:00:01", "zz:00:00:00:00:01"] {
            let error = parse(&[
                "ndadm",
                "server",
                "set",
                "10.0.0.1:80",
                "192.168.1.10",
                "--mac",
                mac,
            ])
            .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{mac}");
        }
    }

    #[test]
    fn parses_del_and_filtered_show() {
        assert_eq!(
            parse(&["ndadm", "server", "del", "10.0.0.1:80", "192.168.1.10"]).unwrap(),
            Object::Server(ServerCommand::Del {
                service: SERVICE,
                server: SERVER
            })
        );
        assert_eq!(
            parse(&["ndadm", "server", "show", "10.0.0.1:80"]).unwrap(),
            Object::Server(ServerCommand::Show {
                service: Some(SERVICE)
            })
        );
    }

    #[test]
    fn json_names_state_and_mac() {
        let servers = [Server {
            vip: SERVICE.vip,
            port: SERVICE.port,
            server: SERVER,
            weight: 0,
            mac: Some(MacAddr([2, 0, 0, 0, 0, 10])),
            state: WireState::Known(ServerState::Quiesced),
            affinity_records: 4,
            stats: Stats::default(),
        }];
        let output = Output {
            json: true,
            pretty: true,
        };
        let json: serde_json::Value = serde_json::from_str(&output.render(&servers[..])).unwrap();
        assert_eq!(json[0]["vip"], "10.0.0.1");
        assert_eq!(json[0]["port"], 80);
        assert_eq!(json[0]["server"], "192.168.1.10");
        assert_eq!(json[0]["weight"], 0);
        assert_eq!(json[0]["state"], "quiesced");
        assert_eq!(json[0]["mac"], "02:00:00:00:00:0a");
        assert_eq!(json[0]["affinity_records"], 4);
        assert_eq!(json[0]["stats"]["conns"], 0);
        assert!(json[0]["stats"].get("drop_no_server").is_none());
        let table = Output::default().render(&servers[..]);
        assert!(
            table.starts_with("VIP:PORT     SERVER        WEIGHT  STATE     MAC"),
            "{table}"
        );
        assert!(
            table.contains("10.0.0.1:80  192.168.1.10       0  quiesced  02:00:00:00:00:0a      4")
        );
        assert!(
            table.trim_end().ends_with("0      -"),
            "no drop counters: {table}"
        );
    }
}
