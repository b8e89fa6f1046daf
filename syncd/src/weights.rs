//! The standby's weights follow the active's, so that a takeover does not reset them: the
//! active sends each port's weights when they change, the standby sets them for the ports
//! and servers it has.

use std::collections::BTreeMap;

use ndadm::model::{Service, WeightEntry};
use tracing::{debug, warn};

use crate::executor::{ExecutorError, PortWeights};
use crate::shared::Shared;

/// The weights last sent on a link, to send only what changed.
#[derive(Debug, Default)]
pub struct WeightsSent {
    last: BTreeMap<Service, Vec<WeightEntry>>,
}

impl WeightsSent {
    /// The ports of `now` whose weights differ from those last sent; they count as sent.
    pub fn changed(&mut self, now: Vec<PortWeights>) -> Vec<PortWeights> {
        let mut changed = Vec::new();
        let mut seen = BTreeMap::new();
        for mut port in now {
            port.entries.sort_by_key(|entry| entry.server);
            if self.last.get(&port.service) != Some(&port.entries) {
                changed.push(port.clone());
            }
            seen.insert(port.service, port.entries);
        }
        self.last = seen;
        changed
    }

    /// Forgets what was sent, so that everything is sent again.
    pub fn forget(&mut self) {
        self.last.clear();
    }
}

/// The weights to set on a port whose servers have `own` weights, given the `active`'s:
/// each server the active has gets its weight, the others keep theirs. `None` if nothing
/// changes.
pub fn merge(own: &[WeightEntry], active: &[WeightEntry]) -> Option<Vec<WeightEntry>> {
    let active: BTreeMap<_, _> = active.iter().map(|e| (e.server, e.weight)).collect();
    let merged: Vec<WeightEntry> = own
        .iter()
        .map(|entry| WeightEntry {
            server: entry.server,
            weight: active.get(&entry.server).copied().unwrap_or(entry.weight),
        })
        .collect();
    (merged != own).then_some(merged)
}

/// Sets the active's weights of `service` on this node's Executor, if it has the port.
pub async fn follow(shared: &Shared, service: Service, active: Vec<WeightEntry>) {
    let result = shared
        .executor(move |executor| {
            let ports = executor.weights()?;
            let Some(own) = ports.into_iter().find(|port| port.service == service) else {
                debug!("the active's weights for {service}: no such port here");
                return Ok(false);
            };
            match merge(&own.entries, &active) {
                Some(merged) => executor.set_weights(service, &merged).map(|()| true),
                None => Ok(false),
            }
        })
        .await;
    match result {
        Ok(true) => {
            shared.counters.weights_applied.incr();
            debug!(%service, "weights of {service} set as the active has them");
        }
        Ok(false) => {}
        Err(ExecutorError::Refused(e) | ExecutorError::Unavailable(e)) => {
            warn!(%service, "cannot set the active's weights of {service}: {e}")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn entry(last: u8, weight: u32) -> WeightEntry {
        WeightEntry {
            server: Ipv4Addr::new(10, 0, 0, last),
            weight,
        }
    }

    fn port(port: u16, entries: Vec<WeightEntry>) -> PortWeights {
        PortWeights {
            service: Service::new(Ipv4Addr::new(10, 0, 0, 100), port),
            entries,
        }
    }

    #[test]
    fn only_ports_whose_weights_changed_are_sent_again() {
        let mut sent = WeightsSent::default();
        let first = vec![
            port(80, vec![entry(11, 1), entry(12, 2)]),
            port(443, vec![entry(11, 1)]),
        ];
        assert_eq!(sent.changed(first.clone()).len(), 2);
        assert!(sent.changed(first).is_empty());
        // The order servers are listed in is not a change.
        let reordered = vec![
            port(80, vec![entry(12, 2), entry(11, 1)]),
            port(443, vec![entry(11, 5)]),
        ];
        assert_eq!(sent.changed(reordered), [port(443, vec![entry(11, 5)])]);
        sent.forget();
        assert_eq!(sent.changed(vec![port(443, vec![entry(11, 5)])]).len(), 1);
    }

    #[test]
    fn the_standby_takes_the_weights_of_the_servers_both_have() {
        let own = [entry(11, 1), entry(12, 1), entry(13, 7)];
        let active = [entry(11, 4), entry(12, 1), entry(14, 9)];
        assert_eq!(
            merge(&own, &active),
            Some(vec![entry(11, 4), entry(12, 1), entry(13, 7)])
        );
        assert_eq!(merge(&own, &own), None);
        assert_eq!(merge(&own, &[]), None);
    }
}
