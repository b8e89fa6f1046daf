//! The configured objects (VIPs, ports, servers) and connection entries.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::{AffinityQuiesced, ConnState, ServerState};
use nd_netlink_proto::sync_record::{RecordKind, SyncRecord};
use serde::Serialize;

use super::{Affinity, MacAddr, SchedulerKind, Service, Stats, WireState};

/// A cluster address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vip {
    /// The address.
    pub vip: Ipv4Addr,
    /// Its counters.
    pub stats: Stats,
}

/// A port of a cluster address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The cluster address.
    pub vip: Ipv4Addr,
    /// The port.
    pub port: u16,
    /// The name of its connection scheduler.
    pub scheduler: String,
    /// Its client affinity settings.
    pub affinity: Affinity,
    /// Its counters.
    pub stats: Stats,
}

impl Port {
    /// The `VIP:PORT` this port is.
    pub fn service(&self) -> Service {
        Service::new(self.vip, self.port)
    }
}

/// A server behind a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Server {
    /// The cluster address.
    pub vip: Ipv4Addr,
    /// The cluster port.
    pub port: u16,
    /// The server's address.
    pub server: Ipv4Addr,
    /// Its weight; 0 quiesces it.
    pub weight: u32,
    /// Its static MAC address; without one the neighbour table resolves it.
    pub mac: Option<MacAddr>,
    /// Whether it takes new connections.
    pub state: WireState<ServerState>,
    /// The affinity records that bind clients to it.
    pub affinity_records: u32,
    /// Its counters.
    pub stats: Stats,
}

impl Server {
    /// The `VIP:PORT` the server is behind.
    pub fn service(&self) -> Service {
        Service::new(self.vip, self.port)
    }
}

/// What `NewPort` and `SetPort` may carry besides the port's identity; what is left out
/// takes the module's default on creation and stays as it is on a change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortOptions {
    /// The connection scheduler (`wrr` by default).
    pub scheduler: Option<SchedulerKind>,
    /// How long a client's binding to its server outlives its last connection, in seconds;
    /// 0 turns affinity off (the default).
    pub affinity_timeout: Option<u32>,
    /// The length of the netmask that groups clients into one binding (32 by default).
    pub affinity_prefix: Option<u8>,
    /// What the clients bound to a quiesced server do (`keep` by default).
    pub affinity_quiesced: Option<AffinityQuiesced>,
}

impl PortOptions {
    /// Options that only choose a scheduler.
    pub fn scheduled(scheduler: SchedulerKind) -> PortOptions {
        PortOptions {
            scheduler: Some(scheduler),
            ..PortOptions::default()
        }
    }

    /// Whether the options name nothing.
    pub fn is_empty(&self) -> bool {
        *self == PortOptions::default()
    }

    /// Whether the options change a port's affinity settings, which drops its records.
    pub fn touches_affinity(&self) -> bool {
        self.affinity_timeout.is_some()
            || self.affinity_prefix.is_some()
            || self.affinity_quiesced.is_some()
    }
}

/// What `NewServer` and `SetServer` may carry besides the server's identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// The weight; on creation the module defaults it to 1.
    pub weight: Option<u32>,
    /// A static MAC address.
    pub mac: Option<MacAddr>,
}

/// One server's weight in a `SetWeights` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightEntry {
    /// The server's address.
    pub server: Ipv4Addr,
    /// Its new weight.
    pub weight: u32,
}

/// An entry of the connection table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conn {
    /// Client address.
    pub client: Ipv4Addr,
    /// Client port.
    pub client_port: u16,
    /// Cluster address.
    pub vip: Ipv4Addr,
    /// Cluster port.
    pub port: u16,
    /// The server the connection goes to.
    pub server: Ipv4Addr,
    /// TCP state seen from the client's direction.
    pub state: WireState<ConnState>,
    /// Milliseconds until the entry expires without further traffic.
    pub expires_ms: u32,
}

impl Conn {
    /// The `VIP:PORT` the connection is addressed to.
    pub fn service(&self) -> Service {
        Service::new(self.vip, self.port)
    }

    /// The record that tells a peer's Executor of this connection; `None` for a state this
    /// tool does not know, which a peer could not install either.
    pub fn sync_record(&self) -> Option<SyncRecord> {
        Some(SyncRecord {
            kind: RecordKind::Conn,
            state: Some(self.state.known()?),
            prefix: 0,
            client: u32::from_ne_bytes(self.client.octets()),
            vip: u32::from_ne_bytes(self.vip.octets()),
            server: u32::from_ne_bytes(self.server.octets()),
            client_port: self.client_port,
            port: self.port,
            expires_ms: self.expires_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_becomes_a_conn_record_unless_its_state_is_unknown() {
        let conn = Conn {
            client: Ipv4Addr::new(203, 0, 113, 7),
            client_port: 40_000,
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 80,
            server: Ipv4Addr::new(10, 0, 0, 12),
            state: WireState::Known(ConnState::FinWait),
            expires_ms: 110_000,
        };
        let record = conn.sync_record().unwrap();
        assert_eq!(record.kind, RecordKind::Conn);
        assert_eq!(record.state, Some(ConnState::FinWait));
        let bytes = record.encode();
        assert_eq!(&bytes[4..8], &[203, 0, 113, 7]);
        assert_eq!(&bytes[12..16], &[10, 0, 0, 12]);
        assert_eq!(&bytes[16..18], &40_000u16.to_be_bytes());
        assert_eq!(&bytes[20..24], &110_000u32.to_be_bytes());
        let future = Conn {
            state: WireState::Unknown(9),
            ..conn
        };
        assert_eq!(future.sync_record(), None);
    }
}
