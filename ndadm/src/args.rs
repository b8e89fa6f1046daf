//! Command-line value parsers: syntax and the ranges the protocol allows, checked before
//! anything is sent so that mistakes get a precise message and exit status 2.

use std::net::Ipv4Addr;

use nd_netlink_proto::family::{
    MAX_AFFINITY_TIMEOUT_SECS, MAX_CONN_LIMIT, MAX_TIMEOUT_SECS, MAX_WEIGHT,
};
use ndadm::model::{AffinityQuiesced, HaRole, MacAddr, SchedulerKind, Service, WeightEntry};

/// A unicast IPv4 address (a VIP or a server).
pub fn address(s: &str) -> Result<Ipv4Addr, String> {
    let addr: Ipv4Addr = s
        .parse()
        .map_err(|_| format!("'{s}' is not an IPv4 address"))?;
    unicast(addr)
}

fn unicast(addr: Ipv4Addr) -> Result<Ipv4Addr, String> {
    if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() {
        return Err(format!("{addr} is not a unicast address"));
    }
    Ok(addr)
}

/// `VIP:PORT` with a unicast VIP and a port from 1 to 65535.
pub fn service(s: &str) -> Result<Service, String> {
    let service: Service = s.parse().map_err(|e| format!("{e}"))?;
    unicast(service.vip)?;
    if service.port == 0 {
        return Err("port 0 is not a port (1 to 65535)".into());
    }
    Ok(service)
}

/// A connection scheduler by name.
pub fn scheduler(s: &str) -> Result<SchedulerKind, String> {
    SchedulerKind::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = SchedulerKind::ALL.iter().map(|k| k.name()).collect();
        format!("no scheduler named \"{s}\" (one of {})", names.join(", "))
    })
}

/// A weight from 0 (quiesced) to `MAX_WEIGHT`.
pub fn weight(s: &str) -> Result<u32, String> {
    let weight: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a weight (0 to {MAX_WEIGHT})"))?;
    if weight > MAX_WEIGHT {
        return Err(format!(
            "weight {weight} is above the maximum, {MAX_WEIGHT}"
        ));
    }
    Ok(weight)
}

/// A unicast MAC address.
pub fn mac(s: &str) -> Result<MacAddr, String> {
    let mac: MacAddr = s.parse().map_err(|e| format!("{e}"))?;
    if !mac.is_unicast() {
        return Err(format!("{mac} is not a unicast MAC address"));
    }
    Ok(mac)
}

/// `SERVER=WEIGHT`.
pub fn weight_entry(s: &str) -> Result<WeightEntry, String> {
    let (server, weight_text) = s
        .split_once('=')
        .ok_or_else(|| format!("expected SERVER=WEIGHT, e.g. 192.168.1.10=5, got '{s}'"))?;
    Ok(WeightEntry {
        server: address(server)?,
        weight: weight(weight_text)?,
    })
}

/// A state timeout in seconds, from 1 to `MAX_TIMEOUT_SECS`.
pub fn timeout(s: &str) -> Result<u32, String> {
    bounded(s, "timeout", 1, MAX_TIMEOUT_SECS)
}

/// A timeout in seconds that 0 turns off, from 0 to `MAX_TIMEOUT_SECS`.
pub fn timeout_or_off(s: &str) -> Result<u32, String> {
    bounded(s, "timeout", 0, MAX_TIMEOUT_SECS)
}

/// A connection table bound, from 1 to `MAX_CONN_LIMIT`.
pub fn conn_limit(s: &str) -> Result<u32, String> {
    bounded(s, "connection limit", 1, MAX_CONN_LIMIT)
}

/// A bound on the affinity records, from 1 to `MAX_CONN_LIMIT`.
pub fn affinity_limit(s: &str) -> Result<u32, String> {
    bounded(s, "affinity record limit", 1, MAX_CONN_LIMIT)
}

/// How long a client's binding outlives its last connection, in seconds: 0 (no affinity)
/// to `MAX_AFFINITY_TIMEOUT_SECS`.
pub fn affinity_timeout(s: &str) -> Result<u32, String> {
    bounded(s, "affinity timeout", 0, MAX_AFFINITY_TIMEOUT_SECS)
}

/// The length of the netmask that groups clients, 0 to 32.
pub fn affinity_prefix(s: &str) -> Result<u8, String> {
    let s = s.strip_prefix('/').unwrap_or(s);
    let prefix = bounded(s, "netmask length", 0, 32)?;
    Ok(u8::try_from(prefix).expect("at most 32"))
}

/// What a quiesced server's bound clients do: `keep` or `rebalance`.
pub fn affinity_quiesced(s: &str) -> Result<AffinityQuiesced, String> {
    [AffinityQuiesced::Keep, AffinityQuiesced::Rebalance]
        .into_iter()
        .find(|choice| choice.name() == s)
        .ok_or_else(|| format!("'{s}' is neither keep nor rebalance"))
}

/// A high-availability role: `active` or `standby`.
pub fn ha_role(s: &str) -> Result<HaRole, String> {
    [HaRole::Active, HaRole::Standby]
        .into_iter()
        .find(|role| role.name() == s)
        .ok_or_else(|| format!("'{s}' is neither active nor standby"))
}

fn bounded(s: &str, what: &str, min: u32, max: u32) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(format!("'{s}' is not a valid {what} ({min} to {max})")),
    }
}

