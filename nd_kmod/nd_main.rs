// SPDX-License-Identifier: GPL-2.0
//! Network Dispatcher Executor: a layer-4 TCP load balancer in direct-routing mode.
//!
//! Packets to a cluster address are taken at PRE_ROUTING; a new connection goes to a server
//! chosen by weighted round robin, and every packet of a connection is sent to its server
//! with only the Ethernet header rewritten. Administration is the `nd` generic netlink family.

use kernel::prelude::*;

// Kernel interfaces the `kernel` crate lacks: the only modules with `unsafe`.
mod bindings;
mod clock;
mod genl;
mod lock_bh;
mod netns;
mod nf_hook;
mod percpu;
mod rcu;
mod skb;
mod timer;
mod xmit_dr;

// Logic shared with the host's tests and with userspace.
#[path = "../nd-core/src/affinity.rs"]
pub mod affinity;
#[path = "../nd-netlink-proto/src/attr.rs"]
pub mod attr;
#[path = "../nd-netlink-proto/src/cmd.rs"]
pub mod cmd;
#[path = "../nd-core/src/conn_entry.rs"]
pub mod conn_entry;
#[path = "../nd-core/src/conn_hash.rs"]
pub mod conn_hash;
#[path = "../nd-netlink-proto/src/family.rs"]
pub mod family;
#[path = "../nd-core/src/flow_table.rs"]
pub mod flow_table;
#[path = "../nd-core/src/headers.rs"]
pub mod headers;
#[path = "../nd-netlink-proto/src/nla.rs"]
pub mod nla;
#[path = "../nd-core/src/numbering.rs"]
pub mod numbering;
#[path = "../nd-core/src/sched.rs"]
pub mod sched;
#[path = "../nd-core/src/sched_sed.rs"]
pub mod sched_sed;
#[path = "../nd-core/src/sched_wlc.rs"]
pub mod sched_wlc;
#[path = "../nd-core/src/sched_wrr.rs"]
pub mod sched_wrr;
#[path = "../nd-netlink-proto/src/sync_record.rs"]
pub mod sync_record;
#[path = "../nd-core/src/tcp_state.rs"]
pub mod tcp_state;

// The Executor.
mod affinity_table;
mod chunked_slots;
mod conn;
mod striped_table;
mod ctl;
mod ctl_affinity;
mod ctl_ha;
mod executor;
mod service;
mod stats;
mod sync;
mod table_events;

module! {
    type: NetworkDispatcher,
    name: "nd",
    author: "Network Dispatcher authors",
    description: "Network Dispatcher Executor: direct-routing TCP load balancer",
    license: "GPL",
}

struct NetworkDispatcher {
    // Dropped in this order: administration stops before the namespaces' Executors go.
    _family: genl::Registration<ctl::Ctl>,
    _pernet: netns::Registration<executor::NetExecutor>,
}

impl kernel::Module for NetworkDispatcher {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let pernet = netns::Registration::register()?;
        let family = ctl::register(module)?;
        pr_info!("Network Dispatcher Executor loaded\n");
        Ok(NetworkDispatcher {
            _family: family,
            _pernet: pernet,
        })
    }
}
