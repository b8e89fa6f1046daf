//! The guest's memory as /proc/meminfo tells it, so that scenarios print what their load
//! cost and can bound what the module keeps.

use std::fmt;

/// Two figures of /proc/meminfo, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// `MemAvailable`: what new work could have without swapping.
    pub available_kb: u64,
    /// `SUnreclaim`: slab memory that cannot be given back, where the module's tables live.
    pub slab_unreclaimable_kb: u64,
}

fn field(meminfo: &str, name: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

impl Memory {
    /// The figures now.
    pub fn now() -> Memory {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Memory {
            available_kb: field(&meminfo, "MemAvailable"),
            slab_unreclaimable_kb: field(&meminfo, "SUnreclaim"),
        }
    }

    /// How much unreclaimable slab grew since `before`, in KiB (0 if it shrank).
    pub fn slab_growth_since(&self, before: &Memory) -> u64 {
        self.slab_unreclaimable_kb
            .saturating_sub(before.slab_unreclaimable_kb)
    }
}

/// `before -> after` of both figures, for a scenario's report line.
pub struct Change(pub Memory, pub Memory);

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Change(before, after) = self;
        write!(
            f,
            "MemAvailable {} -> {} kB, SUnreclaim {} -> {} kB",
            before.available_kb,
            after.available_kb,
            before.slab_unreclaimable_kb,
            after.slab_unreclaimable_kb
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_fields_only() {
        let meminfo = "MemTotal:        2000 kB\nMemAvailable:    1500 kB\nSReclaimable:  9 kB\n\
                       SUnreclaim:       300 kB\n";
        assert_eq!(field(meminfo, "MemAvailable"), 1500);
        assert_eq!(field(meminfo, "SUnreclaim"), 300);
        assert_eq!(field(meminfo, "Slab"), 0);
    }

    #[test]
    fn growth_never_goes_negative() {
        let small = Memory {
            available_kb: 0,
            slab_unreclaimable_kb: 100,
        };
        let large = Memory {
            slab_unreclaimable_kb: 250,
            ..small
        };
        assert_eq!(large.slab_growth_since(&small), 150);
        assert_eq!(small.slab_growth_since(&large), 0);
    }
}
