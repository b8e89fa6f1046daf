// SPDX-License-Identifier: GPL-2.0
//! Administration over generic netlink: the family's policy and commands, each checked in
//! full before anything changes, with an extended-ack message saying what was wrong.

use crate::attr::{drops, stats, top, weight_entry, ServerState};
use crate::table_events::wire_state;
use crate::cmd::Cmd;
use crate::conn_entry::short_jiffies;
use crate::executor::{Executor, NetExecutor};
use crate::ctl_affinity;
use crate::ctl_ha::{self, SYNC_POLICY};
use crate::family::{
    FAMILY_NAME_NUL, FAMILY_VERSION, MAX_CONN_LIMIT, MAX_PORTS_PER_VIP, MAX_SCHEDULER_NAME,
    MAX_SERVERS_PER_PORT, MAX_TIMEOUT_SECS, MAX_VIPS, MAX_WEIGHT, SYNC_GROUP_NUL,
};
use crate::genl::{self, AttrKind, Dump, Msg, Op, OpKind, Request};
use crate::sched::SchedulerKind;
use crate::service::{DraftPort, DraftVip, PortServer, Server};
use crate::stats::{DropReason, PortStats, Totals, VipStats};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::{c_str, ThisModule};

const WEIGHT_ENTRY_POLICY: &[(u16, AttrKind)] = &[
    (weight_entry::SERVER, AttrKind::U32),
    (weight_entry::WEIGHT, AttrKind::U32),
];

/// Types of the attributes a request may carry; the kernel rejects anything else.
const POLICY: &[(u16, AttrKind)] = &[
    (top::VIP, AttrKind::U32),
    (top::PORT, AttrKind::U16),
    (top::SERVER, AttrKind::U32),
    (top::WEIGHT, AttrKind::U32),
    (top::MAC, AttrKind::ExactLen(6)),
    (
        top::WEIGHTS,
        AttrKind::NestedArray(WEIGHT_ENTRY_POLICY, weight_entry::MAX),
    ),
    (top::TIMEOUT_SYN, AttrKind::U32),
    (top::TIMEOUT_ESTABLISHED, AttrKind::U32),
    (top::TIMEOUT_FIN, AttrKind::U32),
    (top::TIMEOUT_CLOSE, AttrKind::U32),
    (top::CONN_LIMIT, AttrKind::U32),
    (top::TIMEOUT_SYN_PRESSURE, AttrKind::U32),
    (top::SCHEDULER, AttrKind::NulString(MAX_SCHEDULER_NAME)),
    (top::HA_ROLE, AttrKind::U32),
    (top::SYNC_BATCH, AttrKind::MaxLen(ctl_ha::MAX_BATCH_BYTES)),
    (top::SYNC, AttrKind::Nested(SYNC_POLICY, crate::attr::sync::MAX)),
    (top::AFFINITY_TIMEOUT, AttrKind::U32),
    (top::AFFINITY_PREFIX, AttrKind::U32),
    (top::AFFINITY_QUIESCED, AttrKind::U32),
    (top::AFFINITY_LIMIT, AttrKind::U32),
];

const fn change(cmd: Cmd) -> Op {
    Op {
        cmd: cmd as u8,
        kind: OpKind::Do,
        admin: true,
    }
}

const fn read(cmd: Cmd, kind: OpKind) -> Op {
    Op {
        cmd: cmd as u8,
        kind,
        admin: false,
    }
}

