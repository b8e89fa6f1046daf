//! `nd-syncd`: keeps the standby dispatcher's connection table a copy of the active's, so
//! that a takeover does not drop the connections in progress.
//!
//! The active Executor publishes its table's changes as 24-byte records on the `sync`
//! multicast group of the `nd` family. The daemon on the active node relays them over TCP
//! ([`frame`], [`link`]) to the daemon on the standby, which installs them into its Executor
//! and acknowledges them; the acknowledgements measure the lag ([`lag`]). Every link that
//! comes up starts with a full copy of the table, and so does any loss of records on the way
//! (a full queue, an overrun of the netlink socket). The daemon reads its Executor's role
//! every 200 ms ([`role`]), so the node keepalived makes active starts publishing at once and
//! fail-back works the same way in the other direction. The active's weights are sent along,
//! so that the standby takes over with them ([`weights`]). Each daemon reports its link to
//! its own Executor twice a second ([`status`]) for `ndadm ha show`.
//!
//! The [`executor::Executor`] trait stands for the kernel module, so that tests run two
//! daemons on loopback against in-memory Executors.

pub mod backoff;
pub mod codec;
pub mod config;
pub mod counters;
pub mod daemon;
pub mod executor;
pub mod frame;
pub mod handshake;
pub mod lag;
pub mod link;
pub mod publisher;
pub mod resync;
pub mod role;
pub mod shared;
pub mod status;
pub mod weights;
