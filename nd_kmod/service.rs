// SPDX-License-Identifier: GPL-2.0
//! The configured services: cluster addresses, their ports and each port's servers.
//!
//! The packet path reads an immutable snapshot under RCU. Administration edits a draft copy
//! and publishes a new snapshot, so a change is seen whole or not at all, and a failed change
//! leaves everything as it was. Servers and statistics are shared by reference between
//! snapshots; each snapshot's ports bring a fresh scheduler state.

use crate::lock_bh::{new_spinlock_bh, SpinLockBh};
use crate::attr::AffinityQuiesced;
use crate::numbering::{lowest_free, BITMAP_WORDS};
use crate::sched::{SchedServer, Scheduler, SchedulerKind};
use crate::sched_wrr::{WrrCredit, WrrServer};
use crate::stats::{PortStats, RefusalTotals, ServerStats, Totals, VipStats};
use crate::xmit_dr::RouteCache;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A server of one port, shared by the snapshots that list it. Connection table entries name
/// it by `id`, which no other server of the namespace has while it is configured and while
/// entries for it remain.
pub(crate) struct Server {
    pub(crate) id: u16,
    /// IPv4 address, network order.
    pub(crate) addr: u32,
    /// Static MAC address, packed with a presence bit above the 48 address bits.
    mac: AtomicU64,
    pub(crate) route: RouteCache,
    pub(crate) stats: ServerStats,
}

const MAC_PRESENT: u64 = 1 << 48;

