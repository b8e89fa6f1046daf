// SPDX-License-Identifier: GPL-2.0
//! The connection table: which server each client connection goes to, and its TCP state.
//!
//! The table is split into stripes, each behind its own bottom-half spinlock, so the packet
//! path of different connections rarely meets on a lock and never takes a global one. Each
//! stripe is an open-addressing table (`flow_table`) that doubles when it is 3/4 full and
//! halves when it falls under 1/8, so a lookup costs the same with a thousand connections as
//! with millions. Its slots live in chunks of at most a page, allocations that succeed in
//! the atomic context where a stripe grows. A timer walks a tenth of the stripes at a time
//! and removes what has expired.

use crate::conn_entry::{short_jiffies, ConnEntry};
use crate::conn_hash::ConnKey;
use crate::flow_table::{self, FlowTable, NoRoom, Slots};
use crate::lock_bh::{new_spinlock_bh, SpinLockBh};
use crate::tcp_state::{Step, TcpFlags, TcpState};
use core::mem::size_of;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use kernel::alloc::{AllocError, Flags};
use kernel::init::pin_init_array_from_fn;
use kernel::prelude::*;

/// Number of lock stripes; a stripe is picked by the low bits of a key's hash.
pub(crate) const STRIPES: usize = 256;
const STRIPE_BITS: u32 = STRIPES.trailing_zeros();
/// Default bound on the number of entries.
pub(crate) const DEFAULT_LIMIT: u32 = 1 << 20;
/// Slots in one chunk: a 4 KiB page of entries.
const CHUNK_SLOTS: usize = 4096 / size_of::<Option<ConnEntry>>();
/// How far from its home slot a full table looks for a half-open entry to give up.
const EVICTION_REACH: usize = 16;

/// Per-state lifetimes of idle entries, in jiffies.
pub(crate) trait Lifetimes {
    fn lifetime(&self, state: TcpState) -> u32;

    /// The lifetime of a new half-open entry while the table is more than half full; 0 when
    /// early expiry is off.
    fn syn_pressure_lifetime(&self) -> u32;
}

/// The active and inactive connection gauges of the servers, by server number.
pub(crate) trait Gauges {
    fn enter(&self, server: u16, state: TcpState);
    fn leave(&self, server: u16, state: TcpState);
}

/// A new connection's entry.
pub(crate) struct Inserted {
    /// The server of the connection: the one asked for, or the one another CPU entered
    /// first.
    pub(crate) server: u16,
    /// A half-open entry was evicted to make room for it.
    pub(crate) evicted: bool,
    /// The entry is new (rather than another CPU's for the same connection).
    pub(crate) entered: bool,
}

/// Why a new connection got no entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The table is at its bound.
    Full,
    /// Memory for the entry could not be had.
    NoMemory,
}

/// A stripe's slots, in chunks of up to a page.
struct ChunkedSlots {
    chunks: KVec<KVec<Option<ConnEntry>>>,
    count: usize,
}

impl ChunkedSlots {
    /// `count` empty slots; `count` is a power of two.
    fn new(count: usize, flags: Flags) -> Result<Self, AllocError> {
        let per_chunk = count.min(CHUNK_SLOTS);
        let chunk_count = count.checked_div(per_chunk).ok_or(AllocError)?;
        let mut chunks = KVec::with_capacity(chunk_count, flags)?;
        for _ in 0..chunk_count {
            let mut chunk = KVec::with_capacity(per_chunk, flags)?;
            for _ in 0..per_chunk {
                // Within the capacity just reserved: this does not allocate.
                chunk.push(None, flags)?;
            }
            chunks.push(chunk, flags)?;
        }
        Ok(ChunkedSlots { chunks, count })
    }

    /// The memory the slots take.
    fn bytes(&self) -> usize {
        self.count * size_of::<Option<ConnEntry>>()
            + self.chunks.len() * size_of::<KVec<Option<ConnEntry>>>()
    }
}

impl Slots for ChunkedSlots {
    type Entry = ConnEntry;

    fn count(&self) -> usize {
        self.count
    }

    fn slot(&self, index: usize) -> &Option<ConnEntry> {
        &self.chunks[index / CHUNK_SLOTS][index % CHUNK_SLOTS]
    }

    fn slot_mut(&mut self, index: usize) -> &mut Option<ConnEntry> {
        &mut self.chunks[index / CHUNK_SLOTS][index % CHUNK_SLOTS]
    }
}

