//! Executor logic that needs no kernel API, compiled into the module by path and tested here.
#![no_std]

pub mod affinity;
pub mod conn_entry;
pub mod conn_hash;
pub mod flow_table;
pub mod headers;
pub mod numbering;
pub mod sched;
pub mod sched_sed;
pub mod sched_wlc;
pub mod sched_wrr;
pub mod tcp_state;
