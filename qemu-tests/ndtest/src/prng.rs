//! A small deterministic random generator, so that a `--seed` reproduces a whole run of the
//! adversarial generators exactly.

/// SplitMix64: one 64-bit state word, full period, and good enough statistics for choosing
/// test inputs. Not for anything that must be unpredictable.
#[derive(Clone, Debug)]
pub struct Prng {
    state: u64,
}

impl Prng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Prng {
        Prng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// The next 16 random bits.
    pub fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    /// The next 8 random bits.
    pub fn next_u8(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    /// A number in `0..bound`; `bound` must be positive. The multiply-and-shift mapping has a
    /// bias of at most `bound / 2^64`, far below anything a test notices.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "empty range");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range");
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// An index into a slice of `len` elements; `len` must be positive.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// One value of a non-empty list of `(value, weight)` pairs, each as likely as its weight.
    pub fn pick_weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|&(_, weight)| u64::from(weight)).sum();
        let mut ticket = self.below(total);
        for &(value, weight) in items {
            if ticket < u64::from(weight) {
                return value;
            }
            ticket -= u64::from(weight);
        }
        unreachable!("the ticket is below the total weight")
    }

    /// Overwrites `bytes` with random bytes.
    pub fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_ne_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        self.fill(&mut bytes);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_sequence() {
        // The first outputs of the reference implementation seeded with 0.
        let mut rng = Prng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn a_seed_fixes_the_whole_sequence() {
        let draw = |seed| {
            let mut rng = Prng::new(seed);
            let mut out = rng.bytes(13);
            out.push(rng.below(7) as u8);
            out.push(u8::from(rng.chance(50)));
            out.push(*rng.pick(&[1u8, 2, 3]));
            out
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn ranges_stay_in_bounds_and_reach_both_ends() {
        let mut rng = Prng::new(7);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let n = rng.between(10, 14);
            assert!((10..=14).contains(&n));
            seen[(n - 10) as usize] = true;
            assert!(rng.below(3) < 3);
        }
        assert!(seen.iter().all(|&s| s));
        assert!(rng.between(0, u64::MAX) > 0 || rng.between(0, u64::MAX) > 0);
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = Prng::new(1);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[rng.pick_weighted(&[(0usize, 1), (1, 0), (2, 9)])] += 1;
        }
        assert_eq!(counts[1], 0, "a zero weight is never picked");
        assert!(counts[2] > 8 * counts[0], "{counts:?}");
    }
}
