//! A typed client of the `nd` generic netlink family, the library under `ndadm`.
//!
//! [`Client`] resolves the family, sends [`Request`]s (mutations with `NLM_F_ACK`, `Get*`
//! commands with `NLM_F_DUMP`) and decodes the replies into the types of [`crate::model`].

mod decode;
mod error;
mod names;
mod request;
mod transport;

use std::net::Ipv4Addr;
use std::time::Duration;

use nd_netlink_proto::family::{FAMILY_NAME, FAMILY_VERSION};
use nd_netlink_proto::nla::Attrs;
use neli::types::{Buffer, GenlBuffer};

pub use decode::{decode_all, decode_one, Decode, DecodeError, Problem};
pub use error::{errno_text, ext_ack, Error, ErrorKind, KernelError};
pub use names::AttrSpace;
pub use request::{attr, ipv4_attr, nested, Request, WEIGHTS_ELEMENT};
pub use transport::Replies;

use crate::model::{
    Config, ConfigChange, Conn, Info, Port, SchedulerKind, Server, ServerOptions, Service, Tree,
    Vip, WeightEntry,
};
use request::genl_message;
use transport::Transport;

/// How long to wait for each reply before giving up on the kernel.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a dump the kernel flags as interrupted is taken again.
const DUMP_ATTEMPTS: u32 = 3;

/// The generic netlink controller's family id and its `CTRL_CMD_GETFAMILY` vocabulary.
mod ctrl {
    pub const ID: u16 = 0x10;
    pub const VERSION: u8 = 2;
    pub const CMD_GETFAMILY: u8 = 3;
    pub const ATTR_FAMILY_ID: u16 = 1;
    pub const ATTR_FAMILY_NAME: u16 = 2;
}

/// A connection to the `nd` family in the caller's network namespace.
pub struct Client {
    transport: Transport,
    family: u16,
}

impl Client {
    /// Opens a socket and resolves the `nd` family, waiting [`DEFAULT_TIMEOUT`] per reply.
    pub fn connect() -> Result<Client, Error> {
        Client::connect_with_timeout(DEFAULT_TIMEOUT)
    }

    /// Opens a socket and resolves the `nd` family, waiting `timeout` per reply.
    pub fn connect_with_timeout(timeout: Duration) -> Result<Client, Error> {
        let action = "connect to the nd module";
        let transport = Transport::open(timeout).map_err(|kind| Error::new(action, kind))?;
        let family =
            resolve_family(&transport, FAMILY_NAME).map_err(|kind| Error::new(action, kind))?;
        Ok(Client { transport, family })
    }

    /// The family id the controller assigned to `nd`.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Sends `request` and returns the attributes of each reply (none for a mutation).
    /// A dump the kernel flags as interrupted is taken again, up to three times.
    pub fn execute(&self, request: &Request) -> Result<Vec<Vec<u8>>, Error> {
        let dump = request.is_dump();
        for _ in 0..DUMP_ATTEMPTS {
            let replies = self
                .transport
                .exchange(self.family, dump, request.message())
                .map_err(|kind| Error::new(request.describe(), kind))?;
            if !replies.interrupted {
                return Ok(replies.payloads);
            }
        }
        Err(Error::new(
            request.describe(),
            ErrorKind::Interrupted(DUMP_ATTEMPTS),
        ))
    }

    /// Sends command number `cmd` with arbitrary attributes, to exercise the module's
    /// validation with requests the typed API would not build. `action` names the attempt in
    /// errors.
    pub fn execute_raw(
        &self,
        action: &str,
        cmd: u8,
        dump: bool,
        attrs: GenlBuffer<u16, Buffer>,
    ) -> Result<Replies, Error> {
        self.transport
            .exchange(self.family, dump, genl_message(cmd, FAMILY_VERSION, attrs))
            .map_err(|kind| Error::new(action, kind))
    }

    fn mutate(&self, request: Request) -> Result<(), Error> {
        self.execute(&request).map(drop)
    }

    fn list<T: Decode>(&self, request: Request) -> Result<Vec<T>, Error> {
        let replies = self.execute(&request)?;
        decode_all(&replies).map_err(|e| Error::new(request.describe(), e.into()))
    }

    fn read<T: Decode>(&self, request: Request) -> Result<T, Error> {
        let replies = self.execute(&request)?;
        decode_one(&replies).map_err(|e| Error::new(request.describe(), e.into()))
    }

    /// Adds cluster address `vip`.
    pub fn add_vip(&self, vip: Ipv4Addr) -> Result<(), Error> {
        self.mutate(Request::NewVip(vip))
    }

    /// Removes cluster address `vip` with its ports, servers and connections.
    pub fn del_vip(&self, vip: Ipv4Addr) -> Result<(), Error> {
        self.mutate(Request::DelVip(vip))
    }

    /// Every cluster address with its counters.
    pub fn vips(&self) -> Result<Vec<Vip>, Error> {
        self.list(Request::GetVips)
    }

    /// Adds the port of `service` to its cluster address, scheduled by `wrr`.
    pub fn add_port(&self, service: Service) -> Result<(), Error> {
        self.mutate(Request::NewPort(service, None))
    }

    /// Adds the port of `service` to its cluster address, scheduled by `scheduler`.
    pub fn add_port_scheduled(
        &self,
        service: Service,
        scheduler: SchedulerKind,
    ) -> Result<(), Error> {
        self.mutate(Request::NewPort(service, Some(scheduler)))
    }

