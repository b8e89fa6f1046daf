//! The start of a link: both sides send a hello and read the other's, then the rule that
//! keeps exactly one link between two nodes decides whether this one stays.
//!
//! Both daemons listen and both dial, since neither knows the other's name before a hello.
//! The rule: a link stays if the node that dialled it has the lower name. Each side applies
//! it alike, so both close a link the other way round, and the node with the higher name
//! stops dialling once it has learnt the peer's name.

use std::fmt;
use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::codec::{read_frame, write_frame, ReadError};
use crate::frame::{Frame, Hello};

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// This node dialled.
    Dialled,
    /// The peer dialled.
    Accepted,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Dialled => "dialled",
            Direction::Accepted => "accepted",
        })
    }
}

/// What becomes of a connection once both names are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It is the link.
    Keep,
    /// This node dialled, but the peer has the lower name: the peer dials.
    PeerDials,
    /// The peer dialled, but this node has the lower name: this node dials.
    WeDial,
    /// Both nodes have the same name, and no rule can choose.
    SameName,
}

/// Applies the rule: the link dialled by the node with the lower name stays.
pub fn judge(node: &str, peer: &str, direction: Direction) -> Verdict {
    let (dialler, acceptor) = match direction {
        Direction::Dialled => (node, peer),
        Direction::Accepted => (peer, node),
    };
    match (dialler.cmp(acceptor), direction) {
        (std::cmp::Ordering::Equal, _) => Verdict::SameName,
        (std::cmp::Ordering::Less, _) => Verdict::Keep,
        (std::cmp::Ordering::Greater, Direction::Dialled) => Verdict::PeerDials,
        (std::cmp::Ordering::Greater, Direction::Accepted) => Verdict::WeDial,
    }
}

/// Why no hello came back.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Connecting, or waiting for the hello, took too long.
    #[error("no hello within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The connection failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes were not a frame.
    #[error("{0}")]
    Read(#[from] ReadError),
    /// A frame other than a hello came first.
    #[error("a {0} frame before the hello")]
    NotHello(&'static str),
}

impl HandshakeError {
    /// Whether the peer sent something that is not the protocol.
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            HandshakeError::Read(ReadError::Frame(_)) | HandshakeError::NotHello(_)
        )
    }
}

/// Sends `hello` and reads the peer's, within `timeout`.
pub async fn exchange(
    stream: &mut TcpStream,
    hello: Hello,
    timeout: Duration,
) -> Result<Hello, HandshakeError> {
    let exchange = async {
        write_frame(stream, &Frame::Hello(hello)).await?;
        match read_frame(stream).await? {
            Frame::Hello(peer) => Ok(peer),
            other => Err(HandshakeError::NotHello(other.name())),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HandshakeError::Timeout(timeout))?
}

/// Dials `peer` and exchanges hellos, within `timeout` for each.
pub async fn dial(
    peer: std::net::SocketAddrV4,
    hello: Hello,
    timeout: Duration,
) -> Result<(TcpStream, Hello), HandshakeError> {
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(peer))
        .await
        .map_err(|_| HandshakeError::Timeout(timeout))??;
    let peer = exchange(&mut stream, hello, timeout).await?;
    Ok((stream, peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_of_the_two_directions_is_kept() {
        // What lb-a decides of the link it dialled, and what lb-b decides of the same link.
        assert_eq!(judge("lb-a", "lb-b", Direction::Dialled), Verdict::Keep);
        assert_eq!(judge("lb-b", "lb-a", Direction::Accepted), Verdict::Keep);
        // The other direction: both close it.
        assert_eq!(
            judge("lb-b", "lb-a", Direction::Dialled),
            Verdict::PeerDials
        );
        assert_eq!(judge("lb-a", "lb-b", Direction::Accepted), Verdict::WeDial);
        assert_eq!(judge("lb", "lb", Direction::Dialled), Verdict::SameName);
        assert_eq!(judge("lb", "lb", Direction::Accepted), Verdict::SameName);
    }
}
