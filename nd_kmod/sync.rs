// SPDX-License-Identifier: GPL-2.0
//! The Executor's part in a pair of dispatchers: its role, the queue of records it publishes
//! while active, its counts, and what the sync daemon last reported.
//!
//! The packet path only copies a 24-byte record into a bounded queue under the queue's lock;
//! a timer drains the queue into multicast messages. A full queue (a peer's daemon that does
//! not keep up, or none listening) drops the record and counts it, so the packet path never
//! waits or allocates. The queue exists only once a role has been set: a lone dispatcher,
//! which nobody asked to publish, spends nothing on it.

use crate::attr::HaRole;
use crate::lock_bh::{new_spinlock_bh, SpinLockBh};
use crate::sync_record::{SyncRecord, RECORD_LEN};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Mutex};

/// Records the queue holds: at 24 bytes, 192 KiB, a second of 8192 new connections.
const QUEUE_RECORDS: usize = 8192;

/// A bounded ring of encoded records.
struct Ring {
    slots: KVec<[u8; RECORD_LEN]>,
    head: usize,
    len: usize,
}

impl Ring {
    fn push(&mut self, record: [u8; RECORD_LEN]) -> bool {
        if self.len == self.slots.len() {
            return false;
        }
        let at = (self.head + self.len) % self.slots.len();
        self.slots[at] = record;
        self.len += 1;
        true
    }

    /// Moves up to `out.len()` records into `out`; how many.
    fn take(&mut self, out: &mut [[u8; RECORD_LEN]]) -> usize {
        let n = out.len().min(self.len);
        for slot in out.iter_mut().take(n) {
            *slot = self.slots[self.head];
            self.head = (self.head + 1) % self.slots.len();
        }
        self.len -= n;
        n
    }
}

/// What the sync daemon last said of its link.
#[derive(Clone, Copy, Default)]
pub(crate) struct DaemonReport {
    pub(crate) peer: u32,
    pub(crate) connected: bool,
    pub(crate) lag_records: u64,
    pub(crate) lag_ms: u32,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    /// When it came, in jiffies.
    pub(crate) at: u64,
}

/// The counts `GET_HA` reports.
#[derive(Clone, Copy, Default)]
pub(crate) struct SyncCounts {
    pub(crate) emitted: u64,
    pub(crate) dropped: u64,
    pub(crate) installed: u64,
    pub(crate) refused: u64,
}

/// One namespace's high-availability state.
pub(crate) struct SyncState {
    role: AtomicU8,
    /// Active with a queue: what the packet path checks before taking the queue's lock.
    publishing: AtomicBool,
    /// Present once a role was set.
    queue: Pin<KBox<SpinLockBh<Option<Ring>>>>,
    emitted: AtomicU64,
    dropped: AtomicU64,
    installed: AtomicU64,
    refused: AtomicU64,
    report: Pin<KBox<Mutex<Option<DaemonReport>>>>,
}

impl SyncState {
    pub(crate) fn new() -> Result<Self> {
        Ok(SyncState {
            role: AtomicU8::new(HaRole::Active as u8),
            publishing: AtomicBool::new(false),
            queue: KBox::pin_init(new_spinlock_bh!(None), GFP_KERNEL)?,
            emitted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            installed: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            report: KBox::pin_init(new_mutex!(None), GFP_KERNEL)?,
        })
    }

    pub(crate) fn role(&self) -> HaRole {
        HaRole::from_u8(self.role.load(Ordering::Relaxed)).unwrap_or(HaRole::Active)
    }

    pub(crate) fn is_standby(&self) -> bool {
        self.role() == HaRole::Standby
    }

    /// Sets the role; the first time, makes the queue. A standby publishes nothing, so its
    /// queue is emptied. Sleeps.
    pub(crate) fn set_role(&self, role: HaRole) -> Result {
        let ring = if self.queue.lock().is_none() {
            let mut slots = KVec::with_capacity(QUEUE_RECORDS, GFP_KERNEL)?;
            for _ in 0..QUEUE_RECORDS {
                slots.push([0; RECORD_LEN], GFP_KERNEL)?;
            }
            Some(Ring {
                slots,
                head: 0,
                len: 0,
            })
        } else {
            None
        };
        let mut queue = self.queue.lock();
        if queue.is_none() {
            *queue = ring;
        }
        if role == HaRole::Standby {
            if let Some(ring) = queue.as_mut() {
                ring.head = 0;
                ring.len = 0;
            }
        }
        self.role.store(role as u8, Ordering::Relaxed);
        self.publishing
            .store(role == HaRole::Active && queue.is_some(), Ordering::Relaxed);
        Ok(())
    }

    /// Whether records are being published: active, with a queue.
    pub(crate) fn publishing(&self) -> bool {
        self.publishing.load(Ordering::Relaxed)
    }

    /// Queues `record` for the peer, if publishing; a full queue drops it and counts that.
    pub(crate) fn publish(&self, record: &SyncRecord) {
        if !self.publishing() {
            return;
        }
        let mut queue = self.queue.lock();
        let Some(ring) = queue.as_mut() else { return };
        if ring.push(record.encode()) {
            self.emitted.fetch_add(1, Ordering::Relaxed);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Moves queued records into `out`; how many.
    pub(crate) fn take(&self, out: &mut [[u8; RECORD_LEN]]) -> usize {
        self.queue.lock().as_mut().map_or(0, |ring| ring.take(out))
    }

    /// Counts `n` records that were taken but could not be sent.
    pub(crate) fn count_dropped(&self, n: usize) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
        self.emitted.fetch_sub(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn count_installed(&self) {
        self.installed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counts(&self) -> SyncCounts {
        SyncCounts {
            emitted: self.emitted.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            installed: self.installed.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    /// Keeps the daemon's latest report. Sleeps.
    pub(crate) fn set_report(&self, report: DaemonReport) {
        *self.report.lock() = Some(report);
    }

    /// The daemon's latest report, if any. Sleeps.
    pub(crate) fn report(&self) -> Option<DaemonReport> {
        *self.report.lock()
    }
}
