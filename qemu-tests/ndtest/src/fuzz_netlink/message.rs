//! Generic netlink requests held as an editable tree, so mutations can change one attribute
//! at a time, and written out byte by byte, so they can also say things a well-behaved
//! encoder never would (lying length fields, nests inside plain attributes, trailing bytes).

use nd_netlink_proto::nla::{align, HEADER_LEN};

/// Netlink header flags (`linux/netlink.h`).
pub mod flags {
    /// A request; the kernel ignores messages without it.
    pub const REQUEST: u16 = 0x1;
    /// A multi-part reply.
    pub const MULTI: u16 = 0x2;
    /// Asks for an acknowledgement even on success.
    pub const ACK: u16 = 0x4;
    /// Asks the kernel to echo the request.
    pub const ECHO: u16 = 0x8;
    /// Set on a dump reply whose data changed while the dump was taken.
    pub const DUMP_INTR: u16 = 0x10;
    /// Half of `DUMP`: return the whole table.
    pub const ROOT: u16 = 0x100;
    /// Half of `DUMP`: return every matching entry.
    pub const MATCH: u16 = 0x200;
    /// A dump request (`ROOT | MATCH`).
    pub const DUMP: u16 = ROOT | MATCH;
    /// Atomic dump.
    pub const ATOMIC: u16 = 0x400;
}

/// Netlink control message types.
pub mod msg_type {
    /// Nothing.
    pub const NOOP: u16 = 1;
    /// An error or, with errno 0, an acknowledgement.
    pub const ERROR: u16 = 2;
    /// The end of a dump.
    pub const DONE: u16 = 3;
}

/// Size of `struct nlmsghdr`.
pub const NLMSG_HEADER_LEN: usize = 16;
/// Size of `struct genlmsghdr`.
pub const GENL_HEADER_LEN: usize = 4;
/// Attribute type flag of a nest.
pub const NLA_F_NESTED: u16 = 0x8000;
/// Attribute type flag of a payload in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
/// The type bits of an attribute's type field, without the flags.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// What an attribute carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A plain payload.
    Bytes(Vec<u8>),
    /// Attributes nested inside this one.
    Nest(Vec<Attribute>),
}

/// One `struct nlattr` and its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The whole type field, flag bits included.
    pub type_field: u16,
    /// The payload or the nested attributes.
    pub body: Body,
    /// A length to write into the header instead of the true one.
    pub length_lie: Option<u16>,
}

impl Attribute {
    /// A plain attribute.
    pub fn bytes(type_field: u16, payload: &[u8]) -> Attribute {
        Attribute {
            type_field,
            body: Body::Bytes(payload.to_vec()),
            length_lie: None,
        }
    }

    /// A nest flagged `NLA_F_NESTED`, as the kernel's strict validation expects.
    pub fn nest(kind: u16, children: Vec<Attribute>) -> Attribute {
        Attribute {
            type_field: kind | NLA_F_NESTED,
            body: Body::Nest(children),
            length_lie: None,
        }
    }

    /// The type without flags.
    pub fn kind(&self) -> u16 {
        self.type_field & NLA_TYPE_MASK
    }

    /// The length the header would hold if it told the truth.
    pub fn true_len(&self) -> usize {
        HEADER_LEN + self.payload().len()
    }

