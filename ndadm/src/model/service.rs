//! A virtual service: a cluster address and one of its ports.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// The `VIP:PORT` pair that names a port and the servers behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Service {
    /// Cluster address.
    pub vip: Ipv4Addr,
    /// Cluster port.
    pub port: u16,
}

impl Service {
    /// The service `vip:port`.
    pub fn new(vip: Ipv4Addr, port: u16) -> Self {
        Service { vip, port }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.vip, self.port)
    }
}

/// Why a `VIP:PORT` string does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServiceParseError {
    /// No colon between address and port.
    #[error("expected VIP:PORT, e.g. 10.0.0.1:80")]
    Shape,
    /// The part before the colon is not an IPv4 address.
    #[error("'{0}' is not an IPv4 address")]
    Address(String),
    /// The part after the colon is not a number from 0 to 65535.
    #[error("'{0}' is not a port number (1 to 65535)")]
    Port(String),
}

impl FromStr for Service {
    type Err = ServiceParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (vip, port) = s.rsplit_once(':').ok_or(ServiceParseError::Shape)?;
        let vip = vip
            .parse()
            .map_err(|_| ServiceParseError::Address(vip.to_string()))?;
        let port = port
            .parse()
            .map_err(|_| ServiceParseError::Port(port.to_string()))?;
        Ok(Service { vip, port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_vip_colon_port() {
        let service: Service = "10.0.0.1:8080".parse().unwrap();
        assert_eq!(service, Service::new(Ipv4Addr::new(10, 0, 0, 1), 8080));
        assert_eq!(service.to_string(), "10.0.0.1:8080");
    }

    #[test]
    fn rejects_malformed_services() {
        assert_eq!("10.0.0.1".parse::<Service>(), Err(ServiceParseError::Shape));
        assert_eq!(
            "10.0.0:80".parse::<Service>(),
            Err(ServiceParseError::Address("10.0.0".into()))
        );
        assert_eq!(
            "10.0.0.1:65536".parse::<Service>(),
            Err(ServiceParseError::Port("65536".into()))
        );
        assert_eq!(
            "10.0.0.1:".parse::<Service>(),
            Err(ServiceParseError::Port("".into()))
        );
    }
}
