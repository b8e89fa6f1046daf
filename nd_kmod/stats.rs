// SPDX-License-Identifier: GPL-2.0
//! Counters and gauges. The packet path updates only per-CPU copies of the server's counters
//! and of the drop counts; port and address totals are summed when read, plus what removed
//! servers and ports had counted (those are kept in plain atomics: only administration adds to
//! them). A server's active and inactive connections are plain atomics: they change a few
//! times a connection, not a packet, and the least-connection schedulers read them for every
//! new connection, which a sum over every CPU's copy would make cost as much as the CPUs.

use crate::percpu::PerCpuCounters;
use crate::tcp_state::TcpState;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;

/// A monotonically increasing count.
#[derive(Default)]
struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Totals as reported over netlink.
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    pub(crate) conns: u64,
    pub(crate) active: u32,
    pub(crate) inactive: u32,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
}

impl Totals {
    pub(crate) fn add(&mut self, other: &Totals) {
        self.conns += other.conns;
        self.active = self.active.saturating_add(other.active);
        self.inactive = self.inactive.saturating_add(other.inactive);
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// One server's figures. Every forwarded packet updates its counters, so they live on
/// per-CPU copies.
pub(crate) struct ServerStats {
    counters: PerCpuCounters<3>,
    active: AtomicU32,
    inactive: AtomicU32,
    /// Clients bound to the server.
    bindings: AtomicU32,
}

const CONNS: usize = 0;
const PACKETS: usize = 1;
const BYTES: usize = 2;

impl ServerStats {
    pub(crate) fn new() -> Result<Self> {
        Ok(ServerStats {
            counters: PerCpuCounters::new()?,
            active: AtomicU32::new(0),
            inactive: AtomicU32::new(0),
            bindings: AtomicU32::new(0),
        })
    }

    pub(crate) fn totals(&self) -> Totals {
        Totals {
            conns: self.counters.sum::<CONNS>(),
            active: self.active(),
            inactive: self.inactive(),
            packets: self.counters.sum::<PACKETS>(),
            bytes: self.counters.sum::<BYTES>(),
        }
    }

    /// Established connections.
    pub(crate) fn active(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }

    /// Connections opening or closing.
    pub(crate) fn inactive(&self) -> u32 {
        self.inactive.load(Ordering::Relaxed)
    }

    /// Clients bound to the server by affinity.
    pub(crate) fn bindings(&self) -> u32 {
        self.bindings.load(Ordering::Relaxed)
    }

    /// A client was bound to the server.
    pub(crate) fn bind(&self) {
        self.bindings.fetch_add(1, Ordering::Relaxed);
    }

    /// A client's binding to the server went; it follows its `bind`.
    pub(crate) fn unbind(&self) {
        self.bindings.fetch_sub(1, Ordering::Relaxed);
    }

    fn gauge(&self, state: TcpState) -> &AtomicU32 {
        if state.is_active() {
            &self.active
        } else {
            &self.inactive
        }
    }

    /// Counts one new connection scheduled to this server.
    pub(crate) fn count_conn(&self) {
        self.counters.add::<CONNS>(1);
    }

    /// Counts one forwarded packet of `bytes` bytes.
    pub(crate) fn count_packet(&self, bytes: u32) {
        self.counters.add::<PACKETS>(1);
        self.counters.add::<BYTES>(u64::from(bytes));
    }

    /// A connection of this server entered `state`.
    pub(crate) fn enter(&self, state: TcpState) {
        self.gauge(state).fetch_add(1, Ordering::Relaxed);
    }

    /// A connection of this server left `state`. Every leave follows its enter, so the
    /// gauge never goes below 0.
    pub(crate) fn leave(&self, state: TcpState) {
        self.gauge(state).fetch_sub(1, Ordering::Relaxed);
    }
}

/// Totals of removed members, kept so that a port's or address's totals never go backwards.
#[derive(Default)]
pub(crate) struct Retired {
    conns: Counter,
    packets: Counter,
    bytes: Counter,
}

impl Retired {
    pub(crate) fn absorb(&self, gone: &Totals) {
        self.conns.add(gone.conns);
        self.packets.add(gone.packets);
        self.bytes.add(gone.bytes);
    }

    pub(crate) fn totals(&self) -> Totals {
        Totals {
            conns: self.conns.get(),
            packets: self.packets.get(),
            bytes: self.bytes.get(),
            ..Totals::default()
        }
    }
}

/// New connections a port refused, by reason: a flood of them must not contend on one line.
pub(crate) struct Refusals(PerCpuCounters<2>);

const NO_SERVER: usize = 0;
const TABLE_FULL: usize = 1;

impl Refusals {
    fn new() -> Result<Self> {
        Ok(Refusals(PerCpuCounters::new()?))
    }

    pub(crate) fn count_no_server(&self) {
        self.0.add::<NO_SERVER>(1);
    }

    pub(crate) fn count_table_full(&self) {
        self.0.add::<TABLE_FULL>(1);
    }

    pub(crate) fn totals(&self) -> RefusalTotals {
        RefusalTotals {
            no_server: self.0.sum::<NO_SERVER>(),
            table_full: self.0.sum::<TABLE_FULL>(),
        }
    }
}

/// [`Refusals`] as read.
#[derive(Clone, Copy, Default)]
pub(crate) struct RefusalTotals {
    pub(crate) no_server: u64,
    pub(crate) table_full: u64,
}

impl RefusalTotals {
    pub(crate) fn add(&mut self, other: &RefusalTotals) {
        self.no_server += other.no_server;
        self.table_full += other.table_full;
    }
}

/// Refusals of removed ports.
#[derive(Default)]
pub(crate) struct RetiredRefusals {
    no_server: Counter,
    table_full: Counter,
}

impl RetiredRefusals {
    pub(crate) fn totals(&self) -> RefusalTotals {
        RefusalTotals {
            no_server: self.no_server.get(),
            table_full: self.table_full.get(),
        }
    }

    pub(crate) fn absorb(&self, gone: &RefusalTotals) {
        self.no_server.add(gone.no_server);
        self.table_full.add(gone.table_full);
    }
}

/// A port's own figures.
pub(crate) struct PortStats {
    pub(crate) retired: Retired,
    pub(crate) refused: Refusals,
}

impl PortStats {
    pub(crate) fn new() -> Result<Self> {
        Ok(PortStats {
            retired: Retired::default(),
            refused: Refusals::new()?,
        })
    }
}

/// A cluster address's own figures; its refusals are its ports' plus these of removed ports.
pub(crate) struct VipStats {
    pub(crate) retired: Retired,
    pub(crate) retired_refusals: RetiredRefusals,
    filtered: PerCpuCounters<1>,
}

impl VipStats {
    pub(crate) fn new() -> Result<Self> {
        Ok(VipStats {
            retired: Retired::default(),
            retired_refusals: RetiredRefusals::default(),
            filtered: PerCpuCounters::new()?,
        })
    }

    /// Counts a packet to an unconfigured port or an unserved protocol.
    pub(crate) fn count_filtered(&self) {
        self.filtered.add::<0>(1);
    }

    pub(crate) fn filtered(&self) -> u64 {
        self.filtered.sum::<0>()
    }
}

/// Why the packet path dropped a packet.
#[derive(Clone, Copy)]
pub(crate) enum DropReason {
    NoServer,
    TableFull,
    Filtered,
    Malformed,
    NoConnection,
    NoRoute,
    NoMemory,
    /// Not a packet: the state a flood's SYN had created, given up for a new connection.
    HalfOpenEvicted,
    /// A packet to a cluster address while standby.
    Standby,
}

impl DropReason {
    /// Every reason.
    pub(crate) const ALL: [DropReason; 9] = [
        DropReason::NoServer,
        DropReason::TableFull,
        DropReason::Filtered,
        DropReason::Malformed,
        DropReason::NoConnection,
        DropReason::NoRoute,
        DropReason::NoMemory,
        DropReason::HalfOpenEvicted,
        DropReason::Standby,
    ];
}

/// The namespace's drops by reason; under a flood every CPU counts them.
pub(crate) struct Drops(PerCpuCounters<9>);

impl Drops {
    pub(crate) fn new() -> Result<Self> {
        Ok(Drops(PerCpuCounters::new()?))
    }

    pub(crate) fn count(&self, reason: DropReason) {
        match reason {
            DropReason::NoServer => self.0.add::<0>(1),
            DropReason::TableFull => self.0.add::<1>(1),
            DropReason::Filtered => self.0.add::<2>(1),
            DropReason::Malformed => self.0.add::<3>(1),
            DropReason::NoConnection => self.0.add::<4>(1),
            DropReason::NoRoute => self.0.add::<5>(1),
            DropReason::NoMemory => self.0.add::<6>(1),
            DropReason::HalfOpenEvicted => self.0.add::<7>(1),
            DropReason::Standby => self.0.add::<8>(1),
        }
    }

    /// Drops for `reason` so far.
    pub(crate) fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::NoServer => self.0.sum::<0>(),
            DropReason::TableFull => self.0.sum::<1>(),
            DropReason::Filtered => self.0.sum::<2>(),
            DropReason::Malformed => self.0.sum::<3>(),
            DropReason::NoConnection => self.0.sum::<4>(),
            DropReason::NoRoute => self.0.sum::<5>(),
            DropReason::NoMemory => self.0.sum::<6>(),
            DropReason::HalfOpenEvicted => self.0.sum::<7>(),
            DropReason::Standby => self.0.sum::<8>(),
        }
    }
}
