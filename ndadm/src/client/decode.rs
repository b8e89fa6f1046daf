//! Decoding reply attributes into the typed objects.
//!
//! Attributes this tool does not know are skipped, so a newer module that appends attributes
//! does not break it. Every attribute the protocol says a reply carries is required, and a
//! known attribute of the wrong size is an error: both point at a module bug. The exceptions
//! are attributes the protocol gained later: a module that predates one does not send it, and
//! it reads as 0.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::{drops, stats, sync, top};
use nd_netlink_proto::nla::{Attr, Attrs};

use super::names::AttrSpace;
use crate::model::{
    Affinity, AffinityRecord, Config, Conn, DaemonReport, Drops, HaStatus, Info, MacAddr, Port,
    Server, Stats, SyncCounters, SyncStatus, Vip, WireState,
};

/// Why a reply could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{object} reply: {problem}")]
pub struct DecodeError {
    /// What the reply describes ("server", "config", ...).
    pub object: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The attribute stream ends in a truncated or inconsistent record.
    #[error("truncated or inconsistent attributes")]
    Malformed,
    /// A required attribute is absent.
    #[error("missing attribute {0}")]
    Missing(String),
    /// A known attribute has a payload of the wrong size.
    #[error("attribute {attr} has {len} bytes, expected {expected}")]
    Length {
        /// The attribute.
        attr: String,
        /// Its payload size.
        len: usize,
        /// The size the protocol gives it.
        expected: usize,
    },
    /// A string attribute is not NUL-terminated text.
    #[error("attribute {0} is not a NUL-terminated name")]
    NotAName(String),
    /// The message is shorter than the generic netlink header.
    #[error("message shorter than the generic netlink header")]
    ShortHeader,
    /// A request for a single object got no reply or several.
    #[error("expected exactly one reply, got {0}")]
    ReplyCount(usize),
    /// A number beyond what the protocol allows.
    #[error("attribute {attr} is {value}, above the maximum, {max}")]
    Range {
        /// The attribute.
        attr: String,
        /// Its value.
        value: u32,
        /// The largest the protocol allows.
        max: u32,
    },
}

/// A typed object decoded from the attributes of one reply message.
pub trait Decode: Sized {
    /// What the object is called in error messages.
    const OBJECT: &'static str;

    /// Decodes the attributes (the message after its generic netlink header).
    fn decode(attrs: &[u8]) -> Result<Self, DecodeError>;
}

/// The attributes of one message or nest, looked up by number.
struct Fields<'a> {
    object: &'static str,
    space: AttrSpace,
    attrs: Vec<Attr<'a>>,
}

impl<'a> Fields<'a> {
    fn parse(object: &'static str, space: AttrSpace, buf: &'a [u8]) -> Result<Self, DecodeError> {
        let mut walk = Attrs::new(buf);
        let attrs: Vec<_> = walk.by_ref().collect();
        if walk.malformed() {
            return Err(DecodeError {
                object,
                problem: Problem::Malformed,
            });
        }
        Ok(Fields {
            object,
            space,
            attrs,
        })
    }

    fn error(&self, problem: Problem) -> DecodeError {
        DecodeError {
            object: self.object,
            problem,
        }
    }

