//! While the Executor is active: its published changes, from the multicast group into the
//! bounded queue the link's writer takes them from. A full queue or an overrun of the socket
//! loses records, so either schedules a full resync rather than leave the peer wrong.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nd_manager::shutdown::Shutdown;
use ndadm::model::{HaRole, SyncRecord};
use tokio::sync::mpsc::{self, error::TrySendError};
use tracing::{info, warn};

use crate::executor::{ExecutorError, Publications, Published};
use crate::shared::Shared;

/// Relays publications until shutdown, joining the group whenever the Executor is active
/// and leaving it when it is not.
pub async fn relay_publications(
    shared: Arc<Shared>,
    queue: mpsc::Sender<Vec<SyncRecord>>,
    mut shutdown: Shutdown,
) {
    let mut role = shared.role.clone();
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.recv() => return,
            active = role.wait_for(|role| *role == Some(HaRole::Active)) => {
                if active.is_err() {
                    return;
                }
            }
        }
        let subscription = match shared.executor(|executor| executor.subscribe()).await {
            Ok(subscription) => subscription,
            Err(e) => {
                if !failing {
                    warn!("cannot receive the Executor's changes: {e}; trying again");
                }
                failing = true;
                let wait = shared.timings().retry_max;
                tokio::select! {
                    _ = shutdown.recv() => return,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        failing = false;
        info!("receiving the Executor's changes");
        // Whatever was published before the group was joined is not in the queue.
        shared.resync.request("this node became active");
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let mut reader = tokio::task::spawn_blocking({
            let (shared, queue, stop) = (Arc::clone(&shared), queue.clone(), Arc::clone(&stop.0));
            move || read_until_stopped(subscription, &shared, &queue, &stop)
        });
        let ended = tokio::select! {
            _ = shutdown.recv() => None,
            _ = role.wait_for(|role| *role != Some(HaRole::Active)) => None,
            ended = &mut reader => Some(ended),
        };
        drop(stop);
        let ended = match ended {
            Some(ended) => ended,
            None => reader.await,
        };
        match ended {
            Ok(Ok(())) => info!("no longer receiving the Executor's changes"),
            Ok(Err(e)) => warn!("receiving the Executor's changes failed: {e}"),
            Err(e) => warn!("the thread receiving the Executor's changes failed: {e}"),
        }
        if shutdown.is_triggered() {
            return;
        }
    }
}

/// Tells the reading thread to stop when dropped: on a change of role, and also when the
/// runtime drops this task, since the runtime waits for blocking threads before it ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Reads publications on a blocking thread until `stop`.
fn read_until_stopped(
    mut subscription: Box<dyn Publications>,
    shared: &Shared,
    queue: &mpsc::Sender<Vec<SyncRecord>>,
    stop: &AtomicBool,
) -> Result<(), ExecutorError> {
    while !stop.load(Ordering::SeqCst) {
        match subscription.next()? {
            Published::Records(records) if records.is_empty() => {}
            Published::Records(records) => match queue.try_send(records) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    shared.counters.queue_overflows.incr();
                    shared
                        .resync
                        .request("the queue of records to the peer overflowed");
                }
                Err(TrySendError::Closed(_)) => return Ok(()),
            },
            Published::Overrun => {
                shared.counters.overruns.incr();
                shared
                    .resync
                    .request("the Executor's publications overran the socket's buffer (ENOBUFS)");
            }
            Published::Idle => {}
        }
    }
    Ok(())
}