const OPS: &[Op] = &[
    change(Cmd::NewVip),
    change(Cmd::DelVip),
    read(Cmd::GetVip, OpKind::Dump),
    change(Cmd::NewPort),
    change(Cmd::DelPort),
    read(Cmd::GetPort, OpKind::Dump),
    change(Cmd::NewServer),
    change(Cmd::SetServer),
    change(Cmd::DelServer),
    read(Cmd::GetServer, OpKind::Dump),
    change(Cmd::SetWeights),
    read(Cmd::GetConn, OpKind::Dump),
    read(Cmd::GetConfig, OpKind::Do),
    change(Cmd::SetConfig),
    change(Cmd::Flush),
    read(Cmd::GetInfo, OpKind::Do),
    change(Cmd::SetPort),
    change(Cmd::SetHa),
    read(Cmd::GetHa, OpKind::Do),
    change(Cmd::SyncInstall),
    change(Cmd::SetSyncStatus),
    read(Cmd::GetAffinity, OpKind::Dump),
];

/// The index of the `sync` group among the family's multicast groups.
pub(crate) const SYNC_GROUP_INDEX: u32 = 0;

/// Registers the `nd` family.
pub(crate) fn register(module: &'static ThisModule) -> Result<genl::Registration<Ctl>> {
    genl::Registration::register(
        module,
        FAMILY_NAME_NUL,
        FAMILY_VERSION,
        top::MAX,
        POLICY,
        OPS,
        &[SYNC_GROUP_NUL],
    )
}

/// The family's handlers.
pub(crate) struct Ctl;

impl genl::Handlers for Ctl {
    fn doit(cmd: u8, req: &Request<'_>) -> Result {
        let Some(net_executor) = req.state::<NetExecutor>() else {
            return Err(ENODEV);
        };
        let ex = &*net_executor.executor;
        match Cmd::from_u8(cmd) {
            Some(Cmd::GetConfig) => return get_config(ex, req),
            Some(Cmd::GetInfo) => return get_info(ex, req),
            Some(Cmd::GetHa) => return ctl_ha::get_ha(ex, req),
            Some(Cmd::SetSyncStatus) => return ctl_ha::set_sync_status(ex, req),
            _ => {}
        }
        let _admin = ex.admin.lock();
        match Cmd::from_u8(cmd) {
            Some(Cmd::NewVip) => new_vip(ex, req),
            Some(Cmd::DelVip) => del_vip(ex, req),
            Some(Cmd::NewPort) => new_port(ex, req),
            Some(Cmd::DelPort) => del_port(ex, req),
            Some(Cmd::SetPort) => set_port(ex, req),
            Some(Cmd::SetHa) => ctl_ha::set_ha(ex, req),
            Some(Cmd::SyncInstall) => ctl_ha::sync_install(ex, req),
            Some(Cmd::NewServer) => new_server(ex, req),
            Some(Cmd::SetServer) => set_server(ex, req),
            Some(Cmd::DelServer) => del_server(ex, req),
            Some(Cmd::SetWeights) => set_weights(ex, req),
            Some(Cmd::SetConfig) => set_config(ex, req),
            Some(Cmd::Flush) => flush(ex),
            _ => Err(genl::eopnotsupp()),
        }
    }

    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result {
        let Some(net_executor) = dump.state::<NetExecutor>() else {
            return Err(ENODEV);
        };
        let ex = &*net_executor.executor;
        match Cmd::from_u8(cmd) {
            Some(Cmd::GetVip) => dump_vips(ex, dump),
            Some(Cmd::GetPort) => dump_ports(ex, dump),
            Some(Cmd::GetServer) => dump_servers(ex, dump),
            Some(Cmd::GetConn) => dump_conns(ex, dump),
            Some(Cmd::GetAffinity) => ctl_affinity::dump(ex, dump),
            _ => Err(genl::eopnotsupp()),
        }
    }
}

fn required<'a>(
    req: &Request<'a>,
    kind: u16,
    what: &'static CStr,
) -> Result<crate::nla::Attr<'a>> {
    req.attr(kind).ok_or_else(|| req.reject(EINVAL, what, None))
}

