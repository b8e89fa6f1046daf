//! Bringing the Executor up to the configuration: creating the VIPs, ports and servers it
//! lacks, and giving each configured port its configured scheduler, at start and after a
//! reload. Nothing is ever removed: a server that left the configuration keeps its weight and
//! connections and is no longer managed. A port whose scheduler changes keeps its open
//! connections with their servers; only new connections are scheduled the new way.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use ndadm::model::{SchedulerKind, Service};
use tracing::info;

use crate::config::Config;
use crate::executor::{Executor, ExecutorError, PortReading, ServerReading};

/// A change that brings the Executor closer to the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create a cluster address.
    Vip(Ipv4Addr),
    /// Create a port of a cluster address, scheduled by the scheduler given.
    Port(Service, SchedulerKind),
    /// Create a server behind a port, with weight 1.
    Server(Service, Ipv4Addr),
    /// Give an existing port another scheduler.
    Scheduler {
        /// The port.
        service: Service,
        /// The name of the scheduler it runs now.
        from: String,
        /// The configured one.
        to: SchedulerKind,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Vip(vip) => write!(f, "created VIP {vip}"),
            Action::Port(service, scheduler) => {
                write!(
                    f,
                    "created port {service}, scheduled by {}",
                    scheduler.name()
                )
            }
            Action::Server(service, server) => {
                write!(f, "created server {server} of {service}")
            }
            Action::Scheduler { service, from, to } => write!(
                f,
                "port {service} now schedules new connections by {} instead of {from}; its \
                 open connections stay with their servers",
                to.name()
            ),
        }
    }
}

/// What must be done, parents first, for the Executor to hold everything `config` names
/// with the configured schedulers.
pub fn plan(
    config: &Config,
    vips: &[Ipv4Addr],
    ports: &[PortReading],
    servers: &[ServerReading],
) -> Vec<Action> {
    let mut vips: BTreeSet<Ipv4Addr> = vips.iter().copied().collect();
    let ports: BTreeMap<Service, &str> = ports
        .iter()
        .map(|port| (port.service, port.scheduler.as_str()))
        .collect();
    let present: BTreeSet<(Service, Ipv4Addr)> =
        servers.iter().map(|s| (s.service, s.server)).collect();
    let mut actions = Vec::new();
    for service in &config.services {
        let name = service.service;
        if vips.insert(name.vip) {
            actions.push(Action::Vip(name.vip));
        }
        match ports.get(&name) {
            None => actions.push(Action::Port(name, service.scheduler)),
            Some(&running) if running != service.scheduler.name() => {
                actions.push(Action::Scheduler {
                    service: name,
                    from: running.to_string(),
                    to: service.scheduler,
                });
            }
            Some(_) => {}
        }
        for server in &service.servers {
            if !present.contains(&(name, server.address)) {
                actions.push(Action::Server(name, server.address));
            }
        }
    }
    actions
}

/// The servers of configured ports that the configuration does not name: they keep their
/// weight and the Manager leaves them alone.
pub fn unmanaged(config: &Config, servers: &[ServerReading]) -> Vec<(Service, Ipv4Addr)> {
    let managed = config.managed_servers();
    let services: BTreeSet<Service> = config.services.iter().map(|s| s.service).collect();
    servers
        .iter()
        .map(|s| (s.service, s.server))
        .filter(|key| services.contains(&key.0) && !managed.contains(key))
        .collect()
}

