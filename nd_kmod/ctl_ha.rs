// SPDX-License-Identifier: GPL-2.0
//! Administration of high availability: the role, the peer's records a standby installs,
//! and the sync daemon's reports.

use crate::affinity::{self, AffinityKey};
use crate::attr::{sync, top, ConnState, HaRole};
use crate::cmd::Cmd;
use crate::conn_hash::ConnKey;
use crate::executor::Executor;
use crate::family::MAX_SYNC_BATCH;
use crate::genl::{AttrKind, Request};
use crate::service::Services;
use crate::sync::DaemonReport;
use crate::sync_record::{self, RecordKind, SyncRecord, RECORD_LEN};
use crate::table_events::TableEvents;
use crate::tcp_state::TcpState;
use kernel::c_str;
use kernel::prelude::*;

/// What a `SYNC` nest of a daemon's report may carry.
pub(crate) const SYNC_POLICY: &[(u16, AttrKind)] = &[
    (sync::PEER, AttrKind::U32),
    (sync::CONNECTED, AttrKind::U32),
    (sync::LAG_RECORDS, AttrKind::ExactLen(8)),
    (sync::LAG_MS, AttrKind::U32),
    (sync::SENT, AttrKind::ExactLen(8)),
    (sync::RECEIVED, AttrKind::ExactLen(8)),
];

/// The largest batch a request may carry.
pub(crate) const MAX_BATCH_BYTES: u16 = (MAX_SYNC_BATCH * RECORD_LEN) as u16;

pub(crate) fn set_ha(ex: &Executor, req: &Request<'_>) -> Result {
    let role = req
        .attr(top::HA_ROLE)
        .and_then(|a| a.u32())
        .and_then(|v| u8::try_from(v).ok())
        .and_then(HaRole::from_u8)
        .ok_or_else(|| {
            req.reject(EINVAL, c_str!("give a role: 1 (active) or 2 (standby)"), Some(top::HA_ROLE))
        })?;
    ex.sync.set_role(role)
}

pub(crate) fn get_ha(ex: &Executor, req: &Request<'_>) -> Result {
    let counts = ex.sync.counts();
    let report = ex.sync.report();
    let now = crate::clock::now();
    req.reply(Cmd::GetHa as u8, |m| {
        m.put_u32(top::HA_ROLE, ex.sync.role() as u32)?;
        m.nest(top::SYNC, |m| {
            m.put_u64(sync::EMITTED, counts.emitted, sync::PAD)?;
            m.put_u64(sync::DROPPED, counts.dropped, sync::PAD)?;
            m.put_u64(sync::INSTALLED, counts.installed, sync::PAD)?;
            m.put_u64(sync::REFUSED, counts.refused, sync::PAD)?;
            let Some(report) = report else { return Ok(()) };
            m.put_u32(sync::PEER, report.peer)?;
            m.put_u32(sync::CONNECTED, report.connected.into())?;
            m.put_u64(sync::LAG_RECORDS, report.lag_records, sync::PAD)?;
            m.put_u32(sync::LAG_MS, report.lag_ms)?;
            m.put_u64(sync::SENT, report.sent, sync::PAD)?;
            m.put_u64(sync::RECEIVED, report.received, sync::PAD)?;
            let age = crate::clock::jiffies_to_msecs(now.saturating_sub(report.at));
            m.put_u32(sync::REPORT_AGE_MS, age)
        })
    })
}