type Stripe = FlowTable<ChunkedSlots>;

/// The connection table of one namespace.
#[pin_data]
pub(crate) struct ConnTable {
    seed: u32,
    count: AtomicU32,
    limit: AtomicU32,
    /// The memory every stripe's slots take.
    bytes: AtomicUsize,
    next_to_expire: AtomicUsize,
    #[pin]
    stripes: [SpinLockBh<Stripe>; STRIPES],
}

/// Where a key's entry lives: its stripe and the hash its slots are found by.
struct Place {
    stripe: usize,
    hash: u32,
}

impl ConnTable {
    /// An empty table whose hash is keyed with `seed`.
    pub(crate) fn new(seed: u32) -> Result<Pin<KBox<Self>>> {
        // The smallest slots are allocated up front, where sleeping is allowed.
        let mut stripes = KVec::with_capacity(STRIPES, GFP_KERNEL)?;
        let mut bytes = 0;
        for _ in 0..STRIPES {
            let slots = ChunkedSlots::new(flow_table::MIN_SLOTS, GFP_KERNEL)?;
            bytes += slots.bytes();
            stripes.push(Some(FlowTable::new(slots)), GFP_KERNEL)?;
        }
        let mut prepared = stripes.into_iter();
        KBox::pin_init(
            pin_init!(ConnTable {
                seed,
                count: AtomicU32::new(0),
                limit: AtomicU32::new(DEFAULT_LIMIT),
                bytes: AtomicUsize::new(bytes),
                next_to_expire: AtomicUsize::new(0),
                stripes <- pin_init_array_from_fn(|_| {
                    // There are exactly STRIPES prepared stripes; an empty store is never
                    // used, but keeps this infallible.
                    let stripe = prepared.next().flatten().unwrap_or(FlowTable::new(
                        ChunkedSlots { chunks: KVec::new(), count: 0 },
                    ));
                    new_spinlock_bh!(stripe)
                }),
            }),
            GFP_KERNEL,
        )
    }

    fn place(&self, key: &ConnKey) -> Place {
        let hash = key.hash(self.seed);
        Place {
            stripe: hash as usize % STRIPES,
            hash: hash >> STRIPE_BITS,
        }
    }

    fn hash_of(&self) -> impl Fn(&ConnEntry) -> u32 + '_ {
        |entry| entry.key.hash(self.seed) >> STRIPE_BITS
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

