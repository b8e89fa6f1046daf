//! The TOML file format of `ndadm apply`:
//!
//! ```toml
//! [config]                    # optional; settings left out stay as they are
//! timeout_established = 900
//! timeout_syn_pressure = 5    # 0 turns the early expiry of half-open connections off
//! conn_limit = 1000000
//! affinity_limit = 100000
//!
//! [[vip]]
//! address = "10.0.0.1"
//!
//! [[vip.port]]
//! port = 80
//! scheduler = "wlc"           # optional: wrr, wlc or sed; left out, the port keeps its own
//! affinity_timeout = 300      # optional, as each affinity_*: 0 turns client affinity off
//! affinity_prefix = 24        # clients grouped by /24 networks (32: each address alone)
//! affinity_quiesced = "keep"  # or "rebalance": what a quiesced server's clients do
//! server = [
//!   { address = "192.168.1.10", weight = 5 },
//!   { address = "192.168.1.11", mac = "02:00:00:00:00:0b" },   # weight 1
//! ]
//! ```

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use nd_netlink_proto::family::{MAX_PORTS_PER_VIP, MAX_SERVERS_PER_PORT, MAX_VIPS};
use ndadm::model::{AffinityQuiesced, ConfigChange, MacAddr, PortOptions, SchedulerKind};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::{Desired, DesiredServer, Invalid};
use crate::args;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSection {
    #[serde(default)]
    config: Option<ConfigSection>,
    #[serde(default)]
    vip: Vec<VipSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSection {
    timeout_syn: Option<Seconds>,
    timeout_syn_pressure: Option<SecondsOrOff>,
    timeout_established: Option<Seconds>,
    timeout_fin: Option<Seconds>,
    timeout_close: Option<Seconds>,
    conn_limit: Option<ConnLimit>,
    affinity_limit: Option<AffinityLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VipSection {
    address: Spanned<Address>,
    #[serde(default)]
    port: Vec<PortSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortSection {
    port: Spanned<PortNumber>,
    scheduler: Option<Scheduler>,
    affinity_timeout: Option<AffinityTimeout>,
    affinity_prefix: Option<AffinityPrefix>,
    affinity_quiesced: Option<Quiesced>,
    #[serde(default)]
    server: Vec<ServerSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    address: Spanned<Address>,
    weight: Option<Weight>,
    mac: Option<Mac>,
}

/// Declares a field type read as `$raw` and checked by a command-line value parser, so the
/// file and the command line accept the same values.
macro_rules! checked_value {
    ($name:ident($inner:ty) from $raw:ty, $check:path) => {
        struct $name($inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <$raw>::deserialize(deserializer)?;
                $check(&raw.to_string())
                    .map($name)
                    .map_err(D::Error::custom)
            }
        }
    };
}

checked_value!(Address(Ipv4Addr) from String, args::address);
checked_value!(PortNumber(u16) from i64, port_number);
checked_value!(Weight(u32) from i64, args::weight);
checked_value!(Mac(MacAddr) from String, args::mac);
checked_value!(Scheduler(SchedulerKind) from String, args::scheduler);
checked_value!(Seconds(u32) from i64, args::timeout);
checked_value!(SecondsOrOff(u32) from i64, args::timeout_or_off);
checked_value!(ConnLimit(u32) from i64, args::conn_limit);
checked_value!(AffinityLimit(u32) from i64, args::affinity_limit);
checked_value!(AffinityTimeout(u32) from i64, args::affinity_timeout);
checked_value!(AffinityPrefix(u8) from i64, args::affinity_prefix);
checked_value!(Quiesced(AffinityQuiesced) from String, args::affinity_quiesced);

fn port_number(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{text} is not a port (1 to 65535)")),
    }
}

/// Reads the configuration `text` of file `file`.
pub fn parse(file: &str, text: &str) -> Result<Desired, Invalid> {
    let at = |span: Option<Range<usize>>, message: String| {
        let (line, field) = span.map_or((None, None), |span| locate(text, span.start));
        Invalid {
            file: file.to_string(),
            line,
            field,
            message,
        }
    };
    let parsed: FileSection =
        toml::from_str(text).map_err(|e| at(e.span(), e.message().trim_end().to_string()))?;

    let mut desired = Desired::default();
    if let Some(config) = parsed.config {
        desired.config = ConfigChange {
            timeout_syn: config.timeout_syn.map(|s| s.0),
            timeout_syn_pressure: config.timeout_syn_pressure.map(|s| s.0),
            timeout_established: config.timeout_established.map(|s| s.0),
            timeout_fin: config.timeout_fin.map(|s| s.0),
            timeout_close: config.timeout_close.map(|s| s.0),
            conn_limit: config.conn_limit.map(|l| l.0),
            affinity_limit: config.affinity_limit.map(|l| l.0),
        };
    }
    let mut vip_lines = BTreeMap::new();
    for vip in parsed.vip {
        let addr = vip.address.get_ref().0;
        let vip_span = vip.address.span();
        let line = line_of(text, vip_span.start);
        if let Some(first) = vip_lines.insert(addr, line) {
            return Err(at(
                Some(vip_span),
                format!("VIP {addr} is listed twice (first on line {first})"),
            ));
        }
        if vip_lines.len() > MAX_VIPS {
            return Err(at(Some(vip_span), format!("more than {MAX_VIPS} VIPs")));
        }
        if vip.port.len() > MAX_PORTS_PER_VIP {
            return Err(at(
                Some(vip_span),
                format!("VIP {addr} has more than {MAX_PORTS_PER_VIP} ports"),
            ));
        }
        let ports = desired.vips.entry(addr).or_default();
        let mut port_lines = BTreeMap::new();
        for port in vip.port {
            let number = port.port.get_ref().0;
            let port_span = port.port.span();
            if let Some(first) = port_lines.insert(number, line_of(text, port_span.start)) {
                return Err(at(
                    Some(port_span),
                    format!("port {number} of VIP {addr} is listed twice (first on line {first})"),
                ));
            }
            if port.server.len() > MAX_SERVERS_PER_PORT {
                return Err(at(
                    Some(port_span),
                    format!("{addr}:{number} has more than {MAX_SERVERS_PER_PORT} servers"),
                ));
            }
            let options = PortOptions {
                scheduler: port.scheduler.map(|s| s.0),
                affinity_timeout: port.affinity_timeout.map(|t| t.0),
                affinity_prefix: port.affinity_prefix.map(|p| p.0),
                affinity_quiesced: port.affinity_quiesced.map(|q| q.0),
            };
            if !options.is_empty() {
                desired.port_options.insert((addr, number), options);
            }
            let servers = ports.entry(number).or_default();
            let mut server_lines = BTreeMap::new();
            for server in port.server {
                let server_addr = server.address.get_ref().0;
                let server_span = server.address.span();
                let line = line_of(text, server_span.start);
                let Entry::Vacant(slot) = server_lines.entry(server_addr) else {
                    return Err(at(
                        Some(server_span),
                        format!(
                            "server {server_addr} of {addr}:{number} is listed twice \
                             (first on line {})",
                            server_lines[&server_addr]
                        ),
                    ));
                };
                slot.insert(line);
                servers.insert(
                    server_addr,
                    DesiredServer {
                        weight: server.weight.map_or(1, |w| w.0),
                        mac: server.mac.map(|m| m.0),
                    },
                );
            }
        }
    }
    Ok(desired)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of byte `offset`, and the key of the `key = value` whose value starts there.
fn locate(text: &str, offset: usize) -> (Option<usize>, Option<String>) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let key = before[line_start..]
        .trim_end()
        .strip_suffix('=')
        .map(str::trim_end)
        .and_then(|head| {
            let start = head
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |i| i + 1);
            let key = &head[start..];
            (!key.is_empty()).then(|| key.to_string())
        });
    (Some(line_of(text, offset)), key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Desired {
        parse("cluster.toml", text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> Invalid {
        parse("cluster.toml", text).unwrap_err()
    }

    const EXAMPLE: &str = r#"
[config]
timeout_established = 900
conn_limit = 1000000

[[vip]]
address = "10.0.0.1"

[[vip.port]]
port = 80
server = [
  { address = "192.168.1.10", weight = 5 },
  { address = "192.168.1.11", mac = "02:00:00:00:00:0b" },
]

[[vip.port]]
port = 443

[[vip]]
address = "10.0.0.2"
"#;

    #[test]
    fn reads_vips_ports_servers_and_settings() {
        let desired = parse_ok(EXAMPLE);
        assert_eq!(
            desired.config,
            ConfigChange {
                timeout_established: Some(900),
                conn_limit: Some(1_000_000),
                ..ConfigChange::default()
            }
        );
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        assert_eq!(desired.vips.keys().copied().collect::<Vec<_>>(), [a, b]);
        assert_eq!(
            desired.vips[&a].keys().copied().collect::<Vec<_>>(),
            [80, 443]
        );
        assert!(desired.vips[&b].is_empty());
        let servers = &desired.vips[&a][&80];
        assert_eq!(
            servers[&Ipv4Addr::new(192, 168, 1, 10)],
            DesiredServer {
                weight: 5,
                mac: None
            }
        );
        assert_eq!(
            servers[&Ipv4Addr::new(192, 168, 1, 11)],
            DesiredServer {
                weight: 1,
                mac: Some(MacAddr([2, 0, 0, 0, 0, 0x0b]))
            }
        );
    }

    #[test]
    fn reads_a_syn_pressure_timeout_with_zero_for_off() {
        for (value, wanted) in [("0", 0), ("5", 5), ("604800", 604_800)] {
            let desired = parse_ok(&format!("[config]\ntimeout_syn_pressure = {value}\n"));
            assert_eq!(
                desired.config,
                ConfigChange {
                    timeout_syn_pressure: Some(wanted),
                    ..ConfigChange::default()
                }
            );
        }
        let error = parse_err("[config]\ntimeout_syn = 30\ntimeout_syn_pressure = 604801\n");
        assert_eq!(
            error,
            Invalid {
                file: "cluster.toml".into(),
                line: Some(3),
                field: Some("timeout_syn_pressure".into()),
                message: "'604801' is not a valid timeout (0 to 604800)".into(),
            }
        );
    }

    #[test]
    fn an_empty_file_asks_for_an_empty_configuration() {
        assert_eq!(parse_ok(""), Desired::default());
    }

    #[test]
    fn bad_values_name_the_line_and_field() {
        let text = EXAMPLE.replace("weight = 5", "weight = 70000");
        assert_eq!(
            parse_err(&text),
            Invalid {
                file: "cluster.toml".into(),
                line: Some(12),
                field: Some("weight".into()),
                message: "weight 70000 is above the maximum, 65535".into(),
            }
        );
        let error = parse_err(&EXAMPLE.replace("port = 443", "port = 0"));
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(17), Some("port"))
        );
        assert_eq!(error.message, "0 is not a port (1 to 65535)");
        let error = parse_err(&EXAMPLE.replace("\"10.0.0.2\"", "\"10.0.0.300\""));
        assert_eq!(
            error.to_string(),
            "cluster.toml: line 20: field `address`: '10.0.0.300' is not an IPv4 address"
        );
        let error = parse_err(&EXAMPLE.replace("02:00:00:00:00:0b", "ff:ff:ff:ff:ff:ff"));
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(13), Some("mac"))
        );
        let error = parse_err(&EXAMPLE.replace("conn_limit = 1000000", "conn_limit = 0"));
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(4), Some("conn_limit"))
        );
    }

    #[test]
    fn reads_a_port_scheduler_and_names_a_bad_one() {
        let text = EXAMPLE.replace("port = 443", "port = 443\nscheduler = \"wlc\"");
        let desired = parse_ok(&text);
        let a = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(
            desired.port_options.into_iter().collect::<Vec<_>>(),
            [((a, 443), PortOptions::scheduled(SchedulerKind::Wlc))]
        );
        let error = parse_err(&EXAMPLE.replace("port = 443", "port = 443\nscheduler = \"lc\""));
        assert_eq!(error.field.as_deref(), Some("scheduler"));
        assert_eq!(
            error.message,
            "no scheduler named \"lc\" (one of wrr, wlc, sed)"
        );
    }

    #[test]
    fn reads_affinity_settings_per_port_and_names_bad_ones() {
        let text = EXAMPLE.replace(
            "port = 443",
            "port = 443\naffinity_timeout = 300\naffinity_prefix = 24\n\
             affinity_quiesced = \"rebalance\"",
        );
        let desired = parse_ok(&text);
        let a = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(
            desired.port_options[&(a, 443)],
            PortOptions {
                scheduler: None,
                affinity_timeout: Some(300),
                affinity_prefix: Some(24),
                affinity_quiesced: Some(AffinityQuiesced::Rebalance),
            }
        );
        assert!(!desired.port_options.contains_key(&(a, 80)));

        let error = parse_err(&EXAMPLE.replace("port = 443", "port = 443\naffinity_prefix = 40"));
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(18), Some("affinity_prefix"))
        );
        let error =
            parse_err(&EXAMPLE.replace("port = 443", "port = 443\naffinity_quiesced = \"forget\""));
        assert_eq!(error.message, "'forget' is neither keep nor rebalance");
        let error = parse_err(&EXAMPLE.replace("port = 443", "port = 443\naffinity_timeout = -1"));
        assert_eq!(error.field.as_deref(), Some("affinity_timeout"));
    }

    #[test]
    fn reads_an_affinity_limit() {
        let desired = parse_ok("[config]\naffinity_limit = 50000\n");
        assert_eq!(
            desired.config,
            ConfigChange {
                affinity_limit: Some(50_000),
                ..ConfigChange::default()
            }
        );
        let error = parse_err("[config]\naffinity_limit = 0\n");
        assert_eq!(error.field.as_deref(), Some("affinity_limit"));
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let error = parse_err(&EXAMPLE.replace("weight = 5", "wieght = 5"));
        assert_eq!(error.line, Some(12));
        assert!(error.message.contains("unknown field `wieght`"), "{error}");
        let error = parse_err("[[vip]]\nport = []\n");
        assert!(error.message.contains("missing field `address`"), "{error}");
        let error = parse_err("[[vip]]\naddress = \"10.0.0.1\"\n[[vip.port]]\nport = \"80\"\n");
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(4), Some("port"))
        );
    }

    #[test]
    fn duplicates_point_at_both_lines() {
        let text = format!("{EXAMPLE}\n[[vip]]\naddress = \"10.0.0.1\"\n");
        let error = parse_err(&text);
        assert_eq!(error.line, Some(23));
        assert_eq!(
            error.message,
            "VIP 10.0.0.1 is listed twice (first on line 7)"
        );

        let text = EXAMPLE.replace("192.168.1.11", "192.168.1.10");
        let error = parse_err(&text);
        assert_eq!(error.line, Some(13));
        assert_eq!(
            error.message,
            "server 192.168.1.10 of 10.0.0.1:80 is listed twice (first on line 12)"
        );

        let text = EXAMPLE.replace("port = 443", "port = 80");
        assert_eq!(
            parse_err(&text).message,
            "port 80 of VIP 10.0.0.1 is listed twice (first on line 10)"
        );
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let error = parse_err("[[vip]\naddress = 1\n");
        assert_eq!(error.line, Some(1));
    }
}
