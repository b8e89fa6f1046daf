// SPDX-License-Identifier: GPL-2.0
//! The configured services: cluster addresses, their ports and each port's servers.
//!
//! The packet path reads an immutable snapshot under RCU. Administration edits a draft copy
//! and publishes a new snapshot, so a change is seen whole or not at all, and a failed change
//! leaves everything as it was. Servers and statistics are shared by reference between
//! snapshots; each snapshot's ports bring a fresh scheduler state.

use crate::lock_bh::{new_spinlock_bh, SpinLockBh};
use crate::sched_wrr::{self, WrrCredit, WrrServer};
use crate::stats::{PortStats, RefusalTotals, ServerStats, Totals, VipStats};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A server, shared by the snapshots that list it and by its connections.
pub(crate) struct Server {
    /// IPv4 address, network order.
    pub(crate) addr: u32,
    /// Static MAC address, packed with a presence bit above the 48 address bits.
    mac: AtomicU64,
    pub(crate) stats: ServerStats,
}

const MAC_PRESENT: u64 = 1 << 48;

impl Server {
    pub(crate) fn new(addr: u32, mac: Option<[u8; 6]>) -> Result<Arc<Server>> {
        let server = Arc::new(
            Server {
                addr,
                mac: AtomicU64::new(0),
                stats: ServerStats::new()?,
            },
            GFP_KERNEL,
        )?;
        server.set_mac(mac);
        Ok(server)
    }

    pub(crate) fn mac(&self) -> Option<[u8; 6]> {
        let packed = self.mac.load(Ordering::Relaxed);
        if packed & MAC_PRESENT == 0 {
            return None;
        }
        let b = packed.to_be_bytes();
        Some([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    pub(crate) fn set_mac(&self, mac: Option<[u8; 6]>) {
        let packed = mac.map_or(0, |m| {
            MAC_PRESENT | u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
        });
        self.mac.store(packed, Ordering::Relaxed);
    }
}

/// A server as one port lists it.
#[derive(Clone)]
pub(crate) struct PortServer {
    pub(crate) server: Arc<Server>,
    pub(crate) weight: u32,
}

/// The scheduler's view of one server.
struct SchedSlot {
    weight: u32,
    credit: WrrCredit,
}

impl WrrServer for SchedSlot {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn credit(&mut self) -> &mut WrrCredit {
        &mut self.credit
    }
}

/// A port of a cluster address, as published in one snapshot.
#[pin_data]
pub(crate) struct Port {
    pub(crate) port: u16,
    pub(crate) stats: Arc<PortStats>,
    pub(crate) servers: KVec<PortServer>,
    #[pin]
    sched: SpinLockBh<KVec<SchedSlot>>,
}

impl Port {
    /// Picks the server for a new connection, `None` if every weight is 0.
    pub(crate) fn schedule(&self) -> Option<Arc<Server>> {
        let index = sched_wrr::pick(&mut self.sched.lock()[..])?;
        self.servers.get(index).map(|s| s.server.clone())
    }

    pub(crate) fn totals(&self) -> Totals {
        let mut totals = self.stats.retired.totals();
        for s in self.servers.iter() {
            totals.add(&s.server.stats.totals());
        }
        totals
    }
}

/// A cluster address, as published in one snapshot.
pub(crate) struct Vip {
    pub(crate) addr: u32,
    pub(crate) stats: Arc<VipStats>,
    pub(crate) ports: KVec<Arc<Port>>,
}

impl Vip {
    pub(crate) fn port(&self, port: u16) -> Option<&Port> {
        self.ports.iter().find(|p| p.port == port).map(|p| &**p)
    }

    pub(crate) fn totals(&self) -> Totals {
        let mut totals = self.stats.retired.totals();
        for p in self.ports.iter() {
            totals.add(&p.totals());
        }
        totals
    }

    pub(crate) fn refusals(&self) -> RefusalTotals {
        let mut refusals = self.stats.retired_refusals.totals();
        for p in self.ports.iter() {
            refusals.add(&p.stats.refused.totals());
        }
        refusals
    }
}

/// One published configuration.
#[derive(Default)]
pub(crate) struct Services {
    pub(crate) vips: KVec<Vip>,
}

impl Services {
    pub(crate) fn vip(&self, addr: u32) -> Option<&Vip> {
        self.vips.iter().find(|v| v.addr == addr)
    }

    /// A mutable copy to edit.
    pub(crate) fn draft(&self) -> Result<Draft> {
        let mut vips = KVec::with_capacity(self.vips.len(), GFP_KERNEL)?;
        for vip in self.vips.iter() {
            let mut ports = KVec::with_capacity(vip.ports.len(), GFP_KERNEL)?;
            for port in vip.ports.iter() {
                let mut servers = KVec::with_capacity(port.servers.len(), GFP_KERNEL)?;
                for s in port.servers.iter() {
                    servers.push(s.clone(), GFP_KERNEL)?;
                }
                ports.push(
                    DraftPort {
                        port: port.port,
                        stats: port.stats.clone(),
                        servers,
                    },
                    GFP_KERNEL,
                )?;
            }
            vips.push(
                DraftVip {
                    addr: vip.addr,
                    stats: vip.stats.clone(),
                    ports,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Draft { vips })
    }
}

/// A port being edited.
pub(crate) struct DraftPort {
    pub(crate) port: u16,
    pub(crate) stats: Arc<PortStats>,
    pub(crate) servers: KVec<PortServer>,
}

/// A cluster address being edited.
pub(crate) struct DraftVip {
    pub(crate) addr: u32,
    pub(crate) stats: Arc<VipStats>,
    pub(crate) ports: KVec<DraftPort>,
}

/// A configuration being edited.
pub(crate) struct Draft {
    pub(crate) vips: KVec<DraftVip>,
}

impl Draft {
    pub(crate) fn vip_mut(&mut self, addr: u32) -> Option<&mut DraftVip> {
        self.vips.iter_mut().find(|v| v.addr == addr)
    }

    /// Builds the snapshot to publish.
    pub(crate) fn freeze(self) -> Result<Arc<Services>> {
        let mut vips = KVec::with_capacity(self.vips.len(), GFP_KERNEL)?;
        for vip in self.vips.into_iter() {
            let mut ports = KVec::with_capacity(vip.ports.len(), GFP_KERNEL)?;
            for draft_port in vip.ports.into_iter() {
                let mut slots = KVec::with_capacity(draft_port.servers.len(), GFP_KERNEL)?;
                for s in draft_port.servers.iter() {
                    slots.push(
                        SchedSlot {
                            weight: s.weight,
                            credit: WrrCredit::default(),
                        },
                        GFP_KERNEL,
                    )?;
                }
                let frozen = Arc::pin_init(
                    pin_init!(Port {
                        port: draft_port.port,
                        stats: draft_port.stats,
                        servers: draft_port.servers,
                        sched <- new_spinlock_bh!(slots),
                    }),
                    GFP_KERNEL,
                )?;
                ports.push(frozen, GFP_KERNEL)?;
            }
            vips.push(
                Vip {
                    addr: vip.addr,
                    stats: vip.stats,
                    ports,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Arc::new(Services { vips }, GFP_KERNEL)?)
    }
}
