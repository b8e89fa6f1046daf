//! Walking a netlink attribute stream (`struct nlattr` records) in a byte buffer.
//!
//! The kernel validates top-level attributes through its policy; this walker serves nested
//! arrays in the module and decoding in userspace tests. It never reads past the buffer.

/// Size of `struct nlattr`.
pub const HEADER_LEN: usize = 4;
/// Attribute records are aligned to this many bytes.
pub const ALIGN: usize = 4;
/// Flag bits carried in the type field, masked off by [`Attrs`].
pub const TYPE_FLAGS: u16 = 0xc000;

/// Rounds `len` up to the attribute alignment.
pub const fn align(len: usize) -> usize {
    (len + ALIGN - 1) & !(ALIGN - 1)
}

/// One attribute: its type (flags masked off) and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// Attribute type.
    pub kind: u16,
    /// Payload bytes.
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The payload as a `u32` in native byte order, if it is exactly four bytes.
    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.payload.try_into().ok()?))
    }

    /// The payload as a `u16` in native byte order, if it is exactly two bytes.
    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.payload.try_into().ok()?))
    }

    /// The payload as a `u64` in native byte order, if it is exactly eight bytes.
    pub fn u64(&self) -> Option<u64> {
        Some(u64::from_ne_bytes(self.payload.try_into().ok()?))
    }

    /// The payload as a `u8`, if it is exactly one byte.
    pub fn u8(&self) -> Option<u8> {
        match self.payload {
            [b] => Some(*b),
            _ => None,
        }
    }

    /// The attributes nested in this one's payload.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// Iterator over the attributes of a buffer. A truncated or inconsistent record ends the walk
/// and sets [`Attrs::malformed`].
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    rest: &'a [u8],
    malformed: bool,
}

impl<'a> Attrs<'a> {
    /// Walks `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs {
            rest: buf,
            malformed: false,
        }
    }

    /// Whether the walk stopped at a malformed record rather than at the end of the buffer.
    pub fn malformed(&self) -> bool {
        self.malformed
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let header = self.rest.get(..HEADER_LEN);
        let len = header.map(|h| usize::from(u16::from_ne_bytes([h[0], h[1]])));
        let (Some(header), Some(len)) = (header, len) else {
            self.malformed = true;
            self.rest = &[];
            return None;
        };
        if len < HEADER_LEN || len > self.rest.len() {
            self.malformed = true;
            self.rest = &[];
            return None;
        }
        let kind = u16::from_ne_bytes([header[2], header[3]]) & !TYPE_FLAGS;
        let payload = &self.rest[HEADER_LEN..len];
        self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
        Some(Attr { kind, payload })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = (HEADER_LEN + payload.len()) as u16;
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align(buf.len()), 0);
    }

    #[test]
    fn walks_aligned_records_and_nested_ones() {
        let mut inner = Vec::new();
        put(&mut inner, 1, &7u32.to_ne_bytes());
        put(&mut inner, 2, &[9]);
        let mut buf = Vec::new();
        put(&mut buf, 3, &80u16.to_ne_bytes());
        put(&mut buf, 0x8000 | 6, &inner);

        let attrs: Vec<_> = Attrs::new(&buf).collect();
        assert_eq!(attrs.len(), 2);
        assert_eq!((attrs[0].kind, attrs[0].u16()), (3, Some(80)));
        assert_eq!(attrs[1].kind, 6, "the nested flag is masked off");
        let nested: Vec<_> = attrs[1].nested().collect();
        assert_eq!(nested[0].u32(), Some(7));
        assert_eq!(nested[1].u8(), Some(9));
        assert_eq!(nested[1].u32(), None, "a one-byte payload is not a u32");
    }

    #[test]
    fn stops_at_truncated_or_inconsistent_records() {
        let mut buf = Vec::new();
        put(&mut buf, 1, &1u32.to_ne_bytes());
        let whole = buf.len();

        // A header that claims more than the buffer holds.
        buf.extend_from_slice(&64u16.to_ne_bytes());
        buf.extend_from_slice(&2u16.to_ne_bytes());
        let mut walk = Attrs::new(&buf);
        assert_eq!(walk.next().map(|a| a.kind), Some(1));
        assert_eq!(walk.next(), None);
        assert!(walk.malformed());

        // A length below the header size, and a lone byte.
        for tail in [&[2u8, 0, 1, 0][..], &[1u8][..]] {
            let mut bad = buf[..whole].to_vec();
            bad.extend_from_slice(tail);
            let mut walk = Attrs::new(&bad);
            assert!(walk.next().is_some());
            assert!(walk.next().is_none() && walk.malformed());
        }

        let mut clean = Attrs::new(&buf[..whole]);
        assert!(clean.next().is_some() && clean.next().is_none() && !clean.malformed());
    }
}
