//! The end of an HTTP head: the blank line (`\r\n\r\n`) after a request's or a response's
//! header lines, found across reads of any size without keeping what was read.

/// Finds the blank line that ends an HTTP head, across reads of any size.
#[derive(Debug, Default, Clone, Copy)]
pub struct HeadEnd {
    /// Bytes of `\r\n\r\n` matched so far.
    matched: u8,
}

impl HeadEnd {
    /// Feeds `bytes`; where in them the head ended (the index just past its blank line), or
    /// `None` if it has not yet.
    pub fn find(&mut self, bytes: &[u8]) -> Option<usize> {
        const END: &[u8; 4] = b"\r\n\r\n";
        for (index, &byte) in bytes.iter().enumerate() {
            self.matched = if byte == END[usize::from(self.matched)] {
                self.matched + 1
            } else if byte == b'\r' {
                1
            } else {
                0
            };
            if self.matched == 4 {
                return Some(index + 1);
            }
        }
        None
    }

    /// Feeds `bytes`; whether the head ended within them.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        self.find(bytes).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_end_is_found_across_reads() {
        let mut head = HeadEnd::default();
        assert!(!head.feed(b"GET / HTTP/1.0\r\nHost: x\r"));
        assert!(!head.feed(b"\n\r"));
        assert!(head.feed(b"\nbody"));
        let mut head = HeadEnd::default();
        assert!(!head.feed(b"a\r\n\r\r\n"), "a stray CR restarts the match");
        assert!(head.feed(b"\r\n"));
        let mut head = HeadEnd::default();
        assert!(!head.feed(b"\n\n\r\n"));
    }

    #[test]
    fn says_where_the_body_starts() {
        let mut head = HeadEnd::default();
        assert_eq!(head.find(b"HTTP/1.0 200 OK\r\n\r"), None);
        assert_eq!(head.find(b"\nsrv1\n"), Some(1));
        let mut head = HeadEnd::default();
        assert_eq!(head.find(b"X\r\n\r\nbody"), Some(5));
    }
}
