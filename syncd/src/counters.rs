//! What the daemon counts, for its logs and its tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// A counter that only grows.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn incr(&self) {
        self.add(1);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The daemon's counters since it started.
#[derive(Debug, Default)]
pub struct Counters {
    /// Links that came up.
    pub links_up: Counter,
    /// Links that went down.
    pub links_down: Counter,
    /// Connections closed after the hello because the other side is the one to dial, or
    /// because both nodes have the same name.
    pub links_refused: Counter,
    /// Connections from an address that is not the peer's.
    pub strangers: Counter,
    /// Links closed because the peer sent bytes that are not frames, or frames out of place.
    pub decode_errors: Counter,
    /// Connections that failed before their hello was exchanged, for another reason.
    pub handshake_failures: Counter,
    /// Records sent to the peer.
    pub records_sent: Counter,
    /// Records received from the peer.
    pub records_received: Counter,
    /// Records received and installed into the Executor.
    pub records_installed: Counter,
    /// Records received while this node is active, not installed.
    pub records_ignored: Counter,
    /// Install requests the Executor refused.
    pub install_errors: Counter,
    /// Full resyncs sent to the peer.
    pub resyncs_sent: Counter,
    /// Full resyncs received from the peer.
    pub resyncs_received: Counter,
    /// Batches lost because the queue to the link was full.
    pub queue_overflows: Counter,
    /// Times the Executor's publications overran the socket.
    pub overruns: Counter,
    /// Weights frames sent.
    pub weights_sent: Counter,
    /// Weights received and set on the Executor.
    pub weights_applied: Counter,
}