/// A unicast IPv4 address attribute, required.
fn unicast_addr(
    req: &Request<'_>,
    kind: u16,
    missing: &'static CStr,
    not_unicast: &'static CStr,
) -> Result<u32> {
    let addr = required(req, kind, missing)?.u32().ok_or(EINVAL)?;
    if addr == 0 || addr == u32::MAX {
        return Err(req.reject(EINVAL, not_unicast, Some(kind)));
    }
    Ok(addr)
}

fn vip_addr(req: &Request<'_>) -> Result<u32> {
    unicast_addr(
        req,
        top::VIP,
        c_str!("missing cluster address (VIP)"),
        c_str!("cluster address must be a unicast address"),
    )
}

fn server_addr(req: &Request<'_>) -> Result<u32> {
    unicast_addr(
        req,
        top::SERVER,
        c_str!("missing server address"),
        c_str!("server address must be a unicast address"),
    )
}

fn port_no(req: &Request<'_>) -> Result<u16> {
    let port = required(req, top::PORT, c_str!("missing port"))?
        .u16()
        .ok_or(EINVAL)?;
    if port == 0 {
        return Err(req.reject(EINVAL, c_str!("port 0 is not a valid port"), Some(top::PORT)));
    }
    Ok(port)
}

fn weight(req: &Request<'_>) -> Result<Option<u32>> {
    let Some(w) = req.attr(top::WEIGHT).and_then(|a| a.u32()) else {
        return Ok(None);
    };
    if w > MAX_WEIGHT {
        return Err(req.reject(ERANGE, c_str!("weight above 65535"), Some(top::WEIGHT)));
    }
    Ok(Some(w))
}

fn mac(req: &Request<'_>) -> Option<[u8; 6]> {
    req.attr(top::MAC).and_then(|a| a.payload.try_into().ok())
}

/// Runs `edit` on a draft of the configuration and publishes the result.
fn edit(ex: &Executor, edit: impl FnOnce(&mut crate::service::Draft) -> Result) -> Result {
    let mut draft = ex.services.get().draft()?;
    edit(&mut draft)?;
    ex.publish(draft.freeze()?)
}

/// Moves the elements `keep` accepts into a new vector.
fn retain<T>(items: KVec<T>, mut keep: impl FnMut(&T) -> bool) -> Result<KVec<T>> {
    let mut kept = KVec::with_capacity(items.len(), GFP_KERNEL)?;
    for item in items.into_iter() {
        if keep(&item) {
            kept.push(item, GFP_KERNEL)?;
        }
    }
    Ok(kept)
}

fn draft_vip<'a>(
    req: &Request<'_>,
    draft: &'a mut crate::service::Draft,
    addr: u32,
) -> Result<&'a mut DraftVip> {
    draft
        .vip_mut(addr)
        .ok_or_else(|| req.reject(ENOENT, c_str!("no such cluster address"), Some(top::VIP)))
}

fn draft_port<'a>(
    req: &Request<'_>,
    draft: &'a mut crate::service::Draft,
    addr: u32,
    port: u16,
) -> Result<&'a mut DraftPort> {
    draft_vip(req, draft, addr)?
        .ports
        .iter_mut()
        .find(|p| p.port == port)
        .ok_or_else(|| req.reject(ENOENT, c_str!("no such port on this cluster address"), Some(top::PORT)))
}

fn new_vip(ex: &Executor, req: &Request<'_>) -> Result {
    let addr = vip_addr(req)?;
    edit(ex, |draft| {
        if draft.vip_mut(addr).is_some() {
            return Err(req.reject(EEXIST, c_str!("cluster address already configured"), Some(top::VIP)));
        }
        if draft.vips.len() >= MAX_VIPS {
            return Err(req.reject(ENOSPC, c_str!("too many cluster addresses"), Some(top::VIP)));
        }
        let vip = DraftVip {
            addr,
            stats: Arc::new(VipStats::new()?, GFP_KERNEL)?,
            ports: KVec::new(),
        };
        draft.vips.push(vip, GFP_KERNEL)?;
        Ok(())
    })
}

