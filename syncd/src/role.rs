//! The Executor's role, read every `role_poll`: keepalived's notify scripts change it with
//! `ndadm ha role`, and the daemon follows within one poll.

use std::sync::Arc;

use nd_manager::shutdown::Shutdown;
use ndadm::model::HaRole;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::Timings;
use crate::executor::Executor;
use crate::shared::on_executor;

fn name(role: Option<HaRole>) -> &'static str {
    role.map_or("unknown", HaRole::name)
}

/// Reads the role until shutdown and publishes it on `role`; `None` while it cannot be read.
pub async fn watch_role(
    executor: Arc<dyn Executor>,
    timings: watch::Receiver<Timings>,
    role: watch::Sender<Option<HaRole>>,
    mut shutdown: Shutdown,
) {
    let mut failing = false;
    loop {
        let read = on_executor(&executor, |executor| executor.role()).await;
        let now = match read {
            Ok(now) => {
                if failing {
                    info!("the Executor's role can be read again");
                }
                failing = false;
                Some(now)
            }
            Err(e) => {
                if !failing {
                    warn!("cannot read the Executor's role: {e}; not publishing until it can");
                }
                failing = true;
                None
            }
        };
        let before = *role.borrow();
        if before != now {
            info!(
                role = name(now),
                "the Executor's role is {} (was {})",
                name(now),
                name(before)
            );
            role.send_replace(now);
        }
        let poll = timings.borrow().role_poll;
        tokio::select! {
            _ = shutdown.recv() => return,
            _ = tokio::time::sleep(poll) => {}
        }
    }
}
