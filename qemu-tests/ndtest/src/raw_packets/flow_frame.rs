//! Frames of many TCP flows to the cluster address, written in place into a reused buffer
//! at the rate a packet injector needs. Each kind of frame (the SYN that opens a flow, the
//! ACK segments that follow) is built once by [`super::frame`]'s builders as a template;
//! a frame is then the template with the flow's client address and port, its sequence and
//! acknowledgement numbers and the IP identification patched in, and both checksums
//! recomputed.

use std::net::Ipv4Addr;

use super::frame::{
    ethernet_frame, internet_checksum, ipv4_packet, protocol, tcp_flags, tcp_segment,
    transport_checksum, Ipv4Fields, Target, TcpFields, ETH_HEADER_LEN, IPV4_HEADER_LEN,
    IP_DONT_FRAGMENT, MSS_OPTION,
};

/// Offsets into a frame without IP options.
mod at {
    use super::{ETH_HEADER_LEN, IPV4_HEADER_LEN};
    pub const IP: usize = ETH_HEADER_LEN;
    pub const IDENT: usize = IP + 4;
    pub const IP_CHECKSUM: usize = IP + 10;
    pub const SRC: usize = IP + 12;
    pub const DST: usize = IP + 16;
    pub const TCP: usize = IP + IPV4_HEADER_LEN;
    pub const SRC_PORT: usize = TCP;
    pub const SEQ: usize = TCP + 4;
    pub const ACK: usize = TCP + 8;
    pub const TCP_CHECKSUM: usize = TCP + 16;
}

/// One flow's client side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowEnd {
    pub addr: Ipv4Addr,
    pub port: u16,
    /// The client's initial sequence number.
    pub isn: u32,
    /// What the client acknowledges of the server's sequence space (the server's answers
    /// never come back through the balancer, so any fixed number does).
    pub ack: u32,
}

/// The two frame templates of a flow stream.
#[derive(Clone, Debug)]
pub struct FlowFrames {
    syn: Vec<u8>,
    ack: Vec<u8>,
    payload_len: u32,
}

fn template(target: &Target, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ip = Ipv4Fields {
        src: Ipv4Addr::UNSPECIFIED,
        dst: target.vip,
        protocol: protocol::TCP,
        ident: 0,
        fragment: IP_DONT_FRAGMENT,
        options: Vec::new(),
    };
    let tcp = TcpFields {
        src_port: 0,
        dst_port: target.port,
        seq: 0,
        ack: 0,
        flags,
        options: options.to_vec(),
    };
    ethernet_frame(
        target,
        &ipv4_packet(&ip, &tcp_segment(ip.src, ip.dst, &tcp, payload)),
    )
}

impl FlowFrames {
    /// Templates for flows to `target` (its `sources` are not used: flows bring their own
    /// addresses), whose ACK segments carry `payload_len` bytes.
    pub fn new(target: &Target, payload_len: u16) -> FlowFrames {
        let payload: Vec<u8> = (0..payload_len).map(|i| b'a' + (i % 26) as u8).collect();
        let ack_flags = if payload.is_empty() {
            tcp_flags::ACK
        } else {
            tcp_flags::ACK | tcp_flags::PSH
        };
        FlowFrames {
            syn: template(target, tcp_flags::SYN, &MSS_OPTION, &[]),
            ack: template(target, ack_flags, &[], &payload),
            payload_len: u32::from(payload_len),
        }
    }

    /// Bytes of a SYN frame.
    pub fn syn_len(&self) -> usize {
        self.syn.len()
    }

    /// Bytes of an ACK frame.
    pub fn ack_len(&self) -> usize {
        self.ack.len()
    }

    /// Writes the SYN opening `flow` into `out` (at least [`FlowFrames::syn_len`] bytes).
    pub fn write_syn(&self, out: &mut [u8], flow: &FlowEnd, ident: u16) {
        fill(&self.syn, out, flow, flow.isn, 0, ident);
    }

    /// Writes the ACK segment number `round` (from 0) of `flow` into `out` (at least
    /// [`FlowFrames::ack_len`] bytes). Its sequence number follows the SYN and the
    /// segments before it, so the flow reads as one stream.
    pub fn write_ack(&self, out: &mut [u8], flow: &FlowEnd, round: u64, ident: u16) {
        let seq = flow
            .isn
            .wrapping_add(1)
            .wrapping_add((round as u32).wrapping_mul(self.payload_len));
        fill(&self.ack, out, flow, seq, flow.ack, ident);
    }
}

