//! `ndadm weights set`: every server's weight of a port in one request.

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::{Service, WeightEntry};

use super::Failure;
use crate::args;

/// Commands on the weights of a port's servers.
#[derive(Debug, Subcommand, PartialEq)]
pub enum WeightsCommand {
    /// Replace the weights of every server of a port at once
    Set {
        /// The cluster address and port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Service,
        /// Each server of the port with its new weight
        #[arg(value_name = "SERVER=W", required = true, value_parser = args::weight_entry)]
        weights: Vec<WeightEntry>,
    },
}

impl WeightsCommand {
    /// Rejects a server named twice: the module wants each server exactly once.
    pub fn validate(&self) -> Result<(), String> {
        let WeightsCommand::Set { weights, .. } = self;
        match args::duplicate_server(weights) {
            Some(server) => Err(format!("server {server} is named more than once")),
            None => Ok(()),
        }
    }

    /// Runs the command.
    pub fn run(self, client: &Client) -> Result<(), Failure> {
        let WeightsCommand::Set { service, weights } = self;
        client.set_weights(service, &weights)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use clap::error::ErrorKind;
    use clap::Parser;

    use super::*;
    use crate::cmd::{Cli, Object};

    #[test]
    fn parses_server_weight_pairs() {
        let cli = Cli::try_parse_from([
            "ndadm",
            "weights",
            "set",
            "10.0.0.1:80",
            "192.168.1.10=5",
            "192.168.1.11=0",
        ])
        .unwrap();
        assert!(cli.validate().is_ok());
        assert_eq!(
            cli.object,
            Object::Weights(WeightsCommand::Set {
                service: Service::new(Ipv4Addr::new(10, 0, 0, 1), 80),
                weights: vec![
                    WeightEntry {
                        server: Ipv4Addr::new(192, 168, 1, 10),
                        weight: 5
                    },
                    WeightEntry {
                        server: Ipv4Addr::new(192, 168, 1, 11),
                        weight: 0
                    },
                ]
            })
        );
    }

    #[test]
    fn needs_at_least_one_pair_and_well_formed_ones() {
        let none = Cli::try_parse_from(["ndadm", "weights", "set", "10.0.0.1:80"]).unwrap_err();
        assert_eq!(none.kind(), ErrorKind::MissingRequiredArgument);
        for bad in ["192.168.1.10", "192.168.1.10=65536", "192.168.1=1"] {
            let error =
                Cli::try_parse_from(["ndadm", "weights", "set", "10.0.0.1:80", bad]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad}");
        }
    }

    #[test]
    fn a_duplicate_server_is_a_usage_error() {
        let cli = Cli::try_parse_from([
            "ndadm",
            "weights",
            "set",
            "10.0.0.1:80",
            "192.168.1.10=5",
            "192.168.1.11=1",
            "192.168.1.10=2",
        ])
        .unwrap();
        let error = cli.validate().unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error
            .to_string()
            .contains("server 192.168.1.10 is named more than once"));
    }
}
