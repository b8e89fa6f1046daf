//! A typed client of the `nd` generic netlink family, the library under `ndadm`.
//!
//! [`Client`] resolves the family, sends [`Request`]s (mutations with `NLM_F_ACK`, `Get*`
//! commands with `NLM_F_DUMP`) and decodes the replies into the types of [`crate::model`].

mod controller;
mod decode;
mod error;
mod names;
mod reconnecting;
mod request;
mod subscription;
mod transport;

use std::net::Ipv4Addr;
use std::time::Duration;

use nd_netlink_proto::family::{FAMILY_NAME, FAMILY_VERSION, MAX_SYNC_BATCH};
use neli::types::{Buffer, GenlBuffer};

pub use decode::{decode_all, decode_one, Decode, DecodeError, Problem};
pub use error::{errno_text, ext_ack, Error, ErrorKind, KernelError};
pub use names::AttrSpace;
pub use reconnecting::ReconnectingClient;
pub use request::{attr, ipv4_attr, nested, Request, WEIGHTS_ELEMENT};
pub use subscription::{decode_publication, Publication, SyncEvent, SyncSubscription};
pub use transport::Replies;

use crate::model::{
    AffinityRecord, Config, ConfigChange, Conn, HaRole, HaStatus, Info, Port, PortOptions, Server,
    ServerOptions, Service, SyncRecord, SyncStatus, Tree, Vip, WeightEntry,
};
use request::genl_message;
use transport::Transport;

/// How long to wait for each reply before giving up on the kernel.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a dump the kernel flags as interrupted is taken again.
const DUMP_ATTEMPTS: u32 = 3;

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
        let family = controller::resolve(&transport, FAMILY_NAME)
            .map_err(|kind| Error::new(action, kind))?
            .id;
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

    /// Adds the port of `service` to its cluster address with `options`; what they leave out
    /// takes the module's defaults (`wrr`, no affinity).
    pub fn add_port(&self, service: Service, options: PortOptions) -> Result<(), Error> {
        self.mutate(Request::NewPort(service, options))
    }

    /// Changes what `options` names of the port of `service`; open connections are not
    /// touched, and a change of the affinity settings drops the port's affinity records.
    pub fn set_port(&self, service: Service, options: PortOptions) -> Result<(), Error> {
        self.mutate(Request::SetPort(service, options))
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

    /// Makes the Executor active (dispatching and publishing its table) or standby (holding
    /// its peer's).
    pub fn set_ha_role(&self, role: HaRole) -> Result<(), Error> {
        self.mutate(Request::SetHa(role))
    }

    /// The role, the Executor's synchronisation counters and the sync daemon's last report.
    pub fn ha(&self) -> Result<HaStatus, Error> {
        self.read(Request::GetHa)
    }

    /// Installs the peer's `records`, in requests of at most `MAX_SYNC_BATCH`. Records the
    /// Executor cannot place (no such port or server) are counted as refused, not errors.
    pub fn sync_install(&self, records: &[SyncRecord]) -> Result<(), Error> {
        for batch in records.chunks(MAX_SYNC_BATCH) {
            self.mutate(Request::SyncInstall(batch.to_vec()))?;
        }
        Ok(())
    }

    /// Reports the sync daemon's link to the peer, for `ndadm ha show`.
    pub fn set_sync_status(&self, status: &SyncStatus) -> Result<(), Error> {
        self.mutate(Request::SetSyncStatus(*status))
    }

    /// Every affinity record.
    pub fn affinity(&self) -> Result<Vec<AffinityRecord>, Error> {
        self.list(Request::GetAffinity)
    }

    /// The whole configuration as a tree, counters included.
    pub fn tree(&self) -> Result<Tree, Error> {
        Ok(Tree::assemble(self.vips()?, self.ports()?, self.servers()?))
    }
}

/// These talk to the running kernel's generic netlink controller, which every Linux kernel
/// has; they need no privilege and not the nd module.
#[cfg(test)]
mod tests {
    use super::controller::ctrl;
    use super::*;

    fn transport() -> Transport {
        Transport::open(Duration::from_secs(5)).expect("a generic netlink socket opens")
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
