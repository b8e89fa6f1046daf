//! Traffic counters of one object, and the global drop counters.

use serde::Serialize;

/// Counters and gauges of a VIP, a port or a server. Each object carries only the drop
/// counters that apply to it (a VIP all three, a port those of new connections, a server
/// none); the others are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// New connections scheduled.
    pub conns: u64,
    /// Connections now established.
    pub active: u32,
    /// Connections now in any other state.
    pub inactive: u32,
    /// Packets forwarded.
    pub packets: u64,
    /// Bytes forwarded, IP headers included.
    pub bytes: u64,
    /// Packets to an unconfigured port or an unserved protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_filtered: Option<u64>,
    /// New connections refused for want of a server with a positive weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_no_server: Option<u64>,
    /// New connections refused because the connection table was full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_table_full: Option<u64>,
}

impl Stats {
    /// All drops of the object, whatever the reason; `None` if it keeps no drop counters.
    pub fn drops(&self) -> Option<u64> {
        [
            self.drop_filtered,
            self.drop_no_server,
            self.drop_table_full,
        ]
        .into_iter()
        .flatten()
        .reduce(u64::saturating_add)
    }
}

/// Global drop counters by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Drops {
    /// No server with a positive weight for a new connection.
    pub no_server: u64,
    /// The connection table was at its bound.
    pub table_full: u64,
    /// Unconfigured port or unserved protocol on a cluster address.
    pub filtered: u64,
    /// Truncated or inconsistent headers, or IP fragments.
    pub malformed: u64,
    /// A non-SYN segment that belongs to no known connection.
    pub no_connection: u64,
    /// The server could not be routed to, or the packet could not be sent.
    pub no_route: u64,
    /// Memory for a new connection entry could not be allocated.
    pub no_memory: u64,
    /// Half-open entries evicted to make room for a new connection in a full table; the SYN
    /// that made each one was forwarded, but its entry is gone.
    pub half_open_evicted: u64,
    /// Packets to a cluster address while the dispatcher was standby.
    pub standby: u64,
}

impl Drops {
    /// Each reason with its printed name, in protocol order.
    pub fn by_reason(&self) -> [(&'static str, u64); 9] {
        [
            ("no-server", self.no_server),
            ("table-full", self.table_full),
            ("filtered", self.filtered),
            ("malformed", self.malformed),
            ("no-connection", self.no_connection),
            ("no-route", self.no_route),
            ("no-memory", self.no_memory),
            ("half-open-evicted", self.half_open_evicted),
            ("standby", self.standby),
        ]
    }
}
