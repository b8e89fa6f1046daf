//! An Executor held in memory that behaves as the kernel's does towards the daemon: it
//! publishes its own table's changes while active, installs a peer's records (refusing those
//! of ports it does not have), keeps the last status report and the servers' weights.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ndadm::model::{HaRole, RecordKind, Service, SyncRecord, SyncStatus, WeightEntry};

use super::{Executor, ExecutorError, PortWeights, Publications, Published};

/// Batches a subscriber's queue holds before publications are lost, as a netlink socket's
/// buffer would lose them.
const SUBSCRIBER_QUEUE: usize = 64;
/// How long a wait for a publication lasts.
const RECEIVE_WAIT: Duration = Duration::from_millis(50);

/// What identifies a connection: client address and port, cluster address and port.
pub type ConnKey = (u32, u16, u32, u16);
/// What identifies an affinity record: cluster address and port, client network, prefix.
pub type AffinityKey = (u32, u16, u32, u8);

/// The state of a [`MemoryExecutor`].
#[derive(Clone, Debug)]
pub struct MemoryState {
    /// The role.
    pub role: HaRole,
    /// The ports, each with its servers' weights; records of other ports are refused.
    pub ports: BTreeMap<Service, BTreeMap<Ipv4Addr, u32>>,
    /// The connection table.
    pub conns: BTreeMap<ConnKey, SyncRecord>,
    /// The affinity records.
    pub affinity: BTreeMap<AffinityKey, SyncRecord>,
    /// Records installed from the peer.
    pub installed: u64,
    /// Records refused.
    pub refused: u64,
    /// The daemon's last report.
    pub report: Option<SyncStatus>,
    /// Every `set_weights` accepted, in order.
    pub weight_commits: Vec<(Service, Vec<WeightEntry>)>,
    /// While set, every request fails as if the module were not loaded.
    pub unavailable: bool,
    /// How long each install takes, to make a peer fall behind.
    pub install_delay: Duration,
}

/// A subscriber's end: its queue and whether publications were lost.
struct Subscriber {
    queue: SyncSender<Vec<SyncRecord>>,
    overrun: Arc<AtomicBool>,
}

/// An Executor in memory.
pub struct MemoryExecutor {
    state: Mutex<MemoryState>,
    subscribers: Mutex<Vec<Subscriber>>,
}

