// SPDX-License-Identifier: GPL-2.0
//! The Executor of one network namespace: its services, connection table, timeouts and
//! counters, and the packet path that dispatches new connections and forwards the rest.

use crate::clock;
use crate::conn::{ConnTable, InsertError, Lifetimes};
use crate::conn_hash::ConnKey;
use crate::headers::{self, IPPROTO_ICMP, IPPROTO_TCP, IPV4_MIN_LEN, TCP_MIN_LEN};
use crate::netns::{NetRef, PernetState};
use crate::nf_hook::{self, Hook};
use crate::numbering::BITMAP_WORDS;
use crate::rcu::{self, ReadGuard, RcuArc};
use crate::service::{Port, Server, Services};
use crate::skb::{Skb, Verdict};
use crate::stats::{DropReason, Drops};
use crate::tcp_state::{TcpFlags, TcpState, Timeouts};
use crate::timer::{Timer, TimerHandler};
use crate::xmit_dr::{self, Outcome};
use core::pin::Pin;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{new_mutex, Arc, Mutex};

/// Early in PRE_ROUTING: after defragmentation, before conntrack and the routing decision.
const HOOK_PRIORITY: i32 = crate::bindings::NF_IP_PRI_CONNTRACK_DEFRAG + 1;
/// The expiry timer runs ten times a second, each run over a tenth of the table.
const EXPIRY_RUNS_PER_SECOND: u32 = 10;

/// The default early-expiry timeout of new half-open entries in a table more than half full:
/// long enough for a real client's SYN retransmissions, short enough to drain a flood.
const DEFAULT_SYN_PRESSURE_SECS: u32 = 5;

/// State timeouts in seconds, settable at run time.
pub(crate) struct StateTimeouts {
    secs: [AtomicU32; 4],
    syn_pressure_secs: AtomicU32,
    jiffies_per_sec: u32,
}

fn slot(state: TcpState) -> usize {
    match state {
        TcpState::SynSent => 0,
        TcpState::Established => 1,
        TcpState::FinWait => 2,
        TcpState::Closed => 3,
    }
}

impl StateTimeouts {
    fn new() -> Self {
        let d = Timeouts::DEFAULT;
        StateTimeouts {
            secs: [
                AtomicU32::new(d.syn),
                AtomicU32::new(d.established),
                AtomicU32::new(d.fin),
                AtomicU32::new(d.close),
            ],
            syn_pressure_secs: AtomicU32::new(DEFAULT_SYN_PRESSURE_SECS),
            // Below 2^32 for any HZ a kernel can have.
            jiffies_per_sec: clock::secs_to_jiffies(1) as u32,
        }
    }

    pub(crate) fn get(&self) -> Timeouts {
        let s = |state| self.secs[slot(state)].load(Ordering::Relaxed);
        Timeouts {
            syn: s(TcpState::SynSent),
            established: s(TcpState::Established),
            fin: s(TcpState::FinWait),
            close: s(TcpState::Closed),
        }
    }

    pub(crate) fn set(&self, t: Timeouts) {
        for (state, secs) in [
            (TcpState::SynSent, t.syn),
            (TcpState::Established, t.established),
            (TcpState::FinWait, t.fin),
            (TcpState::Closed, t.close),
        ] {
            self.secs[slot(state)].store(secs, Ordering::Relaxed);
        }
    }
}

impl StateTimeouts {
    /// The early-expiry timeout of half-open entries; 0 when off.
    pub(crate) fn syn_pressure(&self) -> u32 {
        self.syn_pressure_secs.load(Ordering::Relaxed)
    }

    pub(crate) fn set_syn_pressure(&self, secs: u32) {
        self.syn_pressure_secs.store(secs, Ordering::Relaxed);
    }
}

impl Lifetimes for StateTimeouts {
    // Timeouts are at most 7 days, which is below 2^32 jiffies at any HZ up to 7000.
    fn lifetime(&self, state: TcpState) -> u32 {
        self.secs[slot(state)]
            .load(Ordering::Relaxed)
            .saturating_mul(self.jiffies_per_sec)
    }

