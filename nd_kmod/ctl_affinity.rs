// SPDX-License-Identifier: GPL-2.0
//! Administration of client affinity: a port's settings, and the dump of the bindings.

use crate::attr::{top, AffinityQuiesced};
use crate::cmd::Cmd;
use crate::conn_entry::short_jiffies;
use crate::executor::Executor;
use crate::family::MAX_AFFINITY_TIMEOUT_SECS;
use crate::genl::{Dump, Msg, Request};
use crate::service::AffinitySettings;
use kernel::c_str;
use kernel::prelude::*;

/// A netmask of every bit: each client address on its own.
const DEFAULT_PREFIX: u8 = 32;

/// The affinity a request asks a port to have, starting from `current`: `None` if it names
/// no affinity setting.
pub(crate) fn requested(
    req: &Request<'_>,
    current: Option<AffinitySettings>,
) -> Result<Option<Option<AffinitySettings>>> {
    let value = |kind| req.attr(kind).and_then(|a| a.u32());
    let (timeout, prefix, quiesced) = (
        value(top::AFFINITY_TIMEOUT),
        value(top::AFFINITY_PREFIX),
        value(top::AFFINITY_QUIESCED),
    );
    if timeout.is_none() && prefix.is_none() && quiesced.is_none() {
        return Ok(None);
    }
    if timeout == Some(0) {
        return Ok(Some(None));
    }
    let mut settings = match (timeout, current) {
        (Some(secs), _) if secs > MAX_AFFINITY_TIMEOUT_SECS => {
            return Err(req.reject(ERANGE, c_str!("affinity timeout must be 0 (off) to 86400 seconds"), Some(top::AFFINITY_TIMEOUT)));
        }
        (Some(secs), current) => AffinitySettings {
            timeout: u32::try_from(crate::clock::secs_to_jiffies(secs)).unwrap_or(u32::MAX),
            timeout_secs: secs,
            ..current.unwrap_or(AffinitySettings {
                timeout: 0,
                timeout_secs: 0,
                prefix: DEFAULT_PREFIX,
                quiesced: AffinityQuiesced::Keep,
            })
        },
        (None, Some(current)) => current,
        (None, None) => {
            return Err(req.reject(EINVAL, c_str!("the port has no affinity: give an affinity timeout first"), Some(top::AFFINITY_TIMEOUT)));
        }
    };
    if let Some(prefix) = prefix {
        settings.prefix = u8::try_from(prefix).ok().filter(|&p| p <= 32).ok_or_else(|| {
            req.reject(ERANGE, c_str!("affinity netmask must be 0 to 32 bits"), Some(top::AFFINITY_PREFIX))
        })?;
    }
    if let Some(quiesced) = quiesced {
        settings.quiesced = u8::try_from(quiesced)
            .ok()
            .and_then(AffinityQuiesced::from_u8)
            .ok_or_else(|| {
                req.reject(EINVAL, c_str!("quiesced clients: 0 (keep) or 1 (rebalance)"), Some(top::AFFINITY_QUIESCED))
            })?;
    }
    Ok(Some(Some(settings)))
}

/// A port's affinity in a reply: a timeout of 0 when it has none.
pub(crate) fn put_settings(m: &mut Msg<'_>, settings: Option<AffinitySettings>) -> Result {
    m.put_u32(top::AFFINITY_TIMEOUT, settings.map_or(0, |s| s.timeout_secs))?;
    m.put_u32(top::AFFINITY_PREFIX, settings.map_or(DEFAULT_PREFIX, |s| s.prefix).into())?;
    m.put_u32(
        top::AFFINITY_QUIESCED,
        settings.map_or(AffinityQuiesced::Keep, |s| s.quiesced) as u32,
    )
}

/// Dumps the bindings, one message each.
pub(crate) fn dump(ex: &Executor, dump: &mut Dump<'_>) -> Result {
    let cursor = {
        let c = dump.cursor();
        [c[0], c[1]].map(|v| usize::try_from(v).unwrap_or(0))
    };
    let services = ex.services.get();
    let now = short_jiffies(crate::clock::now());
    let mut result = Ok(());
    let resume = ex.affinity.visit(cursor, |binding| {
        // A binding of a server or port being removed this instant is not shown.
        let (Some(port), Some(server)) = (
            services.port_addr(binding.key.service),
            services.server(binding.server),
        ) else {
            return true;
        };
        let Some(settings) = port.affinity else {
            return true;
        };
        let added = dump.add(Cmd::GetAffinity as u8, |m| {
            m.put_u32(top::VIP, port.vip)?;
            m.put_u16(top::PORT, port.port)?;
            m.put_u32(top::CLIENT, binding.key.network)?;
            m.put_u32(top::AFFINITY_PREFIX, settings.prefix.into())?;
            m.put_u32(top::SERVER, server.addr)?;
            m.put_u32(top::CONN_COUNT, binding.conns)?;
            let left = if binding.conns > 0 {
                settings.timeout
            } else {
                binding.left(now)
            };
            m.put_u32(top::EXPIRES_MS, crate::clock::jiffies_to_msecs(left.into()))
        });
        match added {
            Ok(added) => added,
            Err(e) => {
                result = Err(e);
                false
            }
        }
    });
    let next = resume.unwrap_or([crate::affinity_table::AffinityTable::STRIPES, 0]);
    let c = dump.cursor();
    for (slot, value) in c.iter_mut().zip(next) {
        *slot = value as core::ffi::c_long;
    }
    result
}
