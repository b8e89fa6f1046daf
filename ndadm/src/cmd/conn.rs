//! `ndadm conn show`.

use clap::Subcommand;
use ndadm::client::Client;
use ndadm::model::Conn;

use super::Failure;
use crate::output::{duration_ms, Align, Output, Render, Table};

/// Commands on the connection table.
#[derive(Debug, Subcommand, PartialEq)]
pub enum ConnCommand {
    /// List connections: client, VIP:PORT, server, state, time to expiry
    #[command(alias = "list")]
    Show,
}

impl ConnCommand {
    /// Runs the command.
    pub fn run(self, client: &Client, output: &Output) -> Result<(), Failure> {
        let ConnCommand::Show = self;
        let mut conns = client.conns()?;
        conns.sort_by_key(|c| (c.service(), c.client, c.client_port));
        output.print(conns.as_slice())?;
        Ok(())
    }
}

impl Render for [Conn] {
    fn table(&self) -> Table {
        let mut table = Table::new(&[
            ("CLIENT", Align::Left),
            ("VIP:PORT", Align::Left),
            ("SERVER", Align::Left),
            ("STATE", Align::Left),
            ("EXPIRES", Align::Right),
        ]);
        for conn in self {
            table.row(vec![
                format!("{}:{}", conn.client, conn.client_port),
                conn.service().to_string(),
                conn.server.to_string(),
                conn.state.to_string(),
                duration_ms(conn.expires_ms),
            ]);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use nd_netlink_proto::attr::ConnState;
    use ndadm::model::WireState;

    use super::*;

    fn conn(state: WireState<ConnState>) -> Conn {
        Conn {
            client: Ipv4Addr::new(203, 0, 113, 7),
            client_port: 40000,
            vip: Ipv4Addr::new(10, 0, 0, 1),
            port: 443,
            server: Ipv4Addr::new(192, 168, 1, 10),
            state,
            expires_ms: 899_000,
        }
    }

    #[test]
    fn table_lists_each_connection() {
        let conns = [
            conn(WireState::Known(ConnState::Established)),
            conn(WireState::Unknown(7)),
        ];
        assert_eq!(
            Output::default().render(&conns[..]),
            "CLIENT             VIP:PORT      SERVER        STATE        EXPIRES\n\
             203.0.113.7:40000  10.0.0.1:443  192.168.1.10  established   14m59s\n\
             203.0.113.7:40000  10.0.0.1:443  192.168.1.10  unknown(7)    14m59s\n"
        );
    }

    #[test]
    fn json_carries_raw_fields() {
        let conns = [conn(WireState::Known(ConnState::SynSent))];
        let output = Output {
            json: true,
            pretty: false,
        };
        let json: serde_json::Value = serde_json::from_str(&output.render(&conns[..])).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "client": "203.0.113.7", "client_port": 40000, "vip": "10.0.0.1", "port": 443,
                "server": "192.168.1.10", "state": "syn_sent", "expires_ms": 899000
            }])
        );
    }
}