    /// Changes the scheduler of the port of `service`; open connections are not touched.
    pub fn set_scheduler(&self, service: Service, scheduler: SchedulerKind) -> Result<(), Error> {
        self.mutate(Request::SetPort(service, scheduler))
    }

    /// Removes the port of `service` with its servers and connections.
    pub fn del_port(&self, service: Service) -> Result<(), Error> {
        self.mutate(Request::DelPort(service))
    }

    /// Every port with its counters.
    pub fn ports(&self) -> Result<Vec<Port>, Error> {
        self.list(Request::GetPorts)
    }

    /// Adds `server` behind `service`; without a weight the module gives it 1.
    pub fn add_server(
        &self,
        service: Service,
        server: Ipv4Addr,
        options: ServerOptions,
    ) -> Result<(), Error> {
        self.mutate(Request::NewServer {
            service,
            server,
            options,
        })
    }

    /// Changes the weight and/or MAC of `server` behind `service`.
    pub fn set_server(
        &self,
        service: Service,
        server: Ipv4Addr,
        options: ServerOptions,
    ) -> Result<(), Error> {
        self.mutate(Request::SetServer {
            service,
            server,
            options,
        })
    }

    /// Removes `server` from `service` and ends its connections.
    pub fn del_server(&self, service: Service, server: Ipv4Addr) -> Result<(), Error> {
        self.mutate(Request::DelServer { service, server })
    }

    /// Every server with its weight, state and counters.
    pub fn servers(&self) -> Result<Vec<Server>, Error> {
        self.list(Request::GetServers)
    }

    /// Replaces the weights of every server of `service` in one request.
    pub fn set_weights(&self, service: Service, weights: &[WeightEntry]) -> Result<(), Error> {
        self.mutate(Request::SetWeights {
            service,
            weights: weights.to_vec(),
        })
    }

    /// The connection table.
    pub fn conns(&self) -> Result<Vec<Conn>, Error> {
        self.list(Request::GetConns)
    }

    /// The timeouts and the connection table bound.
    pub fn config(&self) -> Result<Config, Error> {
        self.read(Request::GetConfig)
    }

    /// Changes the settings `change` names.
    pub fn set_config(&self, change: ConfigChange) -> Result<(), Error> {
        self.mutate(Request::SetConfig(change))
    }

    /// Protocol version, connection count and limit, global drop counters.
    pub fn info(&self) -> Result<Info, Error> {
        self.read(Request::GetInfo)
    }

    /// Removes every cluster address and connection of the namespace.
    pub fn flush(&self) -> Result<(), Error> {
        self.mutate(Request::Flush)
    }

    /// The whole configuration as a tree, counters included.
    pub fn tree(&self) -> Result<Tree, Error> {
        Ok(Tree::assemble(self.vips()?, self.ports()?, self.servers()?))
    }
}

/// Asks the generic netlink controller for the id of family `name`.
fn resolve_family(transport: &Transport, name: &str) -> Result<u16, ErrorKind> {
    let mut attrs = GenlBuffer::new();
    let mut name_nul = name.as_bytes().to_vec();
    name_nul.push(0);
    attrs.push(attr(ctrl::ATTR_FAMILY_NAME, &name_nul));
    let message = genl_message(ctrl::CMD_GETFAMILY, ctrl::VERSION, attrs);
    let replies = match transport.exchange(ctrl::ID, false, message) {
        Err(ErrorKind::Kernel(error)) if error.errno == libc::ENOENT => {
            return Err(ErrorKind::NotLoaded)
        }
        other => other?,
    };
    replies
        .payloads
        .iter()
        .flat_map(|reply| Attrs::new(reply))
        .find(|attr| attr.kind == ctrl::ATTR_FAMILY_ID)
        .and_then(|attr| attr.u16())
        .ok_or_else(|| {
            ErrorKind::Protocol(format!(
                "the controller's reply about family \"{name}\" has no family id"
            ))
        })
}

/// These talk to the running kernel's generic netlink controller, which every Linux kernel
/// has; they need no privilege and not the nd module.
#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> Transport {
        Transport::open(Duration::from_secs(5)).expect("a generic netlink socket opens")
    }

    #[test]
    fn resolves_the_controller_itself() {
        assert_eq!(resolve_family(&transport(), "nlctrl").unwrap(), ctrl::ID);
    }

    #[test]
    fn an_unregistered_family_reads_as_module_not_loaded() {
        let error = resolve_family(&transport(), "nd-nosuch").unwrap_err();
        assert!(matches!(error, ErrorKind::NotLoaded), "{error:?}");
    }

    #[test]
    fn the_kernels_extended_ack_reaches_the_error() {
        // CTRL_ATTR_FAMILY_ID is a u16 in the controller's policy; one byte fails validation.
        let mut attrs = GenlBuffer::new();
        attrs.push(attr(ctrl::ATTR_FAMILY_ID, &[1]));
        let message = genl_message(ctrl::CMD_GETFAMILY, ctrl::VERSION, attrs);
        let error = match transport().exchange(ctrl::ID, false, message) {
            Err(ErrorKind::Kernel(error)) => error,
            other => panic!("expected a kernel error, got {other:?}"),
        };
        // Older kernels answer EINVAL, newer ones ERANGE.
        assert!(
            [libc::EINVAL, libc::ERANGE].contains(&error.errno),
            "{error:?}"
        );
        assert!(
            error.message.is_some(),
            "no extended-ack message: {error:?}"
        );
        // The offset names the attribute in the top-level numbering, where 1 is VIP.
        assert_eq!(error.attribute.as_deref(), Some("VIP"));
    }
}
