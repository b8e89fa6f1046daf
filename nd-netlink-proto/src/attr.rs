//! Attribute numbers and payload encodings. Every list only ever grows at the end.
//!
//! Encodings: an IPv4 address is a 4-byte `u32` attribute holding the address in network byte
//! order (the bytes on the wire are the address's octets); a port is a `u16` in host byte
//! order; counters are `u64` padded with `ATTR_PAD`; a MAC address is 6 bytes of binary.

/// Top-level attributes of every command.
pub mod top {
    /// Never sent.
    pub const UNSPEC: u16 = 0;
    /// Cluster address (IPv4, network order).
    pub const VIP: u16 = 1;
    /// Cluster port (u16, host order).
    pub const PORT: u16 = 2;
    /// Server address (IPv4, network order).
    pub const SERVER: u16 = 3;
    /// Server weight (u32, 0 to `MAX_WEIGHT`; 0 quiesces).
    pub const WEIGHT: u16 = 4;
    /// Static server MAC address (6 bytes); without it the neighbour table resolves the server.
    pub const MAC: u16 = 5;
    /// Nested array of `WEIGHT_ENTRY` for `SetWeights`.
    pub const WEIGHTS: u16 = 6;
    /// Counters and gauges (nested, attributes in [`super::stats`]).
    pub const STATS: u16 = 7;
    /// Client address of a connection (IPv4, network order).
    pub const CLIENT: u16 = 8;
    /// Client port of a connection (u16, host order).
    pub const CLIENT_PORT: u16 = 9;
    /// TCP state of a connection (u8, a [`crate::attr::ConnState`] value).
    pub const CONN_STATE: u16 = 10;
    /// Milliseconds until a connection expires (u32).
    pub const EXPIRES_MS: u16 = 11;
    /// Timeout of a connection that has seen only a SYN, in seconds (u32).
    pub const TIMEOUT_SYN: u16 = 12;
    /// Timeout of an established connection, in seconds (u32).
    pub const TIMEOUT_ESTABLISHED: u16 = 13;
    /// Timeout after the client's FIN, in seconds (u32).
    pub const TIMEOUT_FIN: u16 = 14;
    /// Timeout after a RST, in seconds (u32).
    pub const TIMEOUT_CLOSE: u16 = 15;
    /// Bound on the connection table's entries (u32).
    pub const CONN_LIMIT: u16 = 16;
    /// Entries in the connection table (u32).
    pub const CONN_COUNT: u16 = 17;
    /// Protocol version of the module (u32).
    pub const VERSION: u16 = 18;
    /// Global drop counters (nested, attributes in [`super::drops`]).
    pub const DROPS: u16 = 19;
    /// Server state (u8, a [`crate::attr::ServerState`] value).
    pub const SERVER_STATE: u16 = 20;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 21;
    /// Timeout of a new half-open connection while the table is more than half full, in
    /// seconds (u32; 0 turns this early expiry off).
    pub const TIMEOUT_SYN_PRESSURE: u16 = 22;
    /// Memory the connection table's slots take, in bytes (u64).
    pub const CONN_TABLE_BYTES: u16 = 23;
    /// A port's connection scheduler: its name, NUL-terminated, at most
    /// [`crate::family::MAX_SCHEDULER_NAME`] bytes before the NUL (`wrr`, `wlc` or `sed`).
    pub const SCHEDULER: u16 = 24;
    /// A port's client affinity: how long a client's binding to its server outlives its last
    /// connection, in seconds (u32; 0 turns affinity off).
    pub const AFFINITY_TIMEOUT: u16 = 25;
    /// A port's client affinity: the length of the netmask that groups clients (u32, 0 to
    /// 32; 32, each address on its own, by default).
    pub const AFFINITY_PREFIX: u16 = 26;
    /// A port's client affinity: what a quiesced server's clients do (u32, an
    /// [`AffinityQuiesced`] value).
    pub const AFFINITY_QUIESCED: u16 = 27;
    /// Affinity records: of a server (server dumps), or in all (`GET_INFO`) (u32).
    pub const AFFINITY_RECORDS: u16 = 28;
    /// Bound on the affinity records (u32).
    pub const AFFINITY_LIMIT: u16 = 29;
    /// The Executor's high-availability role (u32, an [`HaRole`] value).
    pub const HA_ROLE: u16 = 30;
    /// A batch of synchronisation records (binary: whole
    /// [`crate::sync_record::RECORD_LEN`]-byte records).
    pub const SYNC_BATCH: u16 = 31;
    /// Synchronisation figures (nested, attributes in [`super::sync`]).
    pub const SYNC: u16 = 32;
    /// The highest top-level attribute number.
    pub const MAX: u16 = SYNC;
}

