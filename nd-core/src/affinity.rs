//! Client affinity: a client (or its network) bound to one server of a port, so that its
//! new connections go where its earlier ones went without consulting the scheduler.
//!
//! A binding counts the client's open connections it placed. It lives as long as there is
//! one and then `timeout` more, as IPVS's persistence templates do: a client that reconnects
//! within the timeout comes back to the same server, one that stays away is scheduled
//! afresh.

use crate::conn_hash::jhash_3words;
use crate::flow_table::Keyed;

/// What a binding is found by: the client's network and the port's number in the
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AffinityKey {
    /// The client's address under the port's netmask, network order.
    pub network: u32,
    /// The port connected to.
    pub service: u16,
}

/// Tells affinity keys from connection keys of the same words in a shared hash.
const AFFINITY_TAG: u32 = 0x6166_6669;

impl AffinityKey {
    /// The key's hash under `seed`.
    pub fn hash(&self, seed: u32) -> u32 {
        jhash_3words(self.network, u32::from(self.service), AFFINITY_TAG, seed)
    }
}

/// A client bound to a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AffinityEntry {
    /// Who is bound.
    pub key: AffinityKey,
    /// The server, by its number in the configuration.
    pub server: u16,
    /// The client's open connections this binding placed.
    pub conns: u32,
    /// With no connection left, when the binding expires (jiffies, low 32 bits).
    pub expires: u32,
}

impl Keyed for AffinityEntry {
    type Key = AffinityKey;
    fn key(&self) -> &AffinityKey {
        &self.key
    }
}

/// `client` (network order) under a netmask of `prefix` bits (0 to 32; more counts as 32).
pub fn network(client: u32, prefix: u8) -> u32 {
    let host_order_mask = match prefix {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    };
    client & u32::from_be(host_order_mask)
}

impl AffinityEntry {
    /// Whether the binding has gone: no connection left and its timeout run out at `now`.
    pub fn expired(&self, now: u32) -> bool {
        self.conns == 0 && now.wrapping_sub(self.expires) as i32 >= 0
    }

    /// One more connection placed by the binding.
    pub fn hold(&mut self) {
        self.conns = self.conns.saturating_add(1);
    }

    /// One of its connections ended at `now`; the last one starts the `timeout` (jiffies).
    pub fn release(&mut self, now: u32, timeout: u32) {
        self.conns = self.conns.saturating_sub(1);
        if self.conns == 0 {
            self.expires = now.wrapping_add(timeout);
        }
    }

    /// Jiffies the binding has left at `now` if it had no connection.
    pub fn left(&self, now: u32) -> u32 {
        let left = self.expires.wrapping_sub(now);
        if left as i32 > 0 {
            left
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: u8, b: u8, c: u8, d: u8) -> u32 {
        u32::from_ne_bytes([a, b, c, d])
    }

    #[test]
    fn the_netmask_keeps_the_leading_bits() {
        let client = addr(192, 168, 7, 201);
        assert_eq!(network(client, 32), client);
        assert_eq!(network(client, 24), addr(192, 168, 7, 0));
        assert_eq!(network(client, 20), addr(192, 168, 0, 0));
        assert_eq!(network(client, 1), addr(128, 0, 0, 0));
        assert_eq!(network(client, 0), 0);
        assert_eq!(network(client, 40), client);
    }

    #[test]
    fn a_binding_lives_while_it_has_connections_and_then_its_timeout() {
        let mut e = AffinityEntry {
            key: AffinityKey {
                network: 1,
                service: 2,
            },
            server: 3,
            conns: 0,
            expires: 0,
        };
        e.hold();
        e.hold();
        assert!(!e.expired(1_000_000));
        e.release(100, 50);
        assert_eq!(e.conns, 1);
        assert!(!e.expired(1_000_000), "a connection is still open");
        e.release(200, 50);
        assert!(!e.expired(249));
        assert_eq!(e.left(220), 30);
        assert!(e.expired(250));
        assert_eq!(e.left(260), 0);
        // More releases than holds never wrap the count.
        e.release(300, 50);
        assert_eq!(e.conns, 0);
    }

    #[test]
    fn keys_of_other_ports_or_networks_hash_apart() {
        let k = AffinityKey {
            network: addr(10, 0, 0, 0),
            service: 1,
        };
        assert_ne!(k.hash(5), AffinityKey { service: 2, ..k }.hash(5));
        assert_ne!(
            k.hash(5),
            AffinityKey {
                network: addr(10, 0, 1, 0),
                ..k
            }
            .hash(5)
        );
        assert_ne!(k.hash(5), k.hash(6));
    }
}
