// SPDX-License-Identifier: GPL-2.0
//! A bounded hash table split into `N` stripes, each an open-addressing table (`flow_table`)
//! behind its own bottom-half spinlock, that grows and shrinks stripe by stripe. The packet
//! path of different keys rarely meets on a lock and never takes a global one. The
//! connection table and the affinity table are two of these.

use crate::chunked_slots::ChunkedSlots;
use crate::flow_table::{self, FlowTable, Keyed, Slots};
use crate::lock_bh::{SpinLockBh, SpinLockBhBackend};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use kernel::alloc::AllocError;
use kernel::init::pin_init_array_from_fn;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::lock::Guard;
use kernel::sync::LockClassKey;

/// One stripe's entries.
pub(crate) type Stripe<T> = FlowTable<ChunkedSlots<T>>;

/// A stripe, locked.
pub(crate) type LockedStripe<'a, T> = Guard<'a, Stripe<T>, SpinLockBhBackend>;

/// Where a key's entry lives: its stripe and the hash its slots are found by.
pub(crate) struct Place {
    pub(crate) stripe: usize,
    pub(crate) hash: u32,
}

/// The table is at its bound.
pub(crate) struct AtBound;

/// A bounded, striped table of `T`.
#[pin_data]
pub(crate) struct StripedTable<T: Keyed, const N: usize> {
    count: AtomicU32,
    limit: AtomicU32,
    /// The memory every stripe's slots take.
    bytes: AtomicUsize,
    #[pin]
    stripes: [SpinLockBh<Stripe<T>>; N],
}

impl<T: Keyed, const N: usize> StripedTable<T, N> {
    const STRIPE_BITS: u32 = N.trailing_zeros();

    /// An empty table of at most `limit` entries. The smallest stripes are allocated here,
    /// where sleeping is allowed. Each table names its own lock class, so that lockdep tells
    /// one table's stripes from another's when one is taken inside the other.
    pub(crate) fn new(
        limit: u32,
        lock_name: &'static CStr,
        lock_class: &'static LockClassKey,
    ) -> Result<impl PinInit<Self>> {
        build_assert!(N.is_power_of_two());
        let mut stripes = KVec::with_capacity(N, GFP_KERNEL)?;
        let mut bytes = 0;
        for _ in 0..N {
            let slots = ChunkedSlots::new(flow_table::MIN_SLOTS, GFP_KERNEL)?;
            bytes += slots.bytes();
            stripes.push(Some(FlowTable::new(slots)), GFP_KERNEL)?;
        }
        let mut prepared = stripes.into_iter();
        Ok(pin_init!(StripedTable {
            count: AtomicU32::new(0),
            limit: AtomicU32::new(limit),
            bytes: AtomicUsize::new(bytes),
            stripes <- pin_init_array_from_fn(|_| {
                // There are exactly N prepared stripes; an empty store is never used, but
                // keeps this infallible.
                let stripe = prepared
                    .next()
                    .flatten()
                    .unwrap_or(FlowTable::new(ChunkedSlots::empty()));
                SpinLockBh::new(stripe, lock_name, lock_class)
            }),
        }))
    }

    /// Where the key of hash `hash` lives.
    pub(crate) fn place(hash: u32) -> Place {
        Place {
            stripe: hash as usize % N,
            hash: hash >> Self::STRIPE_BITS,
        }
    }

    /// The hash a stripe finds an entry of full hash `hash` by.
    pub(crate) fn stripe_hash(hash: u32) -> u32 {
        hash >> Self::STRIPE_BITS
    }

    /// Stripe `index` (below `N`), locked.
    pub(crate) fn lock(&self, index: usize) -> LockedStripe<'_, T> {
        self.stripes[index % N].lock()
    }

    /// Entries in the table.
    pub(crate) fn count(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// The bound on entries.
    pub(crate) fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets the bound; entries above it stay until they go.
    pub(crate) fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// The memory the slots take, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Counts one more entry, unless the table is at its bound.
    pub(crate) fn reserve(&self) -> Result<(), AtBound> {
        let before = self.count.fetch_add(1, Ordering::Relaxed);
        if before >= self.limit() {
            self.forget(1);
            return Err(AtBound);
        }
        Ok(())
    }

    /// Counts one more entry whatever the bound; the count before.
    pub(crate) fn reserve_over(&self) -> u32 {
        self.count.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts `n` entries fewer.
    pub(crate) fn forget(&self, n: usize) {
        if n > 0 {
            self.count.fetch_sub(n as u32, Ordering::Relaxed);
        }
    }

    /// Gives `stripe` `count` slots, moving its entries; leaves it as it was if the memory
    /// cannot be had.
    pub(crate) fn resize(
        &self,
        stripe: &mut Stripe<T>,
        count: usize,
        hash_of: impl Fn(&T) -> u32,
    ) -> Result<(), AllocError> {
        let slots = ChunkedSlots::new(count, GFP_ATOMIC | __GFP_NOWARN)?;
        let new_bytes = slots.bytes();
        let old_bytes = stripe.slots().bytes();
        let resized = stripe.rehash_into(FlowTable::new(slots), hash_of);
        // The old slots are empty now; they are freed when `stripe` is replaced.
        *stripe = resized;
        self.bytes.fetch_add(new_bytes, Ordering::Relaxed);
        self.bytes.fetch_sub(old_bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Makes room in `stripe` for one more entry, doubling it if it is 3/4 full.
    pub(crate) fn make_room(
        &self,
        stripe: &mut Stripe<T>,
        hash_of: impl Fn(&T) -> u32,
    ) -> Result<(), AllocError> {
        if flow_table::must_grow(stripe.live(), stripe.slots().count()) {
            let doubled = stripe.slots().count() * 2;
            self.resize(stripe, doubled, hash_of)?;
        }
        Ok(())
    }

    /// Halves `stripe` if it has become mostly empty; failing to only keeps memory longer.
    pub(crate) fn shrink_if_sparse(&self, stripe: &mut Stripe<T>, hash_of: impl Fn(&T) -> u32) {
        let slots = stripe.slots().count();
        if flow_table::may_shrink(stripe.live(), slots) {
            let _ = self.resize(stripe, slots / 2, hash_of);
        }
    }

    /// Removes every entry `doomed` picks, in every stripe; how many.
    pub(crate) fn remove_where(
        &self,
        mut doomed: impl FnMut(&mut T) -> bool,
        hash_of: impl Fn(&T) -> u32,
    ) -> usize {
        let mut total = 0;
        for stripe in self.stripes.iter() {
            let mut stripe = stripe.lock();
            let removed = stripe.remove_where(&mut doomed, &hash_of);
            drop(stripe);
            self.forget(removed);
            total += removed;
        }
        total
    }

    /// Shows entries to `visit` from `cursor` (stripe, slot) on, until `visit` returns false;
    /// returns where to resume, or `None` once every entry was shown. A stripe that resizes
    /// between two calls may show some of its entries twice or not at all, as with any
    /// netlink dump of a table that changes while it is read.
    pub(crate) fn visit(
        &self,
        cursor: [usize; 2],
        mut visit: impl FnMut(&T) -> bool,
    ) -> Option<[usize; 2]> {
        let [first_stripe, first_slot] = cursor;
        for s in first_stripe..N {
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
