// SPDX-License-Identifier: GPL-2.0
//! The affinity table of one namespace: which server each bound client (network) of a port
//! goes to. It is a striped table like the connection table, bounded on its own, and swept
//! by the same timer. Locks are taken after the connection table's, never before.

use crate::affinity::{AffinityEntry, AffinityKey};
use crate::conn_entry::short_jiffies;
use crate::striped_table::StripedTable;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::prelude::*;

/// Lock stripes: fewer than the connection table's, one binding serving many connections.
const STRIPES: usize = 64;
/// Default bound on the bindings.
pub(crate) const DEFAULT_LIMIT: u32 = 1 << 18;

type Table = StripedTable<AffinityEntry, STRIPES>;

/// What is told of every binding made or dropped: the servers' record counts follow, and an
/// active dispatcher publishes it. Called with the binding's stripe locked.
pub(crate) trait BindingObserver {
    fn bound(&self, entry: &AffinityEntry);
    fn unbound(&self, entry: &AffinityEntry);
    /// Whether bindings are to be told again now and then.
    fn wants_refresh(&self) -> bool;
    fn refreshed(&self, entry: &AffinityEntry);
}

/// Every this many sweeps each binding is told again (see the connection table's).
const REFRESH_SWEEPS: usize = 60;

/// A namespace's bindings.
#[pin_data]
pub(crate) struct AffinityTable {
    seed: u32,
    next_to_expire: AtomicUsize,
    #[pin]
    table: Table,
}

impl AffinityTable {
    pub(crate) fn new(seed: u32) -> Result<Pin<KBox<Self>>> {
        let table = Table::new(
            DEFAULT_LIMIT,
            kernel::c_str!("nd_affinity_stripe"),
            kernel::static_lock_class!(),
        )?;
        KBox::pin_init(
            pin_init!(AffinityTable {
                seed,
                next_to_expire: AtomicUsize::new(0),
                table <- table,
            }),
            GFP_KERNEL,
        )
    }