impl MemoryExecutor {
    /// An empty Executor in `role`.
    pub fn new(role: HaRole) -> MemoryExecutor {
        MemoryExecutor {
            state: Mutex::new(MemoryState {
                role,
                ports: BTreeMap::new(),
                conns: BTreeMap::new(),
                affinity: BTreeMap::new(),
                installed: 0,
                refused: 0,
                report: None,
                weight_commits: Vec::new(),
                unavailable: false,
                install_delay: Duration::ZERO,
            }),
            subscribers: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on the state, to inspect or change it.
    pub fn with<T>(&self, f: impl FnOnce(&mut MemoryState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Adds `server` behind `service` with `weight`.
    pub fn add_server(&self, service: Service, server: Ipv4Addr, weight: u32) {
        self.with(|state| {
            state
                .ports
                .entry(service)
                .or_default()
                .insert(server, weight)
        });
    }

    /// Sets a server's weight, as an operator or the Manager would on this node.
    pub fn set_weight(&self, service: Service, server: Ipv4Addr, weight: u32) {
        self.add_server(service, server, weight);
    }

    /// The weight of `server` behind `service`.
    pub fn weight(&self, service: Service, server: Ipv4Addr) -> Option<u32> {
        self.with(|state| state.ports.get(&service)?.get(&server).copied())
    }

    /// Sets the role, as `ndadm ha role` would.
    pub fn set_role(&self, role: HaRole) {
        self.with(|state| state.role = role);
    }

    /// Changes the table as traffic would (a connection opens, changes state or ends), and
    /// publishes the change if the Executor is active, as the kernel does.
    pub fn change(&self, records: &[SyncRecord]) {
        let active = self.with(|state| {
            for record in records {
                apply(state, record);
            }
            state.role == HaRole::Active
        });
        if active {
            self.publish(records.to_vec());
        }
    }

    /// Makes every subscriber lose publications, as a full socket buffer would.
    pub fn overrun(&self) {
        for subscriber in self.lock_subscribers().iter() {
            subscriber.overrun.store(true, Ordering::SeqCst);
        }
    }

    /// The connection of `key`, if the table has it.
    pub fn conn(&self, key: ConnKey) -> Option<SyncRecord> {
        self.with(|state| state.conns.get(&key).copied())
    }

    fn lock_subscribers(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, batch: Vec<SyncRecord>) {
        self.lock_subscribers().retain(|subscriber| {
            match subscriber.queue.try_send(batch.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    subscriber.overrun.store(true, Ordering::SeqCst);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }

    fn request<T>(
        &self,
        f: impl FnOnce(&mut MemoryState) -> Result<T, ExecutorError>,
    ) -> Result<T, ExecutorError> {
        self.with(|state| {
            if state.unavailable {
                return Err(ExecutorError::Unavailable(
                    "the nd module is not loaded".into(),
                ));
            }
            f(state)
        })
    }
}

/// The key of a connection record.
pub fn conn_key(record: &SyncRecord) -> ConnKey {
    (record.client, record.client_port, record.vip, record.port)
}

fn affinity_key(record: &SyncRecord) -> AffinityKey {
    (record.vip, record.port, record.client, record.prefix)
}

/// Enters, updates or removes what `record` says.
fn apply(state: &mut MemoryState, record: &SyncRecord) {
    match record.kind {
        RecordKind::Conn => {
            state.conns.insert(conn_key(record), *record);
        }
        RecordKind::ConnGone => {
            state.conns.remove(&conn_key(record));
        }
        RecordKind::Affinity => {
            state.affinity.insert(affinity_key(record), *record);
        }
        RecordKind::AffinityGone => {
            state.affinity.remove(&affinity_key(record));
        }
    }
}

/// The service a record belongs to.
fn service_of(record: &SyncRecord) -> Service {
    Service::new(Ipv4Addr::from(record.vip.to_ne_bytes()), record.port)
}

impl Executor for MemoryExecutor {
    fn role(&self) -> Result<HaRole, ExecutorError> {
        self.request(|state| Ok(state.role))
    }

    fn subscribe(&self) -> Result<Box<dyn Publications>, ExecutorError> {
        self.request(|_| Ok(()))?;
        let (queue, receiver) = mpsc::sync_channel(SUBSCRIBER_QUEUE);
        let overrun = Arc::new(AtomicBool::new(false));
        self.lock_subscribers().push(Subscriber {
            queue,
            overrun: Arc::clone(&overrun),
        });
        Ok(Box::new(MemorySubscription { receiver, overrun }))
    }

    fn table(&self) -> Result<Vec<SyncRecord>, ExecutorError> {
        self.request(|state| {
            Ok(state
                .conns
                .values()
                .chain(state.affinity.values())
                .copied()
                .collect())
        })
    }

    fn install(&self, records: &[SyncRecord]) -> Result<(), ExecutorError> {
        let delay = self.with(|state| state.install_delay);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        self.request(|state| {
            for record in records {
                if state.ports.contains_key(&service_of(record)) {
                    apply(state, record);
                    state.installed += 1;
                } else {
                    state.refused += 1;
                }
            }
            Ok(())
        })
    }

    fn report(&self, status: &SyncStatus) -> Result<(), ExecutorError> {
        self.request(|state| {
            state.report = Some(*status);
            Ok(())
        })
    }

    fn weights(&self) -> Result<Vec<PortWeights>, ExecutorError> {
        self.request(|state| {
            Ok(state
                .ports
                .iter()
                .map(|(&service, servers)| PortWeights {
                    service,
                    entries: servers
                        .iter()
                        .map(|(&server, &weight)| WeightEntry { server, weight })
                        .collect(),
                })
                .collect())
        })
    }

    fn set_weights(&self, service: Service, entries: &[WeightEntry]) -> Result<(), ExecutorError> {
        self.request(|state| {
            let Some(servers) = state.ports.get_mut(&service) else {
                return Err(ExecutorError::Refused(format!("no port {service}")));
            };
            let named: BTreeSet<Ipv4Addr> = entries.iter().map(|e| e.server).collect();
            let present: BTreeSet<Ipv4Addr> = servers.keys().copied().collect();
            if named.len() != entries.len() || named != present {
                return Err(ExecutorError::Refused(format!(
                    "set weights of {service}: the list must name every server of the port once"
                )));
            }
            for entry in entries {
                servers.insert(entry.server, entry.weight);
            }
            state.weight_commits.push((service, entries.to_vec()));
            Ok(())
        })
    }
}

/// A subscriber's receiving end.
struct MemorySubscription {
    receiver: mpsc::Receiver<Vec<SyncRecord>>,
    overrun: Arc<AtomicBool>,
}

impl Publications for MemorySubscription {
    fn next(&mut self) -> Result<Published, ExecutorError> {
        if self.overrun.swap(false, Ordering::SeqCst) {
            return Ok(Published::Overrun);
        }
        match self.receiver.recv_timeout(RECEIVE_WAIT) {
            Ok(records) => Ok(Published::Records(records)),
            Err(RecvTimeoutError::Timeout) => Ok(Published::Idle),
            Err(RecvTimeoutError::Disconnected) => {
                Err(ExecutorError::Unavailable("the Executor is gone".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::ConnState;

    use super::*;

    const SERVICE: Service = Service {
        vip: Ipv4Addr::new(10, 0, 0, 100),
        port: 80,
    };

    fn conn(kind: RecordKind, port: u16) -> SyncRecord {
        SyncRecord {
            kind,
            state: Some(ConnState::Established),
            prefix: 0,
            client: u32::from_ne_bytes([203, 0, 113, 7]),
            vip: u32::from_ne_bytes(SERVICE.vip.octets()),
            server: u32::from_ne_bytes([10, 0, 0, 11]),
            client_port: 40_000,
            port,
            expires_ms: 1000,
        }
    }

    #[test]
    fn publishes_only_while_active_and_installs_only_known_ports() {
        let executor = MemoryExecutor::new(HaRole::Active);
        executor.add_server(SERVICE, Ipv4Addr::new(10, 0, 0, 11), 1);
        let mut subscription = executor.subscribe().unwrap();
        executor.change(&[conn(RecordKind::Conn, 80)]);
        assert_eq!(
            subscription.next().unwrap(),
            Published::Records(vec![conn(RecordKind::Conn, 80)])
        );
        executor.set_role(HaRole::Standby);
        executor.change(&[conn(RecordKind::ConnGone, 80)]);
        assert_eq!(subscription.next().unwrap(), Published::Idle);
        assert!(executor.table().unwrap().is_empty());

        executor
            .install(&[conn(RecordKind::Conn, 80), conn(RecordKind::Conn, 81)])
            .unwrap();
        assert_eq!(executor.with(|s| (s.installed, s.refused)), (1, 1));
        assert_eq!(executor.table().unwrap(), [conn(RecordKind::Conn, 80)]);
        executor.overrun();
        assert_eq!(subscription.next().unwrap(), Published::Overrun);
    }

    #[test]
    fn weights_must_name_every_server_once() {
        let executor = MemoryExecutor::new(HaRole::Standby);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 11), Ipv4Addr::new(10, 0, 0, 12));
        executor.add_server(SERVICE, a, 1);
        executor.add_server(SERVICE, b, 1);
        let entry = |server, weight| WeightEntry { server, weight };
        assert!(executor.set_weights(SERVICE, &[entry(a, 3)]).is_err());
        executor
            .set_weights(SERVICE, &[entry(a, 3), entry(b, 0)])
            .unwrap();
        assert_eq!(executor.weight(SERVICE, a), Some(3));
        assert_eq!(executor.weight(SERVICE, b), Some(0));
    }
}