fn del_vip(ex: &Executor, req: &Request<'_>) -> Result {
    let addr = vip_addr(req)?;
    edit(ex, |draft| {
        draft_vip(req, draft, addr)?;
        draft.vips = retain(core::mem::take(&mut draft.vips), |v| v.addr != addr)?;
        Ok(())
    })
}

/// The scheduler a request names, if it names one.
fn scheduler(req: &Request<'_>) -> Result<Option<SchedulerKind>> {
    let Some(attr) = req.attr(top::SCHEDULER) else {
        return Ok(None);
    };
    // The policy has checked that a NUL ends the name within the attribute.
    let name = attr.payload.split(|&b| b == 0).next().unwrap_or_default();
    core::str::from_utf8(name)
        .ok()
        .and_then(SchedulerKind::from_name)
        .map(Some)
        .ok_or_else(|| req.reject(EINVAL, c_str!("unknown scheduler (wrr, wlc or sed)"), Some(top::SCHEDULER)))
}

fn new_port(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port) = (vip_addr(req)?, port_no(req)?);
    let scheduler = scheduler(req)?.unwrap_or_default();
    let affinity = ctl_affinity::requested(req, None)?.flatten();
    edit(ex, |draft| {
        let id = draft.free_port_id()?;
        let vip = draft_vip(req, draft, addr)?;
        if vip.ports.iter().any(|p| p.port == port) {
            return Err(req.reject(EEXIST, c_str!("port already configured"), Some(top::PORT)));
        }
        if vip.ports.len() >= MAX_PORTS_PER_VIP {
            return Err(req.reject(ENOSPC, c_str!("too many ports on this cluster address"), Some(top::PORT)));
        }
        // Not reached: the bounds on addresses and ports keep the count far below.
        let Some(id) = id else {
            return Err(req.reject(ENOSPC, c_str!("too many ports"), Some(top::PORT)));
        };
        let new = DraftPort {
            id,
            port,
            scheduler,
            affinity,
            stats: Arc::new(PortStats::new()?, GFP_KERNEL)?,
            servers: KVec::new(),
        };
        vip.ports.push(new, GFP_KERNEL)?;
        Ok(())
    })
}

fn del_port(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port) = (vip_addr(req)?, port_no(req)?);
    edit(ex, |draft| {
        draft_port(req, draft, addr, port)?;
        let vip = draft_vip(req, draft, addr)?;
        vip.ports = retain(core::mem::take(&mut vip.ports), |p| p.port != port)?;
        Ok(())
    })
}

fn set_port(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port) = (vip_addr(req)?, port_no(req)?);
    let scheduler = scheduler(req)?;
    edit(ex, |draft| {
        let port = draft_port(req, draft, addr, port)?;
        let affinity = ctl_affinity::requested(req, port.affinity)?;
        if scheduler.is_none() && affinity.is_none() {
            return Err(req.reject(EINVAL, c_str!("nothing to change: give a scheduler or affinity settings"), None));
        }
        if let Some(scheduler) = scheduler {
            port.scheduler = scheduler;
        }
        if let Some(affinity) = affinity {
            port.affinity = affinity;
        }
        Ok(())
    })
}

fn new_server(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port, server) = (vip_addr(req)?, port_no(req)?, server_addr(req)?);
    let weight = weight(req)?.unwrap_or(1);
    let mac = mac(req);
    edit(ex, |draft| {
        let id = draft.free_server_id()?;
        let port = draft_port(req, draft, addr, port)?;
        if port.servers.iter().any(|s| s.server.addr == server) {
            return Err(req.reject(EEXIST, c_str!("server already on this port"), Some(top::SERVER)));
        }
        if port.servers.len() >= MAX_SERVERS_PER_PORT {
            return Err(req.reject(ENOSPC, c_str!("too many servers on this port"), Some(top::SERVER)));
        }
        let Some(id) = id else {
            return Err(req.reject(ENOSPC, c_str!("too many servers in this namespace (65536 across all ports)"), Some(top::SERVER)));
        };
        let server = Server::new(id, server, mac)?;
        port.servers.push(PortServer { server, weight }, GFP_KERNEL)?;
        Ok(())
    })
}

