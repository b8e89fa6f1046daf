//! A client's reading of an HTTP/1.0 response, across reads of any size: whether its status
//! is 200, and the first word of its body, by which a server may name itself (`ndtest
//! ps-serve` answers with its name), so that clients count where their requests went.

use super::http_head::HeadEnd;

/// Bytes of the response that are checked: `HTTP/1.x 200`.
const STATUS_LINE_PREFIX: usize = 12;
/// The longest server name kept; a longer first word is cut there.
const MAX_NAME: usize = 64;

/// What has been read of one response.
#[derive(Debug, Default)]
pub struct ResponseReader {
    status: [u8; STATUS_LINE_PREFIX],
    status_len: usize,
    head: HeadEnd,
    in_body: bool,
    name: Vec<u8>,
    name_done: bool,
    received: usize,
}

impl ResponseReader {
    /// Takes the next bytes of the response.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.received += bytes.len();
        let take = (STATUS_LINE_PREFIX - self.status_len).min(bytes.len());
        self.status[self.status_len..self.status_len + take].copy_from_slice(&bytes[..take]);
        self.status_len += take;
        let body = if self.in_body {
            bytes
        } else {
            match self.head.find(bytes) {
                Some(start) => {
                    self.in_body = true;
                    &bytes[start..]
                }
                None => return,
            }
        };
        if self.name_done {
            return;
        }
        for &byte in body {
            if byte.is_ascii_whitespace() {
                if self.name.is_empty() {
                    continue;
                }
                self.name_done = true;
                return;
            }
            if self.name.len() == MAX_NAME {
                self.name_done = true;
                return;
            }
            self.name.push(byte);
        }
    }

    /// Judges the response once the server has closed: the first word of its body (if it
    /// has one) when the status is 200; otherwise the report key of what went wrong.
    pub fn finish(&self) -> Result<Option<String>, &'static str> {
        let status = &self.status[..self.status_len];
        if self.received == 0 {
            Err("response_eof")
        } else if status.len() == STATUS_LINE_PREFIX
            && status.starts_with(b"HTTP/1.")
            && &status[9..12] == b"200"
        {
            Ok((!self.name.is_empty()).then(|| String::from_utf8_lossy(&self.name).into_owned()))
        } else {
            Err("response_not_200")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `response` in pieces of `piece` bytes.
    fn read(response: &[u8], piece: usize) -> Result<Option<String>, &'static str> {
        let mut reader = ResponseReader::default();
        for chunk in response.chunks(piece.max(1)) {
            reader.feed(chunk);
        }
        reader.finish()
    }

    #[test]
    fn a_200_names_its_server_whatever_the_read_sizes() {
        let response = b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nsrv2 12.5\n";
        for piece in [1, 2, 5, 13, 1000] {
            assert_eq!(read(response, piece), Ok(Some("srv2".into())), "{piece}");
        }
        assert_eq!(read(b"HTTP/1.1 200 OK\r\n\r\n", 3), Ok(None), "no body");
        assert_eq!(
            read(b"HTTP/1.0 200 OK\r\n\r\n \n  ok", 4),
            Ok(Some("ok".into()))
        );
    }

    #[test]
    fn a_long_first_word_is_cut() {
        let mut response = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        response.extend(std::iter::repeat_n(b'x', 500));
        let name = read(&response, 7).unwrap().unwrap();
        assert_eq!(name.len(), MAX_NAME);
    }

    #[test]
    fn another_status_or_nothing_fails() {
        assert_eq!(
            read(b"HTTP/1.0 503 Busy\r\n\r\n", 4),
            Err("response_not_200")
        );
        assert_eq!(read(b"HTTP/1.0 20", 4), Err("response_not_200"));
        assert_eq!(read(b"SSH-2.0-x\r\n\r\nsrv1", 4), Err("response_not_200"));
        assert_eq!(read(b"", 4), Err("response_eof"));
    }
}
