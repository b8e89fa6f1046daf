// SPDX-License-Identifier: GPL-2.0
//! The connection table: which server each client connection goes to, and its TCP state.
//!
//! Buckets are grouped into stripes, each behind its own bottom-half spinlock, so the packet
//! path of different connections rarely meets on a lock and never takes a global one. A
//! bucket is a vector of slots; a removed entry leaves an empty slot that the next insert
//! reuses, and a bucket that empties gives its memory back. A timer walks a tenth of the
//! stripes at a time and removes what has expired.

use crate::conn_hash::ConnKey;
use crate::lock_bh::{new_spinlock_bh, SpinLockBh};
use crate::service::Server;
use crate::tcp_state::{Step, TcpFlags, TcpState};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use kernel::init::pin_init_array_from_fn;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Number of lock stripes.
pub(crate) const STRIPES: usize = 256;
/// Buckets per stripe.
const BUCKETS_PER_STRIPE: usize = 64;
/// Default bound on the number of entries.
pub(crate) const DEFAULT_LIMIT: u32 = 1 << 20;

/// Per-state lifetimes of idle entries, in jiffies.
pub(crate) trait Lifetimes {
    fn lifetime(&self, state: TcpState) -> u64;

    /// The lifetime of a new half-open entry while the table is more than half full; 0 when
    /// early expiry is off.
    fn syn_pressure_lifetime(&self) -> u64;
}

/// One connection.
struct Entry {
    key: ConnKey,
    state: TcpState,
    expires: u64,
    server: Arc<Server>,
}

impl Entry {
    fn enter(&mut self, state: TcpState, now: u64, lifetimes: &impl Lifetimes) {
        if state.is_active() != self.state.is_active() {
            self.server.stats.leave(self.state);
            self.server.stats.enter(state);
        }
        self.state = state;
        self.expires = now + lifetimes.lifetime(state);
    }

    fn target(&self) -> Target {
        Target {
            addr: self.server.addr,
            mac: self.server.mac(),
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.server.stats.leave(self.state);
    }
}

/// Where a connection's packets go.
#[derive(Clone, Copy)]
pub(crate) struct Target {
    /// Server address, network order.
    pub(crate) addr: u32,
    /// Static MAC of the server, if configured.
    pub(crate) mac: Option<[u8; 6]>,
}

/// A connection as dumps report it.
pub(crate) struct ConnInfo {
    pub(crate) key: ConnKey,
    pub(crate) server: u32,
    pub(crate) state: TcpState,
    pub(crate) expires: u64,
}

/// A new connection's entry.
pub(crate) struct Inserted {
    pub(crate) target: Target,
    /// A half-open entry was evicted to make room for it.
    pub(crate) evicted: bool,
}

/// Why a new connection got no entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The table is at its bound.
    Full,
    /// Memory for the entry could not be had.
    NoMemory,
}

#[derive(Default)]
struct Bucket {
    slots: KVec<Option<Entry>>,
    live: usize,
}

impl Bucket {
    fn find(&mut self, key: &ConnKey) -> Option<usize> {
        if self.live == 0 {
            return None;
        }
        self.slots
            .iter()
            .position(|slot| slot.as_ref().is_some_and(|e| e.key == *key))
    }

    /// Empties slot `index`; returns whether it held an entry.
    fn clear(&mut self, index: usize) -> bool {
        let removed = self.slots.get_mut(index).and_then(Option::take).is_some();
        if removed {
            self.live -= 1;
            if self.live == 0 {
                self.slots = KVec::new();
            }
        }
        removed
    }

    /// Removes every entry `doomed` picks; returns how many.
    fn remove_where(&mut self, mut doomed: impl FnMut(&Entry) -> bool) -> usize {
        let mut removed = 0;
        for index in 0..self.slots.len() {
            if self.live == 0 {
                break;
            }
            if self.slots[index].as_ref().is_some_and(&mut doomed) && self.clear(index) {
                removed += 1;
            }
        }
        removed
    }