fn set_server(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port, server) = (vip_addr(req)?, port_no(req)?, server_addr(req)?);
    let weight = weight(req)?;
    let mac = mac(req);
    if weight.is_none() && mac.is_none() {
        return Err(req.reject(EINVAL, c_str!("nothing to change: give a weight or a MAC address"), None));
    }
    edit(ex, |draft| {
        let port = draft_port(req, draft, addr, port)?;
        let Some(entry) = port.servers.iter_mut().find(|s| s.server.addr == server) else {
            return Err(req.reject(ENOENT, c_str!("no such server on this port"), Some(top::SERVER)));
        };
        if let Some(w) = weight {
            entry.weight = w;
        }
        if mac.is_some() {
            entry.server.set_mac(mac);
        }
        Ok(())
    })
}

fn del_server(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port, server) = (vip_addr(req)?, port_no(req)?, server_addr(req)?);
    edit(ex, |draft| {
        let port = draft_port(req, draft, addr, port)?;
        if !port.servers.iter().any(|s| s.server.addr == server) {
            return Err(req.reject(ENOENT, c_str!("no such server on this port"), Some(top::SERVER)));
        }
        port.servers = retain(core::mem::take(&mut port.servers), |s| s.server.addr != server)?;
        Ok(())
    })
}

fn set_weights(ex: &Executor, req: &Request<'_>) -> Result {
    let (addr, port) = (vip_addr(req)?, port_no(req)?);
    let list = required(req, top::WEIGHTS, c_str!("missing weight list"))?;
    edit(ex, |draft| {
        let port = draft_port(req, draft, addr, port)?;
        let mut seen = KVec::with_capacity(port.servers.len(), GFP_KERNEL)?;
        let mut elements = list.nested();
        for element in elements.by_ref() {
            let mut server = None;
            let mut weight = None;
            for a in element.nested() {
                match a.kind {
                    weight_entry::SERVER => server = a.u32(),
                    weight_entry::WEIGHT => weight = a.u32(),
                    _ => {}
                }
            }
            let (Some(server), Some(weight)) = (server, weight) else {
                return Err(req.reject(EINVAL, c_str!("each weight entry needs a server and a weight"), Some(top::WEIGHTS)));
            };
            if weight > MAX_WEIGHT {
                return Err(req.reject(ERANGE, c_str!("weight above 65535"), Some(top::WEIGHTS)));
            }
            let Some(index) = port.servers.iter().position(|s| s.server.addr == server) else {
                return Err(req.reject(ENOENT, c_str!("weight given for a server not on this port"), Some(top::WEIGHTS)));
            };
            if seen.iter().any(|&(i, _)| i == index) {
                return Err(req.reject(EINVAL, c_str!("server listed twice in the weight list"), Some(top::WEIGHTS)));
            }
            seen.push((index, weight), GFP_KERNEL)?;
        }
        if elements.malformed() {
            return Err(req.reject(EINVAL, c_str!("malformed weight list"), Some(top::WEIGHTS)));
        }
        if seen.len() != port.servers.len() {
            return Err(req.reject(EINVAL, c_str!("the weight list must name every server of the port"), Some(top::WEIGHTS)));
        }
        for &(index, weight) in seen.iter() {
            port.servers[index].weight = weight;
        }
        Ok(())
    })
}

fn flush(ex: &Executor) -> Result {
    let empty = crate::service::Draft { vips: KVec::new() }.freeze()?;
    ex.publish(empty)
}

const TIMEOUT_ATTRS: [u16; 4] = [
    top::TIMEOUT_SYN,
    top::TIMEOUT_ESTABLISHED,
    top::TIMEOUT_FIN,
    top::TIMEOUT_CLOSE,
];