    fn raw(&self, kind: u16) -> Option<&Attr<'a>> {
        self.attrs.iter().find(|attr| attr.kind == kind)
    }

    /// The payload of `kind` if present, checked to be `N` bytes.
    fn fixed<const N: usize>(&self, kind: u16) -> Result<Option<[u8; N]>, DecodeError> {
        let Some(attr) = self.raw(kind) else {
            return Ok(None);
        };
        attr.payload.try_into().map(Some).map_err(|_| {
            self.error(Problem::Length {
                attr: self.space.describe(kind),
                len: attr.payload.len(),
                expected: N,
            })
        })
    }

    fn required<T>(&self, kind: u16, value: Option<T>) -> Result<T, DecodeError> {
        value.ok_or_else(|| self.error(Problem::Missing(self.space.describe(kind))))
    }

    fn opt_u8(&self, kind: u16) -> Result<Option<u8>, DecodeError> {
        Ok(self.fixed::<1>(kind)?.map(|[b]| b))
    }

    fn opt_u16(&self, kind: u16) -> Result<Option<u16>, DecodeError> {
        Ok(self.fixed(kind)?.map(u16::from_ne_bytes))
    }

    fn opt_u32(&self, kind: u16) -> Result<Option<u32>, DecodeError> {
        Ok(self.fixed(kind)?.map(u32::from_ne_bytes))
    }

    fn opt_u64(&self, kind: u16) -> Result<Option<u64>, DecodeError> {
        Ok(self.fixed(kind)?.map(u64::from_ne_bytes))
    }

    fn u8(&self, kind: u16) -> Result<u8, DecodeError> {
        self.required(kind, self.opt_u8(kind)?)
    }

    fn u16(&self, kind: u16) -> Result<u16, DecodeError> {
        self.required(kind, self.opt_u16(kind)?)
    }

    fn u32(&self, kind: u16) -> Result<u32, DecodeError> {
        self.required(kind, self.opt_u32(kind)?)
    }

    fn u64(&self, kind: u16) -> Result<u64, DecodeError> {
        self.required(kind, self.opt_u64(kind)?)
    }

    /// A `u32` the protocol gained later, 0 from a module that does not send it.
    fn later_u32(&self, kind: u16) -> Result<u32, DecodeError> {
        Ok(self.opt_u32(kind)?.unwrap_or(0))
    }

    /// A `u64` the protocol gained later, 0 from a module that does not send it.
    fn later_u64(&self, kind: u16) -> Result<u64, DecodeError> {
        Ok(self.opt_u64(kind)?.unwrap_or(0))
    }

    /// A netmask length (a `u32` of 0 to 32).
    fn opt_prefix(&self, kind: u16) -> Result<Option<u8>, DecodeError> {
        let Some(value) = self.opt_u32(kind)? else {
            return Ok(None);
        };
        match u8::try_from(value) {
            Ok(prefix) if prefix <= 32 => Ok(Some(prefix)),
            _ => Err(self.error(Problem::Range {
                attr: self.space.describe(kind),
                value,
                max: 32,
            })),
        }
    }

    fn ipv4(&self, kind: u16) -> Result<Ipv4Addr, DecodeError> {
        self.required(kind, self.fixed::<4>(kind)?.map(Ipv4Addr::from))
    }

    /// A NUL-terminated name.
    fn opt_name(&self, kind: u16) -> Result<Option<String>, DecodeError> {
        let Some(attr) = self.raw(kind) else {
            return Ok(None);
        };
        let name = attr
            .payload
            .split(|&b| b == 0)
            .next()
            .filter(|_| attr.payload.contains(&0))
            .and_then(|name| std::str::from_utf8(name).ok())
            .ok_or_else(|| self.error(Problem::NotAName(self.space.describe(kind))))?;
        Ok(Some(name.to_owned()))
    }

    fn opt_mac(&self, kind: u16) -> Result<Option<MacAddr>, DecodeError> {
        Ok(self.fixed::<6>(kind)?.map(MacAddr))
    }

    fn nest(&self, kind: u16, space: AttrSpace) -> Result<Fields<'a>, DecodeError> {
        let attr = self.required(kind, self.raw(kind))?;
        Fields::parse(self.object, space, attr.payload)
    }

    fn stats(&self) -> Result<Stats, DecodeError> {
        let nest = self.nest(top::STATS, AttrSpace::Stats)?;
        Ok(Stats {
            conns: nest.u64(stats::CONNS)?,
            active: nest.u32(stats::ACTIVE)?,
            inactive: nest.u32(stats::INACTIVE)?,
            packets: nest.u64(stats::PACKETS)?,
            bytes: nest.u64(stats::BYTES)?,
            drop_filtered: nest.opt_u64(stats::DROP_FILTERED)?,
            drop_no_server: nest.opt_u64(stats::DROP_NO_SERVER)?,
            drop_table_full: nest.opt_u64(stats::DROP_TABLE_FULL)?,
        })
    }
}

impl Decode for Vip {
    const OBJECT: &'static str = "VIP";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(Vip {
            vip: f.ipv4(top::VIP)?,
            stats: f.stats()?,
        })
    }
}

