//! The HTTP advisor: a timed `GET` of one path, read to the end of the answer.
//!
//! The request is HTTP/1.0, so the server closes the connection after its answer and the time
//! covers the whole of it. A status of 2xx or 3xx is healthy; anything else, or an answer
//! that is not HTTP, is down.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most of an answer read; a larger one is timed up to here.
pub const RESPONSE_BOUND: usize = 64 * 1024;

/// The request sent to `host` for `path`.
pub fn request(host: &str, path: &str) -> String {
    format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: nd-manager\r\n\r\n")
}

/// Requests `path` of `target` and reads the answer; the error says why it is not healthy.
pub async fn check(target: SocketAddr, path: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(target)
        .await
        .map_err(|e| super::describe(&e))?;
    stream
        .write_all(request(&target.ip().to_string(), path).as_bytes())
        .await
        .map_err(|e| format!("sending the request: {}", super::describe(&e)))?;
    let mut answer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    while answer.len() < RESPONSE_BOUND {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&chunk[..read]),
            // A reset after a complete status line still tells the status.
            Err(_) if answer.contains(&b'\n') => break,
            Err(e) => return Err(format!("reading the answer: {}", super::describe(&e))),
        }
    }
    let status = status_code(&answer)?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP status {status}"))
    }
}

/// The status code of an HTTP answer's first line (`HTTP/1.1 200 OK`).
pub fn status_code(answer: &[u8]) -> Result<u16, String> {
    let line_end = answer.iter().position(|&b| b == b'\n').ok_or_else(|| {
        if answer.is_empty() {
            "closed without an answer".to_string()
        } else {
            "no complete status line".to_string()
        }
    })?;
    let line = String::from_utf8_lossy(&answer[..line_end]);
    let mut words = line.split_whitespace();
    let (Some(version), Some(code)) = (words.next(), words.next()) else {
        return Err(format!("not an HTTP status line: {:?}", line.trim_end()));
    };
    match code.parse::<u16>() {
        Ok(status) if version.starts_with("HTTP/") && code.len() == 3 && status >= 100 => {
            Ok(status)
        }
        _ => Err(format!("not an HTTP status line: {:?}", line.trim_end())),
    }
}
