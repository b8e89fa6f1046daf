//! The Executor over generic netlink, through `ndadm`'s client.

use std::collections::BTreeMap;
use std::time::Duration;

use ndadm::client::{Client, Error, ErrorKind, ReconnectingClient, SyncEvent, SyncSubscription};
use ndadm::model::{HaRole, Service, SyncRecord, SyncStatus, WeightEntry};
use tracing::warn;

use super::{Executor, ExecutorError, PortWeights, Publications, Published};

/// How long a wait on the multicast group lasts, so that the thread reading it notices soon
/// when it should stop.
const RECEIVE_WAIT: Duration = Duration::from_millis(200);

impl From<Error> for ExecutorError {
    fn from(error: Error) -> Self {
        match error.kind() {
            ErrorKind::Kernel(_) => ExecutorError::Refused(error.to_string()),
            _ => ExecutorError::Unavailable(error.to_string()),
        }
    }
}

/// The Executor of this network namespace, over generic netlink.
///
/// The socket opens on first use and again after a failure that is not the kernel refusing a
/// request ([`ReconnectingClient`]), so the daemon rides out the module being unloaded and
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
    fn role(&self) -> Result<HaRole, ExecutorError> {
        let status = self.with_client(Client::ha)?;
        status.role.known().ok_or_else(|| {
            ExecutorError::Unavailable(format!(
                "the Executor's role is {}, which this nd-syncd does not know",
                status.role
            ))
        })
    }

    fn subscribe(&self) -> Result<Box<dyn Publications>, ExecutorError> {
        Ok(Box::new(Multicast(SyncSubscription::join(RECEIVE_WAIT)?)))
    }

    fn table(&self) -> Result<Vec<SyncRecord>, ExecutorError> {
        let (conns, bindings) =
            self.with_client(|client| Ok((client.conns()?, client.affinity()?)))?;
        let mut records: Vec<SyncRecord> = conns.iter().filter_map(|c| c.sync_record()).collect();
        let unknown = conns.len() - records.len();
        if unknown > 0 {
            warn!("{unknown} connections in states this nd-syncd does not know are not sent");
        }
        records.extend(bindings.iter().map(|binding| binding.sync_record()));
        Ok(records)
    }

    fn install(&self, records: &[SyncRecord]) -> Result<(), ExecutorError> {
        self.with_client(|client| client.sync_install(records))
    }

    fn report(&self, status: &SyncStatus) -> Result<(), ExecutorError> {
        self.with_client(|client| client.set_sync_status(status))
    }

    fn weights(&self) -> Result<Vec<PortWeights>, ExecutorError> {
        let servers = self.with_client(Client::servers)?;
        let mut ports: BTreeMap<Service, Vec<WeightEntry>> = BTreeMap::new();
        for server in servers {
            ports
                .entry(server.service())
                .or_default()
                .push(WeightEntry {
                    server: server.server,
                    weight: server.weight,
                });
        }
        Ok(ports
            .into_iter()
            .map(|(service, entries)| PortWeights { service, entries })
            .collect())
    }

    fn set_weights(&self, service: Service, entries: &[WeightEntry]) -> Result<(), ExecutorError> {
        self.with_client(|client| client.set_weights(service, entries))
    }
}

/// The `sync` multicast group.
struct Multicast(SyncSubscription);

impl Publications for Multicast {
    fn next(&mut self) -> Result<Published, ExecutorError> {
        Ok(match self.0.next()? {
            SyncEvent::Records { records, malformed } => {
                if malformed > 0 {
                    warn!("{malformed} published records did not decode and are not sent");
                }
                Published::Records(records)
            }
            SyncEvent::Overrun => Published::Overrun,
            SyncEvent::Idle => Published::Idle,
        })
    }
}
