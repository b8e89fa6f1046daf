//! Frames over a byte stream: the length prefix, the limit, and what ends a read.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frame::{Frame, FrameError};

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer closed the connection between two frames.
    #[error("the peer closed the connection")]
    Closed,
    /// The connection failed, or closed within a frame.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes are not a frame.
    #[error("{0}")]
    Frame(#[from] FrameError),
}

/// Reads one frame. The length is checked before the body is read, so that a peer cannot
/// make this side allocate more than a frame's limit.
pub async fn read_frame<R: AsyncRead + Unpin>(input: &mut R) -> Result<Frame, ReadError> {
    let mut prefix = [0u8; 4];
    let first = input.read(&mut prefix).await?;
    if first == 0 {
        return Err(ReadError::Closed);
    }
    input.read_exact(&mut prefix[first..]).await?;
    let len = Frame::check_len(u32::from_be_bytes(prefix))?;
    let mut body = vec![0u8; len];
    input.read_exact(&mut body).await?;
    Ok(Frame::decode(&body)?)
}

/// Writes one frame whole.
pub async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, frame: &Frame) -> io::Result<()> {
    output.write_all(&frame.encode()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::MAX_FRAME_LEN;

    #[tokio::test]
    async fn reads_frames_back_to_back_then_the_close() {
        let mut bytes = Frame::ResyncStart.encode();
        bytes.extend(Frame::Ack { seq: 3 }.encode());
        let mut input = &bytes[..];
        assert_eq!(read_frame(&mut input).await.unwrap(), Frame::ResyncStart);
        assert_eq!(read_frame(&mut input).await.unwrap(), Frame::Ack { seq: 3 });
        assert!(matches!(
            read_frame(&mut input).await,
            Err(ReadError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_frame_cut_short_is_an_io_error_and_an_oversized_one_is_refused_unread() {
        let bytes = Frame::Ack { seq: 3 }.encode();
        let mut input = &bytes[..bytes.len() - 1];
        assert!(matches!(
            read_frame(&mut input).await,
            Err(ReadError::Io(_))
        ));
        let mut input = &bytes[..2];
        assert!(matches!(
            read_frame(&mut input).await,
            Err(ReadError::Io(_))
        ));

        let huge = (MAX_FRAME_LEN as u32 + 1).to_be_bytes();
        let mut input = &huge[..];
        assert!(matches!(
            read_frame(&mut input).await,
            Err(ReadError::Frame(FrameError::TooLong(_)))
        ));
    }
}
