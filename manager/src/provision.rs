//! Bringing the Executor up to the configuration: creating the VIPs, ports and servers it
//! lacks, at start and after a reload. Nothing is ever removed: a server that left the
//! configuration keeps its weight and connections and is no longer managed.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;

use ndadm::model::Service;
use tracing::info;

use crate::config::Config;
use crate::executor::{Executor, ExecutorError, ServerReading};

/// An object the Executor lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    /// A cluster address.
    Vip(Ipv4Addr),
    /// A port of a cluster address.
    Port(Service),
    /// A server behind a port, added with weight 1.
    Server(Service, Ipv4Addr),
}

impl fmt::Display for Creation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Creation::Vip(vip) => write!(f, "VIP {vip}"),
            Creation::Port(service) => write!(f, "port {service}"),
            Creation::Server(service, server) => write!(f, "server {server} of {service}"),
        }
    }
}

/// What must be created, parents first, for the Executor to hold everything `config` names.
pub fn plan(
    config: &Config,
    vips: &[Ipv4Addr],
    ports: &[Service],
    servers: &[ServerReading],
) -> Vec<Creation> {
    let mut vips: BTreeSet<Ipv4Addr> = vips.iter().copied().collect();
    let mut ports: BTreeSet<Service> = ports.iter().copied().collect();
    let present: BTreeSet<(Service, Ipv4Addr)> =
        servers.iter().map(|s| (s.service, s.server)).collect();
    let mut creations = Vec::new();
    for service in &config.services {
        let name = service.service;
        if vips.insert(name.vip) {
            creations.push(Creation::Vip(name.vip));
        }
        if ports.insert(name) {
            creations.push(Creation::Port(name));
        }
        for server in &service.servers {
            if !present.contains(&(name, server.address)) {
                creations.push(Creation::Server(name, server.address));
            }
        }
    }
    creations
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

/// Creates what the Executor lacks, logging each creation and each unmanaged server.
pub fn provision(executor: &dyn Executor, config: &Config) -> Result<(), ExecutorError> {
    let servers = executor.servers()?;
    let creations = plan(config, &executor.vips()?, &executor.ports()?, &servers);
    for creation in creations {
        match creation {
            Creation::Vip(vip) => executor.add_vip(vip)?,
            Creation::Port(service) => executor.add_port(service)?,
            Creation::Server(service, server) => executor.add_server(service, server)?,
        }
        info!(%creation, "created {creation} in the Executor");
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

    #[test]
    fn creates_only_what_is_missing_parents_first() {
        let config = Config::parse("m.toml", CONFIG).unwrap();
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        let web = Service::new(vip, 80);
        let s11 = Ipv4Addr::new(10, 0, 0, 11);
        let s12 = Ipv4Addr::new(10, 0, 0, 12);
        let other = Service::new(Ipv4Addr::new(10, 0, 0, 200), 80);
        let tls = Service::new(vip, 443);
        let plan = plan(&config, &[vip], &[web], &[reading(web, s11)]);
        assert_eq!(
            plan,
            vec![
                Creation::Server(web, s12),
                Creation::Port(tls),
                Creation::Server(tls, s11),
                Creation::Vip(other.vip),
                Creation::Port(other),
            ]
        );
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
