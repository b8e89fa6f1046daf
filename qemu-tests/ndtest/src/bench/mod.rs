//! Forwarding benchmarks: load generators and a sink built on one epoll event loop each
//! thread, nonblocking sockets and many connections per thread, so that the generators are
//! never what limits the measured path; and a packet injector with a receive counter for
//! the balancer's per-packet cost. Each subcommand prints one JSON report.

pub mod clock;
pub mod event_loop;
pub mod histogram;
pub mod slab;
pub mod termination;
pub mod timer;