impl Decode for Port {
    const OBJECT: &'static str = "port";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(Port {
            vip: f.ipv4(top::VIP)?,
            port: f.u16(top::PORT)?,
            // A module from before schedulers could be chosen ran them all by WRR.
            scheduler: f
                .opt_name(top::SCHEDULER)?
                .unwrap_or_else(|| "wrr".to_owned()),
            // A module from before affinity bound no client.
            affinity: Affinity {
                timeout: f.later_u32(top::AFFINITY_TIMEOUT)?,
                prefix: f
                    .opt_prefix(top::AFFINITY_PREFIX)?
                    .unwrap_or(Affinity::DEFAULT.prefix),
                quiesced: f
                    .opt_u32(top::AFFINITY_QUIESCED)?
                    .map_or(Affinity::DEFAULT.quiesced, WireState::from_wire_u32),
            },
            stats: f.stats()?,
        })
    }
}

impl Decode for Server {
    const OBJECT: &'static str = "server";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(Server {
            vip: f.ipv4(top::VIP)?,
            port: f.u16(top::PORT)?,
            server: f.ipv4(top::SERVER)?,
            weight: f.u32(top::WEIGHT)?,
            mac: f.opt_mac(top::MAC)?,
            state: WireState::from_wire(f.u8(top::SERVER_STATE)?),
            affinity_records: f.later_u32(top::AFFINITY_RECORDS)?,
            stats: f.stats()?,
        })
    }
}

impl Decode for Conn {
    const OBJECT: &'static str = "connection";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(Conn {
            client: f.ipv4(top::CLIENT)?,
            client_port: f.u16(top::CLIENT_PORT)?,
            vip: f.ipv4(top::VIP)?,
            port: f.u16(top::PORT)?,
            server: f.ipv4(top::SERVER)?,
            state: WireState::from_wire(f.u8(top::CONN_STATE)?),
            expires_ms: f.u32(top::EXPIRES_MS)?,
        })
    }
}

impl Decode for Config {
    const OBJECT: &'static str = "config";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(Config {
            timeout_syn: f.u32(top::TIMEOUT_SYN)?,
            timeout_syn_pressure: f.later_u32(top::TIMEOUT_SYN_PRESSURE)?,
            timeout_established: f.u32(top::TIMEOUT_ESTABLISHED)?,
            timeout_fin: f.u32(top::TIMEOUT_FIN)?,
            timeout_close: f.u32(top::TIMEOUT_CLOSE)?,
            conn_limit: f.u32(top::CONN_LIMIT)?,
            affinity_limit: f.later_u32(top::AFFINITY_LIMIT)?,
        })
    }
}

impl Decode for Info {
    const OBJECT: &'static str = "info";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        let nest = f.nest(top::DROPS, AttrSpace::Drops)?;
        let drops = Drops {
            no_server: nest.u64(drops::NO_SERVER)?,
            table_full: nest.u64(drops::TABLE_FULL)?,
            filtered: nest.u64(drops::FILTERED)?,
            malformed: nest.u64(drops::MALFORMED)?,
            no_connection: nest.u64(drops::NO_CONNECTION)?,
            no_route: nest.u64(drops::NO_ROUTE)?,
            no_memory: nest.u64(drops::NO_MEMORY)?,
            half_open_evicted: nest.later_u64(drops::HALF_OPEN_EVICTED)?,
            standby: nest.later_u64(drops::STANDBY)?,
        };
        Ok(Info {
            version: f.u32(top::VERSION)?,
            conn_count: f.u32(top::CONN_COUNT)?,
            conn_limit: f.u32(top::CONN_LIMIT)?,
            conn_table_bytes: f.later_u64(top::CONN_TABLE_BYTES)?,
            affinity_records: f.later_u32(top::AFFINITY_RECORDS)?,
            affinity_limit: f.later_u32(top::AFFINITY_LIMIT)?,
            drops,
        })
    }
}

impl Decode for AffinityRecord {
    const OBJECT: &'static str = "affinity record";

    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        Ok(AffinityRecord {
            vip: f.ipv4(top::VIP)?,
            port: f.u16(top::PORT)?,
            client: f.ipv4(top::CLIENT)?,
            prefix: f.required(top::AFFINITY_PREFIX, f.opt_prefix(top::AFFINITY_PREFIX)?)?,
            server: f.ipv4(top::SERVER)?,
            conns: f.u32(top::CONN_COUNT)?,
            expires_ms: f.u32(top::EXPIRES_MS)?,
        })
    }
}

