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
use crate::flow_table::NoRoom;
use crate::striped_table::{Place, StripedTable};
use crate::tcp_state::{Step, TcpFlags, TcpState};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::prelude::*;

/// Number of lock stripes; a stripe is picked by the low bits of a key's hash.
pub(crate) const STRIPES: usize = 256;

type Table = StripedTable<ConnEntry, STRIPES>;
/// Default bound on the number of entries.
pub(crate) const DEFAULT_LIMIT: u32 = 1 << 20;
/// How many slots from its home a full table looks through, gaps included, for a
/// half-open entry to give up: enough to find one in a stripe that the flood has only half
/// filled, few enough to bound the work a flood's SYN costs.
const EVICTION_REACH: usize = 64;
/// Every this many sweeps (about seconds) each established entry is told to the observer
/// again, so that a peer's shadow of a long-lived connection does not expire.
const REFRESH_SWEEPS: usize = 60;

/// Per-state lifetimes of idle entries, in jiffies.
pub(crate) trait Lifetimes {
    fn lifetime(&self, state: TcpState) -> u32;

    /// The lifetime of a new half-open entry while the table is more than half full; 0 when
    /// early expiry is off.
    fn syn_pressure_lifetime(&self) -> u32;
}

/// What is told of every change of the table: the servers' gauges follow it, and an active
/// dispatcher publishes it to its peer. Called with the entry's stripe locked.
pub(crate) trait Observer {
    /// A connection was entered.
    fn entered(&self, entry: &ConnEntry);
    /// A connection moved from state `from` to its current one.
    fn moved(&self, entry: &ConnEntry, from: TcpState);
    /// A connection was removed.
    fn removed(&self, entry: &ConnEntry);
    /// Whether established connections are to be told again now and then.
    fn wants_refresh(&self) -> bool;
    /// An established connection goes on.
    fn refreshed(&self, entry: &ConnEntry);
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

/// The connection table of one namespace.
#[pin_data]
pub(crate) struct ConnTable {
    seed: u32,
    next_to_expire: AtomicUsize,
    #[pin]
    table: StripedTable<ConnEntry, STRIPES>,
}

impl ConnTable {
    /// An empty table whose hash is keyed with `seed`.
    pub(crate) fn new(seed: u32) -> Result<Pin<KBox<Self>>> {
        let table = StripedTable::new(
            DEFAULT_LIMIT,
            kernel::c_str!("nd_conn_stripe"),
            kernel::static_lock_class!(),
        )?;
        KBox::pin_init(
            pin_init!(ConnTable {
                seed,
                next_to_expire: AtomicUsize::new(0),
                table <- table,
            }),
            GFP_KERNEL,
        )
    }

    fn place(&self, key: &ConnKey) -> Place {
        Table::place(key.hash(self.seed))
    }

    fn hash_of(&self) -> impl Fn(&ConnEntry) -> u32 + '_ {
        |entry| Table::stripe_hash(entry.key.hash(self.seed))
    }

    /// Entries in the table.
    pub(crate) fn count(&self) -> u32 {
        self.table.count()
    }

    /// The bound on entries.
    pub(crate) fn limit(&self) -> u32 {
        self.table.limit()
    }

    /// Sets the bound; entries above it stay until they expire.
    pub(crate) fn set_limit(&self, limit: u32) {
        self.table.set_limit(limit);
    }

