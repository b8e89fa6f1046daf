//! The frames two sync daemons exchange, and their wire form.
//!
//! Every frame is a 4-byte big-endian length (of what follows it, at most
//! [`MAX_FRAME_LEN`]), a kind byte, and a body of fixed layout, big-endian:
//!
//! ```text
//! kind body
//!    1 Hello        magic "NDSYNC" (6), version u16, role u8, name length u8, name
//!    2 Records      seq u64, count u16, count 24-byte sync records
//!    3 Ack          seq u64: every Records frame up to seq is installed
//!    4 Weights      vip (4 octets), port u16, count u16, count * (server (4 octets), weight u32)
//!    5 ResyncStart  (empty): a full copy of the sender's table follows
//!    6 ResyncEnd    records u64: how many records the copy carried
//!    7 Keepalive    role u8
//! ```
//!
//! A role byte is 0 (unknown: the sender cannot read its Executor), 1 active, 2 standby. A
//! body longer or shorter than its layout, an unknown kind, a bad record or weight is an
//! error: the link that carried it is closed.

use std::fmt;
use std::net::Ipv4Addr;

use nd_netlink_proto::attr::HaRole;
use nd_netlink_proto::family::{MAX_SERVERS_PER_PORT, MAX_SYNC_BATCH, MAX_WEIGHT};
use nd_netlink_proto::sync_record::{RecordError, SyncRecord, RECORD_LEN};
use ndadm::model::{Service, WeightEntry};

/// The protocol version this daemon speaks; a peer with another one is refused.
pub const PROTOCOL_VERSION: u16 = 1;
/// The first bytes of every hello, so that something else listening on the port is told
/// apart from a peer at once.
pub const MAGIC: [u8; 6] = *b"NDSYNC";
/// The largest frame, after its length: a full batch of records fits with room to spare.
pub const MAX_FRAME_LEN: usize = 32 * 1024;
/// The longest node name.
pub const MAX_NODE_NAME: usize = 64;

/// One message between the daemons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The first frame on a link, each way.
    Hello(Hello),
    /// Records of the sender's table, numbered per link.
    Records {
        /// The frame's number on this link, from 1.
        seq: u64,
        /// At most `MAX_SYNC_BATCH` records.
        records: Vec<SyncRecord>,
    },
    /// Every `Records` frame up to `seq` is installed (or was refused by the Executor).
    Ack {
        /// The last frame handled.
        seq: u64,
    },
    /// The weights of a port's servers on the sender.
    Weights {
        /// The port.
        service: Service,
        /// Its servers' weights.
        entries: Vec<WeightEntry>,
    },
    /// A full copy of the sender's table follows.
    ResyncStart,
    /// The full copy is complete.
    ResyncEnd {
        /// How many records it carried.
        records: u64,
    },
    /// Nothing to say; the link is alive and this is the sender's role.
    Keepalive {
        /// The sender's role, if it can read it.
        role: Option<HaRole>,
    },
}

/// Who is at the other end of a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The sender's protocol version.
    pub version: u16,
    /// The sender's role, if it can read it.
    pub role: Option<HaRole>,
    /// The sender's node name.
    pub node: String,
}

impl Frame {
    /// The kind's name, as logs and errors give it.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Hello(_) => "hello",
            Frame::Records { .. } => "records",
            Frame::Ack { .. } => "ack",
            Frame::Weights { .. } => "weights",
            Frame::ResyncStart => "resync start",
            Frame::ResyncEnd { .. } => "resync end",
            Frame::Keepalive { .. } => "keepalive",
        }
    }
}

