//! JSON reports printed by `ndtest connect`, `hold`, `fuzz-netlink`, `replay-netlink` and
//! `raw-packets`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Occurrences of each named event.
pub type Counts = BTreeMap<String, u64>;

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

/// `from_json` and `to_json` for each report type.
macro_rules! json_report {
    ($($report:ty),+) => {
        $(
            impl $report {
                /// Parses the report from the JSON the subcommand printed.
                pub fn from_json(text: &str) -> serde_json::Result<Self> {
                    serde_json::from_str(text)
                }

                /// The report as one line of JSON.
                pub fn to_json(&self) -> String {
                    serde_json::to_string(self).expect("report serializes")
                }
            }
        )+
    };
}

json_report!(
    ConnectReport,
    HoldReport,
    FuzzReport,
    ReplayReport,
    RawPacketsReport
);

/// Output of `ndtest fuzz-netlink`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzReport {
    /// The seed the requests were drawn from.
    pub seed: u64,
    /// The user the requests were sent as, when not root.
    pub uid: Option<u32>,
    /// Requests sent.
    pub sent: u64,
    /// Requests acknowledged with errno 0, dumps that ended cleanly, and requests without
    /// `NLM_F_ACK` that drew no error.
    pub accepted: u64,
    /// Accepted requests per command name (`NewVip`, ..., `cmd200` for unknown numbers).
    pub accepted_by_cmd: Counts,
    /// Accepted requests whose command changes state (anything but `Get*`).
    pub accepted_mutating: u64,
    /// Rejected requests per errno name (`EINVAL`, ...).
    pub rejected_by_errno: Counts,
    /// Requests whose final reply did not come within the receive timeout.
    pub timeouts: u64,
    /// Failed sends and receives per errno name; each replaces the socket.
    pub socket_errors: Counts,
    /// Sockets opened, a fresh one every thousand requests and after any trouble.
    pub sockets_opened: u64,
    /// Dump requests of dump commands.
    pub dumps: u64,
    /// Dumps read to a clean end.
    pub dumps_completed: u64,
    /// Dumps left after their first entry.
    pub dumps_interrupted: u64,
    /// Dumps whose replies carried `NLM_F_DUMP_INTR`.
    pub dumps_flagged_intr: u64,
    /// Requests per origin: `random`, `template` (valid), `mutated`.
    pub by_origin: Counts,
    /// Mutations applied, per name.
    pub mutations: Counts,
    /// Requests appended to the record file.
    pub recorded: u64,
    /// With `--uid`: accepted mutating requests, as command name and hex payload (the first
    /// hundred). Each one is a finding.
    pub accepted_unprivileged: Vec<String>,
    /// Wall time of the run.
    pub elapsed_ms: u64,
}

/// Output of `ndtest replay-netlink`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// Records resent (or found unreadable).
    pub replayed: u64,
    /// Records the kernel did not acknowledge, or that could not be read.
    pub failed: u64,
    /// One line per failure (the first hundred): record line, command, errno.
    pub errors: Vec<String>,
}

/// Output of `ndtest raw-packets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPacketsReport {
    /// `malformed` or `synflood`.
    pub kind: String,
    /// Frames the kernel took for transmission.
    pub sent: u64,
    /// Frames sent per frame kind (`truncated_ip`, ..., `syn`).
    pub by_kind: Counts,
    /// Frames the kernel refused to send.
    pub send_errors: u64,
    /// Refused frames per errno name.
    pub send_errors_by_errno: Counts,
    /// Wall time of the run.
    pub elapsed_ms: u64,
}

/// The symbolic name of a positive errno (`EINVAL`), or `errnoN` for a rare one.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTO => "EPROTO",
        libc::EBADMSG => "EBADMSG",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENXIO => "ENXIO",
        libc::ENOBUFS => "ENOBUFS",
        libc::ECONNREFUSED => "ECONNREFUSED",
        // The kernel-internal ENOTSUPP sometimes leaks out of netlink.
        524 => "ENOTSUPP",
        _ => return format!("errno{errno}"),
    };
    name.to_owned()
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
    fn adversarial_reports_round_trip_with_their_documented_fields() {
        let mut fuzz = FuzzReport {
            seed: 7,
            sent: 3,
            accepted: 1,
            recorded: 1,
            ..FuzzReport::default()
        };
        count(&mut fuzz.rejected_by_errno, &errno_name(libc::EINVAL));
        count(&mut fuzz.rejected_by_errno, &errno_name(libc::EPERM));
        let text = fuzz.to_json();
        assert_eq!(FuzzReport::from_json(&text).unwrap(), fuzz);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["rejected_by_errno"]["EINVAL"], 1);
        for key in [
            "sent",
            "accepted",
            "rejected_by_errno",
            "timeouts",
            "dumps",
            "dumps_interrupted",
            "recorded",
            "accepted_unprivileged",
        ] {
            assert!(value.get(key).is_some(), "missing {key} in {text}");
        }

        let replay = ReplayReport::from_json(r#"{"replayed":2,"failed":1,"errors":["x"]}"#);
        assert_eq!(replay.unwrap().failed, 1);
        let raw = RawPacketsReport {
            kind: "synflood".into(),
            sent: 5,
            by_kind: [("syn".to_owned(), 5)].into(),
            ..RawPacketsReport::default()
        };
        assert_eq!(RawPacketsReport::from_json(&raw.to_json()).unwrap(), raw);
    }

    #[test]
    fn errnos_are_named() {
        assert_eq!(errno_name(libc::EOPNOTSUPP), "EOPNOTSUPP");
        assert_eq!(errno_name(libc::ERANGE), "ERANGE");
        assert_eq!(errno_name(524), "ENOTSUPP");
        assert_eq!(errno_name(4000), "errno4000");
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