/// Creates what the Executor lacks and sets the configured schedulers, logging each action
/// and each unmanaged server.
pub fn provision(executor: &dyn Executor, config: &Config) -> Result<(), ExecutorError> {
    let servers = executor.servers()?;
    let actions = plan(config, &executor.vips()?, &executor.ports()?, &servers);
    for action in actions {
        match &action {
            Action::Vip(vip) => executor.add_vip(*vip)?,
            Action::Port(service, scheduler) => executor.add_port(*service, *scheduler)?,
            Action::Server(service, server) => executor.add_server(*service, *server)?,
            Action::Scheduler { service, to, .. } => executor.set_scheduler(*service, *to)?,
        }
        info!("{action} in the Executor");
    }
    for (service, server) in unmanaged(config, &servers) {
        info!(
            %service, %server,
            "server {server} of {service} is not in the configuration: left as it is, not managed"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
        [metrics]
        active_conns = 1
        [[service]]
        vip = "10.0.0.100"
        port = 80
        server = [{ address = "10.0.0.11" }, { address = "10.0.0.12" }]
        [[service]]
        vip = "10.0.0.100"
        port = 443
        scheduler = "wlc"
        server = [{ address = "10.0.0.11" }]
        [[service]]
        vip = "10.0.0.200"
        port = 80
    "#;

    fn reading(service: Service, server: Ipv4Addr) -> ServerReading {
        ServerReading {
            service,
            server,
            weight: 3,
            conns: 0,
            active: 0,
        }
    }

    fn port(service: Service, scheduler: &str) -> PortReading {
        PortReading {
            service,
            scheduler: scheduler.to_string(),
        }
    }

    #[test]
    fn creates_only_what_is_missing_parents_first() {
        let config = Config::parse("m.toml", CONFIG).unwrap();
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        let web = Service::new(vip, 80);
        let s11 = Ipv4Addr::new(10, 0, 0, 11);
        let s12 = Ipv4Addr::new(10, 0, 0, 12);
        let other = Service::new(Ipv4Addr::new(10, 0, 0, 200), 80);
        let tls = Service::new(vip, 443);
        let plan = plan(&config, &[vip], &[port(web, "wrr")], &[reading(web, s11)]);
        assert_eq!(
            plan,
            vec![
                Action::Server(web, s12),
                Action::Port(tls, SchedulerKind::Wlc),
                Action::Server(tls, s11),
                Action::Vip(other.vip),
                Action::Port(other, SchedulerKind::Wrr),
            ]
        );
    }

    #[test]
    fn a_port_running_another_scheduler_is_given_the_configured_one() {
        let config = Config::parse("m.toml", CONFIG).unwrap();
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        let (web, tls) = (Service::new(vip, 80), Service::new(vip, 443));
        let other = Service::new(Ipv4Addr::new(10, 0, 0, 200), 80);
        let s11 = Ipv4Addr::new(10, 0, 0, 11);
        let s12 = Ipv4Addr::new(10, 0, 0, 12);
        let servers = [reading(web, s11), reading(web, s12), reading(tls, s11)];
        // Port 80 runs sed (set by hand, say), port 443 a scheduler of a newer module.
        let ports = [port(web, "sed"), port(tls, "mh"), port(other, "wrr")];
        let plan = plan(&config, &[vip, other.vip], &ports, &servers);
        assert_eq!(
            plan,
            vec![
                Action::Scheduler {
                    service: web,
                    from: "sed".into(),
                    to: SchedulerKind::Wrr
                },
                Action::Scheduler {
                    service: tls,
                    from: "mh".into(),
                    to: SchedulerKind::Wlc
                },
            ]
        );
        assert_eq!(
            plan[1].to_string(),
            "port 10.0.0.100:443 now schedules new connections by wlc instead of mh; its open \
             connections stay with their servers"
        );
    }

    #[test]
    fn provisioning_twice_changes_nothing_the_second_time() {
        use crate::executor::MemoryExecutor;
        let config = Config::parse("m.toml", CONFIG).unwrap();
        let executor = MemoryExecutor::new();
        let tls = Service::new(Ipv4Addr::new(10, 0, 0, 100), 443);
        executor.insert(tls, Ipv4Addr::new(10, 0, 0, 11), 5);
        provision(&executor, &config).unwrap();
        assert_eq!(executor.scheduler(tls), Some(SchedulerKind::Wlc));
        let before = executor.with(|state| state.clone());
        provision(&executor, &config).unwrap();
        assert_eq!(executor.with(|state| state.clone()), before);
        assert_eq!(executor.weight(tls, Ipv4Addr::new(10, 0, 0, 11)), Some(5));
        let servers = executor.servers().unwrap();
        let ports = executor.ports().unwrap();
        assert!(plan(&config, &executor.vips().unwrap(), &ports, &servers).is_empty());
    }

    #[test]
    fn servers_outside_the_configuration_are_left_unmanaged() {
        let config = Config::parse("m.toml", CONFIG).unwrap();
        let web = Service::new(Ipv4Addr::new(10, 0, 0, 100), 80);
        let stranger = Ipv4Addr::new(10, 0, 0, 99);
        let elsewhere = Service::new(Ipv4Addr::new(10, 9, 9, 9), 80);
        let servers = [
            reading(web, Ipv4Addr::new(10, 0, 0, 11)),
            reading(web, stranger),
            reading(elsewhere, stranger),
        ];
        assert_eq!(unmanaged(&config, &servers), vec![(web, stranger)]);
    }
}