    fn hash_of(&self) -> impl Fn(&AffinityEntry) -> u32 + '_ {
        |entry| Table::stripe_hash(entry.key.hash(self.seed))
    }

    pub(crate) fn count(&self) -> u32 {
        self.table.count()
    }

    pub(crate) fn limit(&self) -> u32 {
        self.table.limit()
    }

    pub(crate) fn set_limit(&self, limit: u32) {
        self.table.set_limit(limit);
    }

    /// The server `key` is bound to, if `usable` accepts it, holding one more connection.
    pub(crate) fn claim(&self, key: &AffinityKey, usable: impl Fn(u16) -> bool) -> Option<u16> {
        let place = Table::place(key.hash(self.seed));
        let mut stripe = self.table.lock(place.stripe);
        let index = stripe.find(key, place.hash)?;
        let entry = stripe.get_mut(index)?;
        if !usable(entry.server) {
            return None;
        }
        entry.hold();
        Some(entry.server)
    }

    /// Binds `key` to `server` holding one connection, replacing a binding it had; false if
    /// the table is full or out of memory (the connection then goes unbound).
    pub(crate) fn bind(&self, key: AffinityKey, server: u16, observer: &impl BindingObserver) -> bool {
        self.upsert(key, server, observer, AffinityEntry::hold, 1, 0)
    }

    /// Enters or updates a binding a peer reported, with no connection of its own, living
    /// `lifetime` more jiffies; false if there is no room.
    pub(crate) fn install(
        &self,
        key: AffinityKey,
        server: u16,
        lifetime: u32,
        now: u64,
        observer: &impl BindingObserver,
    ) -> bool {
        let expires = short_jiffies(now).wrapping_add(lifetime);
        self.upsert(key, server, observer, |e| e.expires = expires, 0, expires)
    }

    /// One connection of `key`'s binding ended at `now`; the last one starts its `timeout`.
    pub(crate) fn release(&self, key: &AffinityKey, now: u64, timeout: u32) {
        let place = Table::place(key.hash(self.seed));
        let mut stripe = self.table.lock(place.stripe);
        if let Some(entry) = stripe.find(key, place.hash).and_then(|i| stripe.get_mut(i)) {
            entry.release(short_jiffies(now), timeout);
        }
    }

    /// Points `key`'s binding at `server` and applies `update` to it, or enters a new one
    /// with `conns` and `expires`; false if there is no room for it.
    fn upsert(
        &self,
        key: AffinityKey,
        server: u16,
        observer: &impl BindingObserver,
        update: impl FnOnce(&mut AffinityEntry),
        conns: u32,
        expires: u32,
    ) -> bool {
        let place = Table::place(key.hash(self.seed));
        let mut stripe = self.table.lock(place.stripe);
        if let Some(entry) = stripe.find(&key, place.hash).and_then(|i| stripe.get_mut(i)) {
            if entry.server != server {
                observer.unbound(entry);
                entry.server = server;
                observer.bound(entry);
            }
            update(entry);
            return true;
        }
        if self.table.reserve().is_err() {
            return false;
        }
        if self.table.make_room(&mut stripe, self.hash_of()).is_err() {
            drop(stripe);
            self.table.forget(1);
            return false;
        }
        let entry = AffinityEntry {
            key,
            server,
            conns,
            expires,
        };
        if stripe.insert(entry, place.hash).is_err() {
            drop(stripe);
            self.table.forget(1);
            return false;
        }
        observer.bound(&entry);
        true
    }

    /// Removes the binding of `key`, if there is one.
    pub(crate) fn remove(&self, key: &AffinityKey, observer: &impl BindingObserver) {
        let place = Table::place(key.hash(self.seed));
        let mut stripe = self.table.lock(place.stripe);
        let removed = stripe
            .find(key, place.hash)
            .and_then(|index| stripe.remove(index, self.hash_of()));
        if let Some(gone) = &removed {
            observer.unbound(gone);
        }
        drop(stripe);
        if removed.is_some() {
            self.table.forget(1);
        }
    }

    /// Removes the expired bindings of the next `stripes` stripes.
    pub(crate) fn expire_some(&self, now: u64, stripes: usize, observer: &impl BindingObserver) {
        let now = short_jiffies(now);
        for _ in 0..stripes {
            let visit = self.next_to_expire.fetch_add(1, Ordering::Relaxed);
            let next = visit % STRIPES;
            let refresh = observer.wants_refresh()
                && (visit / STRIPES + next).is_multiple_of(REFRESH_SWEEPS);
            let mut stripe = self.table.lock(next);
            let removed = stripe.remove_where(
                |e| {
                    let expired = e.expired(now);
                    if expired {
                        observer.unbound(e);
                    } else if refresh {
                        observer.refreshed(e);
                    }
                    expired
                },
                self.hash_of(),
            );
            self.table.shrink_if_sparse(&mut stripe, self.hash_of());
            drop(stripe);
            self.table.forget(removed);
        }
    }

    /// Removes every binding `doomed` picks.
    pub(crate) fn remove_where(
        &self,
        doomed: impl Fn(&AffinityEntry) -> bool,
        observer: &impl BindingObserver,
    ) {
        self.table.remove_where(
            |e| {
                let gone = doomed(e);
                if gone {
                    observer.unbound(e);
                }
                gone
            },
            self.hash_of(),
        );
    }

    /// Shows bindings from `cursor` on; see [`StripedTable::visit`].
    pub(crate) fn visit(
        &self,
        cursor: [usize; 2],
        visit: impl FnMut(&AffinityEntry) -> bool,
    ) -> Option<[usize; 2]> {
        self.table.visit(cursor, visit)
    }

    /// Stripes the expiry timer walks.
    pub(crate) const STRIPES: usize = STRIPES;
}
