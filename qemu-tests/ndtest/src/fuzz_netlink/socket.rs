//! A generic netlink socket that sends requests already encoded to bytes and reads the
//! replies' headers by hand: requests no encoder would build still go out, and the per-request
//! cost stays at one send and a receive or two into reused buffers.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use nd_netlink_proto::nla::align;
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use socket2::SockRef;

use super::message::{flags, msg_type, write_netlink_header, NLMSG_HEADER_LEN};

/// Receive buffer size: the kernel sizes dump messages by the largest buffer a reader has
/// offered, capped at 32 KiB, so this always holds a whole datagram.
const RECEIVE_BUFFER: usize = 64 * 1024;
/// Netlink message types below this are control messages.
const NLMSG_MIN_TYPE: u16 = 0x10;

/// How the kernel answered one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged with errno 0, a dump that ended cleanly, or (for a request that asked
    /// for no acknowledgement) no error reply.
    Accepted,
    /// An error reply, or a dump that ended with an error: the positive errno.
    Rejected(i32),
    /// A dump left unread after its first reply, as asked.
    Abandoned,
    /// No final reply within the receive timeout.
    TimedOut,
}

/// One request's outcome and what its replies showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The outcome.
    pub outcome: Outcome,
    /// Data replies received (dump entries, or a `GetConfig` reply).
    pub replies: u32,
    /// Whether a reply carried `NLM_F_DUMP_INTR`: the dump saw the tables change.
    pub dump_interrupted: bool,
}

/// A generic netlink socket bound to one family.
pub struct GenlSocket {
    socket: NlSocket,
    family: u16,
    next_seq: u32,
    send_buffer: Vec<u8>,
    receive_buffer: Vec<u8>,
}

impl GenlSocket {
    /// Opens a socket for requests to family `family`, whose receives give up after
    /// `timeout`.
    pub fn open(family: u16, timeout: Duration) -> io::Result<GenlSocket> {
        let socket = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        // SAFETY: the descriptor belongs to `socket`, which outlives this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) };
        SockRef::from(&fd).set_read_timeout(Some(timeout))?;
        Ok(GenlSocket {
            socket,
            family,
            next_seq: 1,
            send_buffer: Vec::with_capacity(512),
            receive_buffer: vec![0; RECEIVE_BUFFER],
        })
    }

    /// Sends `payload` (generic netlink header and attributes) with `netlink_flags` and reads
    /// the replies until the outcome is known.
    ///
    /// A dump is read to its end, or with `abandon_dump` only to its first entry. A request
    /// with `NLM_F_ACK` waits for the acknowledgement. Any other request was handled before
    /// `send` returned (generic netlink runs handlers in the sender's context), so its error
    /// reply, if any, is already queued: what is queued is read without waiting.
    pub fn exchange(
        &mut self,
        netlink_flags: u16,
        payload: &[u8],
        abandon_dump: bool,
    ) -> io::Result<Exchange> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        write_netlink_header(
            &mut self.send_buffer,
            payload.len(),
            self.family,
            netlink_flags,
            seq,
        );
        self.send_buffer.extend_from_slice(payload);
        self.socket.send(&self.send_buffer, Msg::empty())?;

        let dump = netlink_flags & flags::DUMP == flags::DUMP;
        let wait = dump || netlink_flags & flags::ACK != 0;
        let receive_flags = if wait { Msg::empty() } else { Msg::DONTWAIT };
        let mut exchange = Exchange {
            outcome: Outcome::Accepted,
            replies: 0,
            dump_interrupted: false,
        };
        loop {
            let received = match self
                .socket
                .recv(&mut self.receive_buffer[..], receive_flags)
            {
                Ok((received, _)) => received,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    exchange.outcome = if wait {
                        Outcome::TimedOut
                    } else {
                        Outcome::Accepted
                    };
                    return Ok(exchange);
                }
                Err(e) => return Err(e),
            };
            let mut at = 0;
            while let Some(message) = Message::parse(&self.receive_buffer[at..received]) {
                at += align(message.len);
                // Replies to earlier requests, such as the rest of an abandoned dump.
                if message.seq != seq {
                    continue;
                }
                match message.nl_type {
                    msg_type::ERROR | msg_type::DONE => {
                        exchange.outcome = match message.errno() {
                            0 => Outcome::Accepted,
                            errno => Outcome::Rejected(errno),
                        };
                        return Ok(exchange);
                    }
                    t if t < NLMSG_MIN_TYPE => {}
                    _ => {
                        exchange.replies += 1;
                        if message.flags & flags::DUMP_INTR != 0 {
                            exchange.dump_interrupted = true;
                        }
                        if dump && abandon_dump && message.flags & flags::MULTI != 0 {
                            exchange.outcome = Outcome::Abandoned;
                            return Ok(exchange);
                        }
                    }
                }
            }
        }
    }
}

