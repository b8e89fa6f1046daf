//! Client affinity: a port's settings, and the records that bind clients to servers.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::AffinityQuiesced;
use nd_netlink_proto::sync_record::{RecordKind, SyncRecord};
use serde::Serialize;

use super::{Service, WireState};

/// How a port binds returning clients to the server they had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Affinity {
    /// How long a binding outlives the client's last connection, in seconds; 0 when the port
    /// has no affinity.
    pub timeout: u32,
    /// The length of the netmask that groups clients into one binding.
    pub prefix: u8,
    /// What the clients bound to a quiesced server do.
    pub quiesced: WireState<AffinityQuiesced>,
}

impl Affinity {
    /// The settings of a port created without any: no affinity, each address on its own,
    /// quiesced servers keep their clients. A module that predates affinity reads as these.
    pub const DEFAULT: Affinity = Affinity {
        timeout: 0,
        prefix: 32,
        quiesced: WireState::Known(AffinityQuiesced::Keep),
    };

    /// Whether the port binds clients at all.
    pub fn is_on(&self) -> bool {
        self.timeout > 0
    }
}

impl Default for Affinity {
    fn default() -> Self {
        Affinity::DEFAULT
    }
}

/// A client, or a network of clients, bound to a server of a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AffinityRecord {
    /// Cluster address.
    pub vip: Ipv4Addr,
    /// Cluster port.
    pub port: u16,
    /// The client's address, or its network's.
    pub client: Ipv4Addr,
    /// The length of the client network's netmask.
    pub prefix: u8,
    /// The server the clients are bound to.
    pub server: Ipv4Addr,
    /// The bound clients' open connections.
    pub conns: u32,
    /// Milliseconds until the binding expires, counted from its last connection's end.
    pub expires_ms: u32,
}

impl AffinityRecord {
    /// The `VIP:PORT` the binding belongs to.
    pub fn service(&self) -> Service {
        Service::new(self.vip, self.port)
    }

    /// The record that tells a peer's Executor of this binding.
    pub fn sync_record(&self) -> SyncRecord {
        SyncRecord {
            kind: RecordKind::Affinity,
            state: None,
            prefix: self.prefix,
            client: u32::from_ne_bytes(self.client.octets()),
            vip: u32::from_ne_bytes(self.vip.octets()),
            server: u32::from_ne_bytes(self.server.octets()),
            client_port: 0,
            port: self.port,
            expires_ms: self.expires_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_becomes_an_affinity_record_with_addresses_in_wire_order() {
        let binding = AffinityRecord {
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 443,
            client: Ipv4Addr::new(203, 0, 113, 0),
            prefix: 24,
            server: Ipv4Addr::new(10, 0, 0, 11),
            conns: 2,
            expires_ms: 299_000,
        };
        let record = binding.sync_record();
        let bytes = record.encode();
        assert_eq!(bytes[0], RecordKind::Affinity as u8);
        assert_eq!((bytes[1], bytes[2]), (0, 24));
        assert_eq!(&bytes[4..8], &[203, 0, 113, 0]);
        assert_eq!(&bytes[8..12], &[10, 0, 0, 100]);
        assert_eq!(&bytes[12..16], &[10, 0, 0, 11]);
        assert_eq!(&bytes[18..20], &443u16.to_be_bytes());
        assert_eq!(SyncRecord::decode(&bytes), Ok(record));
    }

    #[test]
    fn the_default_settings_bind_nobody() {
        assert!(!Affinity::default().is_on());
        assert_eq!(Affinity::default().prefix, 32);
    }
}
