//! Administration of the Network Dispatcher Executor over its generic netlink family `nd`.
//!
//! [`client`] is the typed client the `ndadm` binary is a thin layer over; [`model`] holds
//! the objects it sends and receives.

pub mod client;
pub mod model;
