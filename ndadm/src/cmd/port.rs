//! `ndadm port add|set|del|show`.

use std::net::Ipv4Addr;

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::{Port, SchedulerKind, Service};

use super::Failure;
use crate::args;
use crate::output::{stats_table, Align, Output, Render, Table};

/// Commands on ports of cluster addresses.
#[derive(Debug, Subcommand, PartialEq)]
pub enum PortCommand {
    /// Add a port to a cluster address
    Add {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// How new connections pick a server: wrr (weighted round robin, the default), wlc
        /// (fewest connections per weight) or sed (shortest expected delay)
        #[arg(long, value_name = "NAME", value_parser = args::scheduler)]
        scheduler: Option<SchedulerKind>,
    },
    /// Change a port's scheduler; open connections stay with their servers
    Set {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// wrr, wlc or sed
        #[arg(long, value_name = "NAME", value_parser = args::scheduler)]
        scheduler: SchedulerKind,
    },
    /// Remove a port with its servers and connections
    #[command(alias = "delete")]
    Del {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
    },
    /// List ports with their counters
    #[command(alias = "list")]
    Show {
        /// Only the ports of this cluster address
        #[arg(value_name = "VIP", value_parser = args::address)]
        vip: Option<Ipv4Addr>,
    },
}

impl PortCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            PortCommand::Add {
                service,
                scheduler: None,
            } => client.add_port(service)?,
            PortCommand::Add {
                service,
                scheduler: Some(scheduler),
            } => client.add_port_scheduled(service, scheduler)?,
            PortCommand::Set { service, scheduler } => client.set_scheduler(service, scheduler)?,
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
            &[("VIP:PORT", Align::Left), ("SCHED", Align::Left)],
            self.iter().map(|port| {
                (
                    vec![port.service().to_string(), port.scheduler.clone()],
                    &port.stats,
                )
            }),
        )
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    #[test]
    fn parses_services_and_the_optional_filter() {
        let service = Service::new(Ipv4Addr::new(10, 0, 0, 1), 80);
        assert_eq!(
            parse(&["ndadm", "port", "add", "10.0.0.1:80"]).unwrap(),
            Object::Port(PortCommand::Add {
                service,
                scheduler: None
            })
        );
        assert_eq!(
            parse(&["ndadm", "port", "add", "10.0.0.1:80", "--scheduler", "wlc"]).unwrap(),
            Object::Port(PortCommand::Add {
                service,
                scheduler: Some(SchedulerKind::Wlc)
            })
        );
        assert_eq!(
            parse(&["ndadm", "port", "set", "10.0.0.1:80", "--scheduler", "sed"]).unwrap(),
            Object::Port(PortCommand::Set {
                service,
                scheduler: SchedulerKind::Sed
            })
        );
        let error =
            parse(&["ndadm", "port", "set", "10.0.0.1:80", "--scheduler", "lc"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("one of wrr, wlc, sed"),
            "{error}"
        );
        assert_eq!(
            parse(&["ndadm", "port", "set", "10.0.0.1:80"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            parse(&["ndadm", "port", "delete", "10.0.0.1:80"]).unwrap(),
            Object::Port(PortCommand::Del { service })
        );
        assert_eq!(
            parse(&["ndadm", "port", "show"]).unwrap(),
            Object::Port(PortCommand::Show { vip: None })
        );
        assert_eq!(
            parse(&["ndadm", "port", "show", "10.0.0.1"]).unwrap(),
            Object::Port(PortCommand::Show {
                vip: Some(service.vip)
            })
        );
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
}
