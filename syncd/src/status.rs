//! The link's status, reported to the Executor twice a second for `ndadm ha show`.

use std::sync::Arc;
use std::time::Instant;

use nd_manager::shutdown::Shutdown;
use tracing::{info, warn};

use crate::shared::Shared;

/// Reports every `status_interval` until shutdown, then once more with the link down.
pub async fn report_status(shared: Arc<Shared>, mut shutdown: Shutdown) {
    let mut failing = false;
    loop {
        let interval = shared.timings().status_interval;
        tokio::select! {
            _ = shutdown.recv() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        let status = shared.status(Instant::now());
        match shared
            .executor(move |executor| executor.report(&status))
            .await
        {
            Ok(()) if failing => {
                info!("reporting the link's status to the Executor again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) if !failing => {
                warn!("cannot report the link's status to the Executor: {e}");
                failing = true;
            }
            Err(_) => {}
        }
    }
    // So that `ndadm ha show` does not show a link that is gone.
    let mut last = shared.status(Instant::now());
    last.connected = false;
    last.lag_records = 0;
    last.lag_ms = 0;
    let _ = shared
        .executor(move |executor| executor.report(&last))
        .await;
}
