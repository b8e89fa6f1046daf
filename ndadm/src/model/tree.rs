//! The configuration as a tree: VIPs, their ports, the ports' servers.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use nd_netlink_proto::attr::ServerState;
use serde::Serialize;

use super::{Affinity, MacAddr, Port, Server, Stats, Vip, WireState};

/// Every VIP of the namespace with its ports and servers, sorted by address and port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tree {
    /// The VIPs.
    pub vips: Vec<VipNode>,
}

/// A VIP and its ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VipNode {
    /// The address.
    pub vip: Ipv4Addr,
    /// Its counters, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Its ports.
    pub ports: Vec<PortNode>,
}

/// A port and its servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortNode {
    /// The port.
    pub port: u16,
    /// Its connection scheduler, when the port's own record was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    /// Its client affinity settings, when the port's own record was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Its counters, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Its servers.
    pub servers: Vec<ServerNode>,
}

/// A server as a leaf of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerNode {
    /// The server's address.
    pub server: Ipv4Addr,
    /// Its weight.
    pub weight: u32,
    /// Its static MAC address.
    pub mac: Option<MacAddr>,
    /// Whether it takes new connections.
    pub state: WireState<ServerState>,
    /// The affinity records binding clients to it.
    pub affinity_records: u32,
    /// Its counters, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
}

impl Tree {
    /// Builds the tree from three dumps. The dumps are not one snapshot, so a port or server
    /// whose parent appeared in between still gets a (counter-less) parent node.
    pub fn assemble(vips: Vec<Vip>, ports: Vec<Port>, servers: Vec<Server>) -> Tree {
        /// What a port's own record tells.
        struct Own {
            stats: Stats,
            scheduler: String,
            affinity: Affinity,
        }
        type Ports = BTreeMap<u16, (Option<Own>, Vec<ServerNode>)>;
        let mut by_vip: BTreeMap<Ipv4Addr, (Option<Stats>, Ports)> = BTreeMap::new();
        for vip in vips {
            by_vip.entry(vip.vip).or_default().0 = Some(vip.stats);
        }
        for port in ports {
            let vip = by_vip.entry(port.vip).or_default();
            vip.1.entry(port.port).or_default().0 = Some(Own {
                stats: port.stats,
                scheduler: port.scheduler,
                affinity: port.affinity,
            });
        }
        for server in servers {
            let vip = by_vip.entry(server.vip).or_default();
            vip.1.entry(server.port).or_default().1.push(ServerNode {
                server: server.server,
                weight: server.weight,
                mac: server.mac,
                state: server.state,
                affinity_records: server.affinity_records,
                stats: Some(server.stats),
            });
        }
        let vips = by_vip
            .into_iter()
            .map(|(vip, (stats, ports))| VipNode {
                vip,
                stats,
                ports: ports
                    .into_iter()
                    .map(|(port, (own, mut servers))| {
                        servers.sort_by_key(|s| s.server);
                        PortNode {
                            port,
                            stats: own.as_ref().map(|own| own.stats),
                            affinity: own.as_ref().map(|own| own.affinity),
                            scheduler: own.map(|own| own.scheduler),
                            servers,
                        }
                    })
                    .collect(),
            })
            .collect();
        Tree { vips }
    }

    /// The same tree with every counter removed, for the plain (non `--stats`) view.
    pub fn without_stats(mut self) -> Tree {
        for vip in &mut self.vips {
            vip.stats = None;
            for port in &mut vip.ports {
                port.stats = None;
                for server in &mut port.servers {
                    server.stats = None;
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(conns: u64) -> Stats {
        Stats {
            conns,
            ..Stats::default()
        }
    }

    fn server(vip: Ipv4Addr, port: u16, last: u8, weight: u32) -> Server {
        Server {
            vip,
            port,
            server: Ipv4Addr::new(192, 168, 1, last),
            weight,
            mac: None,
            state: WireState::Known(ServerState::Active),
            affinity_records: 0,
            stats: stats(u64::from(last)),
        }
    }

    #[test]
    fn nests_and_sorts_ports_and_servers_under_their_vips() {
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        let tree = Tree::assemble(
            vec![
                Vip {
                    vip: b,
                    stats: stats(2),
                },
                Vip {
                    vip: a,
                    stats: stats(1),
                },
            ],
            vec![
                Port {
                    vip: a,
                    port: 443,
                    scheduler: "wrr".into(),
                    affinity: Affinity::default(),
                    stats: stats(4),
                },
                Port {
                    vip: a,
                    port: 80,
                    scheduler: "wrr".into(),
                    affinity: Affinity {
                        timeout: 300,
                        ..Affinity::default()
                    },
                    stats: stats(3),
                },
            ],
            vec![server(a, 80, 11, 2), server(a, 80, 10, 1)],
        );
        assert_eq!(tree.vips.len(), 2);
        assert_eq!(tree.vips[0].vip, a);
        assert_eq!(tree.vips[0].stats, Some(stats(1)));
        let ports: Vec<u16> = tree.vips[0].ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [80, 443]);
        let servers: Vec<_> = tree.vips[0].ports[0]
            .servers
            .iter()
            .map(|s| (s.server.octets()[3], s.weight))
            .collect();
        assert_eq!(servers, [(10, 1), (11, 2)]);
        assert_eq!(tree.vips[0].ports[0].affinity.map(|a| a.timeout), Some(300));
        assert_eq!(tree.vips[0].ports[1].affinity.map(|a| a.timeout), Some(0));
        assert!(tree.vips[1].ports.is_empty());
    }

    #[test]
    fn keeps_servers_whose_port_appeared_between_dumps() {
        let vip = Ipv4Addr::new(10, 0, 0, 9);
        let tree = Tree::assemble(vec![], vec![], vec![server(vip, 25, 1, 1)]);
        assert_eq!(tree.vips[0].vip, vip);
        assert_eq!(tree.vips[0].stats, None);
        assert_eq!(tree.vips[0].ports[0].port, 25);
        assert_eq!(tree.vips[0].ports[0].servers.len(), 1);
        assert_eq!(tree.vips[0].ports[0].affinity, None);
    }

    #[test]
    fn without_stats_clears_every_level() {
        let vip = Ipv4Addr::new(10, 0, 0, 9);
        let tree = Tree::assemble(
            vec![Vip {
                vip,
                stats: stats(1),
            }],
            vec![Port {
                vip,
                port: 25,
                scheduler: "wrr".into(),
                affinity: Affinity::default(),
                stats: stats(1),
            }],
            vec![server(vip, 25, 1, 1)],
        )
        .without_stats();
        assert_eq!(tree.vips[0].stats, None);
        assert_eq!(tree.vips[0].ports[0].stats, None);
        assert_eq!(tree.vips[0].ports[0].servers[0].stats, None);
    }
}
