//! The `sync` multicast group: the active Executor's table changes as they are published.

use std::io;
use std::time::Duration;

use nd_netlink_proto::attr::top;
use nd_netlink_proto::cmd::Cmd;
use nd_netlink_proto::family::{FAMILY_NAME, SYNC_GROUP};
use nd_netlink_proto::nla::Attrs;
use nd_netlink_proto::sync_record::{records, SyncRecord, RECORD_LEN};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::NlPayload;
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;

use super::controller;
use super::error::{Error, ErrorKind};
use super::transport::{set_receive_timeout, Transport};

/// The receive buffer asked for: room for a burst of full batches while the reader is busy,
/// so that an overrun (and the full resync it costs) stays rare.
const RECEIVE_BUFFER_BYTES: usize = 4 << 20;
/// Size of `struct genlmsghdr`.
const GENL_HEADER_LEN: usize = 4;

/// What one wait on the group brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncEvent {
    /// A published batch.
    Records {
        /// The records that decoded.
        records: Vec<SyncRecord>,
        /// Records of the batch that did not, left out.
        malformed: usize,
    },
    /// The socket's buffer overflowed (`ENOBUFS`): publications were lost, and only a full
    /// resync brings the peer up to date again.
    Overrun,
    /// Nothing arrived within the timeout.
    Idle,
}

/// A socket that joined the `sync` group of the `nd` family.
pub struct SyncSubscription {
    socket: NlSocketHandle,
    family: u16,
}

impl SyncSubscription {
    /// Resolves the family and its `sync` group and joins it; each [`SyncSubscription::next`]
    /// waits at most `timeout`.
    pub fn join(timeout: Duration) -> Result<SyncSubscription, Error> {
        let action = "join the nd module's sync multicast group";
        let fail = |kind| Error::new(action, kind);
        let family = controller::resolve(&Transport::open(timeout).map_err(fail)?, FAMILY_NAME)
            .map_err(fail)?;
        let group = family.group(SYNC_GROUP).ok_or_else(|| {
            fail(ErrorKind::Protocol(format!(
                "the nd family has no multicast group \"{SYNC_GROUP}\": the module predates \
                 high availability"
            )))
        })?;
        let socket = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| fail(ErrorKind::Socket(e.to_string())))?;
        socket
            .add_mcast_membership(Groups::new_groups(&[group]))
            .map_err(|e| fail(ErrorKind::Socket(e.to_string())))?;
        // A smaller buffer than asked for still works, with overruns sooner.
        let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER_BYTES);
        set_receive_timeout(&socket, timeout)
            .map_err(|e| fail(ErrorKind::Socket(e.to_string())))?;
        Ok(SyncSubscription {
            socket,
            family: family.id,
        })
    }

    /// Waits for the next datagram. A datagram may carry several publications; their records
    /// come as one batch.
    pub fn next(&self) -> Result<SyncEvent, Error> {
        let fail = |kind| Error::new("receive sync records", kind);
        let messages = match self.socket.recv::<u16, Buffer>() {
            Ok((messages, _)) => messages,
            Err(SocketError::Io(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                return Ok(SyncEvent::Overrun)
            }
            Err(SocketError::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(SyncEvent::Idle)
            }
            Err(e) => return Err(fail(ErrorKind::Socket(e.to_string()))),
        };
        let mut batch = Vec::new();
        let mut malformed = 0;
        for message in messages {
            let message = message.map_err(|e| fail(ErrorKind::Protocol(e.to_string())))?;
            if *message.nl_type() != self.family {
                continue;
            }
            let NlPayload::Payload(payload) = message.nl_payload() else {
                continue;
            };
            if let Some(publication) = decode_publication(payload.as_ref()) {
                batch.extend(publication.records);
                malformed += publication.malformed;
            }
        }
        Ok(SyncEvent::Records {
            records: batch,
            malformed,
        })
    }
}

/// The records of one published message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Publication {
    /// The records that decoded.
    pub records: Vec<SyncRecord>,
    /// Those that did not (a batch not a whole number of records counts whole).
    pub malformed: usize,
}

/// Reads a generic netlink message of the family (header and attributes); `None` unless it
/// is a `SyncRecords` publication.
pub fn decode_publication(genl: &[u8]) -> Option<Publication> {
    let (&cmd, _) = genl.split_first()?;
    if cmd != Cmd::SyncRecords as u8 {
        return None;
    }
    let attrs = genl.get(GENL_HEADER_LEN..)?;
    let mut publication = Publication::default();
    for batch in Attrs::new(attrs).filter(|attr| attr.kind == top::SYNC_BATCH) {
        match records(batch.payload) {
            Ok(each) => {
                for record in each {
                    match record {
                        Ok(record) => publication.records.push(record),
                        Err(_) => publication.malformed += 1,
                    }
                }
            }
            Err(_) => publication.malformed += batch.payload.len().div_ceil(RECORD_LEN).max(1),
        }
    }
    Some(publication)
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::ConnState;
    use nd_netlink_proto::nla::{align, HEADER_LEN};
    use nd_netlink_proto::sync_record::RecordKind;

    use super::*;

    fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = u16::try_from(HEADER_LEN + payload.len()).unwrap();
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align(buf.len()), 0);
    }

    fn record(client_port: u16) -> SyncRecord {
        SyncRecord {
            kind: RecordKind::Conn,
            state: Some(ConnState::SynSent),
            prefix: 0,
            client: u32::from_ne_bytes([203, 0, 113, 9]),
            vip: u32::from_ne_bytes([10, 0, 0, 100]),
            server: u32::from_ne_bytes([10, 0, 0, 11]),
            client_port,
            port: 80,
            expires_ms: 60_000,
        }
    }

    fn message(cmd: Cmd, batch: &[u8]) -> Vec<u8> {
        let mut genl = vec![cmd as u8, 1, 0, 0];
        put(&mut genl, top::SYNC_BATCH, batch);
        genl
    }

    #[test]
    fn decodes_a_published_batch_and_counts_bad_records() {
        let mut batch = Vec::new();
        batch.extend_from_slice(&record(1).encode());
        let mut bad = record(2).encode();
        bad[0] = 9;
        batch.extend_from_slice(&bad);
        batch.extend_from_slice(&record(3).encode());
        let publication = decode_publication(&message(Cmd::SyncRecords, &batch)).unwrap();
        assert_eq!(publication.records, [record(1), record(3)]);
        assert_eq!(publication.malformed, 1);

        let torn = decode_publication(&message(Cmd::SyncRecords, &batch[..RECORD_LEN + 5]));
        assert_eq!(
            torn,
            Some(Publication {
                records: vec![],
                malformed: 2
            })
        );
    }

    #[test]
    fn other_commands_are_not_publications() {
        assert_eq!(
            decode_publication(&message(Cmd::SyncInstall, &record(1).encode())),
            None
        );
        assert_eq!(decode_publication(&[]), None);
    }
}
