//! An Executor held in memory, refusing what the kernel's refuses: a dry-run target, and the
//! Executor that tests and simulations drive.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::{Mutex, PoisonError};

use ndadm::model::{SchedulerKind, Service, WeightEntry};

use super::{Executor, ExecutorError, PortReading, ServerReading};

/// The objects, counters and commits of a [`MemoryExecutor`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// The cluster addresses.
    pub vips: BTreeSet<Ipv4Addr>,
    /// The ports, with the scheduler each runs.
    pub ports: BTreeMap<Service, SchedulerKind>,
    /// The servers, with weights and counters that the holder may change.
    pub servers: Vec<ServerReading>,
    /// Every `set_weights` accepted, in order.
    pub commits: Vec<(Service, Vec<WeightEntry>)>,
    /// Every `set_scheduler` accepted, in order.
    pub scheduler_changes: Vec<(Service, SchedulerKind)>,
    /// While set, every request fails as if the module were not loaded.
    pub unreachable: bool,
    /// Whether the Executor is a standby.
    pub standby: bool,
}

/// An Executor in memory.
#[derive(Debug, Default)]
pub struct MemoryExecutor {
    state: Mutex<MemoryState>,
}

impl MemoryExecutor {
    /// An empty Executor.
    pub fn new() -> MemoryExecutor {
        MemoryExecutor::default()
    }