pub(crate) fn set_sync_status(ex: &Executor, req: &Request<'_>) -> Result {
    let Some(nest) = req.attr(top::SYNC) else {
        return Err(req.reject(EINVAL, c_str!("missing SYNC report"), None));
    };
    let mut report = DaemonReport {
        at: crate::clock::now(),
        ..DaemonReport::default()
    };
    let mut attrs = nest.nested();
    for a in attrs.by_ref() {
        match a.kind {
            sync::PEER => report.peer = a.u32().unwrap_or(0),
            sync::CONNECTED => report.connected = a.u32().is_some_and(|v| v != 0),
            sync::LAG_RECORDS => report.lag_records = a.u64().unwrap_or(0),
            sync::LAG_MS => report.lag_ms = a.u32().unwrap_or(0),
            sync::SENT => report.sent = a.u64().unwrap_or(0),
            sync::RECEIVED => report.received = a.u64().unwrap_or(0),
            _ => {}
        }
    }
    if attrs.malformed() {
        return Err(req.reject(EINVAL, c_str!("malformed SYNC report"), Some(top::SYNC)));
    }
    ex.sync.set_report(report);
    Ok(())
}

fn tcp_state(state: ConnState) -> TcpState {
    match state {
        ConnState::SynSent => TcpState::SynSent,
        ConnState::Established => TcpState::Established,
        ConnState::FinWait => TcpState::FinWait,
        ConnState::Closed => TcpState::Closed,
    }
}

/// Installs the records of a batch from the peer. A batch with one malformed record changes
/// nothing; a record this dispatcher has no port or server for is refused and counted.
pub(crate) fn sync_install(ex: &Executor, req: &Request<'_>) -> Result {
    if !ex.sync.is_standby() {
        return Err(req.reject(EBUSY, c_str!("only a standby installs its peer's records"), None));
    }
    let Some(batch) = req.attr(top::SYNC_BATCH) else {
        return Err(req.reject(EINVAL, c_str!("missing SYNC_BATCH"), None));
    };
    let malformed = || req.reject(EINVAL, c_str!("the batch holds a malformed record"), Some(top::SYNC_BATCH));
    let mut decoded = KVec::with_capacity(batch.payload.len() / RECORD_LEN, GFP_KERNEL)?;
    for record in sync_record::records(batch.payload).map_err(|_| malformed())? {
        decoded.push(record.map_err(|_| malformed())?, GFP_KERNEL)?;
    }
    let services = ex.services.get();
    let events = ex.events(&services);
    let now = crate::clock::now();
    for record in decoded.iter() {
        if install(ex, &services, &events, record, now) {
            ex.sync.count_installed();
        } else {
            ex.sync.count_refused();
        }
    }
    Ok(())
}

/// Installs one record; false if it has no place here.
fn install(
    ex: &Executor,
    services: &Services,
    events: &TableEvents<'_>,
    record: &SyncRecord,
    now: u64,
) -> bool {
    let Some(port) = services.vip(record.vip).and_then(|v| v.port(record.port)) else {
        return false;
    };
    let key = ConnKey {
        client: record.client,
        client_port: record.client_port,
        service: port.id,
    };
    match record.kind {
        RecordKind::ConnGone => {
            ex.conns.remove(&key, events);
            true
        }
        RecordKind::Conn => {
            let (Some(server), Some(state)) = (
                port.servers.iter().find(|s| s.server.addr == record.server),
                record.state,
            ) else {
                return false;
            };
            let lifetime = crate::clock::msecs_to_jiffies(record.expires_ms);
            let lifetime = u32::try_from(lifetime).unwrap_or(u32::MAX);
            ex.conns
                .install(key, server.server.id, tcp_state(state), lifetime, now, events)
                .is_ok()
        }
        RecordKind::Affinity | RecordKind::AffinityGone => {
            let Some(settings) = port.affinity.filter(|s| s.prefix == record.prefix) else {
                return false;
            };
            let key = AffinityKey {
                network: affinity::network(record.client, settings.prefix),
                service: port.id,
            };
            if record.kind == RecordKind::AffinityGone {
                ex.affinity.remove(&key, events);
                return true;
            }
            let Some(server) = port.servers.iter().find(|s| s.server.addr == record.server)
            else {
                return false;
            };
            let lifetime = crate::clock::msecs_to_jiffies(record.expires_ms);
            let lifetime = u32::try_from(lifetime).unwrap_or(u32::MAX);
            ex.affinity
                .install(key, server.server.id, lifetime, now, events)
        }
    }
}