    /// The half-open entry that expires first, the one to give up when the table is full:
    /// under a SYN flood it is a spoofed one, while a real client's lives only a round trip.
    fn oldest_half_open(&self) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.as_ref().map(|e| (i, e)))
            .filter(|(_, e)| e.state == TcpState::SynSent)
            .min_by_key(|(_, e)| e.expires)
            .map(|(i, _)| i)
    }

    /// Stores `entry` in a free slot, growing the bucket if it has none.
    fn insert(&mut self, entry: Entry) -> Result<&Entry, InsertError> {
        let index = match self.slots.iter().position(Option::is_none) {
            Some(index) => index,
            None => {
                self.slots
                    .push(None, GFP_ATOMIC)
                    .map_err(|_| InsertError::NoMemory)?;
                self.slots.len() - 1
            }
        };
        self.live += 1;
        Ok(self.slots[index].insert(entry))
    }
}

struct Stripe {
    buckets: KVec<Bucket>,
}

/// The connection table of one namespace.
#[pin_data]
pub(crate) struct ConnTable {
    seed: u32,
    count: AtomicU32,
    limit: AtomicU32,
    next_to_expire: AtomicUsize,
    #[pin]
    stripes: [SpinLockBh<Stripe>; STRIPES],
}

impl ConnTable {
    /// An empty table whose hash is keyed with `seed`.
    pub(crate) fn new(seed: u32) -> Result<Pin<KBox<Self>>> {
        // Bucket memory is allocated up front, where sleeping is allowed.
        let mut stripes = KVec::with_capacity(STRIPES, GFP_KERNEL)?;
        for _ in 0..STRIPES {
            let mut buckets = KVec::with_capacity(BUCKETS_PER_STRIPE, GFP_KERNEL)?;
            for _ in 0..BUCKETS_PER_STRIPE {
                buckets.push(Bucket::default(), GFP_KERNEL)?;
            }
            stripes.push(Some(Stripe { buckets }), GFP_KERNEL)?;
        }
        let mut prepared = stripes.into_iter();
        KBox::pin_init(
            pin_init!(ConnTable {
                seed,
                count: AtomicU32::new(0),
                limit: AtomicU32::new(DEFAULT_LIMIT),
                next_to_expire: AtomicUsize::new(0),
                stripes <- pin_init_array_from_fn(|_| {
                    // There are exactly STRIPES prepared stripes.
                    let stripe = prepared.next().flatten().unwrap_or(Stripe { buckets: KVec::new() });
                    new_spinlock_bh!(stripe)
                }),
            }),
            GFP_KERNEL,
        )
    }

    fn locate(&self, key: &ConnKey) -> (&SpinLockBh<Stripe>, usize) {
        let hash = key.hash(self.seed) as usize;
        (
            &self.stripes[hash % STRIPES],
            (hash / STRIPES) % BUCKETS_PER_STRIPE,
        )
    }

