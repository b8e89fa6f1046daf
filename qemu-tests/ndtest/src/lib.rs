//! Traffic generator and checker for the load balancer's QEMU tests.
//!
//! The `ndtest` binary exposes each module as a subcommand; [`report`] and
//! [`bench::report`] hold the JSON shapes those subcommands print so a driver can parse
//! them.

pub mod admin_probe;
pub mod agent_garbage;
pub mod atomic_file;
pub mod bench;
pub mod benchmark;
pub mod connect;
pub mod evaluation;
pub mod fuzz_netlink;
pub mod greeting;
pub mod hold;
pub mod net;
pub mod privileges;
pub mod prng;
pub mod raw_packets;
pub mod report;
pub mod serve;
pub mod suite;
pub mod wait_port;
