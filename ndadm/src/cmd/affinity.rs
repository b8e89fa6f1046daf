//! `ndadm affinity show`: the clients bound to servers.

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::{AffinityRecord, Service};

use super::Failure;
use crate::args;
use crate::output::{duration_ms, Align, Output, Render, Table};

/// Commands on the affinity records.
#[derive(Debug, Subcommand, PartialEq)]
pub enum AffinityCommand {
    /// List the clients (or client networks) bound to servers: VIP:PORT, client, server,
    /// their open connections, time to expiry
    #[command(alias = "list")]
    Show {
        /// Only the records of this port
        #[arg(value_name = "VIP:PORT", value_parser = args::service)]
        service: Option<Service>,
    },
}

impl AffinityCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        let AffinityCommand::Show { service } = self;
        let mut records = client.affinity()?;
        records.retain(|record| service.is_none_or(|service| record.service() == service));
        records.sort_by_key(|r| (r.service(), r.client, r.prefix));
        output.print(records.as_slice())?;
        Ok(())
    }
}

impl Render for [AffinityRecord] {
    fn table(&self) -> Table {
        let mut table = Table::new(&[
            ("VIP:PORT", Align::Left),
            ("CLIENT", Align::Left),
            ("SERVER", Align::Left),
            ("CONNS", Align::Right),
            ("EXPIRES", Align::Right),
        ]);
        for record in self {
            table.row(vec![
                record.service().to_string(),
                format!("{}/{}", record.client, record.prefix),
                record.server.to_string(),
                record.conns.to_string(),
                duration_ms(record.expires_ms),
            ]);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    #[test]
    fn parses_show_with_an_optional_port() {
        assert_eq!(
            parse(&["ndadm", "affinity", "show"]).unwrap(),
            Object::Affinity(AffinityCommand::Show { service: None })
        );
        assert_eq!(
            parse(&["ndadm", "affinity", "list", "10.0.0.1:443"]).unwrap(),
            Object::Affinity(AffinityCommand::Show {
                service: Some(Service::new(Ipv4Addr::new(10, 0, 0, 1), 443))
            })
        );
        assert!(parse(&["ndadm", "affinity", "show", "10.0.0.1"]).is_err());
    }

    #[test]
    fn table_and_json_show_each_binding() {
        let records = [AffinityRecord {
            vip: Ipv4Addr::new(10, 0, 0, 1),
            port: 443,
            client: Ipv4Addr::new(203, 0, 113, 0),
            prefix: 24,
            server: Ipv4Addr::new(192, 168, 1, 11),
            conns: 2,
            expires_ms: 299_500,
        }];
        assert_eq!(
            Output::default().render(&records[..]),
            "VIP:PORT      CLIENT          SERVER        CONNS  EXPIRES\n\
             10.0.0.1:443  203.0.113.0/24  192.168.1.11      2    4m59s\n"
        );
        let output = Output {
            json: true,
            pretty: false,
        };
        let json: serde_json::Value = serde_json::from_str(&output.render(&records[..])).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "vip": "10.0.0.1", "port": 443, "client": "203.0.113.0", "prefix": 24,
                "server": "192.168.1.11", "conns": 2, "expires_ms": 299500
            }])
        );
    }
}