    fn syn_pressure_lifetime(&self) -> u32 {
        self.syn_pressure().saturating_mul(self.jiffies_per_sec)
    }
}

/// The Executor of one namespace.
pub(crate) struct Executor {
    pub(crate) services: RcuArc<Services>,
    pub(crate) conns: Pin<KBox<ConnTable>>,
    pub(crate) timeouts: StateTimeouts,
    pub(crate) drops: Drops,
    /// Serialises configuration changes.
    pub(crate) admin: Pin<KBox<Mutex<()>>>,
}

/// What a namespace holds: the hook and timer go first, so that nothing runs the Executor
/// by the time it is dropped.
pub(crate) struct NetExecutor {
    _hook: nf_hook::Registration<Executor>,
    _expiry: Pin<KBox<Timer<Executor>>>,
    pub(crate) executor: Arc<Executor>,
}

impl PernetState for NetExecutor {
    fn new(net: NetRef) -> Result<Self> {
        let executor = Arc::new(
            Executor {
                services: RcuArc::new(Arc::new(Services::default(), GFP_KERNEL)?),
                conns: ConnTable::new(clock::random_u32())?,
                timeouts: StateTimeouts::new(),
                drops: Drops::new()?,
                admin: KBox::pin_init(new_mutex!(()), GFP_KERNEL)?,
            },
            GFP_KERNEL,
        )?;
        let expiry = Timer::new(executor.clone())?;
        expiry.start(Executor::expiry_period());
        let hook = nf_hook::Registration::pre_routing(net, HOOK_PRIORITY, executor.clone())?;
        Ok(NetExecutor {
            _hook: hook,
            _expiry: expiry,
            executor,
        })
    }
}

impl Executor {
    fn expiry_period() -> u64 {
        clock::msecs_to_jiffies(1000 / EXPIRY_RUNS_PER_SECOND).max(1)
    }

    /// Publishes `next` and ends the connections of the servers, ports and addresses it no
    /// longer has, keeping their counts in the totals of what remains.
    pub(crate) fn publish(&self, next: Arc<Services>) -> Result {
        // Which servers are gone, by number: one sweep of the table ends all their entries.
        let mut gone = KVec::from_elem(0u64, BITMAP_WORDS, GFP_KERNEL)?;
        let mut any_gone = false;
        let now = next.clone();
        let old = self.services.replace(next);
        // From here on no reader can add a connection to a server that `now` lacks.
        for vip in old.vips.iter() {
            let kept_vip = now.vip(vip.addr);
            for port in vip.ports.iter() {
                let kept_port = kept_vip.and_then(|v| v.port(port.port));
                if let (Some(kept_vip), None) = (kept_vip, kept_port) {
                    kept_vip.stats.retired.absorb(&port.totals());
                    kept_vip
                        .stats
                        .retired_refusals
                        .absorb(&port.stats.refused.totals());
                }
                for s in port.servers.iter() {
                    let kept = kept_port.is_some_and(|p| {
                        p.servers.iter().any(|k| Arc::ptr_eq(&k.server, &s.server))
                    });
                    if kept {
                        continue;
                    }
                    let id = s.server.id;
                    gone[usize::from(id) / 64] |= 1 << (id % 64);
                    any_gone = true;
                    if let Some(p) = kept_port {
                        p.stats.retired.absorb(&s.server.stats.totals());
                    }
                }
            }
        }
        // From here on no reader can enter a connection to a server that `now` lacks, and
        // the numbers of those servers are given to no new server before this sweep ends
        // (administration is serialised).
        if any_gone {
            let is_gone = |id: u16| gone[usize::from(id) / 64] & (1 << (id % 64)) != 0;
            self.conns.remove_where(|e| is_gone(e.server), &*old);
        }
        Ok(())
    }
}