/// Attributes of one `WEIGHTS` element.
pub mod weight_entry {
    /// Never sent.
    pub const UNSPEC: u16 = 0;
    /// Server address (IPv4, network order).
    pub const SERVER: u16 = 1;
    /// Server weight (u32).
    pub const WEIGHT: u16 = 2;
    /// The highest number.
    pub const MAX: u16 = WEIGHT;
}

/// Attributes inside `STATS`: totals are u64 counters, gauges are u32.
pub mod stats {
    /// Never sent.
    pub const UNSPEC: u16 = 0;
    /// New connections scheduled (u64).
    pub const CONNS: u16 = 1;
    /// Connections now established (u32 gauge).
    pub const ACTIVE: u16 = 2;
    /// Connections now in any other state (u32 gauge).
    pub const INACTIVE: u16 = 3;
    /// Packets forwarded (u64).
    pub const PACKETS: u16 = 4;
    /// Bytes forwarded, IP headers included (u64).
    pub const BYTES: u16 = 5;
    /// Packets to an unconfigured port of the address, or of a protocol it does not serve (u64).
    pub const DROP_FILTERED: u16 = 6;
    /// New connections refused because no server had a positive weight (u64).
    pub const DROP_NO_SERVER: u16 = 7;
    /// New connections refused because the connection table was full (u64).
    pub const DROP_TABLE_FULL: u16 = 8;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 9;
    /// The highest number.
    pub const MAX: u16 = PAD;
}

/// Attributes inside `DROPS`: global drop counters by reason (u64 each).
pub mod drops {
    /// Never sent.
    pub const UNSPEC: u16 = 0;
    /// No server with a positive weight for a new connection.
    pub const NO_SERVER: u16 = 1;
    /// The connection table was at its bound.
    pub const TABLE_FULL: u16 = 2;
    /// Unconfigured port or unserved protocol on a cluster address.
    pub const FILTERED: u16 = 3;
    /// Truncated or inconsistent headers, or IP fragments.
    pub const MALFORMED: u16 = 4;
    /// A non-SYN segment that belongs to no known connection.
    pub const NO_CONNECTION: u16 = 5;
    /// The server could not be routed to, or the packet could not be sent.
    pub const NO_ROUTE: u16 = 6;
    /// Memory for a new connection entry could not be allocated.
    pub const NO_MEMORY: u16 = 7;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 8;
    /// Half-open entries evicted to make room for a new connection in a full table. The SYN
    /// that made them is not dropped, but the state it had created is.
    pub const HALF_OPEN_EVICTED: u16 = 9;
    /// A packet to a cluster address while the dispatcher is standby: its peer is the one
    /// that answers, and its host must not (it would reset the connections it does not hold).
    pub const STANDBY: u16 = 10;
    /// The highest number.
    pub const MAX: u16 = STANDBY;
}

/// Attributes of the `SYNC` nest: the Executor's own counts, and what the sync daemon last
/// reported of its link to the peer.
pub mod sync {
    /// Never sent.
    pub const UNSPEC: u16 = 0;
    /// Records the Executor published (u64).
    pub const EMITTED: u16 = 1;
    /// Records the Executor could not publish: its queue was full or no memory (u64).
    pub const DROPPED: u16 = 2;
    /// Records the Executor installed from its peer (u64).
    pub const INSTALLED: u16 = 3;
    /// Records it refused to install: no such port or server here (u64).
    pub const REFUSED: u16 = 4;
    /// The peer's address (u32, network order), from the daemon.
    pub const PEER: u16 = 5;
    /// Whether the daemon is connected to its peer (u32, 0 or 1).
    pub const CONNECTED: u16 = 6;
    /// Records sent to the peer and not yet acknowledged installed (u64).
    pub const LAG_RECORDS: u16 = 7;
    /// How long the oldest unacknowledged record has waited, in milliseconds (u32).
    pub const LAG_MS: u16 = 8;
    /// Records the daemon sent to the peer (u64).
    pub const SENT: u16 = 9;
    /// Records the daemon received from the peer (u64).
    pub const RECEIVED: u16 = 10;
    /// How long ago the daemon last reported, in milliseconds (u32; only in replies).
    pub const REPORT_AGE_MS: u16 = 11;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 12;
    /// The highest number.
    pub const MAX: u16 = PAD;
}

/// The Executor's part in a pair of dispatchers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum HaRole {
    /// Dispatches connections and publishes its table (also a lone dispatcher's role).
    Active = 1,
    /// Forwards nothing; holds the shadow table its peer publishes.
    Standby = 2,
}

