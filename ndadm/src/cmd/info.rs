//! `ndadm info`.

use ndadm::client::Client;
use ndadm::model::Info;

use super::Failure;
use crate::output::{Align, Output, Render, Table};

/// Prints the module's global figures.
pub fn run(client: &Client, output: &Output) -> Result<(), Failure> {
    output.print(&client.info()?)?;
    Ok(())
}

impl Render for Info {
    fn table(&self) -> Table {
        let mut table = Table::headerless(&[Align::Left, Align::Right]);
        table.row(vec!["protocol-version".into(), self.version.to_string()]);
        table.row(vec!["connections".into(), self.conn_count.to_string()]);
        table.row(vec!["conn-limit".into(), self.conn_limit.to_string()]);
        table.row(vec![
            "conn-table-bytes".into(),
            self.conn_table_bytes.to_string(),
        ]);
        table.row(vec![
            "affinity-records".into(),
            self.affinity_records.to_string(),
        ]);
        table.row(vec![
            "affinity-limit".into(),
            self.affinity_limit.to_string(),
        ]);
        for (reason, count) in self.drops.by_reason() {
            table.row(vec![format!("drops {reason}"), count.to_string()]);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use ndadm::model::Drops;

    use super::*;

    fn info() -> Info {
        Info {
            version: 1,
            conn_count: 12,
            conn_limit: 1 << 20,
            conn_table_bytes: 65_536,
            affinity_records: 3,
            affinity_limit: 4096,
            drops: Drops {
                no_server: 1,
                table_full: 2,
                filtered: 3,
                malformed: 4,
                no_connection: 5,
                no_route: 6,
                no_memory: 7,
                half_open_evicted: 8,
                standby: 9,
            },
        }
    }

    #[test]
    fn table_lists_every_drop_reason() {
        assert_eq!(
            Output::default().render(&info()),
            "protocol-version               1\n\
             connections                   12\n\
             conn-limit               1048576\n\
             conn-table-bytes           65536\n\
             affinity-records               3\n\
             affinity-limit              4096\n\
             drops no-server                1\n\
             drops table-full               2\n\
             drops filtered                 3\n\
             drops malformed                4\n\
             drops no-connection            5\n\
             drops no-route                 6\n\
             drops no-memory                7\n\
             drops half-open-evicted        8\n\
             drops standby                  9\n"
        );
    }

    #[test]
    fn json_nests_drops_by_reason() {
        let output = Output {
            json: true,
            pretty: false,
        };
        let json: serde_json::Value = serde_json::from_str(&output.render(&info())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "version": 1, "conn_count": 12, "conn_limit": 1048576,
                "conn_table_bytes": 65536, "affinity_records": 3, "affinity_limit": 4096,
                "drops": {
                    "no_server": 1, "table_full": 2, "filtered": 3, "malformed": 4,
                    "no_connection": 5, "no_route": 6, "no_memory": 7,
                    "half_open_evicted": 8, "standby": 9
                }
            })
        );
    }
}