impl Server {
    pub(crate) fn new(id: u16, addr: u32, mac: Option<[u8; 6]>) -> Result<Arc<Server>> {
        let server = Arc::new(
            Server {
                id,
                addr,
                mac: AtomicU64::new(0),
                route: RouteCache::new(),
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
    server: Arc<Server>,
}

impl WrrServer for SchedSlot {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn credit(&mut self) -> &mut WrrCredit {
        &mut self.credit
    }
}

impl SchedServer for SchedSlot {
    fn active(&self) -> u32 {
        self.server.stats.active()
    }
    fn inactive(&self) -> u32 {
        self.server.stats.inactive()
    }
}

/// A port's client affinity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AffinitySettings {
    /// How long a binding outlives the client's last connection, in jiffies.
    pub(crate) timeout: u32,
    /// The timeout as configured, in seconds.
    pub(crate) timeout_secs: u32,
    /// The netmask's length that groups clients.
    pub(crate) prefix: u8,
    pub(crate) quiesced: AffinityQuiesced,
}

/// A port of a cluster address, as published in one snapshot. Connection table entries name
/// it by `id`, as they name servers.
#[pin_data]
pub(crate) struct Port {
    pub(crate) id: u16,
    pub(crate) port: u16,
    pub(crate) scheduler: SchedulerKind,
    pub(crate) affinity: Option<AffinitySettings>,
    pub(crate) stats: Arc<PortStats>,
    pub(crate) servers: KVec<PortServer>,
    #[pin]
    sched: SpinLockBh<KVec<SchedSlot>>,
}

impl Port {
    /// Picks the server for a new connection, `None` if every weight is 0. The lock is the
    /// port's own, held for one pass over its servers.
    pub(crate) fn schedule(&self) -> Option<&Server> {
        let index = self.scheduler.pick(&mut self.sched.lock()[..])?;
        self.servers.get(index).map(|s| &*s.server)
    }

    /// Whether a client bound to server `id` may be sent to it again: while it has a
    /// weight, or while quiesced if the port keeps quiesced servers' clients.
    pub(crate) fn takes_bound_clients(&self, id: u16, quiesced: AffinityQuiesced) -> bool {
        self.servers
            .iter()
            .find(|s| s.server.id == id)
            .is_some_and(|s| s.weight > 0 || quiesced == AffinityQuiesced::Keep)
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

/// A port's cluster address and port number, and its affinity.
#[derive(Clone, Copy)]
pub(crate) struct PortAddr {
    pub(crate) vip: u32,
    pub(crate) port: u16,
    pub(crate) affinity: Option<AffinitySettings>,
}

/// One published configuration.
#[derive(Default)]
pub(crate) struct Services {
    pub(crate) vips: KVec<Vip>,
    /// Every port's server, by number.
    servers: KVec<Option<Arc<Server>>>,
    /// Every port's address, by number.
    ports: KVec<Option<PortAddr>>,
}

/// Puts `item` at `index`, growing `table` with empty slots as needed.
fn place<T>(table: &mut KVec<Option<T>>, index: u16, item: T) -> Result {
    let index = usize::from(index);
    while table.len() <= index {
        table.push(None, GFP_KERNEL)?;
    }
    table[index] = Some(item);
    Ok(())
}

impl Services {
    pub(crate) fn vip(&self, addr: u32) -> Option<&Vip> {
        self.vips.iter().find(|v| v.addr == addr)
    }

    /// The server numbered `id`.
    pub(crate) fn server(&self, id: u16) -> Option<&Server> {
        self.servers.get(usize::from(id))?.as_deref()
    }

    /// The address of the port numbered `id`.
    pub(crate) fn port_addr(&self, id: u16) -> Option<PortAddr> {
        *self.ports.get(usize::from(id))?
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
                        id: port.id,
                        port: port.port,
                        scheduler: port.scheduler,
                        affinity: port.affinity,
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
    pub(crate) id: u16,
    pub(crate) port: u16,
    pub(crate) scheduler: SchedulerKind,
    pub(crate) affinity: Option<AffinitySettings>,
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

    fn draft_ports(&self) -> impl Iterator<Item = &DraftPort> {
        self.vips.iter().flat_map(|v| v.ports.iter())
    }

    /// The lowest server number no server of the draft has; `None` when all are taken.
    pub(crate) fn free_server_id(&self) -> Result<Option<u16>> {
        let mut bitmap = KVec::from_elem(0u64, BITMAP_WORDS, GFP_KERNEL)?;
        let used = self
            .draft_ports()
            .flat_map(|p| p.servers.iter())
            .map(|s| s.server.id);
        Ok(lowest_free(used, &mut bitmap))
    }

    /// The lowest port number no port of the draft has; `None` when all are taken.
    pub(crate) fn free_port_id(&self) -> Result<Option<u16>> {
        let mut bitmap = KVec::from_elem(0u64, BITMAP_WORDS, GFP_KERNEL)?;
        Ok(lowest_free(self.draft_ports().map(|p| p.id), &mut bitmap))
    }

    /// Builds the snapshot to publish.
    pub(crate) fn freeze(self) -> Result<Arc<Services>> {
        let mut vips = KVec::with_capacity(self.vips.len(), GFP_KERNEL)?;
        let mut servers_by_id = KVec::new();
        let mut ports_by_id = KVec::new();
        for vip in self.vips.into_iter() {
            let mut ports = KVec::with_capacity(vip.ports.len(), GFP_KERNEL)?;
            for draft_port in vip.ports.into_iter() {
                let addr = PortAddr {
                    vip: vip.addr,
                    port: draft_port.port,
                    affinity: draft_port.affinity,
                };
                place(&mut ports_by_id, draft_port.id, addr)?;
                for s in draft_port.servers.iter() {
                    place(&mut servers_by_id, s.server.id, s.server.clone())?;
                }
                let mut slots = KVec::with_capacity(draft_port.servers.len(), GFP_KERNEL)?;
                for s in draft_port.servers.iter() {
                    slots.push(
                        SchedSlot {
                            weight: s.weight,
                            credit: WrrCredit::default(),
                            server: s.server.clone(),
                        },
                        GFP_KERNEL,
                    )?;
                }
                let frozen = Arc::pin_init(
                    pin_init!(Port {
                        id: draft_port.id,
                        port: draft_port.port,
                        scheduler: draft_port.scheduler,
                        affinity: draft_port.affinity,
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
        Ok(Arc::new(
            Services {
                vips,
                servers: servers_by_id,
                ports: ports_by_id,
            },
            GFP_KERNEL,
        )?)
    }
}
