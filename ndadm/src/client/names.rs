//! Printable names of attribute numbers, for error messages.

use nd_netlink_proto::attr::{drops, stats, sync, top, weight_entry};

/// The attribute numbering an attribute belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrSpace {
    /// Top-level attributes of every command.
    Top,
    /// Attributes of one `WEIGHTS` element.
    WeightEntry,
    /// Attributes inside `STATS`.
    Stats,
    /// Attributes inside `DROPS`.
    Drops,
    /// Attributes inside `SYNC`.
    Sync,
}

impl AttrSpace {
    /// The protocol's name of attribute `kind`, `None` for numbers this tool does not know.
    pub fn name(self, kind: u16) -> Option<&'static str> {
        let names: &[&str] = match self {
            AttrSpace::Top => &[
                "UNSPEC",
                "VIP",
                "PORT",
                "SERVER",
                "WEIGHT",
                "MAC",
                "WEIGHTS",
                "STATS",
                "CLIENT",
                "CLIENT_PORT",
                "CONN_STATE",
                "EXPIRES_MS",
                "TIMEOUT_SYN",
                "TIMEOUT_ESTABLISHED",
                "TIMEOUT_FIN",
                "TIMEOUT_CLOSE",
                "CONN_LIMIT",
                "CONN_COUNT",
                "VERSION",
                "DROPS",
                "SERVER_STATE",
                "PAD",
                "TIMEOUT_SYN_PRESSURE",
                "CONN_TABLE_BYTES",
                "SCHEDULER",
                "AFFINITY_TIMEOUT",
                "AFFINITY_PREFIX",
                "AFFINITY_QUIESCED",
                "AFFINITY_RECORDS",
                "AFFINITY_LIMIT",
                "HA_ROLE",
                "SYNC_BATCH",
                "SYNC",
            ],
            AttrSpace::WeightEntry => &["UNSPEC", "SERVER", "WEIGHT"],
            AttrSpace::Stats => &[
                "UNSPEC",
                "CONNS",
                "ACTIVE",
                "INACTIVE",
                "PACKETS",
                "BYTES",
                "DROP_FILTERED",
                "DROP_NO_SERVER",
                "DROP_TABLE_FULL",
                "PAD",
            ],
            AttrSpace::Drops => &[
                "UNSPEC",
                "NO_SERVER",
                "TABLE_FULL",
                "FILTERED",
                "MALFORMED",
                "NO_CONNECTION",
                "NO_ROUTE",
                "NO_MEMORY",
                "PAD",
                "HALF_OPEN_EVICTED",
                "STANDBY",
            ],
            AttrSpace::Sync => &[
                "UNSPEC",
                "EMITTED",
                "DROPPED",
                "INSTALLED",
                "REFUSED",
                "PEER",
                "CONNECTED",
                "LAG_RECORDS",
                "LAG_MS",
                "SENT",
                "RECEIVED",
                "REPORT_AGE_MS",
                "PAD",
            ],
        };
        names.get(usize::from(kind)).copied()
    }

    /// The name of attribute `kind`, or its number for one this tool does not know.
    pub fn describe(self, kind: u16) -> String {
        let prefix = match self {
            AttrSpace::Top => "",
            AttrSpace::WeightEntry => "WEIGHTS entry ",
            AttrSpace::Stats => "STATS ",
            AttrSpace::Drops => "DROPS ",
            AttrSpace::Sync => "SYNC ",
        };
        match self.name(kind) {
            Some(name) => format!("{prefix}{name}"),
            None => format!("{prefix}attribute {kind}"),
        }
    }

    /// The highest attribute number of this space.
    pub fn max(self) -> u16 {
        match self {
            AttrSpace::Top => top::MAX,
            AttrSpace::WeightEntry => weight_entry::MAX,
            AttrSpace::Stats => stats::MAX,
            AttrSpace::Drops => drops::MAX,
            AttrSpace::Sync => sync::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_attribute_has_a_name_and_no_more() {
        for space in [
            AttrSpace::Top,
            AttrSpace::WeightEntry,
            AttrSpace::Stats,
            AttrSpace::Drops,
            AttrSpace::Sync,
        ] {
            for kind in 0..=space.max() {
                assert!(space.name(kind).is_some(), "{space:?} {kind}");
            }
            assert_eq!(space.name(space.max() + 1), None);
        }
        assert_eq!(AttrSpace::Top.name(top::WEIGHTS), Some("WEIGHTS"));
        assert_eq!(AttrSpace::Top.name(top::SERVER_STATE), Some("SERVER_STATE"));
        assert_eq!(
            AttrSpace::Stats.name(stats::DROP_TABLE_FULL),
            Some("DROP_TABLE_FULL")
        );
        assert_eq!(AttrSpace::Drops.name(drops::NO_MEMORY), Some("NO_MEMORY"));
        assert_eq!(
            AttrSpace::Top.name(top::TIMEOUT_SYN_PRESSURE),
            Some("TIMEOUT_SYN_PRESSURE")
        );
        assert_eq!(
            AttrSpace::Drops.describe(drops::HALF_OPEN_EVICTED),
            "DROPS HALF_OPEN_EVICTED"
        );
        assert_eq!(AttrSpace::Top.describe(40), "attribute 40");
        assert_eq!(
            AttrSpace::WeightEntry.describe(weight_entry::WEIGHT),
            "WEIGHTS entry WEIGHT"
        );
    }
}
