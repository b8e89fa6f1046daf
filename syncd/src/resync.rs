//! The request for a full resync: set where state is lost, taken by the link's writer.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tracing::info;

/// Whether a full resync is due.
#[derive(Debug, Default)]
pub struct ResyncFlag {
    pending: AtomicBool,
    notify: Notify,
}

impl ResyncFlag {
    /// Asks for a resync because of `reason`; a request already pending absorbs this one.
    pub fn request(&self, reason: &str) {
        if !self.pending.swap(true, Ordering::SeqCst) {
            info!("a full resync is due: {reason}");
            self.notify.notify_one();
        }
    }

    /// Forgets a pending request: the resync about to be made covers it.
    pub fn clear(&self) {
        self.pending.store(false, Ordering::SeqCst);
    }

    /// Waits for a request and takes it.
    pub async fn wait(&self) {
        loop {
            if self.pending.swap(false, Ordering::SeqCst) {
                return;
            }
            self.notify.notified().await;
        }
    }

    /// Whether a request is pending.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_request_made_before_the_wait_is_not_lost() {
        let flag = ResyncFlag::default();
        flag.request("test");
        flag.request("again");
        assert!(flag.is_pending());
        tokio::time::timeout(Duration::from_secs(1), flag.wait())
            .await
            .unwrap();
        assert!(!flag.is_pending());
        flag.request("test");
        flag.clear();
        assert!(tokio::time::timeout(Duration::from_millis(50), flag.wait())
            .await
            .is_err());
    }
}