    /// The memory the table's slots take, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.table.bytes()
    }

    fn forget(&self, n: usize) {
        self.table.forget(n);
    }

    /// Follows a segment of a known connection: its server, or `None` if the connection is
    /// unknown or the segment opens a new connection on a closing entry (which is removed).
    pub(crate) fn track(
        &self,
        key: &ConnKey,
        flags: TcpFlags,
        now: u64,
        lifetimes: &impl Lifetimes,
        observer: &impl Observer,
    ) -> Option<u16> {
        let place = self.place(key);
        let mut stripe = self.table.lock(place.stripe);
        let index = stripe.find(key, place.hash)?;
        let entry = stripe.get_mut(index)?;
        match entry.state.step(flags) {
            Step::Forward(state) => {
                let from = entry.state;
                entry.enter(state, short_jiffies(now), lifetimes.lifetime(state));
                if state != from {
                    observer.moved(entry, from);
                }
                Some(entry.server)
            }
            Step::Reschedule => {
                let removed = stripe.remove(index, self.hash_of());
                if let Some(gone) = &removed {
                    observer.removed(gone);
                }
                drop(stripe);
                if removed.is_some() {
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
        flags: u8,
        now: u64,
        lifetimes: &impl Lifetimes,
        observer: &impl Observer,
    ) -> Result<Inserted, InsertError> {
        let limit = self.limit();
        let before = self.table.reserve_over();
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
        let mut stripe = self.table.lock(place.stripe);
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
                .neighbourhood(place.hash, EVICTION_REACH)
                .filter(|(_, e)| e.state == TcpState::SynSent)
                .min_by_key(|(_, e)| e.left(short_jiffies(now)))
                .map(|(index, _)| index)
                .ok_or(InsertError::Full)?;
            if let Some(gone) = stripe.remove(victim, self.hash_of()) {
                observer.removed(&gone);
            }
            evicted = true;
        } else if self.table.make_room(&mut stripe, self.hash_of()).is_err() {
            drop(stripe);
            self.forget(1);
            return Err(InsertError::NoMemory);
        }
        let entry = ConnEntry {
            key,
            expires: short_jiffies(now).wrapping_add(lifetime),
            server,
            state: TcpState::SynSent,
            flags,
        };
        if let Err(NoRoom(_)) = stripe.insert(entry, place.hash) {
            // Not reached: the stripe had room, was just given more, or lost an entry. The
            // count took one for this entry (or kept the evicted one's): give it back.
            drop(stripe);
            self.forget(1);
            return Err(InsertError::NoMemory);
        }
        observer.entered(&entry);
        Ok(Inserted {
            server,
            evicted,
            entered: true,
        })
    }

    /// Removes expired entries from the next `stripes` stripes, gives back the slots of
    /// stripes that have become mostly empty, and now and then tells the observer of the
    /// established connections that go on.
    pub(crate) fn expire_some(&self, now: u64, stripes: usize, observer: &impl Observer) {
        let now = short_jiffies(now);
        for _ in 0..stripes {
            let visit = self.next_to_expire.fetch_add(1, Ordering::Relaxed);
            let next = visit % STRIPES;
            // Stripes take their turns to refresh, spread over the period.
            let refresh = observer.wants_refresh()
                && (visit / STRIPES + next).is_multiple_of(REFRESH_SWEEPS);
            let mut stripe = self.table.lock(next);
            let removed = stripe.remove_where(
                |e| {
                    let expired = e.expired(now);
                    if expired {
                        observer.removed(e);
                    } else if refresh && e.state.is_active() {
                        observer.refreshed(e);
                    }
                    expired
                },
                self.hash_of(),
            );
            self.table.shrink_if_sparse(&mut stripe, self.hash_of());
            drop(stripe);
            self.forget(removed);
        }
    }

    /// Removes every entry `doomed` picks.
    pub(crate) fn remove_where(
        &self,
        doomed: impl Fn(&ConnEntry) -> bool,
        observer: &impl Observer,
    ) {
        self.table.remove_where(
            |e| {
                let gone = doomed(e);
                if gone {
                    observer.removed(e);
                }
                gone
            },
            self.hash_of(),
        );
    }

    /// Enters or updates a connection a peer reported: with `server`, in `state`, living
    /// `lifetime` more jiffies. No half-open entry is evicted for it.
    pub(crate) fn install(
        &self,
        key: ConnKey,
        server: u16,
        state: TcpState,
        lifetime: u32,
        now: u64,
        observer: &impl Observer,
    ) -> Result<(), InsertError> {
        let place = self.place(&key);
        let mut stripe = self.table.lock(place.stripe);
        let now = short_jiffies(now);
        if let Some(entry) = stripe.find(&key, place.hash).and_then(|i| stripe.get_mut(i)) {
            if entry.server != server {
                observer.removed(entry);
                entry.server = server;
                entry.enter(state, now, lifetime);
                observer.entered(entry);
            } else {
                let from = entry.state;
                entry.enter(state, now, lifetime);
                if from != state {
                    observer.moved(entry, from);
                }
            }
            return Ok(());
        }
        if self.table.reserve().is_err() {
            return Err(InsertError::Full);
        }
        if self.table.make_room(&mut stripe, self.hash_of()).is_err() {
            drop(stripe);
            self.forget(1);
            return Err(InsertError::NoMemory);
        }
        let entry = ConnEntry {
            key,
            expires: now.wrapping_add(lifetime),
            server,
            state,
            flags: 0,
        };
        if stripe.insert(entry, place.hash).is_err() {
            drop(stripe);
            self.forget(1);
            return Err(InsertError::NoMemory);
        }
        observer.entered(&entry);
        Ok(())
    }

    /// Removes the connection `key`, if it is there.
    pub(crate) fn remove(&self, key: &ConnKey, observer: &impl Observer) -> bool {
        let place = self.place(key);
        let mut stripe = self.table.lock(place.stripe);
        let removed = stripe
            .find(key, place.hash)
            .and_then(|index| stripe.remove(index, self.hash_of()));
        if let Some(gone) = &removed {
            observer.removed(gone);
        }
        drop(stripe);
        if removed.is_some() {
            self.forget(1);
        }
        removed.is_some()
    }

    /// Shows entries to `visit` from `cursor` (stripe, slot) on; see
    /// [`StripedTable::visit`].
    pub(crate) fn visit(
        &self,
        cursor: [usize; 2],
        visit: impl FnMut(&ConnEntry) -> bool,
    ) -> Option<[usize; 2]> {
        self.table.visit(cursor, visit)
    }
}