impl Decode for HaStatus {
    const OBJECT: &'static str = "high-availability status";

    /// The Executor's counters are always there; the daemon's figures only once a daemon
    /// has reported, which `REPORT_AGE_MS` tells.
    fn decode(attrs: &[u8]) -> Result<Self, DecodeError> {
        let f = Fields::parse(Self::OBJECT, AttrSpace::Top, attrs)?;
        let nest = f.nest(top::SYNC, AttrSpace::Sync)?;
        let daemon = match nest.opt_u32(sync::REPORT_AGE_MS)? {
            None => None,
            Some(report_age_ms) => Some(DaemonReport {
                status: SyncStatus {
                    peer: nest.ipv4(sync::PEER)?,
                    connected: nest.u32(sync::CONNECTED)? != 0,
                    lag_records: nest.u64(sync::LAG_RECORDS)?,
                    lag_ms: nest.u32(sync::LAG_MS)?,
                    sent: nest.u64(sync::SENT)?,
                    received: nest.u64(sync::RECEIVED)?,
                },
                report_age_ms,
            }),
        };
        Ok(HaStatus {
            role: WireState::from_wire_u32(f.u32(top::HA_ROLE)?),
            counters: SyncCounters {
                emitted: nest.u64(sync::EMITTED)?,
                dropped: nest.u64(sync::DROPPED)?,
                installed: nest.u64(sync::INSTALLED)?,
                refused: nest.u64(sync::REFUSED)?,
            },
            daemon,
        })
    }
}

/// Decodes every reply of a dump.
pub fn decode_all<T: Decode>(replies: &[Vec<u8>]) -> Result<Vec<T>, DecodeError> {
    replies.iter().map(|reply| T::decode(reply)).collect()
}

