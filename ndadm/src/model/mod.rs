//! The typed objects the client sends and receives; nothing here touches netlink.

mod affinity;
mod ha;
mod mac;
mod objects;
mod service;
mod settings;
mod state;
mod stats;
mod tree;

pub use affinity::{Affinity, AffinityRecord};
pub use ha::{DaemonReport, HaStatus, SyncCounters, SyncStatus};
pub use mac::MacAddr;
/// The connection schedulers a port may run, as the module names them.
pub use nd_core::sched::SchedulerKind;
/// The Executor's part in a pair of dispatchers, and what a quiesced server's bound clients do.
pub use nd_netlink_proto::attr::{AffinityQuiesced, HaRole};
/// One synchronised fact of a dispatcher's table.
pub use nd_netlink_proto::sync_record::{RecordKind, SyncRecord};
pub use objects::{Conn, Port, PortOptions, Server, ServerOptions, Vip, WeightEntry};
pub use service::Service;
pub use settings::{Config, ConfigChange, Info};
pub use state::{WireName, WireState};
pub use stats::{Drops, Stats};
pub use tree::{PortNode, ServerNode, Tree, VipNode};
