//! The requests that turn the module's configuration into the desired one.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ndadm::client::Request;
use ndadm::model::{
    Config, ConfigChange, PortNode, PortOptions, ServerNode, ServerOptions, Service, Tree,
    WeightEntry, WireState,
};

use super::{Desired, DesiredServer};

/// The requests, in order, that make `current` (and `config`) what `desired` describes:
/// removals first, then additions from the VIPs down, then changes of servers that stay.
/// A VIP's or port's removal takes everything under it along.
pub fn plan(current: &Tree, config: &Config, desired: &Desired) -> Vec<Request> {
    let mut removals = Vec::new();
    let mut additions = Vec::new();
    let mut changes = Vec::new();
    let current_vips: BTreeMap<Ipv4Addr, _> =
        current.vips.iter().map(|vip| (vip.vip, vip)).collect();

    for vip in current
        .vips
        .iter()
        .filter(|v| !desired.vips.contains_key(&v.vip))
    {
        removals.push(Request::DelVip(vip.vip));
    }
    for (&addr, desired_ports) in &desired.vips {
        let Some(current_vip) = current_vips.get(&addr) else {
            additions.push(Request::NewVip(addr));
            for (&port, servers) in desired_ports {
                add_port(&mut additions, desired, Service::new(addr, port), servers);
            }
            continue;
        };
        let current_ports: BTreeMap<u16, &PortNode> = current_vip
            .ports
            .iter()
            .map(|port| (port.port, port))
            .collect();
        for &port in current_ports
            .keys()
            .filter(|p| !desired_ports.contains_key(p))
        {
            removals.push(Request::DelPort(Service::new(addr, port)));
        }
        for (&port, servers) in desired_ports {
            let service = Service::new(addr, port);
            match current_ports.get(&port) {
                None => add_port(&mut additions, desired, service, servers),
                Some(current_port) => {
                    if let Some(wanted) = desired.port_options.get(&(addr, port)) {
                        let change = port_change(current_port, wanted);
                        if !change.is_empty() {
                            changes.push(Request::SetPort(service, change));
                        }
                    }
                    reconcile_port(
                        service,
                        &current_port.servers,
                        servers,
                        (&mut removals, &mut additions, &mut changes),
                    )
                }
            }
        }
    }
    let config_change = config_change(config, &desired.config);
    if !config_change.is_empty() {
        changes.push(Request::SetConfig(config_change));
    }
    removals
        .into_iter()
        .chain(additions)
        .chain(changes)
        .collect()
}

fn add_port(
    additions: &mut Vec<Request>,
    desired: &Desired,
    service: Service,
    servers: &BTreeMap<Ipv4Addr, DesiredServer>,
) {
    let options = desired.port_options.get(&(service.vip, service.port));
    additions.push(Request::NewPort(
        service,
        options.copied().unwrap_or_default(),
    ));
    for (&server, wanted) in servers {
        additions.push(new_server(service, server, wanted));
    }
}

/// The settings of `wanted` that `current` does not have. Only those are sent: a change of
/// any affinity setting drops the port's affinity records.
fn port_change(current: &PortNode, wanted: &PortOptions) -> PortOptions {
    let affinity = current.affinity;
    PortOptions {
        scheduler: wanted
            .scheduler
            .filter(|s| current.scheduler.as_deref() != Some(s.name())),
        affinity_timeout: wanted
            .affinity_timeout
            .filter(|&t| affinity.map(|a| a.timeout) != Some(t)),
        affinity_prefix: wanted
            .affinity_prefix
            .filter(|&p| affinity.map(|a| a.prefix) != Some(p)),
        affinity_quiesced: wanted
            .affinity_quiesced
            .filter(|&q| affinity.map(|a| a.quiesced) != Some(WireState::Known(q))),
    }
}

fn new_server(service: Service, server: Ipv4Addr, wanted: &DesiredServer) -> Request {
    Request::NewServer {
        service,
        server,
        options: ServerOptions {
            weight: Some(wanted.weight),
            mac: wanted.mac,
        },
    }
}