/// Decodes the single reply of a request for one object.
pub fn decode_one<T: Decode>(replies: &[Vec<u8>]) -> Result<T, DecodeError> {
    match replies {
        [reply] => T::decode(reply),
        _ => Err(DecodeError {
            object: T::OBJECT,
            problem: Problem::ReplyCount(replies.len()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::{top, AffinityQuiesced, ConnState, HaRole, ServerState};
    use nd_netlink_proto::nla::{align, HEADER_LEN};

    use super::*;

    /// Appends one attribute record.
    fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = u16::try_from(HEADER_LEN + payload.len()).unwrap();
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align(buf.len()), 0);
    }

    fn stats_nest(conns: u64, active: u32) -> Vec<u8> {
        let mut nest = Vec::new();
        put(&mut nest, stats::PAD, &[]);
        put(&mut nest, stats::CONNS, &conns.to_ne_bytes());
        put(&mut nest, stats::ACTIVE, &active.to_ne_bytes());
        put(&mut nest, stats::INACTIVE, &3u32.to_ne_bytes());
        put(&mut nest, stats::PACKETS, &100u64.to_ne_bytes());
        put(&mut nest, stats::BYTES, &6400u64.to_ne_bytes());
        put(&mut nest, stats::DROP_FILTERED, &1u64.to_ne_bytes());
        put(&mut nest, stats::DROP_NO_SERVER, &2u64.to_ne_bytes());
        put(&mut nest, stats::DROP_TABLE_FULL, &4u64.to_ne_bytes());
        put(&mut nest, 60, &[1, 2, 3]);
        nest
    }

    fn server_reply(extra: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut buf = Vec::new();
        put(&mut buf, top::VIP, &[10, 0, 0, 1]);
        put(&mut buf, top::PORT, &443u16.to_ne_bytes());
        put(&mut buf, top::SERVER, &[192, 168, 1, 10]);
        put(&mut buf, top::WEIGHT, &5u32.to_ne_bytes());
        put(&mut buf, top::SERVER_STATE, &[ServerState::Active as u8]);
        put(&mut buf, 0x8000 | top::STATS, &stats_nest(9, 2));
        extra(&mut buf);
        buf
    }

    #[test]
    fn decodes_a_server_past_unknown_attributes() {
        let reply = server_reply(|buf| {
            put(buf, 200, b"from a newer module");
            put(buf, top::MAC, &[2, 0, 0, 0, 0, 0x0a]);
        });
        let server = Server::decode(&reply).unwrap();
        assert_eq!(
            server,
            Server {
                vip: Ipv4Addr::new(10, 0, 0, 1),
                port: 443,
                server: Ipv4Addr::new(192, 168, 1, 10),
                weight: 5,
                mac: Some(MacAddr([2, 0, 0, 0, 0, 0x0a])),
                state: WireState::Known(ServerState::Active),
                affinity_records: 0,
                stats: Stats {
                    conns: 9,
                    active: 2,
                    inactive: 3,
                    packets: 100,
                    bytes: 6400,
                    drop_filtered: Some(1),
                    drop_no_server: Some(2),
                    drop_table_full: Some(4),
                },
            }
        );
        assert_eq!(Server::decode(&server_reply(|_| {})).unwrap().mac, None);
    }

    #[test]
    fn drop_counters_an_object_does_not_keep_stay_absent() {
        let mut nest = Vec::new();
        put(&mut nest, stats::CONNS, &3u64.to_ne_bytes());
        put(&mut nest, stats::ACTIVE, &1u32.to_ne_bytes());
        put(&mut nest, stats::INACTIVE, &0u32.to_ne_bytes());
        put(&mut nest, stats::PACKETS, &30u64.to_ne_bytes());
        put(&mut nest, stats::BYTES, &3000u64.to_ne_bytes());
        put(&mut nest, stats::DROP_NO_SERVER, &8u64.to_ne_bytes());
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &80u16.to_ne_bytes());
        put(&mut reply, 0x8000 | top::STATS, &nest);
        let stats = Port::decode(&reply).unwrap().stats;
        assert_eq!(stats.drop_no_server, Some(8));
        assert_eq!((stats.drop_filtered, stats.drop_table_full), (None, None));
        assert_eq!(stats.drops(), Some(8));
        let json = serde_json::to_value(stats).unwrap();
        assert_eq!(json["drop_no_server"], 8);
        assert!(json.get("drop_filtered").is_none());
    }

    #[test]
    fn keeps_server_states_it_does_not_know() {
        let mut reply = server_reply(|_| {});
        let at = reply
            .windows(4)
            .position(|w| w == [5, 0, top::SERVER_STATE as u8, 0])
            .unwrap();
        reply[at + 4] = 9;
        assert_eq!(Server::decode(&reply).unwrap().state, WireState::Unknown(9));
    }

    #[test]
    fn names_missing_and_missized_attributes() {
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, 0x8000 | top::STATS, &stats_nest(1, 1));
        assert_eq!(
            Port::decode(&reply).unwrap_err().to_string(),
            "port reply: missing attribute PORT"
        );

        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1, 0]);
        assert_eq!(
            Vip::decode(&reply).unwrap_err(),
            DecodeError {
                object: "VIP",
                problem: Problem::Length {
                    attr: "VIP".into(),
                    len: 5,
                    expected: 4
                }
            }
        );

        let mut nest = Vec::new();
        put(&mut nest, stats::CONNS, &1u32.to_ne_bytes());
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::STATS, &nest);
        assert_eq!(
            Vip::decode(&reply).unwrap_err().to_string(),
            "VIP reply: attribute STATS CONNS has 4 bytes, expected 8"
        );
    }

    #[test]
    fn rejects_truncated_attribute_streams() {
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        reply.extend_from_slice(&[12, 0, 7]);
        assert_eq!(Vip::decode(&reply).unwrap_err().problem, Problem::Malformed);
    }

    #[test]
    fn decodes_vips_ports_and_connections() {
        let mut reply = Vec::new();
        put(&mut reply, top::STATS, &stats_nest(4, 1));
        put(&mut reply, top::VIP, &[10, 0, 0, 2]);
        let vip = Vip::decode(&reply).unwrap();
        assert_eq!(vip.vip, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!((vip.stats.conns, vip.stats.active), (4, 1));

        let mut reply = Vec::new();
        put(&mut reply, top::CLIENT, &[203, 0, 113, 7]);
        put(&mut reply, top::CLIENT_PORT, &40000u16.to_ne_bytes());
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &80u16.to_ne_bytes());
        put(&mut reply, top::SERVER, &[192, 168, 1, 11]);
        put(&mut reply, top::CONN_STATE, &[ConnState::FinWait as u8]);
        put(&mut reply, top::EXPIRES_MS, &1500u32.to_ne_bytes());
        put(&mut reply, 31, &[0; 8]);
        assert_eq!(
            Conn::decode(&reply).unwrap(),
            Conn {
                client: Ipv4Addr::new(203, 0, 113, 7),
                client_port: 40000,
                vip: Ipv4Addr::new(10, 0, 0, 1),
                port: 80,
                server: Ipv4Addr::new(192, 168, 1, 11),
                state: WireState::Known(ConnState::FinWait),
                expires_ms: 1500,
            }
        );
    }

    /// A `GetConfig` reply with the settings every module version sends, then `extra`.
    fn config_reply(extra: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut reply = Vec::new();
        for (kind, value) in [
            (top::TIMEOUT_SYN, 60u32),
            (top::TIMEOUT_ESTABLISHED, 900),
            (top::TIMEOUT_FIN, 120),
            (top::TIMEOUT_CLOSE, 10),
            (top::CONN_LIMIT, 4096),
        ] {
            put(&mut reply, kind, &value.to_ne_bytes());
        }
        extra(&mut reply);
        reply
    }

    /// A DROPS nest with the counters NO_SERVER to `last`, each ten times its number, and
    /// one this tool does not know.
    fn drops_nest(last: u16) -> Vec<u8> {
        let mut nest = Vec::new();
        for kind in (drops::NO_SERVER..=last).filter(|&kind| kind != drops::PAD) {
            put(&mut nest, kind, &(u64::from(kind) * 10).to_ne_bytes());
        }
        put(&mut nest, drops::MAX + 1, &5u64.to_ne_bytes());
        nest
    }

    /// A `GetInfo` reply carrying `drops_nest`.
    fn info_reply(drops_nest: &[u8]) -> Vec<u8> {
        let mut reply = Vec::new();
        put(&mut reply, top::VERSION, &1u32.to_ne_bytes());
        put(&mut reply, top::CONN_COUNT, &12u32.to_ne_bytes());
        put(&mut reply, top::CONN_LIMIT, &4096u32.to_ne_bytes());
        put(&mut reply, top::CONN_TABLE_BYTES, &65_536u64.to_ne_bytes());
        put(&mut reply, 0x8000 | top::DROPS, drops_nest);
        reply
    }

    const CONFIG: Config = Config {
        timeout_syn: 60,
        timeout_syn_pressure: 5,
        timeout_established: 900,
        timeout_fin: 120,
        timeout_close: 10,
        conn_limit: 4096,
        affinity_limit: 0,
    };

    const INFO: Info = Info {
        version: 1,
        conn_count: 12,
        conn_limit: 4096,
        conn_table_bytes: 65_536,
        affinity_records: 0,
        affinity_limit: 0,
        drops: Drops {
            no_server: 10,
            table_full: 20,
            filtered: 30,
            malformed: 40,
            no_connection: 50,
            no_route: 60,
            no_memory: 70,
            half_open_evicted: 90,
            standby: 100,
        },
    };

    #[test]
    fn decodes_config_and_info() {
        let reply = config_reply(|buf| {
            put(buf, top::TIMEOUT_SYN_PRESSURE, &5u32.to_ne_bytes());
            put(buf, 77, &[]);
        });
        assert_eq!(decode_one::<Config>(&[reply]).unwrap(), CONFIG);
        let reply = config_reply(|buf| put(buf, top::TIMEOUT_SYN_PRESSURE, &[0; 4]));
        assert_eq!(Config::decode(&reply).unwrap().timeout_syn_pressure, 0);

        let reply = info_reply(&drops_nest(drops::STANDBY));
        assert_eq!(decode_one::<Info>(&[reply]).unwrap(), INFO);
    }

    #[test]
    fn settings_and_counters_an_older_module_lacks_read_as_zero() {
        assert_eq!(
            Config::decode(&config_reply(|_| {})).unwrap(),
            Config {
                timeout_syn_pressure: 0,
                ..CONFIG
            }
        );
        assert_eq!(
            Info::decode(&info_reply(&drops_nest(drops::NO_MEMORY))).unwrap(),
            Info {
                drops: Drops {
                    half_open_evicted: 0,
                    standby: 0,
                    ..INFO.drops
                },
                ..INFO
            }
        );
    }

    #[test]
    fn later_attributes_must_still_have_their_size() {
        let reply = config_reply(|buf| put(buf, top::TIMEOUT_SYN_PRESSURE, &[5]));
        assert_eq!(
            Config::decode(&reply).unwrap_err().to_string(),
            "config reply: attribute TIMEOUT_SYN_PRESSURE has 1 bytes, expected 4"
        );

        let mut nest = drops_nest(drops::NO_MEMORY);
        put(&mut nest, drops::HALF_OPEN_EVICTED, &3u32.to_ne_bytes());
        assert_eq!(
            Info::decode(&info_reply(&nest)).unwrap_err().to_string(),
            "info reply: attribute DROPS HALF_OPEN_EVICTED has 4 bytes, expected 8"
        );
    }

    #[test]
    fn reads_affinity_settings_and_counts_absent_ones_as_the_defaults() {
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &80u16.to_ne_bytes());
        put(&mut reply, 0x8000 | top::STATS, &stats_nest(1, 1));
        let bare = Port::decode(&reply).unwrap();
        assert_eq!(bare.affinity, Affinity::DEFAULT);
        assert_eq!(bare.scheduler, "wrr");

        put(&mut reply, top::AFFINITY_TIMEOUT, &300u32.to_ne_bytes());
        put(&mut reply, top::AFFINITY_PREFIX, &24u32.to_ne_bytes());
        put(&mut reply, top::AFFINITY_QUIESCED, &1u32.to_ne_bytes());
        assert_eq!(
            Port::decode(&reply).unwrap().affinity,
            Affinity {
                timeout: 300,
                prefix: 24,
                quiesced: WireState::Known(AffinityQuiesced::Rebalance),
            }
        );

        let server = server_reply(|buf| put(buf, top::AFFINITY_RECORDS, &7u32.to_ne_bytes()));
        assert_eq!(Server::decode(&server).unwrap().affinity_records, 7);
        assert_eq!(
            Server::decode(&server_reply(|_| {}))
                .unwrap()
                .affinity_records,
            0
        );

        let config = config_reply(|buf| put(buf, top::AFFINITY_LIMIT, &4096u32.to_ne_bytes()));
        assert_eq!(Config::decode(&config).unwrap().affinity_limit, 4096);
        let mut info = info_reply(&drops_nest(drops::HALF_OPEN_EVICTED));
        put(&mut info, top::AFFINITY_RECORDS, &3u32.to_ne_bytes());
        put(&mut info, top::AFFINITY_LIMIT, &4096u32.to_ne_bytes());
        let info = Info::decode(&info).unwrap();
        assert_eq!((info.affinity_records, info.affinity_limit), (3, 4096));
    }

    #[test]
    fn a_netmask_longer_than_32_bits_is_a_module_bug() {
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &80u16.to_ne_bytes());
        put(&mut reply, top::AFFINITY_PREFIX, &33u32.to_ne_bytes());
        put(&mut reply, 0x8000 | top::STATS, &stats_nest(1, 1));
        assert_eq!(
            Port::decode(&reply).unwrap_err().to_string(),
            "port reply: attribute AFFINITY_PREFIX is 33, above the maximum, 32"
        );
    }

    fn affinity_reply() -> Vec<u8> {
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &443u16.to_ne_bytes());
        put(&mut reply, top::CLIENT, &[203, 0, 113, 0]);
        put(&mut reply, top::AFFINITY_PREFIX, &24u32.to_ne_bytes());
        put(&mut reply, top::SERVER, &[192, 168, 1, 11]);
        put(&mut reply, top::CONN_COUNT, &2u32.to_ne_bytes());
        put(&mut reply, top::EXPIRES_MS, &299_500u32.to_ne_bytes());
        reply
    }

    #[test]
    fn decodes_affinity_records() {
        assert_eq!(
            decode_all::<AffinityRecord>(&[affinity_reply()]).unwrap(),
            [AffinityRecord {
                vip: Ipv4Addr::new(10, 0, 0, 1),
                port: 443,
                client: Ipv4Addr::new(203, 0, 113, 0),
                prefix: 24,
                server: Ipv4Addr::new(192, 168, 1, 11),
                conns: 2,
                expires_ms: 299_500,
            }]
        );
        let mut reply = Vec::new();
        put(&mut reply, top::VIP, &[10, 0, 0, 1]);
        put(&mut reply, top::PORT, &443u16.to_ne_bytes());
        put(&mut reply, top::CLIENT, &[203, 0, 113, 0]);
        assert_eq!(
            AffinityRecord::decode(&reply).unwrap_err().to_string(),
            "affinity record reply: missing attribute AFFINITY_PREFIX"
        );
    }

    /// The kernel's counters of a `GetHa` reply's SYNC nest.
    fn sync_counters(nest: &mut Vec<u8>) {
        put(nest, sync::PAD, &[]);
        put(nest, sync::EMITTED, &100u64.to_ne_bytes());
        put(nest, sync::DROPPED, &1u64.to_ne_bytes());
        put(nest, sync::INSTALLED, &20u64.to_ne_bytes());
        put(nest, sync::REFUSED, &2u64.to_ne_bytes());
    }

    fn ha_reply(role: u32, nest: &[u8]) -> Vec<u8> {
        let mut reply = Vec::new();
        put(&mut reply, top::HA_ROLE, &role.to_ne_bytes());
        put(&mut reply, 0x8000 | top::SYNC, nest);
        reply
    }

    #[test]
    fn decodes_the_ha_status_with_and_without_a_daemon_report() {
        let mut nest = Vec::new();
        sync_counters(&mut nest);
        let alone = decode_one::<HaStatus>(&[ha_reply(1, &nest)]).unwrap();
        assert_eq!(
            alone,
            HaStatus {
                role: WireState::Known(HaRole::Active),
                counters: SyncCounters {
                    emitted: 100,
                    dropped: 1,
                    installed: 20,
                    refused: 2,
                },
                daemon: None,
            }
        );

        put(&mut nest, sync::PEER, &[192, 168, 0, 2]);
        put(&mut nest, sync::CONNECTED, &1u32.to_ne_bytes());
        put(&mut nest, sync::LAG_RECORDS, &5u64.to_ne_bytes());
        put(&mut nest, sync::LAG_MS, &30u32.to_ne_bytes());
        put(&mut nest, sync::SENT, &99u64.to_ne_bytes());
        put(&mut nest, sync::RECEIVED, &0u64.to_ne_bytes());
        put(&mut nest, sync::REPORT_AGE_MS, &250u32.to_ne_bytes());
        let reported = HaStatus::decode(&ha_reply(2, &nest)).unwrap();
        assert_eq!(reported.role, WireState::Known(HaRole::Standby));
        assert_eq!(
            reported.daemon,
            Some(DaemonReport {
                status: SyncStatus {
                    peer: Ipv4Addr::new(192, 168, 0, 2),
                    connected: true,
                    lag_records: 5,
                    lag_ms: 30,
                    sent: 99,
                    received: 0,
                },
                report_age_ms: 250,
            })
        );
        assert_eq!(
            HaStatus::decode(&ha_reply(7, &nest)).unwrap().role,
            WireState::Unknown(7)
        );
    }

    #[test]
    fn a_report_age_without_the_report_is_a_module_bug() {
        let mut nest = Vec::new();
        sync_counters(&mut nest);
        put(&mut nest, sync::REPORT_AGE_MS, &250u32.to_ne_bytes());
        assert_eq!(
            HaStatus::decode(&ha_reply(1, &nest))
                .unwrap_err()
                .to_string(),
            "high-availability status reply: missing attribute SYNC PEER"
        );
        let mut nest = Vec::new();
        put(&mut nest, sync::EMITTED, &1u32.to_ne_bytes());
        assert_eq!(
            HaStatus::decode(&ha_reply(1, &nest))
                .unwrap_err()
                .to_string(),
            "high-availability status reply: attribute SYNC EMITTED has 4 bytes, expected 8"
        );
    }

    #[test]
    fn single_object_reads_need_exactly_one_reply() {
        assert_eq!(
            decode_one::<Config>(&[]).unwrap_err().to_string(),
            "config reply: expected exactly one reply, got 0"
        );
    }
}
