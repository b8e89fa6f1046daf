//! A small seeded random number generator and the distributions the model draws from.
//!
//! splitmix64 is fast, passes the usual statistical batteries for this use, and makes a run
//! a pure function of its seed. Each random stream of a run (arrivals, sizes, sources) has
//! its own generator, derived from the seed and a stream name, so that adding draws to one
//! stream does not shift the others: two policies see the same requests in the same order.

/// A seeded splitmix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The generator of stream `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: &str) -> Rng {
        // FNV-1a of the stream name, mixed with the seed.
        let name = stream.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut rng = Rng(seed ^ name);
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so that its logarithm and negative powers are finite.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (1.0 - self.unit())
    }

    /// Exponential with rate `rate` (mean `1 / rate`).
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.unit().ln() / rate
    }

    /// Pareto with shape `shape` and mean `mean` (`shape > 1`): `P(X > x) = (scale / x)^shape`
    /// for `x >= scale = mean * (shape - 1) / shape`.
    pub fn pareto(&mut self, shape: f64, mean: f64) -> f64 {
        let scale = mean * (shape - 1.0) / shape;
        scale / self.unit().powf(1.0 / shape)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(samples: impl Iterator<Item = f64>) -> f64 {
        let (sum, n) = samples.fold((0.0, 0.0), |(s, n), x| (s + x, n + 1.0));
        sum / n
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let draws = |seed, stream| {
            let mut rng = Rng::new(seed, stream);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(1, "sizes"), draws(1, "sizes"));
        assert_ne!(draws(1, "sizes"), draws(1, "arrivals"));
        assert_ne!(draws(1, "sizes"), draws(2, "sizes"));
    }

    #[test]
    fn distributions_have_their_means() {
        let mut rng = Rng::new(7, "test");
        let exp = mean((0..200_000).map(|_| rng.exponential(4.0)));
        assert!((exp - 0.25).abs() < 0.005, "{exp}");
        // Shape 3 has a finite variance, so the sample mean converges quickly.
        let pareto = mean((0..200_000).map(|_| rng.pareto(3.0, 2.0)));
        assert!((pareto - 2.0).abs() < 0.03, "{pareto}");
        let uniform = mean((0..200_000).map(|_| rng.uniform(1.0, 3.0)));
        assert!((uniform - 2.0).abs() < 0.01, "{uniform}");
    }

    #[test]
    fn pareto_never_goes_below_its_scale() {
        let mut rng = Rng::new(3, "test");
        let scale = 10.0 * 0.5 / 1.5;
        assert!((0..10_000).all(|_| rng.pareto(1.5, 10.0) >= scale));
    }
}