/// The requests for a port that exists and stays. A static MAC can be set but not removed,
/// so a server that must lose its MAC is removed and added again. Weight changes go in one
/// `SetWeights`, so that the port's balance changes at once.
fn reconcile_port(
    service: Service,
    current: &[ServerNode],
    desired: &BTreeMap<Ipv4Addr, DesiredServer>,
    (removals, additions, changes): (&mut Vec<Request>, &mut Vec<Request>, &mut Vec<Request>),
) {
    let current: BTreeMap<Ipv4Addr, &ServerNode> = current.iter().map(|s| (s.server, s)).collect();
    let mut weights_differ = false;
    for (&server, node) in &current {
        let Some(wanted) = desired.get(&server) else {
            removals.push(Request::DelServer { service, server });
            continue;
        };
        if node.mac.is_some() && wanted.mac.is_none() {
            removals.push(Request::DelServer { service, server });
            additions.push(new_server(service, server, wanted));
            continue;
        }
        if wanted.mac.is_some() && wanted.mac != node.mac {
            changes.push(Request::SetServer {
                service,
                server,
                options: ServerOptions {
                    weight: None,
                    mac: wanted.mac,
                },
            });
        }
        weights_differ |= node.weight != wanted.weight;
    }
    for (&server, wanted) in desired.iter().filter(|(s, _)| !current.contains_key(s)) {
        additions.push(new_server(service, server, wanted));
    }
    if weights_differ {
        changes.push(Request::SetWeights {
            service,
            weights: desired
                .iter()
                .map(|(&server, wanted)| WeightEntry {
                    server,
                    weight: wanted.weight,
                })
                .collect(),
        });
    }
}

