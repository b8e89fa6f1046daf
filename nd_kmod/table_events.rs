// SPDX-License-Identifier: GPL-2.0
//! What the connection and affinity tables' changes do besides: the servers' gauges follow
//! them, a connection placed by a binding lets go of it when it ends, and an active
//! dispatcher publishes every change to its peer as sync records.

use crate::affinity::{self, AffinityEntry, AffinityKey};
use crate::affinity_table::{AffinityTable, BindingObserver};
use crate::attr::ConnState;
use crate::conn::Observer;
use crate::conn_entry::{ConnEntry, AFFINE};
use crate::service::Services;
use crate::sync::SyncState;
use crate::sync_record::{RecordKind, SyncRecord};
use crate::tcp_state::TcpState;

/// The observer of one pass over the table, with the configuration the pass reads.
pub(crate) struct TableEvents<'a> {
    pub(crate) services: &'a Services,
    pub(crate) sync: &'a SyncState,
    pub(crate) affinity: &'a AffinityTable,
    /// The jiffies clock's low 32 bits, for the time entries have left.
    pub(crate) now: u32,
}

/// The wire state of a connection state.
pub(crate) fn wire_state(state: TcpState) -> ConnState {
    match state {
        TcpState::SynSent => ConnState::SynSent,
        TcpState::Established => ConnState::Established,
        TcpState::FinWait => ConnState::FinWait,
        TcpState::Closed => ConnState::Closed,
    }
}

impl TableEvents<'_> {
    /// Lets go of the binding that placed `entry`, if one did.
    fn release_binding(&self, entry: &ConnEntry) {
        if entry.flags & AFFINE == 0 {
            return;
        }
        let Some(settings) = self
            .services
            .port_addr(entry.key.service)
            .and_then(|port| port.affinity)
        else {
            return;
        };
        let key = AffinityKey {
            network: affinity::network(entry.key.client, settings.prefix),
            service: entry.key.service,
        };
        self.affinity
            .release(&key, crate::clock::now(), settings.timeout);
    }

    fn publish_binding(&self, kind: RecordKind, entry: &AffinityEntry) {
        if !self.sync.publishing() {
            return;
        }
        let (Some(port), Some(server)) = (
            self.services.port_addr(entry.key.service),
            self.services.server(entry.server),
        ) else {
            return;
        };
        let Some(settings) = port.affinity else { return };
        // A binding with connections lives at least its timeout after the last one.
        let left = if entry.conns > 0 {
            settings.timeout
        } else {
            entry.left(self.now)
        };
        self.sync.publish(&SyncRecord {
            kind,
            state: None,
            prefix: settings.prefix,
            client: entry.key.network,
            vip: port.vip,
            server: server.addr,
            client_port: 0,
            port: port.port,
            expires_ms: crate::clock::jiffies_to_msecs(left.into()),
        });
    }

    fn publish(&self, kind: RecordKind, entry: &ConnEntry) {
        if !self.sync.publishing() {
            return;
        }
        // An entry of a port or server being removed this instant goes unpublished: the peer
        // removes its own when its configuration follows.
        let (Some(port), Some(server)) = (
            self.services.port_addr(entry.key.service),
            self.services.server(entry.server),
        ) else {
            return;
        };
        let left = crate::clock::jiffies_to_msecs(entry.left(self.now).into());
        self.sync.publish(&SyncRecord {
            kind,
            state: Some(wire_state(entry.state)),
            prefix: 0,
            client: entry.key.client,
            vip: port.vip,
            server: server.addr,
            client_port: entry.key.client_port,
            port: port.port,
            expires_ms: left,
        });
    }
}

impl Observer for TableEvents<'_> {
    fn entered(&self, entry: &ConnEntry) {
        if let Some(server) = self.services.server(entry.server) {
            server.stats.enter(entry.state);
        }
        self.publish(RecordKind::Conn, entry);
    }

    fn moved(&self, entry: &ConnEntry, from: TcpState) {
        if from.is_active() != entry.state.is_active() {
            if let Some(server) = self.services.server(entry.server) {
                server.stats.leave(from);
                server.stats.enter(entry.state);
            }
        }
        self.publish(RecordKind::Conn, entry);
    }

    fn removed(&self, entry: &ConnEntry) {
        // A server that is gone has no gauges left to keep.
        if let Some(server) = self.services.server(entry.server) {
            server.stats.leave(entry.state);
        }
        self.release_binding(entry);
        self.publish(RecordKind::ConnGone, entry);
    }

    fn wants_refresh(&self) -> bool {
        self.sync.publishing()
    }

    fn refreshed(&self, entry: &ConnEntry) {
        self.publish(RecordKind::Conn, entry);
    }
}

impl BindingObserver for TableEvents<'_> {
    fn bound(&self, entry: &AffinityEntry) {
        if let Some(server) = self.services.server(entry.server) {
            server.stats.bind();
        }
        self.publish_binding(RecordKind::Affinity, entry);
    }

    fn unbound(&self, entry: &AffinityEntry) {
        if let Some(server) = self.services.server(entry.server) {
            server.stats.unbind();
        }
        self.publish_binding(RecordKind::AffinityGone, entry);
    }

    fn wants_refresh(&self) -> bool {
        self.sync.publishing()
    }

    fn refreshed(&self, entry: &AffinityEntry) {
        self.publish_binding(RecordKind::Affinity, entry);
    }
}
