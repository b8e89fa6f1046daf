//! The connection table's key and its hash.
//!
//! The hash is Bob Jenkins' lookup3 final mix over the key's three words, the function the
//! kernel calls `jhash_3words`, with a per-table random seed so that a client cannot choose
//! addresses and ports that pile into one bucket.

/// Identifies a connection: the client's address and port, and the port of a cluster
/// address it connects to, by that port's number in the Executor's configuration (8 bytes
/// where the addresses and port numbers would take 12). Addresses are in network byte order,
/// ports in host byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnKey {
    /// Client address.
    pub client: u32,
    /// Client port.
    pub client_port: u16,
    /// The configured port (cluster address and port) connected to.
    pub service: u16,
}

impl ConnKey {
    /// The key's hash under `seed`.
    pub fn hash(&self, seed: u32) -> u32 {
        let ports = (u32::from(self.client_port) << 16) | u32::from(self.service);
        jhash_3words(self.client, ports, 0, seed)
    }
}

const JHASH_INITVAL: u32 = 0xdead_beef;

/// lookup3's `final` mix of three words.
fn jhash_final(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(24));
    c
}

/// The kernel's `jhash_3words`.
pub fn jhash_3words(a: u32, b: u32, c: u32, seed: u32) -> u32 {
    let init = JHASH_INITVAL.wrapping_add(seed).wrapping_add(3 << 2);
    jhash_final(
        a.wrapping_add(init),
        b.wrapping_add(init),
        c.wrapping_add(init),
    )
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn matches_the_kernels_jhash_3words() {
        // Reference values from the macros of the kernel's include/linux/jhash.h compiled in C.
        assert_eq!(jhash_3words(0, 0, 0, 0), 0x1b68_e557);
        assert_eq!(jhash_3words(1, 2, 3, 4), 0x8103_143f);
    }

    #[test]
    fn seed_and_every_field_change_the_hash() {
        let key = ConnKey {
            client: 0x0a00_0002,
            client_port: 40000,
            service: 3,
        };
        let h = key.hash(7);
        assert_ne!(h, key.hash(8));
        assert_ne!(
            h,
            ConnKey {
                client: 0x0a00_0003,
                ..key
            }
            .hash(7)
        );
        assert_ne!(
            h,
            ConnKey {
                client_port: 40001,
                ..key
            }
            .hash(7)
        );
        assert_ne!(h, ConnKey { service: 4, ..key }.hash(7));
    }

    #[test]
    fn sequential_client_ports_spread_over_buckets() {
        let buckets = 256usize;
        let mut load = std::vec![0u32; buckets];
        for port in 0..(buckets as u16 * 16) {
            let key = ConnKey {
                client: 0x0a00_0002,
                client_port: 32768 + port,
                service: 0,
            };
            load[key.hash(0x1234_5678) as usize % buckets] += 1;
        }
        // 16 per bucket on average; a good mix keeps the fullest bucket well below 3x that.
        assert!(*load.iter().max().unwrap() < 40, "{load:?}");
    }
}
