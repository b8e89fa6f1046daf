//! Ethernet frames carrying IPv4, built byte by byte: valid TCP SYNs with correct checksums,
//! and malformed frames of many kinds, each wrong in exactly the way its name says. Pure
//! functions of their inputs and the random generator, so tests can parse back what they
//! claim.

use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::prng::Prng;

/// Size of an Ethernet header.
pub const ETH_HEADER_LEN: usize = 14;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Size of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Size of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;
/// Size of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// IPv4 "more fragments" flag, in the flags and fragment offset field.
pub const IP_MORE_FRAGMENTS: u16 = 0x2000;
/// IPv4 "don't fragment" flag.
pub const IP_DONT_FRAGMENT: u16 = 0x4000;
/// The fragment offset bits, in units of eight bytes.
pub const IP_OFFSET_MASK: u16 = 0x1fff;
/// TCP option: maximum segment size 1460.
pub const MSS_OPTION: [u8; 4] = [2, 4, 0x05, 0xb4];

/// IP protocol numbers.
pub mod protocol {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// Generic Routing Encapsulation.
    pub const GRE: u8 = 47;
}

/// TCP header flags.
pub mod tcp_flags {
    /// No more data.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// Acknowledgement field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer significant.
    pub const URG: u8 = 0x20;
    /// Every flag, CWR and ECE included.
    pub const ALL: u8 = 0xff;
}

/// Offsets into a frame of the fields the malformed kinds change.
mod at {
    use super::ETH_HEADER_LEN;
    pub const VERSION_IHL: usize = ETH_HEADER_LEN;
    pub const TOTAL_LEN: usize = ETH_HEADER_LEN + 2;
    pub const IP_CHECKSUM: usize = ETH_HEADER_LEN + 10;
    /// From the start of the TCP header.
    pub const TCP_OFFSET: usize = 12;
    pub const TCP_CHECKSUM: usize = 16;
}

/// The RFC 1071 sum of `bytes` added to `sum`, as 16-bit big-endian words (an odd last byte
/// padded with zero).
fn add_words(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of `bytes` (RFC 1071), to be stored big-endian.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    fold(add_words(0, bytes))
}

/// The TCP or UDP checksum of `segment` (its checksum field zero) between `src` and `dst`:
/// the Internet checksum over the IPv4 pseudo-header and the segment.
pub fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = protocol;
    pseudo[10..].copy_from_slice(&(segment.len() as u16).to_be_bytes());
    fold(add_words(add_words(0, &pseudo), segment))
}

/// A block of IPv4 source addresses, `A.B.C.D/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRange {
    base: u32,
    prefix: u8,
}

impl SourceRange {
    /// A random address of the block; in blocks of four or more addresses, not the first or
    /// the last, which look like network and broadcast addresses.
    pub fn pick(&self, rng: &mut Prng) -> Ipv4Addr {
        let host_mask = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
        loop {
            let host = rng.next_u32() & host_mask;
            if self.prefix > 30 || (host != 0 && host != host_mask) {
                return Ipv4Addr::from(self.base | host);
            }
        }
    }

    /// How many addresses [`SourceRange::pick`] chooses from.
    pub fn usable(&self) -> u64 {
        let size = 1u64 << (32 - u32::from(self.prefix));
        if self.prefix > 30 {
            size
        } else {
            size - 2
        }
    }

    /// Usable address `n` (below [`SourceRange::usable`]), in address order.
    pub fn nth(&self, n: u64) -> Ipv4Addr {
        assert!(
            n < self.usable(),
            "address {n} of a block of {}",
            self.usable()
        );
        let first = u32::from(self.prefix <= 30);
        Ipv4Addr::from(self.base + first + n as u32)
    }

    /// Whether `addr` lies in the block.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let net_mask = !u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
        u32::from(addr) & net_mask == self.base
    }
}

impl FromStr for SourceRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = text.split_once('/').unwrap_or((text, "32"));
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("'{addr}' is not an IPv4 address"))?;
        let prefix: u8 = match prefix.parse() {
            Ok(prefix) if prefix <= 32 => prefix,
            _ => return Err(format!("'{prefix}' is not a prefix length (0 to 32)")),
        };
        let net_mask = !u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
        Ok(SourceRange {
            base: u32::from(addr) & net_mask,
            prefix,
        })
    }
}

/// Where frames go: the dispatcher's MAC, this interface's MAC, the cluster address and
/// port, and the block client addresses are drawn from.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The dispatcher's MAC.
    pub dst_mac: [u8; 6],
    /// The sending interface's MAC.
    pub src_mac: [u8; 6],
    /// The cluster address.
    pub vip: Ipv4Addr,
    /// The configured port.
    pub port: u16,
    /// Client addresses.
    pub sources: SourceRange,
}