impl TimerHandler for Executor {
    fn fire(&self) -> Option<u64> {
        let stripes = crate::conn::STRIPES.div_ceil(EXPIRY_RUNS_PER_SECOND as usize);
        let guard = rcu::read_lock();
        let services = self.services.read(&guard);
        self.conns.expire_some(clock::now(), stripes, services);
        Some(Executor::expiry_period())
    }
}

impl Hook for Executor {
    fn hook(&self, net: NetRef, mut skb: Skb<'_>) -> Verdict {
        if !skb.is_for_host() {
            return skb.accept();
        }
        let Some(ip) = skb
            .network_bytes(IPV4_MIN_LEN)
            .and_then(|b| headers::parse_ipv4(b).ok())
        else {
            // The stack validated the IP header before PRE_ROUTING; leave oddities to it.
            return skb.accept();
        };
        let guard = rcu::read_lock();
        let services = self.services.read(&guard);
        let Some(vip) = services.vip(ip.daddr) else {
            return skb.accept();
        };
        match ip.protocol {
            IPPROTO_TCP => {}
            // The host answers pings to its cluster addresses itself.
            IPPROTO_ICMP => return skb.accept(),
            _ => {
                vip.stats.count_filtered();
                self.drops.count(DropReason::Filtered);
                return skb.drop_packet();
            }
        }
        if ip.is_fragment {
            self.drops.count(DropReason::Malformed);
            return skb.drop_packet();
        }
        let Some(tcp) = skb
            .network_bytes(ip.header_len + TCP_MIN_LEN)
            .and_then(|b| headers::parse_tcp(&b[ip.header_len..]).ok())
        else {
            self.drops.count(DropReason::Malformed);
            return skb.drop_packet();
        };
        let Some(port) = vip.port(tcp.dport) else {
            vip.stats.count_filtered();
            self.drops.count(DropReason::Filtered);
            return skb.drop_packet();
        };
        let key = ConnKey {
            client: ip.saddr,
            client_port: tcp.sport,
            service: port.id,
        };
        let flags = TcpFlags::from_header_byte(tcp.flags);
        let now = clock::now();
        let server = match self.conns.track(&key, flags, now, &self.timeouts, services) {
            Some(server) => server,
            None if flags.is_connection_request() => match self.open(port, key, now, services) {
                Some(server) => server,
                None => return skb.drop_packet(),
            },
            None => {
                self.drops.count(DropReason::NoConnection);
                return skb.drop_packet();
            }
        };
        // An entry may outlive its server by the moment it takes to sweep it.
        let Some(server) = services.server(server) else {
            self.drops.count(DropReason::NoServer);
            return skb.drop_packet();
        };
        server.stats.count_packet(skb.len());
        self.forward(net, skb, server, &guard)
    }
}

impl Executor {
    /// Schedules a new connection and enters it in the table: its server's number.
    fn open(&self, port: &Port, key: ConnKey, now: u64, services: &Services) -> Option<u16> {
        let Some(server) = port.schedule() else {
            port.stats.refused.count_no_server();
            self.drops.count(DropReason::NoServer);
            return None;
        };
        match self
            .conns
            .insert(key, server.id, now, &self.timeouts, services)
        {
            Ok(inserted) => {
                if inserted.evicted {
                    self.drops.count(DropReason::HalfOpenEvicted);
                }
                if inserted.entered {
                    server.stats.count_conn();
                }
                Some(inserted.server)
            }
            Err(InsertError::Full) => {
                port.stats.refused.count_table_full();
                self.drops.count(DropReason::TableFull);
                None
            }
            Err(InsertError::NoMemory) => {
                self.drops.count(DropReason::NoMemory);
                None
            }
        }
    }

    fn forward(&self, net: NetRef, skb: Skb<'_>, server: &Server, guard: &ReadGuard) -> Verdict {
        let (verdict, outcome) =
            xmit_dr::send(net, skb, server.addr, server.mac(), &server.route, guard);
        if outcome == Outcome::NoRoute {
            self.drops.count(DropReason::NoRoute);
        }
        verdict
    }
}
