//! The Executor as the sync daemon sees it: a trait over the few requests it makes,
//! implemented over generic netlink ([`NetlinkExecutor`]) and in memory ([`MemoryExecutor`],
//! for tests that run two daemons against each other).
//!
//! Every call blocks; the daemon makes them on tokio's blocking pool.

mod memory;
mod netlink;

use ndadm::model::{HaRole, Service, SyncRecord, SyncStatus, WeightEntry};

pub use memory::{MemoryExecutor, MemoryState};
pub use netlink::NetlinkExecutor;

/// Why a request to the Executor failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecutorError {
    /// The Executor cannot be reached: the module is not loaded, or the socket failed.
    #[error("{0}")]
    Unavailable(String),
    /// The Executor refused the request.
    #[error("{0}")]
    Refused(String),
}

/// What one wait on the Executor's published changes brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// Records, in the order the Executor published them.
    Records(Vec<SyncRecord>),
    /// Publications were lost (the socket's buffer overflowed): only a full resync brings
    /// the peer up to date again.
    Overrun,
    /// Nothing within the wait.
    Idle,
}

/// The active Executor's changes as it publishes them.
pub trait Publications: Send {
    /// Waits a short while (a fraction of a second) for the next publication.
    fn next(&mut self) -> Result<Published, ExecutorError>;
}

/// The weights of one port's servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortWeights {
    /// The port.
    pub service: Service,
    /// Each server's weight.
    pub entries: Vec<WeightEntry>,
}

/// The requests the sync daemon makes of its Executor.
pub trait Executor: Send + Sync + 'static {
    /// The Executor's role.
    fn role(&self) -> Result<HaRole, ExecutorError>;
    /// Starts receiving the changes it publishes (while it is active).
    fn subscribe(&self) -> Result<Box<dyn Publications>, ExecutorError>;
    /// Its whole table, connections and affinity records, as records.
    fn table(&self) -> Result<Vec<SyncRecord>, ExecutorError>;
    /// Installs the peer's records; those it cannot place it counts as refused.
    fn install(&self, records: &[SyncRecord]) -> Result<(), ExecutorError>;
    /// Reports the link's status, for `ndadm ha show`.
    fn report(&self, status: &SyncStatus) -> Result<(), ExecutorError>;
    /// Every port's weights.
    fn weights(&self) -> Result<Vec<PortWeights>, ExecutorError>;
    /// Sets the weights of every server of `service`; `entries` names each of them once.
    fn set_weights(&self, service: Service, entries: &[WeightEntry]) -> Result<(), ExecutorError>;
}
