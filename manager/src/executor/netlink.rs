//! The Executor over generic netlink, through `ndadm`'s client.

use std::net::Ipv4Addr;

use ndadm::client::{Client, Error, ReconnectingClient};
use ndadm::model::{
    HaRole, PortOptions, SchedulerKind, ServerOptions, Service, WeightEntry, WireState,
};

use super::{Executor, ExecutorError, PortReading, ServerReading};

/// The Executor of this network namespace, over generic netlink.
///
/// The socket opens on first use and again after a failure that is not the kernel refusing a
/// request ([`ReconnectingClient`]), so the Manager rides out the module being unloaded and
/// loaded again.
#[derive(Default)]
pub struct NetlinkExecutor {
    client: ReconnectingClient,
}

impl NetlinkExecutor {
    /// An Executor that connects when first asked.
    pub fn new() -> NetlinkExecutor {
        NetlinkExecutor::default()
    }

    fn with_client<T>(
        &self,
        request: impl FnOnce(&Client) -> Result<T, Error>,
    ) -> Result<T, ExecutorError> {
        Ok(self.client.with(request)?)
    }
}

impl Executor for NetlinkExecutor {
    fn is_standby(&self) -> Result<bool, ExecutorError> {
        let status = self.with_client(|client| client.ha())?;
        Ok(status.role == WireState::Known(HaRole::Standby))
    }

    fn vips(&self) -> Result<Vec<Ipv4Addr>, ExecutorError> {
        let vips = self.with_client(Client::vips)?;
        Ok(vips.into_iter().map(|vip| vip.vip).collect())
    }

    fn ports(&self) -> Result<Vec<PortReading>, ExecutorError> {
        let ports = self.with_client(Client::ports)?;
        Ok(ports
            .into_iter()
            .map(|port| PortReading {
                service: port.service(),
                scheduler: port.scheduler,
            })
            .collect())
    }

    fn servers(&self) -> Result<Vec<ServerReading>, ExecutorError> {
        let servers = self.with_client(Client::servers)?;
        Ok(servers
            .iter()
            .map(|server| ServerReading {
                service: server.service(),
                server: server.server,
                weight: server.weight,
                conns: server.stats.conns,
                active: server.stats.active,
            })
            .collect())
    }

    fn add_vip(&self, vip: Ipv4Addr) -> Result<(), ExecutorError> {
        self.with_client(|client| client.add_vip(vip))
    }

    fn add_port(&self, service: Service, scheduler: SchedulerKind) -> Result<(), ExecutorError> {
        self.with_client(|client| client.add_port(service, PortOptions::scheduled(scheduler)))
    }

    fn set_scheduler(
        &self,
        service: Service,
        scheduler: SchedulerKind,
    ) -> Result<(), ExecutorError> {
        self.with_client(|client| client.set_port(service, PortOptions::scheduled(scheduler)))
    }

    fn add_server(&self, service: Service, server: Ipv4Addr) -> Result<(), ExecutorError> {
        let options = ServerOptions {
            weight: Some(1),
            mac: None,
        };
        self.with_client(|client| client.add_server(service, server, options))
    }

    fn set_weights(&self, service: Service, weights: &[WeightEntry]) -> Result<(), ExecutorError> {
        self.with_client(|client| client.set_weights(service, weights))
    }
}