/// The first server named twice in `entries`.
pub fn duplicate_server(entries: &[WeightEntry]) -> Option<Ipv4Addr> {
    let mut seen = std::collections::HashSet::new();
    entries
        .iter()
        .map(|entry| entry.server)
        .find(|server| !seen.insert(*server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_must_be_unicast_ipv4() {
        assert_eq!(address("10.0.0.1"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(address("10.0.0.256")
            .unwrap_err()
            .contains("not an IPv4 address"));
        assert!(address("::1").is_err());
        for group in ["0.0.0.0", "255.255.255.255", "224.0.0.1"] {
            assert!(
                address(group).unwrap_err().contains("not a unicast"),
                "{group}"
            );
        }
    }

    #[test]
    fn services_need_a_nonzero_port_in_range() {
        assert_eq!(
            service("10.0.0.1:443"),
            Ok(Service::new(Ipv4Addr::new(10, 0, 0, 1), 443))
        );
        assert!(service("10.0.0.1:0").unwrap_err().contains("port 0"));
        assert!(service("10.0.0.1:70000")
            .unwrap_err()
            .contains("not a port"));
        assert!(service("10.0.0.1").unwrap_err().contains("VIP:PORT"));
        assert!(service("0.0.0.0:80").unwrap_err().contains("unicast"));
    }

    #[test]
    fn weights_stop_at_the_protocol_maximum() {
        assert_eq!(weight("0"), Ok(0));
        assert_eq!(weight("65535"), Ok(MAX_WEIGHT));
        assert!(weight("65536").unwrap_err().contains("above the maximum"));
        assert!(weight("-1").unwrap_err().contains("not a weight"));
    }

    #[test]
    fn macs_must_be_unicast() {
        assert_eq!(mac("02:00:00:00:00:01"), Ok(MacAddr([2, 0, 0, 0, 0, 1])));
        assert!(mac("ff:ff:ff:ff:ff:ff").unwrap_err().contains("unicast"));
        assert!(mac("02:00:00:00:00").unwrap_err().contains("not a MAC"));
    }

    #[test]
    fn weight_entries_are_server_equals_weight() {
        assert_eq!(
            weight_entry("192.168.1.10=7"),
            Ok(WeightEntry {
                server: Ipv4Addr::new(192, 168, 1, 10),
                weight: 7
            })
        );
        assert!(weight_entry("192.168.1.10")
            .unwrap_err()
            .contains("SERVER=WEIGHT"));
        assert!(weight_entry("192.168.1.10=70000")
            .unwrap_err()
            .contains("maximum"));
    }

    #[test]
    fn timeouts_and_limits_have_bounds() {
        assert_eq!(timeout("60"), Ok(60));
        assert!(timeout("0").is_err());
        assert!(timeout(&(MAX_TIMEOUT_SECS + 1).to_string()).is_err());
        assert_eq!(timeout_or_off("0"), Ok(0));
        assert_eq!(
            timeout_or_off(&MAX_TIMEOUT_SECS.to_string()),
            Ok(MAX_TIMEOUT_SECS)
        );
        assert_eq!(
            timeout_or_off("604801"),
            Err("'604801' is not a valid timeout (0 to 604800)".into())
        );
        assert!(timeout_or_off("-1").is_err());
        assert_eq!(conn_limit(&MAX_CONN_LIMIT.to_string()), Ok(MAX_CONN_LIMIT));
        assert!(conn_limit("0").is_err());
    }

    #[test]
    fn affinity_settings_have_bounds_and_names() {
        assert_eq!(affinity_timeout("0"), Ok(0));
        assert_eq!(affinity_timeout("86400"), Ok(MAX_AFFINITY_TIMEOUT_SECS));
        assert_eq!(
            affinity_timeout("86401"),
            Err("'86401' is not a valid affinity timeout (0 to 86400)".into())
        );
        assert_eq!(affinity_prefix("24"), Ok(24));
        assert_eq!(affinity_prefix("/16"), Ok(16));
        assert_eq!(affinity_prefix("0"), Ok(0));
        assert!(affinity_prefix("33").unwrap_err().contains("0 to 32"));
        assert_eq!(affinity_quiesced("keep"), Ok(AffinityQuiesced::Keep));
        assert_eq!(
            affinity_quiesced("rebalance"),
            Ok(AffinityQuiesced::Rebalance)
        );
        assert!(affinity_quiesced("drop").unwrap_err().contains("neither"));
        assert_eq!(affinity_limit("1"), Ok(1));
        assert!(affinity_limit("0").is_err());
    }

    #[test]
    fn roles_are_active_or_standby() {
        assert_eq!(ha_role("active"), Ok(HaRole::Active));
        assert_eq!(ha_role("standby"), Ok(HaRole::Standby));
        assert_eq!(
            ha_role("master"),
            Err("'master' is neither active nor standby".into())
        );
    }

    #[test]
    fn finds_a_server_named_twice() {
        let entry = |last, weight| WeightEntry {
            server: Ipv4Addr::new(10, 1, 0, last),
            weight,
        };
        assert_eq!(duplicate_server(&[entry(1, 1), entry(2, 1)]), None);
        assert_eq!(
            duplicate_server(&[entry(1, 1), entry(2, 1), entry(1, 5)]),
            Some(Ipv4Addr::new(10, 1, 0, 1))
        );
    }
}
