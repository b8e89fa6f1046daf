//! High availability: the Executor's role, its synchronisation counters, and what the sync
//! daemon reports of its link to the peer.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::HaRole;
use serde::Serialize;

use super::WireState;

/// What `GetHa` tells: the role, the Executor's own counts, and the daemon's last report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HaStatus {
    /// Whether this Executor dispatches and publishes, or holds its peer's table.
    pub role: WireState<HaRole>,
    /// The Executor's counts of records.
    #[serde(flatten)]
    pub counters: SyncCounters,
    /// The sync daemon's last report; `None` if no daemon has reported since the module
    /// was loaded.
    pub daemon: Option<DaemonReport>,
}

/// The records the Executor published, could not publish, installed and refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounters {
    /// Records published on the `sync` multicast group.
    pub emitted: u64,
    /// Records that could not be published (queue full, no memory).
    pub dropped: u64,
    /// Records installed from the peer.
    pub installed: u64,
    /// Records refused: no such port or server here.
    pub refused: u64,
}

/// What the sync daemon reports of its link to the peer (`SetSyncStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// The peer's address.
    pub peer: Ipv4Addr,
    /// Whether the link to the peer's daemon is up.
    pub connected: bool,
    /// Records sent to the peer and not yet acknowledged installed.
    pub lag_records: u64,
    /// How long the oldest unacknowledged record has waited, in milliseconds.
    pub lag_ms: u32,
    /// Records sent to the peer since the daemon started.
    pub sent: u64,
    /// Records received from the peer since the daemon started.
    pub received: u64,
}

/// The daemon's last report as the Executor keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DaemonReport {
    /// What it reported.
    #[serde(flatten)]
    pub status: SyncStatus,
    /// How long ago, in milliseconds.
    pub report_age_ms: u32,
}

impl DaemonReport {
    /// The age past which a report no longer describes the link: the daemon reports twice a
    /// second, so a few missed reports mean it is not running or cannot reach the module.
    pub const STALE_AFTER_MS: u32 = 2_000;

    /// Whether the report is too old to describe the link.
    pub fn is_stale(&self) -> bool {
        self.report_age_ms > DaemonReport::STALE_AFTER_MS
    }
}
