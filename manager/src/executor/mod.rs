//! The Executor as the Manager sees it: a trait over the few requests the Manager makes,
//! implemented over generic netlink ([`NetlinkExecutor`]) and in memory ([`MemoryExecutor`],
//! for dry runs and tests).
//!
//! Every call blocks; the daemon makes them on tokio's blocking pool.

mod memory;
mod netlink;

use std::net::Ipv4Addr;

use ndadm::client::Error;
use ndadm::model::{SchedulerKind, Service, WeightEntry};

pub use memory::MemoryExecutor;
pub use netlink::NetlinkExecutor;

/// A failed request to the Executor, as text that says what was attempted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecutorError(pub String);

impl From<Error> for ExecutorError {
    fn from(error: Error) -> Self {
        ExecutorError(error.to_string())
    }
}

/// One port as the Executor reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortReading {
    /// The port.
    pub service: Service,
    /// The name of the scheduler it runs; a name this Manager does not know (from a newer
    /// module) is kept as it is.
    pub scheduler: String,
}

impl PortReading {
    /// Whether the port runs `scheduler`.
    pub fn runs(&self, scheduler: SchedulerKind) -> bool {
        self.scheduler == scheduler.name()
    }
}

/// One server of one port as the Executor reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerReading {
    /// The port.
    pub service: Service,
    /// The server's address.
    pub server: Ipv4Addr,
    /// Its weight now.
    pub weight: u32,
    /// New connections given to it since it was added (cumulative).
    pub conns: u64,
    /// Its established connections now.
    pub active: u32,
}

/// The requests the Manager makes of the Executor.
pub trait Executor: Send + Sync {
    /// Every cluster address.
    fn vips(&self) -> Result<Vec<Ipv4Addr>, ExecutorError>;
    /// Every port, with its scheduler.
    fn ports(&self) -> Result<Vec<PortReading>, ExecutorError>;
    /// Every server of every port, with its weight and counters.
    fn servers(&self) -> Result<Vec<ServerReading>, ExecutorError>;
    /// Adds cluster address `vip`.
    fn add_vip(&self, vip: Ipv4Addr) -> Result<(), ExecutorError>;
    /// Adds the port of `service`, scheduled by `scheduler`.
    fn add_port(&self, service: Service, scheduler: SchedulerKind) -> Result<(), ExecutorError>;
    /// Changes the scheduler of the port of `service`; its open connections stay with their
    /// servers.
    fn set_scheduler(
        &self,
        service: Service,
        scheduler: SchedulerKind,
    ) -> Result<(), ExecutorError>;
    /// Adds `server` behind `service` with weight 1.
    fn add_server(&self, service: Service, server: Ipv4Addr) -> Result<(), ExecutorError>;
    /// Sets the weight of every server of `service` in one request; `weights` names them all.
    fn set_weights(&self, service: Service, weights: &[WeightEntry]) -> Result<(), ExecutorError>;
    /// Whether the Executor is the standby of a pair of dispatchers, whose weights follow
    /// its active peer's.
    fn is_standby(&self) -> Result<bool, ExecutorError>;
}
