//! `ndtest wait-port`: waits until a TCP port accepts connections.

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Retries connecting to `to` until one attempt succeeds (true) or
/// `timeout` has passed (false).
pub fn wait_for_port(to: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return false;
        }
        if TcpStream::connect_timeout(&to, remaining.min(ATTEMPT_TIMEOUT)).is_ok() {
            return true;
        }
        thread::sleep(RETRY_PAUSE.min(deadline.saturating_duration_since(Instant::now())));
    }
}
