// SPDX-License-Identifier: GPL-2.0
//! The Executor of one network namespace: its services, connection table, timeouts and
//! counters, and the packet path that dispatches new connections and forwards the rest.

use crate::clock;
use crate::affinity::{self, AffinityKey};
use crate::affinity_table::AffinityTable;
use crate::conn::{ConnTable, InsertError, Lifetimes};
use crate::conn_entry::AFFINE;
use crate::conn_hash::ConnKey;
use crate::headers::{self, IPPROTO_ICMP, IPPROTO_TCP, IPV4_MIN_LEN, TCP_MIN_LEN};
use crate::netns::{NetRef, PernetState};
use crate::nf_hook::{self, Hook};
use crate::numbering::BITMAP_WORDS;
use crate::rcu::{self, ReadGuard, RcuArc};
use crate::service::{Port, Server, Services};
use crate::skb::{Skb, Verdict};
use crate::stats::{DropReason, Drops};
use crate::sync::SyncState;
use crate::sync_record::RECORD_LEN;
use crate::table_events::TableEvents;
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
    pub(crate) affinity: Pin<KBox<AffinityTable>>,
    pub(crate) timeouts: StateTimeouts,
    pub(crate) drops: Drops,
    pub(crate) sync: SyncState,
    /// Serialises configuration changes.
    pub(crate) admin: Pin<KBox<Mutex<()>>>,
}

/// What a namespace holds: the hook and timers go first, so that nothing runs the Executor
/// by the time it is dropped.
pub(crate) struct NetExecutor {
    _hook: nf_hook::Registration<Executor>,
    _expiry: Pin<KBox<Timer<Executor>>>,
    _publisher: Pin<KBox<Timer<Publisher>>>,
    pub(crate) executor: Arc<Executor>,
}

/// How often an active dispatcher sends its queued records: the floor of its peer's lag.
const PUBLISH_PERIOD_MS: u32 = 20;
/// How often it looks while nothing is published.
const IDLE_PERIOD_MS: u32 = 250;
/// Records per message: 1.5 KiB, on the timer's stack.
const RECORDS_PER_MESSAGE: usize = 64;
/// Messages per run: with the period, up to 400k records a second.
const MESSAGES_PER_RUN: usize = 128;

/// Sends the queue of sync records to the multicast group.
pub(crate) struct Publisher {
    executor: Arc<Executor>,
    net: NetRef,
}

impl TimerHandler for Publisher {
    fn fire(&self) -> Option<u64> {
        let sync = &self.executor.sync;
        if !sync.publishing() {
            return Some(clock::msecs_to_jiffies(IDLE_PERIOD_MS).max(1));
        }
        let listened = crate::genl::has_listeners(self.net, crate::ctl::SYNC_GROUP_INDEX);
        let mut batch = [[0u8; RECORD_LEN]; RECORDS_PER_MESSAGE];
        for _ in 0..MESSAGES_PER_RUN {
            let n = sync.take(&mut batch);
            if n == 0 {
                break;
            }
            // Nobody to tell: the peer's daemon resyncs when it comes.
            let sent = listened
                && crate::genl::multicast(
                    self.net,
                    crate::ctl::SYNC_GROUP_INDEX,
                    crate::cmd::Cmd::SyncRecords as u8,
                    |m| m.put_bytes(crate::attr::top::SYNC_BATCH, batch[..n].as_flattened()),
                )
                .is_ok();
            if !sent {
                sync.count_dropped(n);
            }
        }
        Some(clock::msecs_to_jiffies(PUBLISH_PERIOD_MS).max(1))
    }
}