/// Why bytes are not a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix is beyond the limit.
    #[error("a frame of {0} bytes, more than the {MAX_FRAME_LEN} allowed")]
    TooLong(u32),
    /// The length prefix is 0: not even a kind byte.
    #[error("an empty frame")]
    Empty,
    /// A kind byte this version does not know.
    #[error("a frame of unknown kind {0}")]
    UnknownKind(u8),
    /// The body does not have the kind's layout.
    #[error("a {kind} frame with a body of {len} bytes")]
    Length {
        /// The frame's kind.
        kind: &'static str,
        /// The body's length.
        len: usize,
    },
    /// A hello without the magic: not an nd-syncd at the other end.
    #[error("a hello without the nd-syncd magic: not an nd-syncd peer")]
    Magic,
    /// The peer speaks another protocol version.
    #[error("the peer speaks protocol version {0}, this daemon {PROTOCOL_VERSION}")]
    Version(u16),
    /// A node name that is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("the node name {0:?} is not 1 to {MAX_NODE_NAME} of A-Z a-z 0-9 . _ -")]
    NodeName(String),
    /// A role byte other than 0, 1 and 2.
    #[error("role value {0}")]
    Role(u8),
    /// More records than a batch holds.
    #[error("{0} records in one frame, more than {MAX_SYNC_BATCH}")]
    TooManyRecords(usize),
    /// A record that does not decode.
    #[error("record {index} of the frame: {error:?}")]
    Record {
        /// Its position in the frame, from 0.
        index: usize,
        /// What is wrong with it.
        error: RecordError,
    },
    /// A weights frame naming more servers than a port has, or a server twice.
    #[error("a weights frame for {0} with {1} servers or a server twice")]
    Servers(Service, usize),
    /// A weight above the maximum.
    #[error("weight {weight} of {server} above the maximum, {MAX_WEIGHT}")]
    Weight {
        /// The server.
        server: Ipv4Addr,
        /// Its weight.
        weight: u32,
    },
    /// Port 0.
    #[error("a weights frame for port 0")]
    PortZero,
}

/// Checks a node name: 1 to [`MAX_NODE_NAME`] characters of `[A-Za-z0-9._-]`.
pub fn check_node_name(name: &str) -> Result<(), FrameError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > MAX_NODE_NAME || !name.chars().all(allowed) {
        return Err(FrameError::NodeName(name.to_string()));
    }
    Ok(())
}

fn role_byte(role: Option<HaRole>) -> u8 {
    role.map_or(0, |role| role as u8)
}

fn role_of(byte: u8) -> Result<Option<HaRole>, FrameError> {
    match byte {
        0 => Ok(None),
        other => HaRole::from_u8(other)
            .map(Some)
            .ok_or(FrameError::Role(other)),
    }
}

mod kind {
    pub const HELLO: u8 = 1;
    pub const RECORDS: u8 = 2;
    pub const ACK: u8 = 3;
    pub const WEIGHTS: u8 = 4;
    pub const RESYNC_START: u8 = 5;
    pub const RESYNC_END: u8 = 6;
    pub const KEEPALIVE: u8 = 7;
}