    /// Runs `f` on the state, to inspect or change it.
    pub fn with<T>(&self, f: impl FnOnce(&mut MemoryState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Adds `server` behind `service` with `weight`, creating the VIP and port (scheduled by
    /// `wrr`) if needed.
    pub fn insert(&self, service: Service, server: Ipv4Addr, weight: u32) {
        self.with(|state| {
            state.vips.insert(service.vip);
            state.ports.entry(service).or_default();
            state.servers.push(ServerReading {
                service,
                server,
                weight,
                conns: 0,
                active: 0,
            });
        });
    }

    /// The weight of `server` behind `service`, if it is there.
    pub fn weight(&self, service: Service, server: Ipv4Addr) -> Option<u32> {
        self.with(|state| {
            state
                .servers
                .iter()
                .find(|s| s.service == service && s.server == server)
                .map(|s| s.weight)
        })
    }

    /// The scheduler of the port of `service`, if it is there.
    pub fn scheduler(&self, service: Service) -> Option<SchedulerKind> {
        self.with(|state| state.ports.get(&service).copied())
    }

    fn request<T>(
        &self,
        f: impl FnOnce(&mut MemoryState) -> Result<T, String>,
    ) -> Result<T, ExecutorError> {
        self.with(|state| {
            if state.unreachable {
                return Err(ExecutorError("the nd module is not loaded".into()));
            }
            f(state).map_err(ExecutorError)
        })
    }
}

impl Executor for MemoryExecutor {
    fn is_standby(&self) -> Result<bool, ExecutorError> {
        self.request(|state| Ok(state.standby))
    }

    fn vips(&self) -> Result<Vec<Ipv4Addr>, ExecutorError> {
        self.request(|state| Ok(state.vips.iter().copied().collect()))
    }

    fn ports(&self) -> Result<Vec<PortReading>, ExecutorError> {
        self.request(|state| {
            Ok(state
                .ports
                .iter()
                .map(|(&service, scheduler)| PortReading {
                    service,
                    scheduler: scheduler.name().to_string(),
                })
                .collect())
        })
    }

    fn servers(&self) -> Result<Vec<ServerReading>, ExecutorError> {
        self.request(|state| Ok(state.servers.clone()))
    }

    fn add_vip(&self, vip: Ipv4Addr) -> Result<(), ExecutorError> {
        self.request(|state| {
            if !state.vips.insert(vip) {
                return Err(format!("add VIP {vip}: File exists"));
            }
            Ok(())
        })
    }

    fn add_port(&self, service: Service, scheduler: SchedulerKind) -> Result<(), ExecutorError> {
        self.request(|state| {
            if !state.vips.contains(&service.vip) || state.ports.contains_key(&service) {
                return Err(format!("add port {service}: refused"));
            }
            state.ports.insert(service, scheduler);
            Ok(())
        })
    }

    fn set_scheduler(
        &self,
        service: Service,
        scheduler: SchedulerKind,
    ) -> Result<(), ExecutorError> {
        self.request(|state| {
            let Some(current) = state.ports.get_mut(&service) else {
                return Err(format!("change port {service}: No such file or directory"));
            };
            *current = scheduler;
            state.scheduler_changes.push((service, scheduler));
            Ok(())
        })
    }

    fn add_server(&self, service: Service, server: Ipv4Addr) -> Result<(), ExecutorError> {
        self.request(|state| {
            let present = state
                .servers
                .iter()
                .any(|s| s.service == service && s.server == server);
            if !state.ports.contains_key(&service) || present {
                return Err(format!("add server {server} to {service}: refused"));
            }
            state.servers.push(ServerReading {
                service,
                server,
                weight: 1,
                conns: 0,
                active: 0,
            });
            Ok(())
        })
    }

    fn set_weights(&self, service: Service, weights: &[WeightEntry]) -> Result<(), ExecutorError> {
        self.request(|state| {
            let on_port: BTreeSet<Ipv4Addr> = state
                .servers
                .iter()
                .filter(|s| s.service == service)
                .map(|s| s.server)
                .collect();
            let named: BTreeSet<Ipv4Addr> = weights.iter().map(|w| w.server).collect();
            if named.len() != weights.len() || named != on_port {
                return Err(format!(
                    "set weights of {service}: the weight list must name every server of the \
                     port once"
                ));
            }
            for entry in weights {
                for server in state.servers.iter_mut() {
                    if server.service == service && server.server == entry.server {
                        server.weight = entry.weight;
                    }
                }
            }
            state.commits.push((service, weights.to_vec()));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_weights_must_name_every_server_of_the_port_once() {
        let executor = MemoryExecutor::new();
        let service = Service::new(Ipv4Addr::new(10, 0, 0, 100), 80);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 11), Ipv4Addr::new(10, 0, 0, 12));
        executor.insert(service, a, 1);
        executor.insert(service, b, 1);
        let entry = |server, weight| WeightEntry { server, weight };
        assert!(executor.set_weights(service, &[entry(a, 5)]).is_err());
        assert!(executor
            .set_weights(service, &[entry(a, 5), entry(a, 6), entry(b, 1)])
            .is_err());
        executor
            .set_weights(service, &[entry(b, 7), entry(a, 5)])
            .unwrap();
        assert_eq!(executor.weight(service, a), Some(5));
        assert_eq!(executor.weight(service, b), Some(7));
        assert_eq!(executor.with(|s| s.commits.len()), 1);
    }

    #[test]
    fn ports_keep_their_scheduler_and_change_it_on_request() {
        let executor = MemoryExecutor::new();
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        let (web, tls) = (Service::new(vip, 80), Service::new(vip, 443));
        assert!(
            executor.add_port(web, SchedulerKind::Wlc).is_err(),
            "no VIP yet"
        );
        executor.add_vip(vip).unwrap();
        executor.add_port(web, SchedulerKind::Wlc).unwrap();
        assert!(executor.add_port(web, SchedulerKind::Sed).is_err());
        executor.insert(tls, Ipv4Addr::new(10, 0, 0, 11), 1);
        let ports = executor.ports().unwrap();
        assert_eq!(ports.len(), 2);
        assert!(ports[0].runs(SchedulerKind::Wlc) && ports[1].runs(SchedulerKind::Wrr));
        executor.set_scheduler(tls, SchedulerKind::Sed).unwrap();
        assert_eq!(executor.scheduler(tls), Some(SchedulerKind::Sed));
        assert!(executor
            .set_scheduler(Service::new(vip, 8080), SchedulerKind::Sed)
            .is_err());
        assert_eq!(
            executor.with(|s| s.scheduler_changes.clone()),
            vec![(tls, SchedulerKind::Sed)]
        );
    }

    #[test]
    fn an_unreachable_executor_refuses_everything() {
        let executor = MemoryExecutor::new();
        executor.with(|state| state.unreachable = true);
        assert!(executor.servers().is_err());
        assert!(executor.add_vip(Ipv4Addr::new(10, 0, 0, 1)).is_err());
    }
}