    /// Entries in the table.
    pub(crate) fn count(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// The bound on entries.
    pub(crate) fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets the bound; entries above it stay until they expire.
    pub(crate) fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    fn forget(&self, n: usize) {
        if n > 0 {
            self.count.fetch_sub(n as u32, Ordering::Relaxed);
        }
    }

    /// Follows a segment of a known connection: its target, or `None` if the connection is
    /// unknown or the segment opens a new connection on a closing entry (which is removed).
    pub(crate) fn track(
        &self,
        key: &ConnKey,
        flags: TcpFlags,
        bytes: u32,
        now: u64,
        lifetimes: &impl Lifetimes,
    ) -> Option<Target> {
        let (stripe, index) = self.locate(key);
        let mut stripe = stripe.lock();
        let bucket = &mut stripe.buckets[index];
        let slot = bucket.find(key)?;
        let entry = bucket.slots[slot].as_mut()?;
        match entry.state.step(flags) {
            Step::Forward(state) => {
                entry.enter(state, now, lifetimes);
                entry.server.stats.count_packet(bytes);
                Some(entry.target())
            }
            Step::Reschedule => {
                let removed = bucket.clear(slot);
                drop(stripe);
                self.forget(usize::from(removed));
                None
            }
        }
    }

    /// Adds a new connection to `server` whose first segment (`bytes` long) is a SYN. If
    /// another CPU added the same connection meanwhile, that entry wins. In a full table the
    /// bucket's oldest half-open entry makes room, if it has one.
    pub(crate) fn insert(
        &self,
        key: ConnKey,
        server: Arc<Server>,
        bytes: u32,
        now: u64,
        lifetimes: &impl Lifetimes,
    ) -> Result<Inserted, InsertError> {
        let limit = self.limit();
        let before = self.count.fetch_add(1, Ordering::Relaxed);
        let full = before >= limit;
        if full {
            self.forget(1);
        }
        let mut lifetime = lifetimes.lifetime(TcpState::SynSent);
        let pressure = lifetimes.syn_pressure_lifetime();
        if pressure > 0 && before >= limit / 2 {
            lifetime = lifetime.min(pressure);
        }
        let (stripe, index) = self.locate(&key);
        let mut stripe = stripe.lock();
        let bucket = &mut stripe.buckets[index];
        if let Some(existing) = bucket.find(&key).and_then(|slot| bucket.slots[slot].as_ref()) {
            let target = existing.target();
            existing.server.stats.count_packet(bytes);
            drop(stripe);
            if !full {
                self.forget(1);
            }
            return Ok(Inserted {
                target,
                evicted: false,
            });
        }
        let victim = if full {
            Some(bucket.oldest_half_open().ok_or(InsertError::Full)?)
        } else {
            None
        };
        server.stats.enter(TcpState::SynSent);
        let entry = Entry {
            key,
            state: TcpState::SynSent,
            expires: now + lifetime,
            server,
        };
        let target = entry.target();
        let stored = match victim {
            // The evicted entry is dropped here, which takes it off its server's gauges.
            Some(slot) => Ok(&*bucket.slots[slot].insert(entry)),
            // A failed insert drops the entry, whose drop takes it off the gauges again.
            None => bucket.insert(entry),
        };
        if let Ok(stored) = &stored {
            stored.server.stats.count_conn();
            stored.server.stats.count_packet(bytes);
        }
        let inserted = stored.map(|_| Inserted {
            target,
            evicted: victim.is_some(),
        });
        drop(stripe);
        if inserted.is_err() {
            self.forget(1);
        }
        inserted
    }

    /// Removes expired entries from the next `stripes` stripes.
    pub(crate) fn expire_some(&self, now: u64, stripes: usize) {
        for _ in 0..stripes {
            let next = self.next_to_expire.fetch_add(1, Ordering::Relaxed) % STRIPES;
            let mut stripe = self.stripes[next].lock();
            let removed: usize = stripe
                .buckets
                .iter_mut()
                .map(|b| b.remove_where(|e| e.expires <= now))
                .sum();
            drop(stripe);
            self.forget(removed);
        }
    }

    /// Removes every entry whose key or server `doomed` picks.
    pub(crate) fn remove_where(&self, doomed: impl Fn(&ConnKey, &Arc<Server>) -> bool) {
        for stripe in self.stripes.iter() {
            let mut stripe = stripe.lock();
            let removed: usize = stripe
                .buckets
                .iter_mut()
                .map(|b| b.remove_where(|e| doomed(&e.key, &e.server)))
                .sum();
            drop(stripe);
            self.forget(removed);
        }
    }

    /// Shows entries to `visit` from `cursor` (stripe, bucket, slot) on, until `visit` returns
    /// false; returns where to resume, or `None` once every entry was shown.
    pub(crate) fn visit(
        &self,
        cursor: [usize; 3],
        mut visit: impl FnMut(&ConnInfo) -> bool,
    ) -> Option<[usize; 3]> {
        let [first_stripe, first_bucket, first_slot] = cursor;
        for s in first_stripe..STRIPES {
            let stripe = self.stripes[s].lock();
            let b0 = if s == first_stripe { first_bucket } else { 0 };
            for (b, bucket) in stripe.buckets.iter().enumerate().skip(b0) {
                let i0 = if s == first_stripe && b == first_bucket {
                    first_slot
                } else {
                    0
                };
                for (i, slot) in bucket.slots.iter().enumerate().skip(i0) {
                    let Some(e) = slot else { continue };
                    let info = ConnInfo {
                        key: e.key,
                        server: e.server.addr,
                        state: e.state,
                        expires: e.expires,
                    };
                    if !visit(&info) {
                        return Some([s, b, i]);
                    }
                }
            }
        }
        None
    }
}
