// SPDX-License-Identifier: GPL-2.0
//! Counters and gauges. The packet path updates only the server's figures; port and address
//! totals are summed when read, plus what removed servers and ports had counted.

use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc(&self) {
        self.add(1);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A level that goes up and down.
#[derive(Default)]
pub(crate) struct Gauge(AtomicI64);

impl Gauge {
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u32 {
        u32::try_from(self.0.load(Ordering::Relaxed).max(0)).unwrap_or(u32::MAX)
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

/// One server's figures.
#[derive(Default)]
pub(crate) struct ServerStats {
    pub(crate) conns: Counter,
    pub(crate) active: Gauge,
    pub(crate) inactive: Gauge,
    pub(crate) packets: Counter,
    pub(crate) bytes: Counter,
}

impl ServerStats {
    pub(crate) fn totals(&self) -> Totals {
        Totals {
            conns: self.conns.get(),
            active: self.active.get(),
            inactive: self.inactive.get(),
            packets: self.packets.get(),
            bytes: self.bytes.get(),
        }
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

/// New connections a port refused, by reason.
#[derive(Default)]
pub(crate) struct Refusals {
    pub(crate) no_server: Counter,
    pub(crate) table_full: Counter,
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

impl Refusals {
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
#[derive(Default)]
pub(crate) struct PortStats {
    pub(crate) retired: Retired,
    pub(crate) refused: Refusals,
}

/// A cluster address's own figures; its refusals are its ports' plus these of removed ports.
#[derive(Default)]
pub(crate) struct VipStats {
    pub(crate) retired: Retired,
    pub(crate) retired_refusals: Refusals,
    pub(crate) drop_filtered: Counter,
}

/// The namespace's drops by reason.
#[derive(Default)]
pub(crate) struct Drops {
    pub(crate) no_server: Counter,
    pub(crate) table_full: Counter,
    pub(crate) filtered: Counter,
    pub(crate) malformed: Counter,
    pub(crate) no_connection: Counter,
    pub(crate) no_route: Counter,
    pub(crate) no_memory: Counter,
}

impl ServerStats {
    /// Counts one forwarded packet of `bytes` bytes.
    pub(crate) fn count_packet(&self, bytes: u32) {
        self.packets.inc();
        self.bytes.add(u64::from(bytes));
    }

    /// A connection of this server entered `state`.
    pub(crate) fn enter(&self, state: crate::tcp_state::TcpState) {
        if state.is_active() {
            self.active.inc();
        } else {
            self.inactive.inc();
        }
    }

    /// A connection of this server left `state`.
    pub(crate) fn leave(&self, state: crate::tcp_state::TcpState) {
        if state.is_active() {
            self.active.dec();
        } else {
            self.inactive.dec();
        }
    }
}
