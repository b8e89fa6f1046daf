//! `ndadm show [-s]`: the whole configuration as a tree, like `ipvsadm -Ln [--stats]`.

use clap::Args;
use ndadm::client::Client;
use ndadm::model::{Stats, Tree};

use super::Failure;
use crate::output::{
    affinity_cell, mac_or_dash, stats_cells, Align, Output, Render, Table, STATS_COLUMNS,
};

/// Options of `show`.
#[derive(Debug, Args, PartialEq)]
pub struct ShowArgs {
    /// Add counters for VIPs, ports and servers
    #[arg(short, long)]
    pub stats: bool,
}

impl ShowArgs {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        let tree = client.tree()?;
        let tree = if self.stats {
            tree
        } else {
            tree.without_stats()
        };
        output.print(&tree)?;
        Ok(())
    }
}

/// Cells of the counter columns, blank for a node whose counters are not known.
fn counters(stats: Option<&Stats>) -> Vec<String> {
    stats.map_or_else(|| vec![String::new(); STATS_COLUMNS.len()], stats_cells)
}

impl Render for Tree {
    /// One row per VIP, port and server, indented by depth; a tree that carries counters gets
    /// counter columns, one without gets the servers' weight, state and MAC.
    fn table(&self) -> Table {
        let with_stats = self.vips.iter().any(|vip| vip.stats.is_some());
        let mut columns = vec![("VIP / PORT / SERVER", Align::Left)];
        if with_stats {
            columns.extend(STATS_COLUMNS);
        } else {
            columns.extend([
                ("WEIGHT", Align::Right),
                ("STATE", Align::Left),
                ("MAC", Align::Left),
            ]);
        }
        let mut table = Table::new(&columns);
        for vip in &self.vips {
            let mut cells = vec![vip.vip.to_string()];
            if with_stats {
                cells.extend(counters(vip.stats.as_ref()));
            }
            table.row(cells);
            for port in &vip.ports {
                // As ipvsadm -Ln has it: the service, its scheduler, then its persistence.
                let mut name = format!("  {}:{}", vip.vip, port.port);
                if let Some(scheduler) = &port.scheduler {
                    name = format!("{name} {scheduler}");
                }
                if let Some(affinity) = port.affinity.filter(|affinity| affinity.is_on()) {
                    name = format!("{name} affinity {}", affinity_cell(&affinity));
                }
                let mut cells = vec![name];
                if with_stats {
                    cells.extend(counters(port.stats.as_ref()));
                }
                table.row(cells);
                for server in &port.servers {
                    let mut cells = vec![format!("    -> {}", server.server)];
                    if with_stats {
                        cells.extend(counters(server.stats.as_ref()));
                    } else {
                        cells.extend([
                            server.weight.to_string(),
                            server.state.to_string(),
                            mac_or_dash(server.mac),
                        ]);
                    }
                    table.row(cells);
                }
            }
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use clap::Parser;
    use nd_netlink_proto::attr::ServerState;
    use ndadm::model::{Affinity, MacAddr, Port, Server, Vip, WireState};

    use super::*;
    use crate::cmd::{Cli, Object};

    fn tree() -> Tree {
        let vip = Ipv4Addr::new(10, 0, 0, 1);
        let stats = |conns| Stats {
            conns,
            active: 1,
            packets: 10,
            bytes: 1000,
            drop_no_server: Some(2),
            ..Stats::default()
        };
        Tree::assemble(
            vec![Vip {
                vip,
                stats: stats(5),
            }],
            vec![Port {
                vip,
                port: 80,
                scheduler: "wrr".into(),
                affinity: Affinity {
                    timeout: 300,
                    ..Affinity::default()
                },
                stats: stats(4),
            }],
            vec![
                Server {
                    vip,
                    port: 80,
                    server: Ipv4Addr::new(192, 168, 1, 10),
                    weight: 3,
                    mac: None,
                    state: WireState::Known(ServerState::Active),
                    affinity_records: 2,
                    stats: stats(3),
                },
                Server {
                    vip,
                    port: 80,
                    server: Ipv4Addr::new(192, 168, 1, 11),
                    weight: 0,
                    mac: Some(MacAddr([2, 0, 0, 0, 0, 11])),
                    state: WireState::Known(ServerState::Quiesced),
                    affinity_records: 0,
                    stats: stats(1),
                },
            ],
        )
    }

    #[test]
    fn parses_the_stats_flag() {
        for (argv, stats) in [
            (&["ndadm", "show"][..], false),
            (&["ndadm", "show", "-s"], true),
            (&["ndadm", "show", "--stats"], true),
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            assert_eq!(cli.object, Object::Show(ShowArgs { stats }));
        }
    }

    #[test]
    fn plain_view_shows_weights_states_and_macs() {
        assert_eq!(
            Output::default().render(&tree().without_stats()),
            "VIP / PORT / SERVER                 WEIGHT  STATE     MAC\n\
             10.0.0.1\n\
             \x20 10.0.0.1:80 wrr affinity 300s/32\n\
             \x20   -> 192.168.1.10                      3  active    -\n\
             \x20   -> 192.168.1.11                      0  quiesced  02:00:00:00:00:0b\n"
        );
    }

    #[test]
    fn stats_view_adds_counters_on_every_level() {
        assert_eq!(
            Output::default().render(&tree()),
            "VIP / PORT / SERVER                 CONNS  ACTIVE  INACTIVE  PACKETS  BYTES  DROPS\n\
             10.0.0.1                                5       1         0       10   1000      2\n\
             \x20 10.0.0.1:80 wrr affinity 300s/32      4       1         0       10   1000      2\n\
             \x20   -> 192.168.1.10                     3       1         0       10   1000      2\n\
             \x20   -> 192.168.1.11                     1       1         0       10   1000      2\n"
        );
    }

    #[test]
    fn json_nests_ports_and_servers_and_drops_counters_without_stats() {
        let output = Output {
            json: true,
            pretty: false,
        };
        let plain: serde_json::Value =
            serde_json::from_str(&output.render(&tree().without_stats())).unwrap();
        assert_eq!(
            plain,
            serde_json::json!([{
                "vip": "10.0.0.1",
                "ports": [{
                    "port": 80,
                    "scheduler": "wrr",
                    "affinity": {"timeout": 300, "prefix": 32, "quiesced": "keep"},
                    "servers": [
                        {"server": "192.168.1.10", "weight": 3, "mac": null, "state": "active",
                         "affinity_records": 2},
                        {"server": "192.168.1.11", "weight": 0, "mac": "02:00:00:00:00:0b",
                         "state": "quiesced", "affinity_records": 0}
                    ]
                }]
            }])
        );
        let with_stats: serde_json::Value = serde_json::from_str(&output.render(&tree())).unwrap();
        assert_eq!(with_stats[0]["stats"]["conns"], 5);
        assert_eq!(with_stats[0]["ports"][0]["stats"]["conns"], 4);
        assert_eq!(with_stats[0]["ports"][0]["servers"][1]["stats"]["conns"], 1);
        assert_eq!(
            with_stats[0]["ports"][0]["servers"][1]["stats"]["drop_no_server"],
            2
        );
    }
}
