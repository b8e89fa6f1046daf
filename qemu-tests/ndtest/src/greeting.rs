//! The line a server sends first on every connection:
//! `NAME <peer_ip>:<peer_port> <local_ip>:<local_port>\n`.

use crate::net::failure;
use std::io::{BufRead, Read};
use std::net::SocketAddr;

/// Longest greeting line accepted, newline included.
pub const MAX_GREETING_LEN: usize = 512;

/// What the server saw on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The server's `--name`.
    pub server: String,
    /// The client address as the server saw it.
    pub peer: SocketAddr,
    /// The server's own address on this connection (the VIP in DR mode).
    pub local: SocketAddr,
}

impl Greeting {
    /// The wire form, newline-terminated.
    pub fn to_line(&self) -> String {
        format!("{} {} {}\n", self.server, self.peer, self.local)
    }

    /// Parses one line, with or without its trailing newline.
    pub fn parse(line: &str) -> Option<Greeting> {
        let mut fields = line.trim_end_matches(['\r', '\n']).split(' ');
        let server = fields.next().filter(|name| !name.is_empty())?;
        let peer = fields.next()?.parse().ok()?;
        let local = fields.next()?.parse().ok()?;
        if fields.next().is_some() {
            return None;
        }
        Some(Greeting {
            server: server.to_owned(),
            peer,
            local,
        })
    }

    /// Reads and parses the greeting; errors are report keys such as
    /// `greeting_timeout` or `greeting_malformed`.
    pub fn read_from(reader: &mut impl BufRead) -> Result<Greeting, String> {
        let mut line = Vec::new();
        reader
            .take(MAX_GREETING_LEN as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| failure("greeting", &e))?;
        if line.last() != Some(&b'\n') {
            return Err(if line.len() == MAX_GREETING_LEN {
                "greeting_too_long".to_owned()
            } else {
                "greeting_eof".to_owned()
            });
        }
        std::str::from_utf8(&line)
            .ok()
            .and_then(Greeting::parse)
            .ok_or_else(|| "greeting_malformed".to_owned())
    }
}

/// Whether `name` can be sent as the first greeting field.
pub fn valid_server_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sample() -> Greeting {
        Greeting {
            server: "srv1".to_owned(),
            peer: "10.0.0.2:40000".parse().unwrap(),
            local: "10.0.0.100:80".parse().unwrap(),
        }
    }

    #[test]
    fn line_round_trips() {
        let line = sample().to_line();
        assert_eq!(line, "srv1 10.0.0.2:40000 10.0.0.100:80\n");
        assert_eq!(Greeting::parse(&line), Some(sample()));
    }

    #[test]
    fn ipv6_addresses_round_trip() {
        let greeting = Greeting {
            server: "v6".to_owned(),
            peer: "[fd00::2]:5000".parse().unwrap(),
            local: "[fd00::64]:80".parse().unwrap(),
        };
        assert_eq!(Greeting::parse(&greeting.to_line()), Some(greeting));
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for line in [
            "",
            "srv1",
            "srv1 10.0.0.2:1",
            "srv1 10.0.0.2 10.0.0.100:80",
            "srv1 10.0.0.2:1 10.0.0.100:80 extra",
            " 10.0.0.2:1 10.0.0.100:80",
        ] {
            assert_eq!(Greeting::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn read_from_leaves_following_bytes_unread() {
        let mut input = Cursor::new(b"srv1 10.0.0.2:40000 10.0.0.100:80\necho".to_vec());
        assert_eq!(Greeting::read_from(&mut input), Ok(sample()));
        let mut rest = String::new();
        input.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "echo");
    }

    #[test]
    fn read_from_reports_truncation_and_garbage() {
        let mut cut = Cursor::new(b"srv1 10.0.0.2:4".to_vec());
        assert_eq!(
            Greeting::read_from(&mut cut),
            Err("greeting_eof".to_owned())
        );
        let mut long = Cursor::new(vec![b'x'; MAX_GREETING_LEN + 10]);
        assert_eq!(
            Greeting::read_from(&mut long),
            Err("greeting_too_long".to_owned())
        );
        let mut garbage = Cursor::new(b"hello world\n".to_vec());
        assert_eq!(
            Greeting::read_from(&mut garbage),
            Err("greeting_malformed".to_owned())
        );
    }

    #[test]
    fn server_names_without_whitespace_are_valid() {
        assert!(valid_server_name("srv-1"));
        assert!(!valid_server_name(""));
        assert!(!valid_server_name("srv 1"));
    }
}
