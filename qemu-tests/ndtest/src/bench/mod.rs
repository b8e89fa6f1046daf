//! Forwarding benchmarks: load generators and a sink built on one epoll event loop each
//! thread, nonblocking sockets and many connections per thread, so that the generators are
//! never what limits the measured path; and a packet injector with a receive counter for
//! the balancer's per-packet cost. Each subcommand prints one JSON report ([`report`]).

pub mod clock;
pub mod count_rx;
pub mod crr;
pub mod event_loop;
pub mod flows;
pub mod histogram;
pub mod http_head;
pub mod inject;
pub mod latency;
pub mod report;
pub mod response;
pub mod sink;
pub mod slab;
pub mod stream;
pub mod tcp;
pub mod termination;
pub mod timer;
pub mod transaction;
pub mod transaction_loop;