/// An IPv4 header's variable fields; the builder fills in the rest.
#[derive(Clone, Debug)]
pub struct Ipv4Fields {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol number.
    pub protocol: u8,
    /// Identification.
    pub ident: u16,
    /// Flags and fragment offset.
    pub fragment: u16,
    /// Options, padded with end-of-list bytes to a multiple of four.
    pub options: Vec<u8>,
}

/// An IPv4 packet with a correct header length, total length and checksum.
pub fn ipv4_packet(fields: &Ipv4Fields, payload: &[u8]) -> Vec<u8> {
    let mut options = fields.options.clone();
    options.resize(options.len().next_multiple_of(4), 0);
    let header_len = IPV4_HEADER_LEN + options.len();
    let mut packet = Vec::with_capacity(header_len + payload.len());
    packet.push(0x40 | (header_len / 4) as u8);
    packet.push(0);
    packet.extend_from_slice(&((header_len + payload.len()) as u16).to_be_bytes());
    packet.extend_from_slice(&fields.ident.to_be_bytes());
    packet.extend_from_slice(&fields.fragment.to_be_bytes());
    packet.push(64);
    packet.push(fields.protocol);
    packet.extend_from_slice(&[0, 0]);
    packet.extend_from_slice(&fields.src.octets());
    packet.extend_from_slice(&fields.dst.octets());
    packet.extend_from_slice(&options);
    let checksum = internet_checksum(&packet);
    packet[10..12].copy_from_slice(&checksum.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// A TCP header's fields.
#[derive(Clone, Debug)]
pub struct TcpFields {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: u8,
    /// Options, padded with end-of-list bytes to a multiple of four.
    pub options: Vec<u8>,
}

/// A TCP segment from `src` to `dst` with a correct data offset and checksum.
pub fn tcp_segment(src: Ipv4Addr, dst: Ipv4Addr, fields: &TcpFields, payload: &[u8]) -> Vec<u8> {
    let mut options = fields.options.clone();
    options.resize(options.len().next_multiple_of(4), 0);
    let header_len = TCP_HEADER_LEN + options.len();
    let mut segment = Vec::with_capacity(header_len + payload.len());
    segment.extend_from_slice(&fields.src_port.to_be_bytes());
    segment.extend_from_slice(&fields.dst_port.to_be_bytes());
    segment.extend_from_slice(&fields.seq.to_be_bytes());
    segment.extend_from_slice(&fields.ack.to_be_bytes());
    segment.push(((header_len / 4) as u8) << 4);
    segment.push(fields.flags);
    segment.extend_from_slice(&64_240u16.to_be_bytes());
    segment.extend_from_slice(&[0, 0, 0, 0]);
    segment.extend_from_slice(&options);
    segment.extend_from_slice(payload);
    let checksum = transport_checksum(src, dst, protocol::TCP, &segment);
    segment[at::TCP_CHECKSUM..at::TCP_CHECKSUM + 2].copy_from_slice(&checksum.to_be_bytes());
    segment
}

/// A UDP datagram from `src` to `dst` with a correct length and checksum.
pub fn udp_datagram(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(UDP_HEADER_LEN + payload.len());
    datagram.extend_from_slice(&src_port.to_be_bytes());
    datagram.extend_from_slice(&dst_port.to_be_bytes());
    datagram.extend_from_slice(&((UDP_HEADER_LEN + payload.len()) as u16).to_be_bytes());
    datagram.extend_from_slice(&[0, 0]);
    datagram.extend_from_slice(payload);
    // A computed zero goes out as all ones; zero means "no checksum".
    let checksum = match transport_checksum(src, dst, protocol::UDP, &datagram) {
        0 => 0xffff,
        sum => sum,
    };
    datagram[6..8].copy_from_slice(&checksum.to_be_bytes());
    datagram
}

/// An Ethernet frame of `target`'s MACs carrying the IPv4 `packet`.
pub fn ethernet_frame(target: &Target, packet: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ETH_HEADER_LEN + packet.len());
    frame.extend_from_slice(&target.dst_mac);
    frame.extend_from_slice(&target.src_mac);
    frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    frame.extend_from_slice(packet);
    frame
}

/// A client's TCP header to `dst_port`: random source port and sequence number.
fn client_tcp(rng: &mut Prng, dst_port: u16, flags: u8, options: &[u8]) -> TcpFields {
    TcpFields {
        src_port: rng.between(1024, 65_535) as u16,
        dst_port,
        seq: rng.next_u32(),
        ack: if flags & tcp_flags::ACK != 0 {
            rng.next_u32()
        } else {
            0
        },
        flags,
        options: options.to_vec(),
    }
}

/// IPv4 fields of a packet from a random client of `target` to the cluster address.
fn client_ip(target: &Target, rng: &mut Prng, protocol: u8, fragment: u16) -> Ipv4Fields {
    Ipv4Fields {
        src: target.sources.pick(rng),
        dst: target.vip,
        protocol,
        ident: rng.next_u16(),
        fragment,
        options: Vec::new(),
    }
}

/// A frame of a TCP segment with `flags` to `dst_port`, IP options `ip_options` and flags
/// and fragment field `fragment`; every length and checksum correct.
fn tcp_frame(
    target: &Target,
    rng: &mut Prng,
    dst_port: u16,
    flags: u8,
    ip_options: &[u8],
    fragment: u16,
) -> Vec<u8> {
    let mut ip = client_ip(target, rng, protocol::TCP, fragment);
    ip.options = ip_options.to_vec();
    let tcp_options: &[u8] = if flags & tcp_flags::SYN != 0 {
        &MSS_OPTION
    } else {
        &[]
    };
    let tcp = client_tcp(rng, dst_port, flags, tcp_options);
    ethernet_frame(
        target,
        &ipv4_packet(&ip, &tcp_segment(ip.src, ip.dst, &tcp, &[])),
    )
}

/// A valid TCP SYN to the cluster address and port: random client address and port, random
/// sequence number, an MSS option, correct checksums.
pub fn syn_frame(target: &Target, rng: &mut Prng) -> Vec<u8> {
    tcp_frame(
        target,
        rng,
        target.port,
        tcp_flags::SYN,
        &[],
        IP_DONT_FRAGMENT,
    )
}

/// Recomputes the IPv4 header checksum over the first `header_len` bytes of the packet, or
/// as many as the frame holds.
fn refresh_ip_checksum(frame: &mut [u8], header_len: usize) {
    frame[at::IP_CHECKSUM..at::IP_CHECKSUM + 2].fill(0);
    let end = (ETH_HEADER_LEN + header_len).min(frame.len());
    let checksum = internet_checksum(&frame[ETH_HEADER_LEN..end]);
    frame[at::IP_CHECKSUM..at::IP_CHECKSUM + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// Recomputes the TCP checksum of a frame whose IPv4 header has no options.
fn refresh_tcp_checksum(frame: &mut [u8]) {
    let tcp_start = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    let checksum_at = tcp_start + at::TCP_CHECKSUM;
    frame[checksum_at..checksum_at + 2].fill(0);
    let address = |from: usize| {
        let octets: [u8; 4] = frame[from..from + 4].try_into().expect("four bytes");
        Ipv4Addr::from(octets)
    };
    let (src, dst) = (address(ETH_HEADER_LEN + 12), address(ETH_HEADER_LEN + 16));
    let checksum = transport_checksum(src, dst, protocol::TCP, &frame[tcp_start..]);
    frame[checksum_at..checksum_at + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// The kinds of malformed or unexpected frames `raw-packets --kind malformed` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Fewer than 20 bytes of IPv4 header.
    TruncatedIp,
    /// A header length below five words.
    IhlBelowFive,
    /// A header length beyond the end of the packet.
    IhlBeyondPacket,
    /// A total length beyond the end of the frame.
    TotalLengthAboveFrame,
    /// A total length short of the bytes in the frame, cutting into the headers.
    TotalLengthBelowFrame,
    /// 4 to 40 bytes of IP options (no-ops, end-of-list, random) before a valid SYN.
    IpOptions,
    /// A first fragment (more-fragments set, offset 0) of a SYN to the cluster port.
    FirstFragment,
    /// A later fragment (offset above 0) of TCP to the cluster address.
    LaterFragment,
    /// A wrong IPv4 header checksum.
    BadIpChecksum,
    /// Fewer than 20 bytes of TCP header.
    TruncatedTcp,
    /// A TCP data offset below five words.
    TcpOffsetBelowFive,
    /// A TCP data offset beyond the end of the segment.
    TcpOffsetBeyondPacket,
    /// A wrong TCP checksum.
    BadTcpChecksum,
    /// SYN and FIN together.
    FlagsSynFin,
    /// SYN and RST together.
    FlagsSynRst,
    /// FIN without ACK.
    FlagsFinWithoutAck,
    /// No flag at all.
    FlagsNone,
    /// Every flag.
    FlagsAll,
    /// URG alone.
    FlagsUrgOnly,
    /// UDP to the cluster address and port.
    Udp,
    /// GRE to the cluster address.
    Gre,
    /// Another protocol number to the cluster address.
    OtherProtocol,
    /// A valid SYN to a port the cluster address does not serve.
    UnconfiguredPort,
}

impl Malformed {
    /// Every kind.
    pub const ALL: [Malformed; 23] = [
        Malformed::TruncatedIp,
        Malformed::IhlBelowFive,
        Malformed::IhlBeyondPacket,
        Malformed::TotalLengthAboveFrame,
        Malformed::TotalLengthBelowFrame,
        Malformed::IpOptions,
        Malformed::FirstFragment,
        Malformed::LaterFragment,
        Malformed::BadIpChecksum,
        Malformed::TruncatedTcp,
        Malformed::TcpOffsetBelowFive,
        Malformed::TcpOffsetBeyondPacket,
        Malformed::BadTcpChecksum,
        Malformed::FlagsSynFin,
        Malformed::FlagsSynRst,
        Malformed::FlagsFinWithoutAck,
        Malformed::FlagsNone,
        Malformed::FlagsAll,
        Malformed::FlagsUrgOnly,
        Malformed::Udp,
        Malformed::Gre,
        Malformed::OtherProtocol,
        Malformed::UnconfiguredPort,
    ];

    /// The name reports count the kind under.
    pub fn name(self) -> &'static str {
        match self {
            Malformed::TruncatedIp => "truncated_ip",
            Malformed::IhlBelowFive => "ihl_below_5",
            Malformed::IhlBeyondPacket => "ihl_beyond_packet",
            Malformed::TotalLengthAboveFrame => "tot_len_above_frame",
            Malformed::TotalLengthBelowFrame => "tot_len_below_frame",
            Malformed::IpOptions => "ip_options",
            Malformed::FirstFragment => "first_fragment",
            Malformed::LaterFragment => "later_fragment",
            Malformed::BadIpChecksum => "bad_ip_checksum",
            Malformed::TruncatedTcp => "truncated_tcp",
            Malformed::TcpOffsetBelowFive => "tcp_offset_below_5",
            Malformed::TcpOffsetBeyondPacket => "tcp_offset_beyond_packet",
            Malformed::BadTcpChecksum => "bad_tcp_checksum",
            Malformed::FlagsSynFin => "flags_syn_fin",
            Malformed::FlagsSynRst => "flags_syn_rst",
            Malformed::FlagsFinWithoutAck => "flags_fin_without_ack",
            Malformed::FlagsNone => "flags_none",
            Malformed::FlagsAll => "flags_all",
            Malformed::FlagsUrgOnly => "flags_urg_only",
            Malformed::Udp => "udp",
            Malformed::Gre => "gre",
            Malformed::OtherProtocol => "other_protocol",
            Malformed::UnconfiguredPort => "unconfigured_port",
        }
    }

    /// The TCP flags of the odd-flag kinds.
    fn odd_flags(self) -> Option<u8> {
        use tcp_flags::*;
        Some(match self {
            Malformed::FlagsSynFin => SYN | FIN,
            Malformed::FlagsSynRst => SYN | RST,
            Malformed::FlagsFinWithoutAck => FIN,
            Malformed::FlagsNone => 0,
            Malformed::FlagsAll => ALL,
            Malformed::FlagsUrgOnly => URG,
            _ => return None,
        })
    }
}

/// A frame of `kind` to `target`.
pub fn malformed_frame(kind: Malformed, target: &Target, rng: &mut Prng) -> Vec<u8> {
    if let Some(flags) = kind.odd_flags() {
        return tcp_frame(target, rng, target.port, flags, &[], 0);
    }
    let syn = |rng: &mut Prng| tcp_frame(target, rng, target.port, tcp_flags::SYN, &[], 0);
    // A SYN without options: 20 bytes of IP and 20 of TCP, so lengths are easy to exceed.
    let bare_syn = |rng: &mut Prng| {
        let ip = client_ip(target, rng, protocol::TCP, 0);
        let tcp = client_tcp(rng, target.port, tcp_flags::SYN, &[]);
        ethernet_frame(
            target,
            &ipv4_packet(&ip, &tcp_segment(ip.src, ip.dst, &tcp, &[])),
        )
    };
    match kind {
        Malformed::TruncatedIp => {
            let mut frame = syn(rng);
            frame.truncate(ETH_HEADER_LEN + rng.below(IPV4_HEADER_LEN as u64) as usize);
            frame
        }
        Malformed::IhlBelowFive => {
            let mut frame = syn(rng);
            frame[at::VERSION_IHL] = 0x40 | rng.below(5) as u8;
            refresh_ip_checksum(&mut frame, IPV4_HEADER_LEN);
            frame
        }
        Malformed::IhlBeyondPacket => {
            let mut frame = bare_syn(rng);
            let ip_len = frame.len() - ETH_HEADER_LEN;
            let ihl = rng.between(ip_len as u64 / 4 + 1, 15) as u8;
            frame[at::VERSION_IHL] = 0x40 | ihl;
            refresh_ip_checksum(&mut frame, usize::from(ihl) * 4);
            frame
        }
        Malformed::TotalLengthAboveFrame | Malformed::TotalLengthBelowFrame => {
            let mut frame = syn(rng);
            let ip_len = (frame.len() - ETH_HEADER_LEN) as u64;
            let total = if kind == Malformed::TotalLengthAboveFrame {
                rng.between(ip_len + 1, ip_len + 1500)
            } else {
                rng.below(ip_len)
            };
            frame[at::TOTAL_LEN..at::TOTAL_LEN + 2].copy_from_slice(&(total as u16).to_be_bytes());
            refresh_ip_checksum(&mut frame, IPV4_HEADER_LEN);
            frame
        }
        Malformed::IpOptions => {
            let words = rng.between(1, 10) as usize;
            let options: Vec<u8> = (0..words * 4)
                .map(|_| match rng.below(3) {
                    0 => 0,
                    1 => 1,
                    _ => rng.next_u8(),
                })
                .collect();
            tcp_frame(target, rng, target.port, tcp_flags::SYN, &options, 0)
        }
        Malformed::FirstFragment => {
            let ip = client_ip(target, rng, protocol::TCP, IP_MORE_FRAGMENTS);
            let tcp = client_tcp(rng, target.port, tcp_flags::SYN, &MSS_OPTION);
            let data_len = 8 * rng.between(1, 8) as usize;
            let segment = tcp_segment(ip.src, ip.dst, &tcp, &rng.bytes(data_len));
            ethernet_frame(target, &ipv4_packet(&ip, &segment))
        }
        Malformed::LaterFragment => {
            let more = if rng.chance(50) { IP_MORE_FRAGMENTS } else { 0 };
            let offset = rng.between(1, u64::from(IP_OFFSET_MASK)) as u16;
            let ip = client_ip(target, rng, protocol::TCP, more | offset);
            let len = 8 * rng.between(1, 8) as usize;
            ethernet_frame(target, &ipv4_packet(&ip, &rng.bytes(len)))
        }
        Malformed::BadIpChecksum => {
            let mut frame = syn(rng);
            let flip = rng.between(1, 0xffff) as u16;
            let at = at::IP_CHECKSUM;
            let wrong = u16::from_be_bytes([frame[at], frame[at + 1]]) ^ flip;
            frame[at..at + 2].copy_from_slice(&wrong.to_be_bytes());
            frame
        }
        Malformed::TruncatedTcp => {
            let ip = client_ip(target, rng, protocol::TCP, 0);
            let tcp = client_tcp(rng, target.port, tcp_flags::SYN, &[]);
            let mut segment = tcp_segment(ip.src, ip.dst, &tcp, &[]);
            segment.truncate(rng.below(TCP_HEADER_LEN as u64) as usize);
            ethernet_frame(target, &ipv4_packet(&ip, &segment))
        }
        Malformed::TcpOffsetBelowFive | Malformed::TcpOffsetBeyondPacket => {
            let mut frame = bare_syn(rng);
            let words = if kind == Malformed::TcpOffsetBelowFive {
                rng.below(5)
            } else {
                rng.between(6, 15)
            };
            frame[ETH_HEADER_LEN + IPV4_HEADER_LEN + at::TCP_OFFSET] = (words as u8) << 4;
            refresh_tcp_checksum(&mut frame);
            frame
        }
        Malformed::BadTcpChecksum => {
            let mut frame = bare_syn(rng);
            let at = ETH_HEADER_LEN + IPV4_HEADER_LEN + at::TCP_CHECKSUM;
            let flip = rng.between(1, 0xffff) as u16;
            let wrong = u16::from_be_bytes([frame[at], frame[at + 1]]) ^ flip;
            frame[at..at + 2].copy_from_slice(&wrong.to_be_bytes());
            frame
        }
        Malformed::Udp => {
            let ip = client_ip(target, rng, protocol::UDP, 0);
            let src_port = rng.between(1024, 65_535) as u16;
            let len = rng.below(33) as usize;
            let datagram = udp_datagram(ip.src, ip.dst, src_port, target.port, &rng.bytes(len));
            ethernet_frame(target, &ipv4_packet(&ip, &datagram))
        }
        Malformed::Gre => {
            let ip = client_ip(target, rng, protocol::GRE, 0);
            // No GRE flags, version 0, carrying IPv4; then random bytes as the inner packet.
            let mut gre = vec![0, 0, 0x08, 0x00];
            let inner = rng.between(20, 40) as usize;
            gre.extend(rng.bytes(inner));
            ethernet_frame(target, &ipv4_packet(&ip, &gre))
        }
        Malformed::OtherProtocol => {
            let number = loop {
                let number = rng.next_u8();
                if ![protocol::TCP, protocol::UDP, protocol::GRE].contains(&number) {
                    break number;
                }
            };
            let ip = client_ip(target, rng, number, 0);
            let len = rng.below(65) as usize;
            ethernet_frame(target, &ipv4_packet(&ip, &rng.bytes(len)))
        }
        Malformed::UnconfiguredPort => {
            let port = loop {
                let port = rng.next_u16();
                if port != 0 && port != target.port {
                    break port;
                }
            };
            tcp_frame(target, rng, port, tcp_flags::SYN, &[], 0)
        }
        Malformed::FlagsSynFin
        | Malformed::FlagsSynRst
        | Malformed::FlagsFinWithoutAck
        | Malformed::FlagsNone
        | Malformed::FlagsAll
        | Malformed::FlagsUrgOnly => unreachable!("handled with the other odd flags"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            dst_mac: [0x02, 0, 0, 0, 0, 0x01],
            src_mac: [0x02, 0, 0, 0, 0, 0x02],
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 80,
            sources: "172.16.0.0/12".parse().unwrap(),
        }
    }

    /// What a receiver would read from a frame, without trusting any length in it.
    #[derive(Debug)]
    struct Parsed {
        ip_bytes: usize,
        ihl_bytes: usize,
        total_len: usize,
        ip_checksum_ok: bool,
        fragment: u16,
        protocol: u8,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        /// Bytes after the IP header, when the header fits in the frame.
        transport: Option<Vec<u8>>,
    }

    fn parse(frame: &[u8]) -> Parsed {
        let ip = &frame[ETH_HEADER_LEN..];
        let ihl_bytes = ip.first().map_or(0, |b| usize::from(b & 0xf) * 4);
        let complete = ip.len() >= IPV4_HEADER_LEN;
        let field = |from: usize| u16::from_be_bytes([ip[from], ip[from + 1]]);
        let address =
            |from: usize| Ipv4Addr::new(ip[from], ip[from + 1], ip[from + 2], ip[from + 3]);
        Parsed {
            ip_bytes: ip.len(),
            ihl_bytes,
            total_len: if ip.len() >= 4 {
                usize::from(field(2))
            } else {
                0
            },
            ip_checksum_ok: complete
                && ihl_bytes >= IPV4_HEADER_LEN
                && ihl_bytes <= ip.len()
                && internet_checksum(&ip[..ihl_bytes]) == 0,
            fragment: if complete { field(6) } else { 0 },
            protocol: if complete { ip[9] } else { 0 },
            src: if complete {
                address(12)
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            dst: if complete {
                address(16)
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            transport: (complete && ihl_bytes >= IPV4_HEADER_LEN && ihl_bytes <= ip.len())
                .then(|| ip[ihl_bytes..].to_vec()),
        }
    }

    fn tcp_checksum_ok(parsed: &Parsed) -> bool {
        let segment = parsed.transport.as_ref().unwrap();
        transport_checksum(parsed.src, parsed.dst, protocol::TCP, segment) == 0
    }

    fn frames(kind: Malformed) -> Vec<(Vec<u8>, Parsed)> {
        let mut rng = Prng::new(kind as u64);
        (0..200)
            .map(|_| {
                let frame = malformed_frame(kind, &target(), &mut rng);
                assert_eq!(&frame[..6], &target().dst_mac);
                assert_eq!(&frame[6..12], &target().src_mac);
                assert_eq!(&frame[12..14], &[0x08, 0x00]);
                let parsed = parse(&frame);
                (frame, parsed)
            })
            .collect()
    }

    #[test]
    fn checksums_match_known_vectors() {
        // RFC 1071, section 3: the sum of these words is ddf2.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        // A classic IPv4 header with its checksum field zeroed: the checksum is b861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(&header), 0xb861);
        // An odd length is padded with a zero byte.
        assert_eq!(internet_checksum(&[0x01]), !0x0100);
        // A TCP SYN 10.0.0.2:40000 -> 10.0.0.100:80, seq 1, MSS 1460, window 64240.
        let segment = tcp_segment(
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 100),
            &TcpFields {
                src_port: 40_000,
                dst_port: 80,
                seq: 1,
                ack: 0,
                flags: tcp_flags::SYN,
                options: MSS_OPTION.to_vec(),
            },
            &[],
        );
        assert_eq!(u16::from_be_bytes([segment[16], segment[17]]), 0xec3e);
    }

    #[test]
    fn a_syn_is_valid_throughout() {
        let mut rng = Prng::new(1);
        for _ in 0..100 {
            let frame = syn_frame(&target(), &mut rng);
            let parsed = parse(&frame);
            assert_eq!(parsed.ihl_bytes, IPV4_HEADER_LEN);
            assert_eq!(parsed.total_len, parsed.ip_bytes);
            assert!(parsed.ip_checksum_ok);
            assert_eq!(parsed.fragment, IP_DONT_FRAGMENT);
            assert_eq!(parsed.protocol, protocol::TCP);
            assert_eq!(parsed.dst, target().vip);
            assert!(target().sources.contains(parsed.src));
            let tcp = parsed.transport.as_ref().unwrap();
            assert_eq!(u16::from_be_bytes([tcp[2], tcp[3]]), 80);
            assert!(u16::from_be_bytes([tcp[0], tcp[1]]) >= 1024);
            assert_eq!(tcp[12] >> 4, 6, "header and MSS option");
            assert_eq!(tcp[13], tcp_flags::SYN);
            assert_eq!(&tcp[20..24], &MSS_OPTION);
            assert!(tcp_checksum_ok(&parsed));
        }
    }

    #[test]
    fn ip_header_kinds_break_what_they_claim() {
        for (_, p) in frames(Malformed::TruncatedIp) {
            assert!(p.ip_bytes < IPV4_HEADER_LEN);
        }
        for (_, p) in frames(Malformed::IhlBelowFive) {
            assert!(p.ihl_bytes < IPV4_HEADER_LEN);
            assert_eq!(p.total_len, p.ip_bytes);
        }
        for (_, p) in frames(Malformed::IhlBeyondPacket) {
            assert!(p.ihl_bytes > p.ip_bytes);
            assert_eq!(p.total_len, p.ip_bytes);
        }
        for (_, p) in frames(Malformed::TotalLengthAboveFrame) {
            assert!(p.total_len > p.ip_bytes);
            assert!(p.ip_checksum_ok, "only the length is wrong");
        }
        for (_, p) in frames(Malformed::TotalLengthBelowFrame) {
            assert!(p.total_len < p.ip_bytes);
            assert!(p.ip_checksum_ok, "only the length is wrong");
        }
        for (_, p) in frames(Malformed::BadIpChecksum) {
            assert!(!p.ip_checksum_ok);
            assert!(tcp_checksum_ok(&p));
        }
        for (_, p) in frames(Malformed::IpOptions) {
            assert!((24..=60).contains(&p.ihl_bytes));
            assert!(p.ip_checksum_ok);
            assert_eq!(p.total_len, p.ip_bytes);
            assert!(tcp_checksum_ok(&p), "a valid SYN follows the options");
            assert_eq!(p.transport.as_ref().unwrap()[13], tcp_flags::SYN);
        }
    }

    #[test]
    fn fragments_are_fragments() {
        for (_, p) in frames(Malformed::FirstFragment) {
            assert_eq!(p.fragment & IP_MORE_FRAGMENTS, IP_MORE_FRAGMENTS);
            assert_eq!(p.fragment & IP_OFFSET_MASK, 0);
            assert!(p.ip_checksum_ok);
            assert_eq!(p.transport.as_ref().unwrap()[13], tcp_flags::SYN);
        }
        for (_, p) in frames(Malformed::LaterFragment) {
            assert!(p.fragment & IP_OFFSET_MASK > 0);
            assert!(p.ip_checksum_ok);
            assert_eq!((p.protocol, p.dst), (protocol::TCP, target().vip));
        }
    }

    #[test]
    fn tcp_kinds_break_what_they_claim() {
        for (_, p) in frames(Malformed::TruncatedTcp) {
            assert!(p.ip_checksum_ok && p.total_len == p.ip_bytes);
            assert!(p.transport.unwrap().len() < TCP_HEADER_LEN);
        }
        for (_, p) in frames(Malformed::TcpOffsetBelowFive) {
            assert!(p.ip_checksum_ok && tcp_checksum_ok(&p));
            assert!(p.transport.unwrap()[12] >> 4 < 5);
        }
        for (_, p) in frames(Malformed::TcpOffsetBeyondPacket) {
            assert!(p.ip_checksum_ok && tcp_checksum_ok(&p));
            let tcp = p.transport.unwrap();
            assert!(usize::from(tcp[12] >> 4) * 4 > tcp.len());
        }
        for (_, p) in frames(Malformed::BadTcpChecksum) {
            assert!(p.ip_checksum_ok && !tcp_checksum_ok(&p));
        }
        for kind in Malformed::ALL {
            let Some(flags) = kind.odd_flags() else {
                continue;
            };
            for (_, p) in frames(kind) {
                assert!(p.ip_checksum_ok && tcp_checksum_ok(&p), "{kind:?}");
                let tcp = p.transport.unwrap();
                assert_eq!(tcp[13], flags, "{kind:?}");
                assert_eq!(u16::from_be_bytes([tcp[2], tcp[3]]), 80);
            }
        }
        for (_, p) in frames(Malformed::UnconfiguredPort) {
            assert!(tcp_checksum_ok(&p));
            let tcp = p.transport.unwrap();
            let port = u16::from_be_bytes([tcp[2], tcp[3]]);
            assert!(port != 80 && port != 0);
            assert_eq!(tcp[13], tcp_flags::SYN);
        }
    }

    #[test]
    fn other_protocols_go_to_the_cluster_address() {
        for (_, p) in frames(Malformed::Udp) {
            assert_eq!(p.protocol, protocol::UDP);
            let udp = p.transport.as_ref().unwrap();
            assert_eq!(usize::from(u16::from_be_bytes([udp[4], udp[5]])), udp.len());
            assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), 80);
            assert_eq!(transport_checksum(p.src, p.dst, protocol::UDP, udp), 0);
        }
        for (_, p) in frames(Malformed::Gre) {
            assert_eq!(p.protocol, protocol::GRE);
            assert_eq!(&p.transport.unwrap()[..4], &[0, 0, 0x08, 0x00]);
        }
        for (_, p) in frames(Malformed::OtherProtocol) {
            assert!(![protocol::TCP, protocol::UDP, protocol::GRE].contains(&p.protocol));
            assert!(p.ip_checksum_ok);
        }
        for kind in Malformed::ALL {
            if kind == Malformed::TruncatedIp {
                continue;
            }
            for (_, p) in frames(kind) {
                assert_eq!(p.dst, target().vip, "{kind:?}");
                assert!(target().sources.contains(p.src), "{kind:?}");
            }
        }
    }

    #[test]
    fn kind_names_are_distinct() {
        let mut names: Vec<&str> = Malformed::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Malformed::ALL.len());
    }

    #[test]
    fn source_ranges_parse_and_contain_their_picks() {
        let range: SourceRange = "172.16.5.9/12".parse().unwrap();
        assert_eq!(range, "172.16.0.0/12".parse().unwrap());
        let mut rng = Prng::new(4);
        for _ in 0..1000 {
            let addr = range.pick(&mut rng);
            assert!(range.contains(addr));
            assert_ne!(addr, Ipv4Addr::new(172, 16, 0, 0));
            assert_ne!(addr, Ipv4Addr::new(172, 31, 255, 255));
        }
        assert_eq!(range.usable(), (1 << 20) - 2);
        assert_eq!(range.nth(0), Ipv4Addr::new(172, 16, 0, 1));
        assert_eq!(range.nth((1 << 20) - 3), Ipv4Addr::new(172, 31, 255, 254));
        let pair: SourceRange = "192.0.2.6/31".parse().unwrap();
        assert_eq!(
            (pair.usable(), pair.nth(1)),
            (2, Ipv4Addr::new(192, 0, 2, 7))
        );
        let single: SourceRange = "192.0.2.7".parse().unwrap();
        assert_eq!(
            (single.usable(), single.nth(0)),
            (1, Ipv4Addr::new(192, 0, 2, 7))
        );
        assert_eq!(single.pick(&mut rng), Ipv4Addr::new(192, 0, 2, 7));
        let everything: SourceRange = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(everything.pick(&mut rng)));
        assert!("10.0.0.0/33".parse::<SourceRange>().is_err());
        assert!("10.0.0/8".parse::<SourceRange>().is_err());
    }
}
