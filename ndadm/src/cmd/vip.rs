//! `ndadm vip add|del|show`.

use std::net::Ipv4Addr;

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::Vip;

use super::Failure;
use crate::args;
use crate::output::{stats_table, Align, Output, Render, Table};

/// Commands on cluster addresses.
#[derive(Debug, Subcommand, PartialEq)]
pub enum VipCommand {
    /// Add a cluster address
    Add {
        /// The address
        #[arg(value_name = "VIP", value_parser = args::address)]
        vip: Ipv4Addr,
    },
    /// Remove a cluster address with its ports, servers and connections
    #[command(alias = "delete")]
    Del {
        /// The address
        #[arg(value_name = "VIP", value_parser = args::address)]
        vip: Ipv4Addr,
    },
    /// List cluster addresses with their counters
    #[command(alias = "list")]
    Show,
}

impl VipCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        match self {
            VipCommand::Add { vip } => client.add_vip(vip)?,
            VipCommand::Del { vip } => client.del_vip(vip)?,
            VipCommand::Show => output.print(client.vips()?.as_slice())?,
        }
        Ok(())
    }
}

impl Render for [Vip] {
    fn table(&self) -> Table {
        stats_table(
            &[("VIP", Align::Left)],
            self.iter()
                .map(|vip| (vec![vip.vip.to_string()], &vip.stats)),
        )
    }
}

#[cfg(test)]
mod tests {
    use ndadm::model::Stats;

    use super::*;
    use crate::cmd::{parse_object as parse, Object};

    #[test]
    fn parses_add_del_and_show() {
        let vip = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(
            parse(&["ndadm", "vip", "add", "10.0.0.1"]).unwrap(),
            Object::Vip(VipCommand::Add { vip })
        );
        assert_eq!(
            parse(&["ndadm", "vip", "del", "10.0.0.1"]).unwrap(),
            Object::Vip(VipCommand::Del { vip })
        );
        assert_eq!(
            parse(&["ndadm", "vip", "list"]).unwrap(),
            Object::Vip(VipCommand::Show)
        );
    }

    #[test]
    fn rejects_bad_addresses_with_status_2() {
        for bad in ["10.0.0", "10.0.0.1:80", "224.0.0.5", "host"] {
            let error = parse(&["ndadm", "vip", "add", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
        let error = parse(&["ndadm", "vip", "add"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn prints_a_table_and_json_of_the_same_data() {
        let vips = [Vip {
            vip: Ipv4Addr::new(10, 0, 0, 1),
            stats: Stats {
                conns: 7,
                active: 2,
                inactive: 1,
                packets: 100,
                bytes: 6400,
                drop_filtered: Some(3),
                drop_no_server: Some(0),
                drop_table_full: Some(1),
            },
        }];
        let table = Output::default().render(&vips[..]);
        assert_eq!(
            table,
            "VIP       CONNS  ACTIVE  INACTIVE  PACKETS  BYTES  DROPS\n\
             10.0.0.1      7       2         1      100   6400      4\n"
        );
        let json: serde_json::Value = serde_json::from_str(
            &Output {
                json: true,
                pretty: false,
            }
            .render(&vips[..]),
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "vip": "10.0.0.1",
                "stats": {
                    "conns": 7, "active": 2, "inactive": 1, "packets": 100, "bytes": 6400,
                    "drop_filtered": 3, "drop_no_server": 0, "drop_table_full": 1
                }
            }])
        );
    }
}