/// The header fields of one received netlink message and its body.
struct Message<'a> {
    len: usize,
    nl_type: u16,
    flags: u16,
    seq: u32,
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// The first message of `bytes`, if a whole one is there.
    fn parse(bytes: &'a [u8]) -> Option<Message<'a>> {
        let header = bytes.get(..NLMSG_HEADER_LEN)?;
        let len = u32::from_ne_bytes(header[..4].try_into().ok()?) as usize;
        Some(Message {
            len,
            nl_type: u16::from_ne_bytes([header[4], header[5]]),
            flags: u16::from_ne_bytes([header[6], header[7]]),
            seq: u32::from_ne_bytes(header[8..12].try_into().ok()?),
            body: bytes.get(NLMSG_HEADER_LEN..len)?,
        })
    }

    /// The positive errno of an `NLMSG_ERROR` or `NLMSG_DONE` (0 for success).
    fn errno(&self) -> i32 {
        self.body
            .get(..4)
            .map(|code| i32::from_ne_bytes(code.try_into().expect("four bytes")))
            .unwrap_or(0)
            .saturating_abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(nl_type: u16, msg_flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_netlink_header(&mut out, body.len(), nl_type, msg_flags, seq);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn parses_headers_and_error_codes() {
        let error = message(msg_type::ERROR, 0, 9, &(-libc::EINVAL).to_ne_bytes());
        let parsed = Message::parse(&error).unwrap();
        assert_eq!((parsed.nl_type, parsed.seq), (msg_type::ERROR, 9));
        assert_eq!(parsed.errno(), libc::EINVAL);
        let done = message(msg_type::DONE, flags::MULTI, 9, &0i32.to_ne_bytes());
        assert_eq!(Message::parse(&done).unwrap().errno(), 0);
    }

    #[test]
    fn a_partial_or_inconsistent_message_is_not_parsed() {
        let whole = message(0x1d, flags::MULTI, 1, &[1, 2, 3, 4]);
        assert!(Message::parse(&whole[..whole.len() - 1]).is_none());
        assert!(Message::parse(&whole[..10]).is_none());
        let mut short = whole.clone();
        short[..4].copy_from_slice(&8u32.to_ne_bytes());
        assert!(Message::parse(&short).is_none(), "length below the header");
    }

    /// The generic netlink controller answers everyone, so the socket can be exercised
    /// without the nd module.
    #[test]
    fn exchanges_with_the_kernels_controller() {
        const CTRL: u16 = 0x10;
        const CTRL_CMD_GETFAMILY: u8 = 3;
        let mut socket = GenlSocket::open(CTRL, Duration::from_secs(2)).unwrap();
        let list_families = |socket: &mut GenlSocket, abandon| {
            let request = [CTRL_CMD_GETFAMILY, 2, 0, 0];
            socket
                .exchange(flags::REQUEST | flags::DUMP, &request, abandon)
                .unwrap()
        };
        let dump = list_families(&mut socket, false);
        assert_eq!(dump.outcome, Outcome::Accepted);
        assert!(dump.replies >= 1, "the controller lists itself");

        // An unknown command is refused whether or not an ack was asked for.
        for request_flags in [flags::REQUEST | flags::ACK, flags::REQUEST] {
            let refused = socket.exchange(request_flags, &[200, 1, 0, 0], false);
            assert_eq!(
                refused.unwrap().outcome,
                Outcome::Rejected(libc::EOPNOTSUPP)
            );
        }

        // The rest of a dump left after its first entry must not be taken for the replies
        // to the next request.
        let abandoned = list_families(&mut socket, true);
        assert!(matches!(
            abandoned.outcome,
            Outcome::Abandoned | Outcome::Accepted
        ));
        let after = socket
            .exchange(flags::REQUEST | flags::ACK, &[200, 1, 0, 0], false)
            .unwrap();
        assert_eq!(after.outcome, Outcome::Rejected(libc::EOPNOTSUPP));
    }
}
