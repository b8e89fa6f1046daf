//! The TCP advisor: the time to establish a connection, which measures the server's network
//! stack and accept backlog rather than the service behind it.

use std::net::SocketAddr;

use tokio::net::TcpStream;

/// Connects to `target` and closes the connection; the error says why it failed.
pub async fn check(target: SocketAddr) -> Result<(), String> {
    TcpStream::connect(target)
        .await
        .map(drop)
        .map_err(|e| super::describe(&e))
}
