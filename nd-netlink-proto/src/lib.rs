//! The generic netlink protocol of the Network Dispatcher Executor.
//!
//! The kernel module includes the content files by path, so this root stays bare.
#![no_std]

pub mod attr;
pub mod cmd;
pub mod family;
pub mod nla;
pub mod sync_record;