    /// The payload bytes as they go on the wire (a nest's children encoded).
    pub fn payload(&self) -> Vec<u8> {
        match &self.body {
            Body::Bytes(bytes) => bytes.clone(),
            Body::Nest(children) => {
                let mut out = Vec::new();
                encode_attributes(children, &mut out);
                out
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        match &self.body {
            Body::Bytes(bytes) => out.extend_from_slice(bytes),
            Body::Nest(children) => encode_attributes(children, out),
        }
        let true_len = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        let len = self.length_lie.unwrap_or(true_len);
        out[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        out[start + 2..start + 4].copy_from_slice(&self.type_field.to_ne_bytes());
        // Padding follows the true length: a lie must not also shift what comes after.
        out.resize(start + align(out.len() - start), 0);
    }
}

/// Writes `attrs` one after the other, each padded to the attribute alignment.
pub fn encode_attributes(attrs: &[Attribute], out: &mut Vec<u8>) {
    for attr in attrs {
        attr.encode(out);
    }
}

/// One generic netlink request: the netlink flags it travels with, and the payload after the
/// netlink header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenlRequest {
    /// `nlmsg_flags`.
    pub netlink_flags: u16,
    /// `genlmsghdr.cmd`.
    pub cmd: u8,
    /// `genlmsghdr.version`.
    pub version: u8,
    /// `genlmsghdr.reserved`.
    pub reserved: u16,
    /// Top-level attributes.
    pub attrs: Vec<Attribute>,
    /// Bytes after the last attribute, unaligned and unframed.
    pub trailer: Vec<u8>,
}

impl GenlRequest {
    /// Writes the generic netlink header, the attributes and the trailer into `out`, which is
    /// cleared first.
    pub fn encode_payload(&self, out: &mut Vec<u8>) {
        out.clear();
        out.push(self.cmd);
        out.push(self.version);
        out.extend_from_slice(&self.reserved.to_ne_bytes());
        encode_attributes(&self.attrs, out);
        out.extend_from_slice(&self.trailer);
    }

    /// The payload after the netlink header.
    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_payload(&mut out);
        out
    }

    /// Reads a well-formed payload back into a tree; attributes flagged `NLA_F_NESTED`
    /// become nests. `None` if the bytes are not a clean attribute stream.
    pub fn parse(netlink_flags: u16, payload: &[u8]) -> Option<GenlRequest> {
        let header = payload.get(..GENL_HEADER_LEN)?;
        Some(GenlRequest {
            netlink_flags,
            cmd: header[0],
            version: header[1],
            reserved: u16::from_ne_bytes([header[2], header[3]]),
            attrs: parse_attributes(&payload[GENL_HEADER_LEN..])?,
            trailer: Vec::new(),
        })
    }
}

fn parse_attributes(mut bytes: &[u8]) -> Option<Vec<Attribute>> {
    let mut attrs = Vec::new();
    while !bytes.is_empty() {
        let header = bytes.get(..HEADER_LEN)?;
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        let type_field = u16::from_ne_bytes([header[2], header[3]]);
        let payload = bytes.get(HEADER_LEN..len)?;
        let body = if type_field & NLA_F_NESTED != 0 {
            Body::Nest(parse_attributes(payload)?)
        } else {
            Body::Bytes(payload.to_vec())
        };
        attrs.push(Attribute {
            type_field,
            body,
            length_lie: None,
        });
        bytes = bytes.get(align(len)..).unwrap_or_default();
    }
    Some(attrs)
}

/// Writes a netlink header for a message of `payload_len` bytes to family `nl_type`.
pub fn write_netlink_header(
    out: &mut Vec<u8>,
    payload_len: usize,
    nl_type: u16,
    netlink_flags: u16,
    seq: u32,
) {
    let len = u32::try_from(NLMSG_HEADER_LEN + payload_len).unwrap_or(u32::MAX);
    out.clear();
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&nl_type.to_ne_bytes());
    out.extend_from_slice(&netlink_flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    // Port id 0 is the kernel, the only peer a request goes to.
    out.extend_from_slice(&0u32.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use nd_netlink_proto::nla::Attrs;

    fn sample() -> GenlRequest {
        GenlRequest {
            netlink_flags: flags::REQUEST | flags::ACK,
            cmd: 11,
            version: 1,
            reserved: 0,
            attrs: vec![
                Attribute::bytes(1, &[10, 0, 0, 100]),
                Attribute::bytes(2, &80u16.to_ne_bytes()),
                Attribute::nest(
                    6,
                    vec![Attribute::nest(
                        1,
                        vec![
                            Attribute::bytes(1, &[10, 0, 0, 11]),
                            Attribute::bytes(2, &3u32.to_ne_bytes()),
                        ],
                    )],
                ),
            ],
            trailer: Vec::new(),
        }
    }

    #[test]
    fn encodes_aligned_attributes_that_parse_back() {
        let request = sample();
        let payload = request.payload();
        assert_eq!(&payload[..4], &[11, 1, 0, 0]);
        let attrs: Vec<_> = Attrs::new(&payload[4..]).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0].payload, [10, 0, 0, 100]);
        assert_eq!(attrs[1].u16(), Some(80), "the port is padded to four bytes");
        let entry = attrs[2].nested().next().unwrap();
        assert_eq!(entry.nested().nth(1).unwrap().u32(), Some(3));
        assert_eq!(
            GenlRequest::parse(request.netlink_flags, &payload),
            Some(request)
        );
    }

    #[test]
    fn a_length_lie_changes_only_the_length_field() {
        let honest = sample().payload();
        let mut lying = sample();
        lying.attrs[0].length_lie = Some(200);
        let lied = lying.payload();
        assert_eq!(honest.len(), lied.len());
        assert_eq!(u16::from_ne_bytes([lied[4], lied[5]]), 200);
        assert_eq!(&honest[6..], &lied[6..]);
        assert_eq!(GenlRequest::parse(lying.netlink_flags, &lied), None);
    }

    #[test]
    fn the_netlink_header_counts_itself() {
        let mut out = vec![9; 3];
        write_netlink_header(&mut out, 8, 0x1d, flags::REQUEST | flags::DUMP, 77);
        assert_eq!(out.len(), NLMSG_HEADER_LEN);
        assert_eq!(u32::from_ne_bytes(out[..4].try_into().unwrap()), 24);
        assert_eq!(u16::from_ne_bytes([out[4], out[5]]), 0x1d);
        assert_eq!(u16::from_ne_bytes([out[6], out[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes(out[8..12].try_into().unwrap()), 77);
    }
}
