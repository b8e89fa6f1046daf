//! JSON reports printed by `ndtest connect` and `ndtest hold`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Occurrences of each failure kind, keyed like `connect_refused` or
/// `echo_timeout` (phase, underscore, cause).
pub type ErrorCounts = BTreeMap<String, u64>;

/// Connections counted per server name taken from the greeting.
pub type ServerCounts = BTreeMap<String, u64>;

/// Output of `ndtest connect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectReport {
    pub attempted: u64,
    pub ok: u64,
    pub failed: u64,
    /// Successful connections per server name.
    pub per_server: ServerCounts,
    pub errors: ErrorCounts,
    /// Distinct client IPs the servers saw as the peer, sorted.
    pub server_saw_peer: Vec<String>,
    /// Distinct IPs the servers saw as their own local address, sorted.
    pub server_saw_local: Vec<String>,
}

/// Output of `ndtest hold`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldReport {
    pub conns: u64,
    /// Connections that completed the TCP handshake and delivered a greeting.
    pub established: u64,
    /// Established connections that echoed every chunk and closed cleanly.
    pub intact: u64,
    /// Established connections that were not intact.
    pub broken: u64,
    /// Established connections per server name.
    pub per_server: ServerCounts,
    /// Bytes sent and verified in the echo, over all connections.
    pub bytes_echoed: u64,
    pub errors: ErrorCounts,
}

impl ConnectReport {
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("report serializes")
    }
}

impl HoldReport {
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("report serializes")
    }
}

/// Adds one occurrence of `kind` to `counts`.
pub fn count(counts: &mut BTreeMap<String, u64>, kind: &str) {
    *counts.entry(kind.to_owned()).or_default() += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_report_round_trips() {
        let report = ConnectReport {
            attempted: 10,
            ok: 8,
            failed: 2,
            per_server: [("srv1".to_owned(), 5), ("srv2".to_owned(), 3)].into(),
            errors: [("connect_timeout".to_owned(), 2)].into(),
            server_saw_peer: vec!["10.0.0.2".to_owned()],
            server_saw_local: vec!["10.0.0.100".to_owned()],
        };
        let text = report.to_json();
        assert_eq!(ConnectReport::from_json(&text).unwrap(), report);
    }

    #[test]
    fn connect_report_parses_documented_shape() {
        let text = r#"{"attempted":3,"ok":2,"failed":1,"per_server":{"srv1":2},
            "errors":{"greeting_eof":1},"server_saw_peer":["10.0.0.2"],
            "server_saw_local":["10.0.0.100"]}"#;
        let report = ConnectReport::from_json(text).unwrap();
        assert_eq!(report.attempted, 3);
        assert_eq!(report.per_server["srv1"], 2);
        assert_eq!(report.errors["greeting_eof"], 1);
        assert_eq!(report.server_saw_local, ["10.0.0.100"]);
    }

    #[test]
    fn hold_report_round_trips() {
        let report = HoldReport {
            conns: 4,
            established: 4,
            intact: 3,
            broken: 1,
            per_server: [("a".to_owned(), 2), ("b".to_owned(), 2)].into(),
            bytes_echoed: 4096,
            errors: [("echo_eof".to_owned(), 1)].into(),
        };
        let text = report.to_json();
        assert_eq!(HoldReport::from_json(&text).unwrap(), report);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["per_server"]["b"], 2);
        assert_eq!(value["bytes_echoed"], 4096);
    }

    #[test]
    fn missing_field_is_rejected() {
        assert!(HoldReport::from_json(r#"{"conns":1}"#).is_err());
    }

    #[test]
    fn count_accumulates() {
        let mut counts = ErrorCounts::new();
        count(&mut counts, "x");
        count(&mut counts, "x");
        count(&mut counts, "y");
        assert_eq!(counts["x"], 2);
        assert_eq!(counts["y"], 1);
    }
}