impl HaRole {
    /// Maps a wire value to a role.
    pub fn from_u8(value: u8) -> Option<HaRole> {
        match value {
            1 => Some(HaRole::Active),
            2 => Some(HaRole::Standby),
            _ => None,
        }
    }

    /// The lower-case name tools print and take.
    pub fn name(self) -> &'static str {
        match self {
            HaRole::Active => "active",
            HaRole::Standby => "standby",
        }
    }
}

/// What the clients bound to a quiesced server do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AffinityQuiesced {
    /// They stay with it until their records expire.
    Keep = 0,
    /// Their next connection is scheduled afresh, and the record follows it.
    Rebalance = 1,
}

impl AffinityQuiesced {
    /// Maps a wire value.
    pub fn from_u8(value: u8) -> Option<AffinityQuiesced> {
        match value {
            0 => Some(AffinityQuiesced::Keep),
            1 => Some(AffinityQuiesced::Rebalance),
            _ => None,
        }
    }

    /// The lower-case name tools print and take.
    pub fn name(self) -> &'static str {
        match self {
            AffinityQuiesced::Keep => "keep",
            AffinityQuiesced::Rebalance => "rebalance",
        }
    }
}

/// The TCP state of a connection entry, as seen from the client-to-server direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnState {
    /// The client's SYN was forwarded; no ACK yet.
    SynSent = 1,
    /// The client acknowledged the server's SYN-ACK.
    Established = 2,
    /// The client sent a FIN.
    FinWait = 3,
    /// The client sent a RST.
    Closed = 4,
}

impl ConnState {
    /// Maps a wire value to a state.
    pub fn from_u8(value: u8) -> Option<ConnState> {
        match value {
            1 => Some(ConnState::SynSent),
            2 => Some(ConnState::Established),
            3 => Some(ConnState::FinWait),
            4 => Some(ConnState::Closed),
            _ => None,
        }
    }

    /// The lower-case name tools print.
    pub fn name(self) -> &'static str {
        match self {
            ConnState::SynSent => "syn_sent",
            ConnState::Established => "established",
            ConnState::FinWait => "fin_wait",
            ConnState::Closed => "closed",
        }
    }
}

/// Whether a server takes new connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ServerState {
    /// Positive weight: takes new connections.
    Active = 1,
    /// Weight 0: open connections continue, no new ones arrive.
    Quiesced = 2,
}

impl ServerState {
    /// Maps a wire value to a state.
    pub fn from_u8(value: u8) -> Option<ServerState> {
        match value {
            1 => Some(ServerState::Active),
            2 => Some(ServerState::Quiesced),
            _ => None,
        }
    }

    /// The lower-case name tools print.
    pub fn name(self) -> &'static str {
        match self {
            ServerState::Active => "active",
            ServerState::Quiesced => "quiesced",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_reject_unknown_values() {
        for s in [
            ConnState::SynSent,
            ConnState::Established,
            ConnState::FinWait,
            ConnState::Closed,
        ] {
            assert_eq!(ConnState::from_u8(s as u8), Some(s));
        }
        assert_eq!(ConnState::from_u8(0), None);
        assert_eq!(ConnState::from_u8(5), None);
        for s in [ServerState::Active, ServerState::Quiesced] {
            assert_eq!(ServerState::from_u8(s as u8), Some(s));
        }
        assert_eq!(ServerState::from_u8(3), None);
    }

    #[test]
    fn attribute_numbers_are_dense_up_to_max() {
        // The kernel sizes its policy and parse arrays by MAX; a gap or an overlap would
        // silently leave an attribute unvalidated.
        // Numbers only ever grow at the end, so PAD is no longer always the last one.
        assert_eq!(top::MAX, 32);
        assert_eq!(top::TIMEOUT_SYN_PRESSURE, top::PAD + 1);
        assert_eq!(top::CONN_TABLE_BYTES, top::TIMEOUT_SYN_PRESSURE + 1);
        assert_eq!(top::SCHEDULER, top::CONN_TABLE_BYTES + 1);
        assert_eq!(top::SYNC, top::SCHEDULER + 8);
        assert_eq!(sync::PAD, sync::MAX);
        assert_eq!(weight_entry::MAX, 2);
        assert_eq!(stats::PAD, stats::MAX);
        assert_eq!(drops::MAX, 10);
        assert_eq!(drops::HALF_OPEN_EVICTED, drops::PAD + 1);
        assert_eq!(drops::STANDBY, drops::HALF_OPEN_EVICTED + 1);
    }
}