/// The settings `wanted` names whose value differs from `current`.
fn config_change(current: &Config, wanted: &ConfigChange) -> ConfigChange {
    let differs = |wanted: Option<u32>, current: u32| wanted.filter(|&w| w != current);
    ConfigChange {
        timeout_syn: differs(wanted.timeout_syn, current.timeout_syn),
        timeout_syn_pressure: differs(wanted.timeout_syn_pressure, current.timeout_syn_pressure),
        timeout_established: differs(wanted.timeout_established, current.timeout_established),
        timeout_fin: differs(wanted.timeout_fin, current.timeout_fin),
        timeout_close: differs(wanted.timeout_close, current.timeout_close),
        conn_limit: differs(wanted.conn_limit, current.conn_limit),
        affinity_limit: differs(wanted.affinity_limit, current.affinity_limit),
    }
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::ServerState;
    use ndadm::model::{
        Affinity, AffinityQuiesced, MacAddr, Port, SchedulerKind, Server, Stats, Vip,
    };

    use super::*;

    const CONFIG: Config = Config {
        timeout_syn: 60,
        timeout_syn_pressure: 5,
        timeout_established: 900,
        timeout_fin: 120,
        timeout_close: 10,
        conn_limit: 1000,
        affinity_limit: 4096,
    };

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, last)
    }

    fn server_ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 168, 1, last)
    }

    /// A tree of `(vip, port, server, weight, mac)` rows plus bare VIPs and ports.
    fn tree(vips: &[u8], ports: &[(u8, u16)], servers: &[(u8, u16, u8, u32, Option<u8>)]) -> Tree {
        Tree::assemble(
            vips.iter()
                .map(|&v| Vip {
                    vip: ip(v),
                    stats: Stats::default(),
                })
                .collect(),
            ports
                .iter()
                .map(|&(v, port)| Port {
                    vip: ip(v),
                    port,
                    scheduler: "wrr".into(),
                    affinity: Affinity::default(),
                    stats: Stats::default(),
                })
                .collect(),
            servers
                .iter()
                .map(|&(v, port, s, weight, mac)| Server {
                    vip: ip(v),
                    port,
                    server: server_ip(s),
                    weight,
                    mac: mac.map(|m| MacAddr([2, 0, 0, 0, 0, m])),
                    state: WireState::Known(ServerState::Active),
                    affinity_records: 0,
                    stats: Stats::default(),
                })
                .collect(),
        )
    }

    fn desired(servers: &[(u8, u16, u8, u32, Option<u8>)], bare: &[(u8, Option<u16>)]) -> Desired {
        let mut desired = Desired::default();
        for &(v, port, s, weight, mac) in servers {
            desired
                .vips
                .entry(ip(v))
                .or_default()
                .entry(port)
                .or_default()
                .insert(
                    server_ip(s),
                    DesiredServer {
                        weight,
                        mac: mac.map(|m| MacAddr([2, 0, 0, 0, 0, m])),
                    },
                );
        }
        for &(v, port) in bare {
            let ports = desired.vips.entry(ip(v)).or_default();
            if let Some(port) = port {
                ports.entry(port).or_default();
            }
        }
        desired
    }

    fn described(requests: &[Request]) -> Vec<String> {
        requests.iter().map(Request::describe).collect()
    }

    #[test]
    fn builds_everything_from_nothing_top_down() {
        let wanted = desired(
            &[(1, 80, 10, 5, None), (1, 80, 11, 1, Some(0xb))],
            &[(2, None)],
        );
        let requests = plan(&Tree::default(), &CONFIG, &wanted);
        assert_eq!(
            described(&requests),
            [
                "add VIP 10.0.0.1",
                "add port 10.0.0.1:80",
                "add server 192.168.1.10 to 10.0.0.1:80",
                "add server 192.168.1.11 to 10.0.0.1:80",
                "add VIP 10.0.0.2",
            ]
        );
        assert_eq!(
            requests[3],
            Request::NewServer {
                service: Service::new(ip(1), 80),
                server: server_ip(11),
                options: ServerOptions {
                    weight: Some(1),
                    mac: Some(MacAddr([2, 0, 0, 0, 0, 0xb]))
                }
            }
        );
    }

    #[test]
    fn a_named_scheduler_is_given_to_new_ports_and_set_on_old_ones() {
        let mut wanted = desired(&[(1, 80, 10, 1, None), (2, 81, 10, 1, None)], &[]);
        let wlc = PortOptions::scheduled(SchedulerKind::Wlc);
        let sed = PortOptions::scheduled(SchedulerKind::Sed);
        wanted.port_options.insert((ip(1), 80), wlc);
        wanted.port_options.insert((ip(2), 81), sed);
        // 10.0.0.1:80 runs wrr; 10.0.0.2:81 is new.
        let current = tree(&[1], &[(1, 80)], &[(1, 80, 10, 1, None)]);
        let requests = plan(&current, &CONFIG, &wanted);
        assert!(requests.contains(&Request::NewPort(Service::new(ip(2), 81), sed)));
        assert!(requests.contains(&Request::SetPort(Service::new(ip(1), 80), wlc)));
        // A port the file names no scheduler for keeps its own.
        wanted.port_options.clear();
        let requests = plan(&current, &CONFIG, &wanted);
        assert!(!requests.iter().any(|r| matches!(r, Request::SetPort(..))));
        assert!(requests.contains(&Request::NewPort(
            Service::new(ip(2), 81),
            PortOptions::default()
        )));
    }

    #[test]
    fn only_the_affinity_settings_that_differ_are_changed() {
        let service = Service::new(ip(1), 80);
        let mut current = tree(&[1], &[(1, 80)], &[(1, 80, 10, 1, None)]);
        current.vips[0].ports[0].affinity = Some(Affinity {
            timeout: 300,
            ..Affinity::default()
        });
        let mut wanted = desired(&[(1, 80, 10, 1, None)], &[]);
        wanted.port_options.insert(
            (ip(1), 80),
            PortOptions {
                scheduler: Some(SchedulerKind::Wrr),
                affinity_timeout: Some(300),
                affinity_prefix: Some(24),
                affinity_quiesced: Some(AffinityQuiesced::Keep),
            },
        );
        assert_eq!(
            plan(&current, &CONFIG, &wanted),
            [Request::SetPort(
                service,
                PortOptions {
                    affinity_prefix: Some(24),
                    ..PortOptions::default()
                }
            )]
        );
        current.vips[0].ports[0].affinity = Some(Affinity {
            timeout: 300,
            prefix: 24,
            ..Affinity::default()
        });
        assert!(plan(&current, &CONFIG, &wanted).is_empty());
    }

    #[test]
    fn a_new_port_gets_its_affinity_settings() {
        let mut wanted = desired(&[(1, 80, 10, 1, None)], &[]);
        let options = PortOptions {
            affinity_timeout: Some(600),
            ..PortOptions::default()
        };
        wanted.port_options.insert((ip(1), 80), options);
        let requests = plan(&Tree::default(), &CONFIG, &wanted);
        assert_eq!(
            requests[1],
            Request::NewPort(Service::new(ip(1), 80), options)
        );
    }

    #[test]
    fn the_affinity_limit_changes_only_where_it_differs() {
        let wanting = |affinity_limit| Desired {
            config: ConfigChange {
                affinity_limit: Some(affinity_limit),
                ..ConfigChange::default()
            },
            ..Desired::default()
        };
        assert!(plan(&Tree::default(), &CONFIG, &wanting(4096)).is_empty());
        assert_eq!(
            plan(&Tree::default(), &CONFIG, &wanting(100)),
            [Request::SetConfig(ConfigChange {
                affinity_limit: Some(100),
                ..ConfigChange::default()
            })]
        );
    }

    #[test]
    fn an_identical_configuration_needs_nothing() {
        let current = tree(&[1], &[(1, 80)], &[(1, 80, 10, 5, Some(1))]);
        let wanted = desired(&[(1, 80, 10, 5, Some(1))], &[]);
        assert!(plan(&current, &CONFIG, &wanted).is_empty());
    }

    #[test]
    fn removes_what_the_file_leaves_out_before_adding() {
        let current = tree(
            &[1, 2],
            &[(1, 80), (1, 443)],
            &[
                (1, 80, 10, 1, None),
                (1, 80, 12, 1, None),
                (2, 25, 10, 1, None),
            ],
        );
        let wanted = desired(&[(1, 80, 10, 1, None), (1, 80, 13, 4, None)], &[]);
        assert_eq!(
            described(&plan(&current, &CONFIG, &wanted)),
            [
                "delete VIP 10.0.0.2",
                "delete port 10.0.0.1:443",
                "delete server 192.168.1.12 from 10.0.0.1:80",
                "add server 192.168.1.13 to 10.0.0.1:80",
            ]
        );
    }

    #[test]
    fn weight_changes_go_in_one_request_naming_every_server() {
        let current = tree(
            &[1],
            &[(1, 80)],
            &[(1, 80, 10, 1, None), (1, 80, 11, 1, None)],
        );
        let wanted = desired(
            &[
                (1, 80, 10, 1, None),
                (1, 80, 11, 0, None),
                (1, 80, 12, 3, None),
            ],
            &[],
        );
        let requests = plan(&current, &CONFIG, &wanted);
        assert_eq!(
            requests,
            [
                Request::NewServer {
                    service: Service::new(ip(1), 80),
                    server: server_ip(12),
                    options: ServerOptions {
                        weight: Some(3),
                        mac: None
                    }
                },
                Request::SetWeights {
                    service: Service::new(ip(1), 80),
                    weights: vec![
                        WeightEntry {
                            server: server_ip(10),
                            weight: 1
                        },
                        WeightEntry {
                            server: server_ip(11),
                            weight: 0
                        },
                        WeightEntry {
                            server: server_ip(12),
                            weight: 3
                        },
                    ]
                }
            ]
        );
    }

    #[test]
    fn macs_are_set_in_place_but_removed_by_re_adding_the_server() {
        let current = tree(
            &[1],
            &[(1, 80)],
            &[(1, 80, 10, 1, None), (1, 80, 11, 1, Some(1))],
        );
        let wanted = desired(&[(1, 80, 10, 1, Some(2)), (1, 80, 11, 1, None)], &[]);
        assert_eq!(
            described(&plan(&current, &CONFIG, &wanted)),
            [
                "delete server 192.168.1.11 from 10.0.0.1:80",
                "add server 192.168.1.11 to 10.0.0.1:80",
                "change server 192.168.1.10 of 10.0.0.1:80",
            ]
        );
    }

    #[test]
    fn settings_change_only_where_they_differ() {
        let wanted = Desired {
            config: ConfigChange {
                timeout_syn: Some(60),
                timeout_fin: Some(30),
                ..ConfigChange::default()
            },
            ..Desired::default()
        };
        assert_eq!(
            plan(&Tree::default(), &CONFIG, &wanted),
            [Request::SetConfig(ConfigChange {
                timeout_fin: Some(30),
                ..ConfigChange::default()
            })]
        );
    }

    #[test]
    fn syn_pressure_timeout_changes_only_where_it_differs() {
        let wanting = |timeout_syn_pressure| Desired {
            config: ConfigChange {
                timeout_syn_pressure: Some(timeout_syn_pressure),
                ..ConfigChange::default()
            },
            ..Desired::default()
        };
        assert!(plan(&Tree::default(), &CONFIG, &wanting(5)).is_empty());
        let requests = plan(&Tree::default(), &CONFIG, &wanting(0));
        assert_eq!(
            requests,
            [Request::SetConfig(ConfigChange {
                timeout_syn_pressure: Some(0),
                ..ConfigChange::default()
            })]
        );
        assert_eq!(described(&requests), ["change the config"]);

        let switched_off = Config {
            timeout_syn_pressure: 0,
            ..CONFIG
        };
        assert!(plan(&Tree::default(), &switched_off, &wanting(0)).is_empty());
        assert_eq!(
            plan(&Tree::default(), &switched_off, &wanting(3)),
            [Request::SetConfig(ConfigChange {
                timeout_syn_pressure: Some(3),
                ..ConfigChange::default()
            })]
        );
    }
}
