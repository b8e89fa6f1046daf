//! The configured objects (VIPs, ports, servers) and connection entries.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::{ConnState, ServerState};
use serde::Serialize;

use super::{MacAddr, Service, Stats, WireState};

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
    /// Its counters.
    pub stats: Stats,
}

impl Server {
    /// The `VIP:PORT` the server is behind.
    pub fn service(&self) -> Service {
        Service::new(self.vip, self.port)
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
}
