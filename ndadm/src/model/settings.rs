//! Namespace-wide settings and figures.

use serde::Serialize;

use super::Drops;

/// Connection timeouts, in seconds, and the connection table bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Timeout of a connection that has seen only a SYN.
    pub timeout_syn: u32,
    /// Timeout of a new half-open connection while the connection table is more than half
    /// full; 0 when this early expiry is off (and from a module that predates it).
    pub timeout_syn_pressure: u32,
    /// Timeout of an established connection.
    pub timeout_established: u32,
    /// Timeout after the client's FIN.
    pub timeout_fin: u32,
    /// Timeout after a RST.
    pub timeout_close: u32,
    /// Bound on the connection table's entries.
    pub conn_limit: u32,
    /// Bound on the affinity records; 0 from a module that predates affinity.
    pub affinity_limit: u32,
}

/// The subset of [`Config`] a `SetConfig` request changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// New SYN timeout.
    pub timeout_syn: Option<u32>,
    /// New SYN timeout under table pressure; 0 turns the early expiry off.
    pub timeout_syn_pressure: Option<u32>,
    /// New established timeout.
    pub timeout_established: Option<u32>,
    /// New FIN timeout.
    pub timeout_fin: Option<u32>,
    /// New close timeout.
    pub timeout_close: Option<u32>,
    /// New connection table bound.
    pub conn_limit: Option<u32>,
    /// New bound on the affinity records.
    pub affinity_limit: Option<u32>,
}

impl ConfigChange {
    /// Whether the change touches nothing.
    pub fn is_empty(&self) -> bool {
        *self == ConfigChange::default()
    }
}

/// Global figures of the module in this namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Info {
    /// The module's protocol version.
    pub version: u32,
    /// Entries in the connection table.
    pub conn_count: u32,
    /// Bound on the connection table's entries.
    pub conn_limit: u32,
    /// Memory the connection table's slots take, in bytes.
    pub conn_table_bytes: u64,
    /// Affinity records in all ports.
    pub affinity_records: u32,
    /// Bound on the affinity records.
    pub affinity_limit: u32,
    /// Packets dropped, by reason.
    pub drops: Drops,
}
