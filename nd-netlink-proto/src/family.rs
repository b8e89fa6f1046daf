//! The family's identity and the value ranges both sides check.

/// Generic netlink family name, resolved through the generic netlink controller.
pub const FAMILY_NAME: &str = "nd";
/// The same name as the NUL-terminated bytes the kernel registers.
pub const FAMILY_NAME_NUL: &[u8] = b"nd\0";
/// Protocol version carried in the generic netlink header and in `ATTR_VERSION`.
pub const FAMILY_VERSION: u8 = 1;

/// Largest server weight; 0 quiesces a server.
pub const MAX_WEIGHT: u32 = 65_535;
/// Largest number of servers behind one port.
pub const MAX_SERVERS_PER_PORT: usize = 256;
/// Largest number of cluster addresses in one network namespace.
pub const MAX_VIPS: usize = 256;
/// Largest number of ports on one cluster address.
pub const MAX_PORTS_PER_VIP: usize = 64;
/// Largest connection table bound an operator may set.
pub const MAX_CONN_LIMIT: u32 = 1 << 24;
/// Largest state timeout, in seconds (one week).
pub const MAX_TIMEOUT_SECS: u32 = 7 * 24 * 3600;
/// Longest scheduler name, without its NUL.
pub const MAX_SCHEDULER_NAME: u16 = 15;
/// The multicast group the active Executor publishes its table's changes on.
pub const SYNC_GROUP: &str = "sync";
/// The same name as the NUL-terminated bytes the kernel registers.
pub const SYNC_GROUP_NUL: &[u8] = b"sync\0";
/// Largest affinity timeout, in seconds (a day).
pub const MAX_AFFINITY_TIMEOUT_SECS: u32 = 24 * 3600;
/// Most records one `SYNC_BATCH` carries.
pub const MAX_SYNC_BATCH: usize = 1024;
