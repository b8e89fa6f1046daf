//! What the daemon's tasks share: the Executor, the role, the link's state, the queue of
//! published records and the counters.

use std::net::SocketAddrV4;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ndadm::model::{HaRole, SyncRecord, SyncStatus};
use tokio::sync::{mpsc, watch, Notify};

use crate::config::Timings;
use crate::counters::Counters;
use crate::executor::{Executor, ExecutorError};
use crate::lag::Lag;
use crate::resync::ResyncFlag;

/// The state of the link, if one is up.
#[derive(Debug, Default)]
pub struct LinkState {
    /// The peer's node name, while a link is up.
    pub peer: Option<String>,
    /// The frames sent on the link and not acknowledged.
    pub lag: Lag,
}

/// Everything the tasks share.
pub struct Shared {
    /// This node's name.
    pub node: String,
    /// The peer's daemon.
    pub peer: SocketAddrV4,
    /// The Executor.
    pub executor: Arc<dyn Executor>,
    /// The timings in force.
    pub timings: watch::Receiver<Timings>,
    /// The Executor's role, `None` while it cannot be read.
    pub role: watch::Receiver<Option<HaRole>>,
    /// The counters.
    pub counters: Arc<Counters>,
    /// The link's state.
    pub link: Mutex<LinkState>,
    /// Batches the active Executor published, for the link's writer.
    pub published: tokio::sync::Mutex<mpsc::Receiver<Vec<SyncRecord>>>,
    /// Whether the peer needs a full resync.
    pub resync: ResyncFlag,
    /// Notified when acknowledgements free room in the window.
    pub acked: Notify,
}

impl Shared {
    /// The timings in force.
    pub fn timings(&self) -> Timings {
        *self.timings.borrow()
    }

    /// The Executor's role, if it can be read.
    pub fn role(&self) -> Option<HaRole> {
        *self.role.borrow()
    }

    /// The link's state.
    pub fn link(&self) -> MutexGuard<'_, LinkState> {
        self.link.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the daemon reports of the link now.
    pub fn status(&self, now: Instant) -> SyncStatus {
        let link = self.link();
        SyncStatus {
            peer: *self.peer.ip(),
            connected: link.peer.is_some(),
            lag_records: link.lag.records(),
            lag_ms: link.lag.age_ms(now),
            sent: self.counters.records_sent.get(),
            received: self.counters.records_received.get(),
        }
    }

    /// Runs `request` on the Executor on the blocking pool.
    pub async fn executor<T: Send + 'static>(
        &self,
        request: impl FnOnce(&dyn Executor) -> Result<T, ExecutorError> + Send + 'static,
    ) -> Result<T, ExecutorError> {
        on_executor(&self.executor, request).await
    }
}

/// Runs `request` on `executor` on the blocking pool.
pub async fn on_executor<T: Send + 'static>(
    executor: &Arc<dyn Executor>,
    request: impl FnOnce(&dyn Executor) -> Result<T, ExecutorError> + Send + 'static,
) -> Result<T, ExecutorError> {
    let executor = Arc::clone(executor);
    match tokio::task::spawn_blocking(move || request(executor.as_ref())).await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(ExecutorError::Unavailable("the daemon is stopping".into())),
        },
    }
}