    /// The memory the table's slots take, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    fn forget(&self, n: usize) {
        if n > 0 {
            self.count.fetch_sub(n as u32, Ordering::Relaxed);
        }
    }

    /// Gives `stripe` `count` slots, moving its entries; leaves it as it was if the memory
    /// cannot be had.
    fn resize(&self, stripe: &mut Stripe, count: usize) -> Result<(), AllocError> {
        let slots = ChunkedSlots::new(count, GFP_ATOMIC | __GFP_NOWARN)?;
        let new_bytes = slots.bytes();
        let old_bytes = stripe.slots().bytes();
        let resized = stripe.rehash_into(FlowTable::new(slots), self.hash_of());
        // The old slots are empty now; they are freed when `stripe` is replaced.
        *stripe = resized;
        self.bytes.fetch_add(new_bytes, Ordering::Relaxed);
        self.bytes.fetch_sub(old_bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Follows a segment of a known connection: its server, or `None` if the connection is
    /// unknown or the segment opens a new connection on a closing entry (which is removed).
    pub(crate) fn track(
        &self,
        key: &ConnKey,
        flags: TcpFlags,
        now: u64,
        lifetimes: &impl Lifetimes,
        gauges: &impl Gauges,
    ) -> Option<u16> {
        let place = self.place(key);
        let mut stripe = self.stripes[place.stripe].lock();
        let index = stripe.find(key, place.hash)?;
        let entry = stripe.get_mut(index)?;
        match entry.state.step(flags) {
            Step::Forward(state) => {
                if state.is_active() != entry.state.is_active() {
                    gauges.leave(entry.server, entry.state);
                    gauges.enter(entry.server, state);
                }
                entry.enter(state, short_jiffies(now), lifetimes.lifetime(state));
                Some(entry.server)
            }
            Step::Reschedule => {
                let removed = stripe.remove(index, self.hash_of());
                drop(stripe);
                if let Some(gone) = removed {
                    gauges.leave(gone.server, gone.state);
                    self.forget(1);
                }
                None
            }
        }
    }

    /// Adds a new connection to `server` whose first segment is a SYN. If another CPU added
    /// the same connection meanwhile, that entry wins. In a full table, the half-open entry
    /// that expires first among those near the key's home slot makes room, if there is one.
    pub(crate) fn insert(
        &self,
        key: ConnKey,
        server: u16,
        now: u64,
        lifetimes: &impl Lifetimes,
        gauges: &impl Gauges,
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
        let place = self.place(&key);
        let mut stripe = self.stripes[place.stripe].lock();
        if let Some(existing) = stripe.find(&key, place.hash).and_then(|i| stripe.get(i)) {
            let server = existing.server;
            drop(stripe);
            if !full {
                self.forget(1);
            }
            return Ok(Inserted {
                server,
                evicted: false,
                entered: false,
            });
        }
        let mut evicted = false;
        if full {
            let victim = stripe
                .run(place.hash, EVICTION_REACH)
                .filter(|(_, e)| e.state == TcpState::SynSent)
                .min_by_key(|(_, e)| e.left(short_jiffies(now)))
                .map(|(index, _)| index)
                .ok_or(InsertError::Full)?;
            if let Some(gone) = stripe.remove(victim, self.hash_of()) {
                gauges.leave(gone.server, gone.state);
            }
            evicted = true;
        } else if flow_table::must_grow(stripe.live(), stripe.slots().count()) {
            let doubled = stripe.slots().count() * 2;
            if self.resize(&mut stripe, doubled).is_err() {
                drop(stripe);
                self.forget(1);
                return Err(InsertError::NoMemory);
            }
        }
        let entry = ConnEntry {
            key,
            expires: short_jiffies(now).wrapping_add(lifetime),
            server,
            state: TcpState::SynSent,
        };
        if let Err(NoRoom(_)) = stripe.insert(entry, place.hash) {
            // Not reached: the stripe had room, was just given more, or lost an entry. The
            // count took one for this entry (or kept the evicted one's): give it back.
            drop(stripe);
            self.forget(1);
            return Err(InsertError::NoMemory);
        }
        gauges.enter(server, TcpState::SynSent);
        Ok(Inserted {
            server,
            evicted,
            entered: true,
        })
    }

    /// Removes expired entries from the next `stripes` stripes, and gives back the slots of
    /// stripes that have become mostly empty.
    pub(crate) fn expire_some(&self, now: u64, stripes: usize, gauges: &impl Gauges) {
        let now = short_jiffies(now);
        for _ in 0..stripes {
            let next = self.next_to_expire.fetch_add(1, Ordering::Relaxed) % STRIPES;
            let mut stripe = self.stripes[next].lock();
            let removed = stripe.remove_where(
                |e| {
                    let expired = e.expired(now);
                    if expired {
                        gauges.leave(e.server, e.state);
                    }
                    expired
                },
                self.hash_of(),
            );
            let slots = stripe.slots().count();
            if flow_table::may_shrink(stripe.live(), slots) {
                // Failing to shrink only keeps memory a while longer.
                let _ = self.resize(&mut stripe, slots / 2);
            }
            drop(stripe);
            self.forget(removed);
        }
    }

    /// Removes every entry `doomed` picks.
    pub(crate) fn remove_where(&self, doomed: impl Fn(&ConnEntry) -> bool, gauges: &impl Gauges) {
        for stripe in self.stripes.iter() {
            let mut stripe = stripe.lock();
            let removed = stripe.remove_where(
                |e| {
                    let gone = doomed(e);
                    if gone {
                        gauges.leave(e.server, e.state);
                    }
                    gone
                },
                self.hash_of(),
            );
            drop(stripe);
            self.forget(removed);
        }
    }

    /// Shows entries to `visit` from `cursor` (stripe, slot) on, until `visit` returns false;
    /// returns where to resume, or `None` once every entry was shown. A stripe that resizes
    /// between two calls may show some of its entries twice or not at all, as with any
    /// netlink dump of a table that changes while it is read.
    pub(crate) fn visit(
        &self,
        cursor: [usize; 2],
        mut visit: impl FnMut(&ConnEntry) -> bool,
    ) -> Option<[usize; 2]> {
        let [first_stripe, first_slot] = cursor;
        for s in first_stripe..STRIPES {
            let stripe = self.stripes[s].lock();
            let from = if s == first_stripe { first_slot } else { 0 };
            for (index, entry) in stripe.entries_from(from) {
                if !visit(entry) {
                    return Some([s, index]);
                }
            }
        }
        None
    }
}
