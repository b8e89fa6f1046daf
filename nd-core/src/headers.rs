//! The IPv4 and TCP header fields the Executor reads, parsed from bytes it has made linear.
//!
//! Parsing never trusts a length field beyond the bytes given; anything inconsistent is
//! `Malformed`, which the Executor drops and counts.

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// Size of an IPv4 header without options.
pub const IPV4_MIN_LEN: usize = 20;
/// Size of a TCP header without options.
pub const TCP_MIN_LEN: usize = 20;

/// A header that cannot be what it claims to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// The IPv4 fields the Executor needs. Addresses stay in network byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    /// Source address.
    pub saddr: u32,
    /// Destination address.
    pub daddr: u32,
    /// Protocol number.
    pub protocol: u8,
    /// Header length in bytes, options included.
    pub header_len: usize,
    /// Whether this is a fragment (more-fragments set, or a non-zero offset).
    pub is_fragment: bool,
}

/// Parses an IPv4 header at the start of `bytes` (at least [`IPV4_MIN_LEN`] of them).
pub fn parse_ipv4(bytes: &[u8]) -> Result<Ipv4, Malformed> {
    let fixed = bytes.get(..IPV4_MIN_LEN).ok_or(Malformed)?;
    let version = fixed[0] >> 4;
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    if version != 4 || header_len < IPV4_MIN_LEN || total_len < header_len {
        return Err(Malformed);
    }
    let flags_offset = u16::from_be_bytes([fixed[6], fixed[7]]);
    let more_fragments = flags_offset & 0x2000 != 0;
    let offset = flags_offset & 0x1fff;
    Ok(Ipv4 {
        saddr: u32::from_ne_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]),
        daddr: u32::from_ne_bytes([fixed[16], fixed[17], fixed[18], fixed[19]]),
        protocol: fixed[9],
        header_len,
        is_fragment: more_fragments || offset != 0,
    })
}

/// The TCP fields the Executor needs. Ports are in host byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    /// Source (client) port.
    pub sport: u16,
    /// Destination (cluster) port.
    pub dport: u16,
    /// The flags byte (byte 13).
    pub flags: u8,
}

/// Parses a TCP header at the start of `bytes` (at least [`TCP_MIN_LEN`] of them).
pub fn parse_tcp(bytes: &[u8]) -> Result<Tcp, Malformed> {
    let fixed = bytes.get(..TCP_MIN_LEN).ok_or(Malformed)?;
    let data_offset = usize::from(fixed[12] >> 4) * 4;
    if data_offset < TCP_MIN_LEN {
        return Err(Malformed);
    }
    Ok(Tcp {
        sport: u16::from_be_bytes([fixed[0], fixed[1]]),
        dport: u16::from_be_bytes([fixed[2], fixed[3]]),
        flags: fixed[13],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(ihl: u8, total: u16, frag: u16, proto: u8) -> [u8; 20] {
        let mut h = [0u8; 20];
        h[0] = 0x40 | ihl;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[6..8].copy_from_slice(&frag.to_be_bytes());
        h[9] = proto;
        h[12..16].copy_from_slice(&[10, 0, 0, 2]);
        h[16..20].copy_from_slice(&[10, 0, 0, 100]);
        h
    }

    #[test]
    fn reads_addresses_protocol_and_length() {
        let ip = parse_ipv4(&ipv4(5, 40, 0x4000, IPPROTO_TCP)).unwrap();
        assert_eq!(ip.saddr.to_ne_bytes(), [10, 0, 0, 2]);
        assert_eq!(ip.daddr.to_ne_bytes(), [10, 0, 0, 100]);
        assert_eq!(ip.protocol, IPPROTO_TCP);
        assert_eq!(ip.header_len, 20);
        assert!(!ip.is_fragment, "DF alone is not a fragment");
        assert_eq!(parse_ipv4(&ipv4(6, 44, 0, 6)).unwrap().header_len, 24);
    }

    #[test]
    fn flags_fragments() {
        assert!(parse_ipv4(&ipv4(5, 40, 0x2000, 6)).unwrap().is_fragment);
        assert!(parse_ipv4(&ipv4(5, 40, 0x0010, 6)).unwrap().is_fragment);
    }

    #[test]
    fn rejects_inconsistent_ipv4_headers() {
        assert_eq!(parse_ipv4(&ipv4(4, 40, 0, 6)), Err(Malformed));
        assert_eq!(parse_ipv4(&ipv4(6, 20, 0, 6)), Err(Malformed));
        let mut v6 = ipv4(5, 40, 0, 6);
        v6[0] = 0x65;
        assert_eq!(parse_ipv4(&v6), Err(Malformed));
        assert_eq!(parse_ipv4(&ipv4(5, 40, 0, 6)[..19]), Err(Malformed));
    }

    #[test]
    fn reads_ports_and_flags_and_rejects_short_offsets() {
        let mut t = [0u8; 20];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = 0x02;
        assert_eq!(
            parse_tcp(&t),
            Ok(Tcp {
                sport: 40000,
                dport: 80,
                flags: 0x02
            })
        );
        t[12] = 4 << 4;
        assert_eq!(parse_tcp(&t), Err(Malformed));
        assert_eq!(parse_tcp(&t[..19]), Err(Malformed));
    }
}