fn set_config(ex: &Executor, req: &Request<'_>) -> Result {
    let mut timeouts = ex.timeouts.get();
    let mut changed = false;
    for kind in TIMEOUT_ATTRS {
        let Some(secs) = req.attr(kind).and_then(|a| a.u32()) else {
            continue;
        };
        if secs == 0 || secs > MAX_TIMEOUT_SECS {
            return Err(req.reject(ERANGE, c_str!("timeout must be 1 to 604800 seconds"), Some(kind)));
        }
        let slot = match kind {
            top::TIMEOUT_SYN => &mut timeouts.syn,
            top::TIMEOUT_ESTABLISHED => &mut timeouts.established,
            top::TIMEOUT_FIN => &mut timeouts.fin,
            _ => &mut timeouts.close,
        };
        *slot = secs;
        changed = true;
    }
    let limit = req.attr(top::CONN_LIMIT).and_then(|a| a.u32());
    if let Some(limit) = limit {
        if limit == 0 || limit > MAX_CONN_LIMIT {
            return Err(req.reject(ERANGE, c_str!("connection limit must be 1 to 16777216"), Some(top::CONN_LIMIT)));
        }
    }
    let syn_pressure = req.attr(top::TIMEOUT_SYN_PRESSURE).and_then(|a| a.u32());
    if syn_pressure.is_some_and(|secs| secs > MAX_TIMEOUT_SECS) {
        return Err(req.reject(ERANGE, c_str!("SYN pressure timeout must be 0 (off) to 604800 seconds"), Some(top::TIMEOUT_SYN_PRESSURE)));
    }
    let affinity_limit = req.attr(top::AFFINITY_LIMIT).and_then(|a| a.u32());
    if affinity_limit.is_some_and(|limit| limit == 0 || limit > MAX_CONN_LIMIT) {
        return Err(req.reject(ERANGE, c_str!("affinity limit must be 1 to 16777216"), Some(top::AFFINITY_LIMIT)));
    }
    if !changed && limit.is_none() && syn_pressure.is_none() && affinity_limit.is_none() {
        return Err(req.reject(EINVAL, c_str!("nothing to change: give a timeout or a limit"), None));
    }
    ex.timeouts.set(timeouts);
    if let Some(secs) = syn_pressure {
        ex.timeouts.set_syn_pressure(secs);
    }
    if let Some(limit) = limit {
        ex.conns.set_limit(limit);
    }
    if let Some(limit) = affinity_limit {
        ex.affinity.set_limit(limit);
    }
    Ok(())
}

fn get_config(ex: &Executor, req: &Request<'_>) -> Result {
    let t = ex.timeouts.get();
    req.reply(Cmd::GetConfig as u8, |m| {
        m.put_u32(top::TIMEOUT_SYN, t.syn)?;
        m.put_u32(top::TIMEOUT_ESTABLISHED, t.established)?;
        m.put_u32(top::TIMEOUT_FIN, t.fin)?;
        m.put_u32(top::TIMEOUT_CLOSE, t.close)?;
        m.put_u32(top::TIMEOUT_SYN_PRESSURE, ex.timeouts.syn_pressure())?;
        m.put_u32(top::CONN_LIMIT, ex.conns.limit())?;
        m.put_u32(top::AFFINITY_LIMIT, ex.affinity.limit())
    })
}

fn get_info(ex: &Executor, req: &Request<'_>) -> Result {
    let d = &ex.drops;
    req.reply(Cmd::GetInfo as u8, |m| {
        m.put_u32(top::VERSION, FAMILY_VERSION.into())?;
        m.put_u32(top::CONN_COUNT, ex.conns.count())?;
        m.put_u32(top::CONN_LIMIT, ex.conns.limit())?;
        m.put_u64(top::CONN_TABLE_BYTES, ex.conns.bytes() as u64, top::PAD)?;
        m.put_u32(top::AFFINITY_RECORDS, ex.affinity.count())?;
        m.put_u32(top::AFFINITY_LIMIT, ex.affinity.limit())?;
        m.nest(top::DROPS, |m| {
            for reason in DropReason::ALL {
                m.put_u64(drop_attr(reason), d.get(reason), drops::PAD)?;
            }
            Ok(())
        })
    })
}