impl Frame {
    /// The frame's wire form, length prefix included. Frames built by this daemon always fit
    /// the limits the decoder checks.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0; 4];
        match self {
            Frame::Hello(hello) => {
                out.push(kind::HELLO);
                out.extend_from_slice(&MAGIC);
                out.extend_from_slice(&hello.version.to_be_bytes());
                out.push(role_byte(hello.role));
                let name = hello.node.as_bytes();
                let len = name.len().min(MAX_NODE_NAME);
                out.push(len as u8);
                out.extend_from_slice(&name[..len]);
            }
            Frame::Records { seq, records } => {
                out.push(kind::RECORDS);
                out.extend_from_slice(&seq.to_be_bytes());
                let count = u16::try_from(records.len()).expect("a batch has at most 1024");
                out.extend_from_slice(&count.to_be_bytes());
                for record in records {
                    out.extend_from_slice(&record.encode());
                }
            }
            Frame::Ack { seq } => {
                out.push(kind::ACK);
                out.extend_from_slice(&seq.to_be_bytes());
            }
            Frame::Weights { service, entries } => {
                out.push(kind::WEIGHTS);
                out.extend_from_slice(&service.vip.octets());
                out.extend_from_slice(&service.port.to_be_bytes());
                let count = u16::try_from(entries.len()).expect("a port has at most 256");
                out.extend_from_slice(&count.to_be_bytes());
                for entry in entries {
                    out.extend_from_slice(&entry.server.octets());
                    out.extend_from_slice(&entry.weight.to_be_bytes());
                }
            }
            Frame::ResyncStart => out.push(kind::RESYNC_START),
            Frame::ResyncEnd { records } => {
                out.push(kind::RESYNC_END);
                out.extend_from_slice(&records.to_be_bytes());
            }
            Frame::Keepalive { role } => {
                out.push(kind::KEEPALIVE);
                out.push(role_byte(*role));
            }
        }
        let len = u32::try_from(out.len() - 4).expect("frames are small");
        out[..4].copy_from_slice(&len.to_be_bytes());
        out
    }

    /// Checks a length prefix before its frame is read, so that nothing larger than the
    /// limit is ever allocated.
    pub fn check_len(len: u32) -> Result<usize, FrameError> {
        match usize::try_from(len) {
            Ok(0) => Err(FrameError::Empty),
            Ok(len) if len <= MAX_FRAME_LEN => Ok(len),
            _ => Err(FrameError::TooLong(len)),
        }
    }

    /// Reads a frame from the bytes after its length prefix: kind and body.
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        let (&kind, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        let mut body = Body { bytes: body, at: 0 };
        let frame = match kind {
            kind::HELLO => {
                let wrong = || FrameError::Length {
                    kind: "hello",
                    len: body.bytes.len(),
                };
                if body.bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
                    return Err(if body.bytes.len() < MAGIC.len() {
                        wrong()
                    } else {
                        FrameError::Magic
                    });
                }
                body.at = MAGIC.len();
                let version = body.u16().ok_or_else(wrong)?;
                if version != PROTOCOL_VERSION {
                    // A later version may lay the rest out differently.
                    return Err(FrameError::Version(version));
                }
                let role = role_of(body.u8().ok_or_else(wrong)?)?;
                let len = usize::from(body.u8().ok_or_else(wrong)?);
                let name = body.take(len).ok_or_else(wrong)?;
                let node = String::from_utf8(name.to_vec())
                    .map_err(|_| FrameError::NodeName(String::from_utf8_lossy(name).into()))?;
                check_node_name(&node)?;
                Frame::Hello(Hello {
                    version,
                    role,
                    node,
                })
            }
            kind::RECORDS => {
                let wrong = FrameError::Length {
                    kind: "records",
                    len: body.bytes.len(),
                };
                let (Some(seq), Some(count)) = (body.u64(), body.u16()) else {
                    return Err(wrong);
                };
                let count = usize::from(count);
                if count > MAX_SYNC_BATCH {
                    return Err(FrameError::TooManyRecords(count));
                }
                if body.rest().len() != count * RECORD_LEN {
                    return Err(wrong);
                }
                let records = body
                    .rest()
                    .chunks_exact(RECORD_LEN)
                    .enumerate()
                    .map(|(index, chunk)| {
                        let bytes: &[u8; RECORD_LEN] =
                            chunk.try_into().expect("chunks of RECORD_LEN");
                        SyncRecord::decode(bytes)
                            .map_err(|error| FrameError::Record { index, error })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                body.at = body.bytes.len();
                Frame::Records { seq, records }
            }
            kind::ACK => Frame::Ack {
                seq: body.u64().ok_or(FrameError::Length {
                    kind: "ack",
                    len: body.bytes.len(),
                })?,
            },
            kind::WEIGHTS => {
                let wrong = FrameError::Length {
                    kind: "weights",
                    len: body.bytes.len(),
                };
                let (Some(vip), Some(port), Some(count)) = (body.ipv4(), body.u16(), body.u16())
                else {
                    return Err(wrong);
                };
                if port == 0 {
                    return Err(FrameError::PortZero);
                }
                let service = Service::new(vip, port);
                let count = usize::from(count);
                if body.rest().len() != count * 8 {
                    return Err(wrong);
                }
                if count > MAX_SERVERS_PER_PORT {
                    return Err(FrameError::Servers(service, count));
                }
                let mut entries: Vec<WeightEntry> = Vec::with_capacity(count);
                while let (Some(server), Some(weight)) = (body.ipv4(), body.u32()) {
                    if weight > MAX_WEIGHT {
                        return Err(FrameError::Weight { server, weight });
                    }
                    entries.push(WeightEntry { server, weight });
                }
                let mut servers: Vec<Ipv4Addr> = entries.iter().map(|e| e.server).collect();
                servers.sort_unstable();
                servers.dedup();
                if servers.len() != count {
                    return Err(FrameError::Servers(service, count));
                }
                Frame::Weights { service, entries }
            }
            kind::RESYNC_START => Frame::ResyncStart,
            kind::RESYNC_END => Frame::ResyncEnd {
                records: body.u64().ok_or(FrameError::Length {
                    kind: "resync end",
                    len: body.bytes.len(),
                })?,
            },
            kind::KEEPALIVE => Frame::Keepalive {
                role: role_of(body.u8().ok_or(FrameError::Length {
                    kind: "keepalive",
                    len: body.bytes.len(),
                })?)?,
            },
            other => return Err(FrameError::UnknownKind(other)),
        };
        if !body.rest().is_empty() {
            return Err(FrameError::Length {
                kind: frame.name(),
                len: body.bytes.len(),
            });
        }
        Ok(frame)
    }
}

