//! The injector's flows: F distinct client (address, port) pairs from a block of addresses,
//! each a pure function of its number, so that millions of flows need no table. Consecutive
//! flows take consecutive addresses, and the port moves on once every address has been
//! used, which spreads the flows over the balancer's hash as real clients would.

use crate::prng::Prng;
use crate::raw_packets::flow_frame::FlowEnd;
use crate::raw_packets::frame::SourceRange;

/// Client ports flows use: the unprivileged ones.
const FIRST_PORT: u16 = 1024;
const PORTS: u64 = (u16::MAX - FIRST_PORT) as u64 + 1;

/// `count` flows from the addresses of `sources`.
#[derive(Clone, Copy, Debug)]
pub struct FlowSet {
    sources: SourceRange,
    count: u64,
}

impl FlowSet {
    /// The flows, unless the block has too few addresses and ports for `count` distinct ones.
    pub fn new(sources: SourceRange, count: u64) -> Result<FlowSet, String> {
        let room = sources.usable().saturating_mul(PORTS);
        if count == 0 || count > room {
            return Err(format!(
                "{count} flows do not fit: the block has room for 1 to {room} (addresses times {PORTS} ports)"
            ));
        }
        Ok(FlowSet { sources, count })
    }

    /// Number of flows.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether there are no flows (never: [`FlowSet::new`] refuses that).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Flow `n` (below [`FlowSet::len`]).
    pub fn flow(&self, n: u64) -> FlowEnd {
        let addresses = self.sources.usable();
        let port = FIRST_PORT + (n / addresses) as u16;
        // One draw of SplitMix64 seeded with the flow number: fixed per flow, unrelated
        // between neighbours.
        let random = Prng::new(n).next_u64();
        FlowEnd {
            addr: self.sources.nth(n % addresses),
            port,
            isn: random as u32,
            ack: (random >> 32) as u32 | 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn flows_are_distinct_and_inside_the_block() {
        let sources: SourceRange = "198.18.0.0/29".parse().unwrap();
        let set = FlowSet::new(sources, 6 * 3).unwrap();
        let mut seen = HashSet::new();
        for n in 0..set.len() {
            let flow = set.flow(n);
            assert!(sources.contains(flow.addr));
            assert!(flow.port >= FIRST_PORT);
            assert!(seen.insert((flow.addr, flow.port)), "flow {n} repeats");
            assert_eq!(set.flow(n), flow, "a flow is a function of its number");
        }
        assert_eq!(set.flow(0).port, set.flow(5).port);
        assert_eq!(set.flow(6).port, FIRST_PORT + 1);
    }

    #[test]
    fn a_block_holds_only_so_many_flows() {
        let single: SourceRange = "192.0.2.1/32".parse().unwrap();
        assert!(FlowSet::new(single, PORTS).is_ok());
        let last = FlowSet::new(single, PORTS).unwrap().flow(PORTS - 1);
        assert_eq!(last.port, u16::MAX);
        assert!(FlowSet::new(single, PORTS + 1).is_err());
        assert!(FlowSet::new(single, 0).is_err());
        let wide: SourceRange = "172.16.0.0/12".parse().unwrap();
        assert!(FlowSet::new(wide, 16 << 20).is_ok());
    }
}
