//! One connection table entry: 16 bytes, so that a 4 KiB page holds 256 of them.
//!
//! The entry names its server by the number the Executor's configuration gives it, not by a
//! counted reference, so entering and removing connections touches no shared cache line.
//! Expiry times are the low 32 bits of the jiffies clock, compared with wrapping arithmetic
//! as the kernel's `time_after` does: right while no timeout is longer than 2^31 jiffies
//! (24 days at 1000 Hz; timeouts are at most 7 days).

use crate::conn_hash::ConnKey;
use crate::flow_table::Keyed;
use crate::tcp_state::TcpState;

/// A connection: where it goes, its TCP state and when it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnEntry {
    /// The connection.
    pub key: ConnKey,
    /// When it expires, in jiffies (low 32 bits).
    pub expires: u32,
    /// The number of its server in the configuration.
    pub server: u16,
    /// Its state.
    pub state: TcpState,
    /// [`AFFINE`], or 0.
    pub flags: u8,
}

/// The connection was placed by an affinity binding, which it holds until it ends.
pub const AFFINE: u8 = 1;

impl Keyed for ConnEntry {
    type Key = ConnKey;
    fn key(&self) -> &ConnKey {
        &self.key
    }
}

/// The low 32 bits of a jiffies value: what entries store.
pub fn short_jiffies(jiffies: u64) -> u32 {
    jiffies as u32
}

impl ConnEntry {
    /// Whether the entry has expired at `now` (jiffies, low 32 bits).
    pub fn expired(&self, now: u32) -> bool {
        now.wrapping_sub(self.expires) as i32 >= 0
    }

    /// Jiffies until the entry expires at `now`; 0 once it has.
    pub fn left(&self, now: u32) -> u32 {
        if self.expired(now) {
            0
        } else {
            self.expires.wrapping_sub(now)
        }
    }

    /// Moves the entry to `state`, living `lifetime` jiffies from `now`.
    pub fn enter(&mut self, state: TcpState, now: u32, lifetime: u32) {
        self.state = state;
        self.expires = now.wrapping_add(lifetime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(expires: u32) -> ConnEntry {
        ConnEntry {
            key: ConnKey {
                client: 1,
                client_port: 2,
                service: 3,
            },
            expires,
            server: 4,
            state: TcpState::SynSent,
            flags: 0,
        }
    }

    #[test]
    fn an_entry_and_an_empty_slot_take_16_bytes() {
        assert_eq!(core::mem::size_of::<ConnEntry>(), 16);
        assert_eq!(core::mem::size_of::<Option<ConnEntry>>(), 16);
    }

    #[test]
    fn expiry_is_right_across_the_wrap_of_the_clock() {
        let near_wrap = u32::MAX - 5;
        let mut e = entry(0);
        e.enter(TcpState::Established, near_wrap, 10);
        assert_eq!(e.expires, 4);
        assert!(!e.expired(near_wrap));
        assert!(!e.expired(u32::MAX));
        assert_eq!(e.left(u32::MAX), 5);
        assert!(e.expired(4));
        assert!(e.expired(100));
        assert_eq!(e.left(100), 0);
    }

    #[test]
    fn short_jiffies_keeps_the_low_bits() {
        assert_eq!(short_jiffies(0x1_0000_0007), 7);
    }
}