/// A cursor over a frame's body.
struct Body<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(taken)
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at.min(self.bytes.len())..]
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn ipv4(&mut self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    }
}

impl fmt::Display for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = self.role.map_or("unknown", HaRole::name);
        write!(f, "{} ({role})", self.node)
    }
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::ConnState;
    use nd_netlink_proto::sync_record::RecordKind;

    use super::*;

    fn record(client_port: u16) -> SyncRecord {
        SyncRecord {
            kind: RecordKind::Conn,
            state: Some(ConnState::Established),
            prefix: 0,
            client: u32::from_ne_bytes([203, 0, 113, 7]),
            vip: u32::from_ne_bytes([10, 0, 0, 100]),
            server: u32::from_ne_bytes([10, 0, 0, 11]),
            client_port,
            port: 80,
            expires_ms: 900_000,
        }
    }

    fn hello() -> Frame {
        Frame::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Some(HaRole::Standby),
            node: "lb-b".into(),
        })
    }

    fn every_kind() -> Vec<Frame> {
        vec![
            hello(),
            Frame::Records {
                seq: 7,
                records: vec![record(1), record(2)],
            },
            Frame::Records {
                seq: 8,
                records: vec![],
            },
            Frame::Ack { seq: u64::MAX },
            Frame::Weights {
                service: Service::new(Ipv4Addr::new(10, 0, 0, 100), 443),
                entries: vec![
                    WeightEntry {
                        server: Ipv4Addr::new(10, 0, 0, 11),
                        weight: MAX_WEIGHT,
                    },
                    WeightEntry {
                        server: Ipv4Addr::new(10, 0, 0, 12),
                        weight: 0,
                    },
                ],
            },
            Frame::ResyncStart,
            Frame::ResyncEnd { records: 123_456 },
            Frame::Keepalive { role: None },
            Frame::Keepalive {
                role: Some(HaRole::Active),
            },
        ]
    }

    /// The bytes after the length prefix, checked against it.
    fn body(frame: &Frame) -> Vec<u8> {
        let bytes = frame.encode();
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap());
        assert_eq!(Frame::check_len(len), Ok(bytes.len() - 4));
        bytes[4..].to_vec()
    }

    #[test]
    fn every_kind_round_trips() {
        for frame in every_kind() {
            assert_eq!(Frame::decode(&body(&frame)), Ok(frame.clone()), "{frame:?}");
        }
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        assert_eq!(
            Frame::Ack { seq: 258 }.encode(),
            [0, 0, 0, 9, 3, 0, 0, 0, 0, 0, 0, 1, 2]
        );
        let hello = hello().encode();
        assert_eq!(&hello[4..11], b"\x01NDSYNC");
        assert_eq!(&hello[11..], &[0, 1, 2, 4, b'l', b'b', b'-', b'b']);
        let records = Frame::Records {
            seq: 1,
            records: vec![record(9)],
        }
        .encode();
        assert_eq!(records.len(), 4 + 1 + 8 + 2 + RECORD_LEN);
        assert_eq!(&records[13..15], &[0, 1]);
        assert_eq!(&records[15..], &record(9).encode());
    }

    #[test]
    fn a_body_one_byte_short_or_long_is_refused() {
        for frame in every_kind() {
            let whole = body(&frame);
            if whole.len() > 1 {
                assert!(
                    Frame::decode(&whole[..whole.len() - 1]).is_err(),
                    "{frame:?} short"
                );
            }
            let mut long = whole.clone();
            long.push(0);
            assert!(
                matches!(Frame::decode(&long), Err(FrameError::Length { .. })),
                "{frame:?} long: {:?}",
                Frame::decode(&long)
            );
        }
    }

    #[test]
    fn lengths_beyond_the_limit_or_empty_are_refused_before_reading() {
        assert_eq!(Frame::check_len(0), Err(FrameError::Empty));
        assert_eq!(
            Frame::check_len(MAX_FRAME_LEN as u32 + 1),
            Err(FrameError::TooLong(MAX_FRAME_LEN as u32 + 1))
        );
        assert_eq!(
            Frame::check_len(u32::MAX),
            Err(FrameError::TooLong(u32::MAX))
        );
        // A full batch fits.
        let full = Frame::Records {
            seq: 1,
            records: vec![record(1); MAX_SYNC_BATCH],
        };
        assert!(full.encode().len() - 4 <= MAX_FRAME_LEN);
    }

    #[test]
    fn hellos_check_magic_version_role_and_name() {
        let good = body(&hello());
        let with = |at: usize, value: u8| {
            let mut bad = good.clone();
            bad[at] = value;
            Frame::decode(&bad)
        };
        assert_eq!(with(1, b'X'), Err(FrameError::Magic));
        assert_eq!(with(8, 2), Err(FrameError::Version(2)));
        assert_eq!(with(9, 3), Err(FrameError::Role(3)));
        assert_eq!(with(13, b' '), Err(FrameError::NodeName("lb b".into())));
        assert_eq!(with(10, 0), Err(FrameError::NodeName(String::new())));
        assert_eq!(
            Frame::decode(&[1, b'G', b'E', b'T', b' ', b'/', b' ', b'H']),
            Err(FrameError::Magic)
        );
    }

    #[test]
    fn bad_records_and_weights_are_refused() {
        let mut records = body(&Frame::Records {
            seq: 1,
            records: vec![record(1), record(2)],
        });
        records[11 + RECORD_LEN] = 9;
        assert_eq!(
            Frame::decode(&records),
            Err(FrameError::Record {
                index: 1,
                error: RecordError::Kind(9)
            })
        );
        let mut too_many = vec![2];
        too_many.extend_from_slice(&1u64.to_be_bytes());
        too_many.extend_from_slice(&1025u16.to_be_bytes());
        assert_eq!(
            Frame::decode(&too_many),
            Err(FrameError::TooManyRecords(1025))
        );

        let service = Service::new(Ipv4Addr::new(10, 0, 0, 100), 80);
        let entry = |last, weight| WeightEntry {
            server: Ipv4Addr::new(10, 0, 0, last),
            weight,
        };
        let heavy = Frame::Weights {
            service,
            entries: vec![entry(11, MAX_WEIGHT + 1)],
        };
        assert!(matches!(
            Frame::decode(&body(&heavy)),
            Err(FrameError::Weight { .. })
        ));
        let twice = Frame::Weights {
            service,
            entries: vec![entry(11, 1), entry(11, 2)],
        };
        assert_eq!(
            Frame::decode(&body(&twice)),
            Err(FrameError::Servers(service, 2))
        );
        assert_eq!(Frame::decode(&[9]), Err(FrameError::UnknownKind(9)));
        assert_eq!(Frame::decode(&[]), Err(FrameError::Empty));
    }

    #[test]
    fn node_names_are_short_and_plain() {
        assert!(check_node_name("lb-a.example_1").is_ok());
        for bad in ["", "lb a", "lb/a", "é", &"x".repeat(65)] {
            assert!(check_node_name(bad).is_err(), "{bad:?}");
        }
    }
}