/// The `DROPS` attribute that reports `reason`.
fn drop_attr(reason: DropReason) -> u16 {
    match reason {
        DropReason::NoServer => drops::NO_SERVER,
        DropReason::TableFull => drops::TABLE_FULL,
        DropReason::Filtered => drops::FILTERED,
        DropReason::Malformed => drops::MALFORMED,
        DropReason::NoConnection => drops::NO_CONNECTION,
        DropReason::NoRoute => drops::NO_ROUTE,
        DropReason::NoMemory => drops::NO_MEMORY,
        DropReason::HalfOpenEvicted => drops::HALF_OPEN_EVICTED,
        DropReason::Standby => drops::STANDBY,
    }
}

/// Adds `name` as a NUL-terminated string attribute.
fn put_name(m: &mut Msg<'_>, kind: u16, name: &str) -> Result {
    let mut bytes = [0u8; MAX_SCHEDULER_NAME as usize + 1];
    let len = name.len().min(MAX_SCHEDULER_NAME.into());
    bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
    m.put_bytes(kind, &bytes[..=len])
}

/// Adds a `STATS` nest: the totals, then any drop counters given.
fn put_stats(m: &mut Msg<'_>, t: &Totals, drop_counts: &[(u16, u64)]) -> Result {
    m.nest(top::STATS, |m| {
        m.put_u64(stats::CONNS, t.conns, stats::PAD)?;
        m.put_u32(stats::ACTIVE, t.active)?;
        m.put_u32(stats::INACTIVE, t.inactive)?;
        m.put_u64(stats::PACKETS, t.packets, stats::PAD)?;
        m.put_u64(stats::BYTES, t.bytes, stats::PAD)?;
        for &(kind, value) in drop_counts {
            m.put_u64(kind, value, stats::PAD)?;
        }
        Ok(())
    })
}

/// A position in a dump that walks the configuration in order, kept in the first cursor slot.
struct FlatCursor {
    start: usize,
    index: usize,
}

impl FlatCursor {
    fn resume(dump: &mut Dump<'_>) -> Self {
        FlatCursor {
            start: usize::try_from(dump.cursor()[0]).unwrap_or(0),
            index: 0,
        }
    }

    /// Adds the item at the current position unless an earlier call sent it; `false` once
    /// the buffer is full.
    fn emit(
        &mut self,
        dump: &mut Dump<'_>,
        cmd: Cmd,
        fill: impl FnOnce(&mut Msg<'_>) -> Result,
    ) -> Result<bool> {
        if self.index >= self.start && !dump.add(cmd as u8, fill)? {
            return Ok(false);
        }
        self.index += 1;
        Ok(true)
    }

    fn save(self, dump: &mut Dump<'_>) {
        dump.cursor()[0] = self.index as core::ffi::c_long;
    }
}

fn dump_vips(ex: &Executor, dump: &mut Dump<'_>) -> Result {
    let services = ex.services.get();
    let mut cursor = FlatCursor::resume(dump);
    for vip in services.vips.iter() {
        let refusals = vip.refusals();
        let more = cursor.emit(dump, Cmd::GetVip, |m| {
            m.put_u32(top::VIP, vip.addr)?;
            put_stats(
                m,
                &vip.totals(),
                &[
                    (stats::DROP_FILTERED, vip.stats.filtered()),
                    (stats::DROP_NO_SERVER, refusals.no_server),
                    (stats::DROP_TABLE_FULL, refusals.table_full),
                ],
            )
        })?;
        if !more {
            break;
        }
    }
    cursor.save(dump);
    Ok(())
}

fn dump_ports(ex: &Executor, dump: &mut Dump<'_>) -> Result {
    let services = ex.services.get();
    let mut cursor = FlatCursor::resume(dump);
    'all: for vip in services.vips.iter() {
        for port in vip.ports.iter() {
            let more = cursor.emit(dump, Cmd::GetPort, |m| {
                m.put_u32(top::VIP, vip.addr)?;
                m.put_u16(top::PORT, port.port)?;
                put_name(m, top::SCHEDULER, port.scheduler.name())?;
                ctl_affinity::put_settings(m, port.affinity)?;
                let refused = port.stats.refused.totals();
                put_stats(
                    m,
                    &port.totals(),
                    &[
                        (stats::DROP_NO_SERVER, refused.no_server),
                        (stats::DROP_TABLE_FULL, refused.table_full),
                    ],
                )
            })?;
            if !more {
                break 'all;
            }
        }
    }
    cursor.save(dump);
    Ok(())
}

