//! The netlink socket: one request out, its replies collected until the ack or the dump's end.

use std::cell::Cell;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use neli::consts::nl::{NlmF, Nlmsg, NlmsgerrAttr};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::genl::Genlmsghdr;
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::{Buffer, GenlBuffer};
use neli::utils::Groups;

use super::error::{ErrorKind, KernelError};
use super::request::encode_message;

/// Netlink message types below this are control messages (`NLMSG_MIN_TYPE`).
const NLMSG_MIN_TYPE: u16 = 0x10;
/// Size of `struct genlmsghdr`.
const GENL_HEADER_LEN: usize = 4;

/// The replies to one request: each reply's attributes, after its generic netlink header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replies {
    /// The attribute bytes of each reply message, in arrival order.
    pub payloads: Vec<Vec<u8>>,
    /// Whether the kernel flagged the dump `NLM_F_DUMP_INTR` (changed while it was taken).
    pub interrupted: bool,
}

/// A generic netlink socket that sends requests and collects their replies.
pub struct Transport {
    socket: NlSocketHandle,
    timeout: Duration,
    next_seq: Cell<u32>,
}

impl Transport {
    /// Opens a generic netlink socket with extended acks and a receive timeout.
    pub fn open(timeout: Duration) -> Result<Transport, ErrorKind> {
        let socket = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| ErrorKind::Socket(e.to_string()))?;
        // Kernels before 4.12 have no extended acks; their errors then carry only the errno.
        let _ = socket.enable_ext_ack(true);
        set_receive_timeout(&socket, timeout).map_err(|e| ErrorKind::Socket(e.to_string()))?;
        Ok(Transport {
            socket,
            timeout,
            next_seq: Cell::new(1),
        })
    }

    /// Sends `message` to family `nl_type` as a dump or as an acked request, and collects the
    /// replies until the dump's end or the ack.
    pub fn exchange(
        &self,
        nl_type: u16,
        dump: bool,
        message: Genlmsghdr<u8, u16>,
    ) -> Result<Replies, ErrorKind> {
        let seq = self.next_seq.get();
        self.next_seq.set(seq.wrapping_add(1));
        let mut collector = Collector::new(seq, encode_message(&message));
        let flags = NlmF::REQUEST | if dump { NlmF::DUMP } else { NlmF::ACK };
        let request = NlmsghdrBuilder::default()
            .nl_type(nl_type)
            .nl_flags(flags)
            .nl_seq(seq)
            .nl_pid(self.socket.pid())
            .nl_payload(NlPayload::Payload(message))
            .build()
            .expect("type, flags and payload are all set");
        self.socket.send(&request).map_err(socket_error)?;
        loop {
            let messages = match self.socket.recv::<u16, Buffer>() {
                Ok((messages, _)) => messages,
                Err(SocketError::Io(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(SocketError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(ErrorKind::Timeout(self.timeout))
                }
                Err(e) => return Err(socket_error(e)),
            };
            for message in messages {
                let message = message.map_err(|e| ErrorKind::Protocol(e.to_string()))?;
                if collector.absorb(message)? {
                    return Ok(collector.into_replies());
                }
            }
        }
    }
}

fn socket_error(error: SocketError) -> ErrorKind {
    match error {
        SocketError::Io(e) => ErrorKind::Socket(e.to_string()),
        SocketError::De(e) => ErrorKind::Protocol(e.to_string()),
        other => ErrorKind::Socket(other.to_string()),
    }
}

/// Makes receives on `socket` give up after `timeout`.
pub(super) fn set_receive_timeout(socket: &NlSocketHandle, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs().try_into().unwrap_or(i32::MAX.into()),
        tv_usec: timeout.subsec_micros().into(),
    };
    // SAFETY: the descriptor is open for the socket's lifetime, and `tv` is a valid timeval
    // whose size is passed along.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Follows the replies to one request: keeps its payloads, ends at the ack or `NLMSG_DONE`,
/// and turns an error reply into a [`KernelError`].
#[derive(Debug)]
pub struct Collector {
    seq: u32,
    request: Vec<u8>,
    replies: Replies,
}

impl Collector {
    /// Follows the replies to request number `seq`, whose generic netlink payload was
    /// `request` (extended-ack offsets point into it).
    pub fn new(seq: u32, request: Vec<u8>) -> Collector {
        Collector {
            seq,
            request,
            replies: Replies::default(),
        }
    }

    /// Takes one received message; `Ok(true)` once the exchange is complete.
    pub fn absorb(&mut self, message: Nlmsghdr<u16, Buffer>) -> Result<bool, ErrorKind> {
        if *message.nl_seq() != self.seq {
            // A late reply to an earlier request on this socket.
            return Ok(false);
        }
        if message.nl_flags().contains(NlmF::DUMP_INTR) {
            self.replies.interrupted = true;
        }
        let nl_type = *message.nl_type();
        match message.nl_payload() {
            NlPayload::Ack(_) => Ok(true),
            NlPayload::Err(error) => Err(self.kernel_error(*error.error(), error.ext_ack())),
            // A dump ends with NLMSG_DONE, whose errno is the dump's outcome.
            NlPayload::DumpExtAck(done) if *done.error() != 0 => {
                Err(self.kernel_error(*done.error(), done.ext_ack()))
            }
            NlPayload::DumpExtAck(_) => Ok(true),
            NlPayload::Empty | NlPayload::Payload(_) if nl_type < NLMSG_MIN_TYPE => {
                Ok(nl_type == u16::from(Nlmsg::Done))
            }
            NlPayload::Empty => Ok(false),
            NlPayload::Payload(payload) => {
                let attrs = payload.as_ref().get(GENL_HEADER_LEN..).ok_or_else(|| {
                    ErrorKind::Protocol("reply shorter than the generic netlink header".into())
                })?;
                self.replies.payloads.push(attrs.to_vec());
                Ok(false)
            }
        }
    }

    fn kernel_error(&self, code: i32, ext_ack: &GenlBuffer<NlmsgerrAttr, Buffer>) -> ErrorKind {
        let attrs = ext_ack.iter().map(|attr| {
            (
                u16::from(*attr.nla_type().nla_type()),
                attr.nla_payload().as_ref(),
            )
        });
        ErrorKind::Kernel(KernelError::from_ext_ack(code, attrs, &self.request))
    }

    /// The replies collected.
    pub fn into_replies(self) -> Replies {
        self.replies
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::net::Ipv4Addr;

    use nd_netlink_proto::attr::top;
    use nd_netlink_proto::nla::{align, HEADER_LEN};
    use neli::FromBytes;

    use super::*;
    use crate::client::error::ext_ack;
    use crate::client::request::Request;
    use crate::model::{PortOptions, ServerOptions, Service, WeightEntry};

    const FAMILY: u16 = 0x1d;
    const SEQ: u32 = 42;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const NLM_F_MULTI: u16 = 0x2;
    const NLM_F_DUMP_INTR: u16 = 0x10;
    const NLM_F_CAPPED: u16 = 0x100;
    const NLM_F_ACK_TLVS: u16 = 0x200;

    fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = u16::try_from(HEADER_LEN + payload.len()).unwrap();
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align(buf.len()), 0);
    }

    /// A netlink message as the kernel would send it.
    fn message(nl_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let len = u32::try_from(16 + payload.len()).unwrap();
        bytes.extend_from_slice(&len.to_ne_bytes());
        bytes.extend_from_slice(&nl_type.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&seq.to_ne_bytes());
        bytes.extend_from_slice(&4321u32.to_ne_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    /// The bytes parsed the way the socket parses them.
    fn parse(bytes: &[u8]) -> Nlmsghdr<u16, Buffer> {
        Nlmsghdr::from_bytes(&mut Cursor::new(bytes)).expect("neli parses the message")
    }

    /// A dump reply: generic netlink header, then `attrs`.
    fn reply(flags: u16, seq: u32, attrs: &[u8]) -> Vec<u8> {
        let mut payload = vec![3, 1, 0, 0];
        payload.extend_from_slice(attrs);
        message(FAMILY, flags, seq, &payload)
    }

    /// NLMSG_ERROR for `request` (netlink header and payload echoed) with extended-ack `tlvs`.
    fn error_reply(errno: i32, request: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut payload = (-errno).to_ne_bytes().to_vec();
        payload.extend_from_slice(&message(FAMILY, 0x5, SEQ, request));
        payload.extend_from_slice(tlvs);
        let flags = if tlvs.is_empty() { 0 } else { NLM_F_ACK_TLVS };
        message(NLMSG_ERROR, flags, SEQ, &payload)
    }

    fn msg_tlv(text: &str) -> Vec<u8> {
        let mut tlvs = Vec::new();
        let mut text = text.as_bytes().to_vec();
        text.push(0);
        put(&mut tlvs, ext_ack::MSG, &text);
        tlvs
    }

    /// Offset of the `index`-th top-level attribute of `request`, from the netlink header.
    fn offset_of(request: &[u8], index: usize) -> u32 {
        let mut at = 4;
        for _ in 0..index {
            let len = usize::from(u16::from_ne_bytes([request[at], request[at + 1]]));
            at += align(len);
        }
        u32::try_from(16 + at).unwrap()
    }

    fn kernel_error(result: Result<bool, ErrorKind>) -> KernelError {
        match result {
            Err(ErrorKind::Kernel(error)) => error,
            other => panic!("expected a kernel error, got {other:?}"),
        }
    }

    #[test]
    fn collects_a_dump_until_done() {
        let mut collector = Collector::new(SEQ, Request::GetVips.encode());
        let mut first = Vec::new();
        put(&mut first, top::VIP, &[10, 0, 0, 1]);
        let mut second = Vec::new();
        put(&mut second, top::VIP, &[10, 0, 0, 2]);

        assert!(!collector
            .absorb(parse(&reply(NLM_F_MULTI, SEQ, &first)))
            .unwrap());
        assert!(!collector
            .absorb(parse(&reply(NLM_F_MULTI, SEQ - 1, &second)))
            .unwrap());
        assert!(!collector
            .absorb(parse(&reply(NLM_F_MULTI, SEQ, &second)))
            .unwrap());
        let done = message(NLMSG_DONE, NLM_F_MULTI, SEQ, &0i32.to_ne_bytes());
        assert!(collector.absorb(parse(&done)).unwrap());
        let replies = collector.into_replies();
        assert_eq!(replies.payloads, [first, second]);
        assert!(!replies.interrupted);
    }

    #[test]
    fn notes_interrupted_dumps() {
        let mut collector = Collector::new(SEQ, Request::GetConns.encode());
        let flags = NLM_F_MULTI | NLM_F_DUMP_INTR;
        collector.absorb(parse(&reply(flags, SEQ, &[]))).unwrap();
        assert!(collector.into_replies().interrupted);
    }

    #[test]
    fn an_ack_ends_a_mutation() {
        let request = Request::NewVip(Ipv4Addr::new(10, 0, 0, 1)).encode();
        let mut collector = Collector::new(SEQ, request.clone());
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&message(FAMILY, 0x5, SEQ, &[])[..16]);
        let ack = message(NLMSG_ERROR, NLM_F_CAPPED, SEQ, &payload);
        assert!(collector.absorb(parse(&ack)).unwrap());
        assert!(collector.into_replies().payloads.is_empty());
    }

    #[test]
    fn a_plain_read_collects_its_reply_then_the_ack() {
        let mut collector = Collector::new(SEQ, Request::GetConfig.encode());
        let mut attrs = Vec::new();
        put(&mut attrs, top::CONN_LIMIT, &4096u32.to_ne_bytes());
        assert!(!collector.absorb(parse(&reply(0, SEQ, &attrs))).unwrap());
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&message(FAMILY, 0x5, SEQ, &[])[..16]);
        let ack = message(NLMSG_ERROR, NLM_F_CAPPED, SEQ, &payload);
        assert!(collector.absorb(parse(&ack)).unwrap());
        assert_eq!(collector.into_replies().payloads, [attrs]);
    }

    #[test]
    fn an_ack_with_a_warning_still_ends_a_mutation() {
        let mut collector = Collector::new(SEQ, Request::Flush.encode());
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&message(FAMILY, 0x5, SEQ, &[])[..16]);
        payload.extend_from_slice(&msg_tlv("nothing to flush"));
        let ack = message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, SEQ, &payload);
        assert!(collector.absorb(parse(&ack)).unwrap());
    }

    #[test]
    fn an_error_carries_errno_message_and_offending_attribute() {
        let request = Request::NewServer {
            service: Service::new(Ipv4Addr::new(10, 0, 0, 1), 80),
            server: Ipv4Addr::new(192, 168, 1, 10),
            options: ServerOptions {
                weight: Some(9),
                mac: None,
            },
        }
        .encode();
        let mut tlvs = msg_tlv("server already exists");
        put(
            &mut tlvs,
            ext_ack::OFFS,
            &offset_of(&request, 2).to_ne_bytes(),
        );
        let mut collector = Collector::new(SEQ, request.clone());
        let error =
            kernel_error(collector.absorb(parse(&error_reply(libc::EEXIST, &request, &tlvs))));
        assert_eq!(
            error,
            KernelError {
                errno: libc::EEXIST,
                message: Some("server already exists".into()),
                attribute: Some("SERVER".into()),
                missing: None,
            }
        );
        assert_eq!(
            error.to_string(),
            "File exists: server already exists (attribute SERVER)"
        );
    }

    #[test]
    fn an_error_may_name_a_missing_attribute_or_a_weights_entry() {
        let request = Request::NewPort(
            Service::new(Ipv4Addr::new(10, 0, 0, 1), 80),
            PortOptions::default(),
        )
        .encode();
        let mut tlvs = Vec::new();
        put(
            &mut tlvs,
            ext_ack::MISS_TYPE,
            &u32::from(top::PORT).to_ne_bytes(),
        );
        let mut collector = Collector::new(SEQ, request.clone());
        let error =
            kernel_error(collector.absorb(parse(&error_reply(libc::EINVAL, &request, &tlvs))));
        assert_eq!(error.missing.as_deref(), Some("PORT"));
        assert_eq!(
            error.to_string(),
            "Invalid argument: missing attribute PORT"
        );

        let request = Request::SetWeights {
            service: Service::new(Ipv4Addr::new(10, 0, 0, 1), 80),
            weights: vec![
                WeightEntry {
                    server: Ipv4Addr::new(192, 168, 1, 10),
                    weight: 1,
                },
                WeightEntry {
                    server: Ipv4Addr::new(192, 168, 1, 11),
                    weight: 2,
                },
            ],
        }
        .encode();
        // WEIGHTS header, first element (4 + 8 + 8), second element header, its SERVER.
        let second_weight = offset_of(&request, 2) + 4 + 20 + 4 + 8;
        let mut tlvs = msg_tlv("weight out of range");
        put(&mut tlvs, ext_ack::OFFS, &second_weight.to_ne_bytes());
        let mut collector = Collector::new(SEQ, request.clone());
        let error =
            kernel_error(collector.absorb(parse(&error_reply(libc::ERANGE, &request, &tlvs))));
        assert_eq!(error.attribute.as_deref(), Some("WEIGHTS entry 2 WEIGHT"));
    }

    #[test]
    fn eperm_explains_the_capability_needed() {
        let request = Request::Flush.encode();
        let mut collector = Collector::new(SEQ, request.clone());
        let error = kernel_error(collector.absorb(parse(&error_reply(libc::EPERM, &request, &[]))));
        assert_eq!(error.errno, libc::EPERM);
        assert_eq!(error.message, None);
        assert_eq!(
            error.to_string(),
            "Operation not permitted: this operation needs CAP_NET_ADMIN in the dispatcher's \
             network namespace"
        );
    }

    #[test]
    fn a_dump_that_fails_ends_in_done_with_the_errno() {
        let mut collector = Collector::new(SEQ, Request::GetServers.encode());
        let mut payload = (-libc::ENOMEM).to_ne_bytes().to_vec();
        payload.extend_from_slice(&msg_tlv("no memory for the dump"));
        let done = message(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, SEQ, &payload);
        let error = kernel_error(collector.absorb(parse(&done)));
        assert_eq!(error.errno, libc::ENOMEM);
        assert_eq!(error.message.as_deref(), Some("no memory for the dump"));
    }

    #[test]
    fn a_reply_without_a_generic_netlink_header_is_a_protocol_error() {
        let mut collector = Collector::new(SEQ, Request::GetVips.encode());
        let short = message(FAMILY, NLM_F_MULTI, SEQ, &[]);
        assert!(matches!(
            collector.absorb(parse(&short)),
            Err(ErrorKind::Protocol(_))
        ));
    }
}