impl PernetState for NetExecutor {
    fn new(net: NetRef) -> Result<Self> {
        let executor = Arc::new(
            Executor {
                services: RcuArc::new(Arc::new(Services::default(), GFP_KERNEL)?),
                conns: ConnTable::new(clock::random_u32())?,
                affinity: AffinityTable::new(clock::random_u32())?,
                timeouts: StateTimeouts::new(),
                drops: Drops::new()?,
                sync: SyncState::new()?,
                admin: KBox::pin_init(new_mutex!(()), GFP_KERNEL)?,
            },
            GFP_KERNEL,
        )?;
        let expiry = Timer::new(executor.clone())?;
        expiry.start(Executor::expiry_period());
        let publisher = Timer::new(Arc::new(
            Publisher {
                executor: executor.clone(),
                net,
            },
            GFP_KERNEL,
        )?)?;
        publisher.start(1);
        let hook = nf_hook::Registration::pre_routing(net, HOOK_PRIORITY, executor.clone())?;
        Ok(NetExecutor {
            _hook: hook,
            _expiry: expiry,
            _publisher: publisher,
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
                // Bindings made under other settings, or for a port that is gone, go.
                if kept_port.is_none_or(|p| p.affinity != port.affinity) {
                    let (id, events) = (port.id, self.events(&old));
                    self.affinity
                        .remove_where(|e| e.key.service == id, &events);
                }
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
            let events = self.events(&old);
            self.conns.remove_where(|e| is_gone(e.server), &events);
            self.affinity.remove_where(|e| is_gone(e.server), &events);
        }
        Ok(())
    }
}

impl TimerHandler for Executor {
    fn fire(&self) -> Option<u64> {
        let stripes = crate::conn::STRIPES.div_ceil(EXPIRY_RUNS_PER_SECOND as usize);
        let guard = rcu::read_lock();
        let events = self.events(self.services.read(&guard));
        self.conns.expire_some(clock::now(), stripes, &events);
        let affinity_stripes = AffinityTable::STRIPES.div_ceil(EXPIRY_RUNS_PER_SECOND as usize);
        self.affinity
            .expire_some(clock::now(), affinity_stripes, &events);
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
        // A standby holds its peer's table and dispatches nothing. Its host must not answer
        // either: while keepalived moves the address, before the notify script makes this
        // Executor active, the host would reset every connection it does not hold.
        if self.sync.is_standby() {
            self.drops.count(DropReason::Standby);
            return skb.drop_packet();
        }
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
        let events = self.events(services);
        let server = match self.conns.track(&key, flags, now, &self.timeouts, &events) {
            Some(server) => server,
            None if flags.is_connection_request() => match self.open(port, key, now, &events) {
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
    /// The observer of table changes made under `services`.
    pub(crate) fn events<'a>(&'a self, services: &'a Services) -> TableEvents<'a> {
        TableEvents {
            services,
            sync: &self.sync,
            affinity: &self.affinity,
            now: crate::conn_entry::short_jiffies(clock::now()),
        }
    }

    /// Picks the server of a new connection: the one its client is bound to, if the port
    /// has affinity and the binding is usable, else the scheduler's (then bound); and whether
    /// a binding now holds the connection.
    fn pick<'a>(
        &self,
        port: &'a Port,
        key: &ConnKey,
        events: &TableEvents<'a>,
    ) -> Option<(&'a Server, Option<AffinityKey>)> {
        let Some(settings) = port.affinity else {
            return port.schedule().map(|server| (server, None));
        };
        let binding = AffinityKey {
            network: affinity::network(key.client, settings.prefix),
            service: port.id,
        };
        let claimed = self.affinity.claim(&binding, |id| {
            port.takes_bound_clients(id, settings.quiesced)
        });
        if let Some(server) = claimed.and_then(|id| events.services.server(id)) {
            return Some((server, Some(binding)));
        }
        let server = port.schedule()?;
        let bound = self.affinity.bind(binding, server.id, events);
        Some((server, bound.then_some(binding)))
    }

    /// Schedules a new connection and enters it in the table: its server's number.
    fn open(&self, port: &Port, key: ConnKey, now: u64, events: &TableEvents<'_>) -> Option<u16> {
        let Some((server, binding)) = self.pick(port, &key, events) else {
            port.stats.refused.count_no_server();
            self.drops.count(DropReason::NoServer);
            return None;
        };
        let flags = if binding.is_some() { AFFINE } else { 0 };
        let inserted = self
            .conns
            .insert(key, server.id, flags, now, &self.timeouts, events);
        // The binding holds only a connection entered here.
        if let (Some(binding), false) = (binding, inserted.as_ref().is_ok_and(|i| i.entered)) {
            let timeout = port.affinity.map_or(0, |a| a.timeout);
            self.affinity.release(&binding, now, timeout);
        }
        match inserted {
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