fn dump_servers(ex: &Executor, dump: &mut Dump<'_>) -> Result {
    let services = ex.services.get();
    let mut cursor = FlatCursor::resume(dump);
    'all: for vip in services.vips.iter() {
        for port in vip.ports.iter() {
            for s in port.servers.iter() {
                let more = cursor.emit(dump, Cmd::GetServer, |m| {
                    m.put_u32(top::VIP, vip.addr)?;
                    m.put_u16(top::PORT, port.port)?;
                    m.put_u32(top::SERVER, s.server.addr)?;
                    m.put_u32(top::WEIGHT, s.weight)?;
                    if let Some(mac) = s.server.mac() {
                        m.put_bytes(top::MAC, &mac)?;
                    }
                    let state = if s.weight == 0 {
                        ServerState::Quiesced
                    } else {
                        ServerState::Active
                    };
                    m.put_u8(top::SERVER_STATE, state as u8)?;
                    m.put_u32(top::AFFINITY_RECORDS, s.server.stats.bindings())?;
                    put_stats(m, &s.server.stats.totals(), &[])
                })?;
                if !more {
                    break 'all;
                }
            }
        }
    }
    cursor.save(dump);
    Ok(())
}


fn dump_conns(ex: &Executor, dump: &mut Dump<'_>) -> Result {
    let cursor = {
        let c = dump.cursor();
        [c[0], c[1]].map(|v| usize::try_from(v).unwrap_or(0))
    };
    let services = ex.services.get();
    let now = short_jiffies(crate::clock::now());
    let mut result = Ok(());
    let resume = ex.conns.visit(cursor, |conn| {
        // An entry of a server or port being removed this instant is not shown.
        let (Some(addr), Some(server)) = (
            services.port_addr(conn.key.service),
            services.server(conn.server),
        ) else {
            return true;
        };
        let added = dump.add(Cmd::GetConn as u8, |m| {
            m.put_u32(top::CLIENT, conn.key.client)?;
            m.put_u16(top::CLIENT_PORT, conn.key.client_port)?;
            m.put_u32(top::VIP, addr.vip)?;
            m.put_u16(top::PORT, addr.port)?;
            m.put_u32(top::SERVER, server.addr)?;
            m.put_u8(top::CONN_STATE, wire_state(conn.state) as u8)?;
            let left = crate::clock::jiffies_to_msecs(conn.left(now).into());
            m.put_u32(top::EXPIRES_MS, left)
        });
        match added {
            Ok(added) => added,
            Err(e) => {
                result = Err(e);
                false
            }
        }
    });
    let next = resume.unwrap_or([crate::conn::STRIPES, 0]);
    let c = dump.cursor();
    for (slot, value) in c.iter_mut().zip(next) {
        *slot = value as core::ffi::c_long;
    }
    result
}
