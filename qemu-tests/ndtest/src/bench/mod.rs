//! Forwarding benchmarks: load generators and a sink built on one epoll event loop each
//! thread, nonblocking sockets and many connections per thread, so that the generators are
//! never what limits the measured path; and a packet injector with a receive counter for
//! the balancer's per-packet cost. The load-sharing evaluation's emulated servers
//! ([`ps_serve`]) and its open-loop request mix ([`workload`]) are built the same way. Each
//! subcommand prints one JSON report ([`report`]).

pub mod clock;
pub mod count_rx;
pub mod crr;
pub mod event_loop;
pub mod flows;
pub mod histogram;
pub mod http_head;
pub mod inject;
pub mod latency;
pub mod ps_emulation;
pub mod ps_schedule;
pub mod ps_serve;
pub mod ps_status;
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
pub mod work_path;
pub mod workload;
