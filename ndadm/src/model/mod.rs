//! The typed objects the client sends and receives; nothing here touches netlink.

mod mac;
mod objects;
mod service;
mod settings;
mod state;
mod stats;
mod tree;

pub use mac::MacAddr;
/// The connection schedulers a port may run, as the module names them.
pub use nd_core::sched::SchedulerKind;
pub use objects::{Conn, Port, Server, ServerOptions, Vip, WeightEntry};
pub use service::Service;
pub use settings::{Config, ConfigChange, Info};
pub use state::{WireName, WireState};
pub use stats::{Drops, Stats};
pub use tree::{PortNode, ServerNode, Tree, VipNode};