fn fill(template: &[u8], out: &mut [u8], flow: &FlowEnd, seq: u32, ack: u32, ident: u16) {
    let frame = &mut out[..template.len()];
    frame.copy_from_slice(template);
    frame[at::IDENT..at::IDENT + 2].copy_from_slice(&ident.to_be_bytes());
    frame[at::SRC..at::SRC + 4].copy_from_slice(&flow.addr.octets());
    frame[at::IP_CHECKSUM..at::IP_CHECKSUM + 2].fill(0);
    let ip_checksum = internet_checksum(&frame[at::IP..at::TCP]);
    frame[at::IP_CHECKSUM..at::IP_CHECKSUM + 2].copy_from_slice(&ip_checksum.to_be_bytes());
    frame[at::SRC_PORT..at::SRC_PORT + 2].copy_from_slice(&flow.port.to_be_bytes());
    frame[at::SEQ..at::SEQ + 4].copy_from_slice(&seq.to_be_bytes());
    frame[at::ACK..at::ACK + 4].copy_from_slice(&ack.to_be_bytes());
    frame[at::TCP_CHECKSUM..at::TCP_CHECKSUM + 2].fill(0);
    let dst: [u8; 4] = frame[at::DST..at::DST + 4].try_into().expect("four bytes");
    let tcp_checksum = transport_checksum(
        flow.addr,
        Ipv4Addr::from(dst),
        protocol::TCP,
        &frame[at::TCP..],
    );
    frame[at::TCP_CHECKSUM..at::TCP_CHECKSUM + 2].copy_from_slice(&tcp_checksum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::super::frame::SourceRange;
    use super::*;

    fn target() -> Target {
        Target {
            dst_mac: [0x02, 0, 0, 0, 0, 0x01],
            src_mac: [0x02, 0, 0, 0, 0, 0x02],
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 80,
            sources: "172.16.0.0/12".parse::<SourceRange>().unwrap(),
        }
    }

    const FLOW: FlowEnd = FlowEnd {
        addr: Ipv4Addr::new(172, 20, 1, 2),
        port: 40_000,
        isn: 0xfffffff0,
        ack: 0x1234_5678,
    };

    /// The frame `frame`'s own builders make for the same fields.
    fn built(flags: u8, options: &[u8], seq: u32, ack: u32, ident: u16, payload: &[u8]) -> Vec<u8> {
        let ip = Ipv4Fields {
            src: FLOW.addr,
            dst: target().vip,
            protocol: protocol::TCP,
            ident,
            fragment: IP_DONT_FRAGMENT,
            options: Vec::new(),
        };
        let tcp = TcpFields {
            src_port: FLOW.port,
            dst_port: 80,
            seq,
            ack,
            flags,
            options: options.to_vec(),
        };
        ethernet_frame(
            &target(),
            &ipv4_packet(&ip, &tcp_segment(ip.src, ip.dst, &tcp, payload)),
        )
    }

    #[test]
    fn a_syn_is_the_frame_the_builders_make() {
        let frames = FlowFrames::new(&target(), 16);
        let mut out = vec![0xee; 200];
        frames.write_syn(&mut out, &FLOW, 7);
        let expected = built(tcp_flags::SYN, &MSS_OPTION, FLOW.isn, 0, 7, &[]);
        assert_eq!(frames.syn_len(), expected.len());
        assert_eq!(&out[..frames.syn_len()], &expected[..]);
    }

    #[test]
    fn acks_follow_the_stream_with_valid_checksums() {
        let frames = FlowFrames::new(&target(), 16);
        let payload: Vec<u8> = (0..16).map(|i| b'a' + i as u8).collect();
        let mut out = vec![0u8; frames.ack_len()];
        for round in [0u64, 1, 5, 1 << 33] {
            frames.write_ack(&mut out, &FLOW, round, round as u16);
            let seq = FLOW
                .isn
                .wrapping_add(1)
                .wrapping_add((round as u32).wrapping_mul(16));
            let flags = tcp_flags::ACK | tcp_flags::PSH;
            let expected = built(flags, &[], seq, FLOW.ack, round as u16, &payload);
            assert_eq!(out, expected, "round {round}");
            assert_eq!(internet_checksum(&out[at::IP..at::TCP]), 0);
            assert_eq!(
                transport_checksum(FLOW.addr, target().vip, protocol::TCP, &out[at::TCP..]),
                0
            );
        }
    }

    #[test]
    fn an_empty_payload_makes_a_pure_ack() {
        let frames = FlowFrames::new(&target(), 0);
        let mut out = vec![0u8; frames.ack_len()];
        frames.write_ack(&mut out, &FLOW, 3, 1);
        assert_eq!(frames.ack_len(), ETH_HEADER_LEN + IPV4_HEADER_LEN + 20);
        assert_eq!(
            out,
            built(
                tcp_flags::ACK,
                &[],
                FLOW.isn.wrapping_add(1),
                FLOW.ack,
                1,
                &[]
            )
        );
    }
}
