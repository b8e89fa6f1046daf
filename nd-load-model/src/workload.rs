//! Request sizes, in work units: one unit is what serving a 1 KB object costs a server, and a
//! server of capacity 1 does [`WORK_PER_SECOND`] units a second.
//!
//! Two mixes, of the same mean so that loads compare:
//!
//! * [`SizeMix::Classes`], four object classes in the spirit of the Web workloads the Network
//!   Dispatcher paper measured: many small objects and a few very large ones. A (1 unit, a
//!   small page or icon) 60%, B (10, a page with inline text) 30%, C (100, an image or a
//!   document) 9%, D (1000, a download) 1%. Within a class a size is uniform on 0.5 to 1.5
//!   times the class's, so that requests of a class are not all alike. The mean is 22.6
//!   units, and the 1% of D requests bring 44% of the work: the tail decides the load.
//! * [`SizeMix::Pareto`], the classic heavy-tailed model of Web object sizes: shape 1.5
//!   (finite mean, infinite variance), mean 22.6 units.

use crate::rng::Rng;

/// Work a server of capacity 1 does per second: its capacity in 1 KB objects per second.
pub const WORK_PER_SECOND: f64 = 1000.0;

/// One object class of [`SizeMix::Classes`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectClass {
    /// Its letter.
    pub name: &'static str,
    /// The share of requests that ask for it.
    pub share: f64,
    /// The mean work of one of its requests.
    pub work: f64,
}

/// The four classes of [`SizeMix::Classes`].
pub const CLASSES: [ObjectClass; 4] = [
    ObjectClass {
        name: "A",
        share: 0.60,
        work: 1.0,
    },
    ObjectClass {
        name: "B",
        share: 0.30,
        work: 10.0,
    },
    ObjectClass {
        name: "C",
        share: 0.09,
        work: 100.0,
    },
    ObjectClass {
        name: "D",
        share: 0.01,
        work: 1000.0,
    },
];

/// The Pareto mix's shape.
pub const PARETO_SHAPE: f64 = 1.5;

/// How request sizes are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeMix {
    /// The A/B/C/D object classes.
    Classes,
    /// Pareto of shape [`PARETO_SHAPE`] with the classes' mean.
    Pareto,
}

impl SizeMix {
    /// The mean work of a request.
    pub fn mean(self) -> f64 {
        CLASSES.iter().map(|c| c.share * c.work).sum()
    }

    /// Draws one request's work.
    pub fn sample(self, rng: &mut Rng) -> f64 {
        match self {
            SizeMix::Classes => {
                let mut pick = rng.unit();
                let class = CLASSES
                    .iter()
                    .find(|class| {
                        pick -= class.share;
                        pick <= 0.0
                    })
                    .unwrap_or(&CLASSES[CLASSES.len() - 1]);
                class.work * rng.uniform(0.5, 1.5)
            }
            SizeMix::Pareto => rng.pareto(PARETO_SHAPE, self.mean()),
        }
    }

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            SizeMix::Classes => "A/B/C/D classes",
            SizeMix::Pareto => "Pareto 1.5",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_have_the_documented_mean_and_tail() {
        assert!((SizeMix::Classes.mean() - 22.6).abs() < 1e-9);
        let d = CLASSES[3];
        let tail = d.share * d.work / SizeMix::Classes.mean();
        assert!((tail - 0.4425).abs() < 1e-3, "{tail}");
        let mut rng = Rng::new(1, "sizes");
        let n = 400_000;
        let samples: Vec<f64> = (0..n).map(|_| SizeMix::Classes.sample(&mut rng)).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        assert!((mean - 22.6).abs() < 0.5, "{mean}");
        let small = samples.iter().filter(|&&w| w < 1.5).count() as f64 / n as f64;
        let large = samples.iter().filter(|&&w| w >= 500.0).count() as f64 / n as f64;
        assert!((small - 0.6).abs() < 0.01 && (large - 0.01).abs() < 0.001);
    }

    #[test]
    fn pareto_sizes_are_heavy_tailed_around_the_same_mean() {
        let mut rng = Rng::new(2, "sizes");
        let samples: Vec<f64> = (0..400_000)
            .map(|_| SizeMix::Pareto.sample(&mut rng))
            .collect();
        let scale = 22.6 / 3.0;
        assert!(samples.iter().all(|&w| w >= scale - 1e-9));
        // P(X > 10 * scale) = 10^-1.5, about 3.2%.
        let over = samples.iter().filter(|&&w| w > 10.0 * scale).count() as f64;
        assert!((over / 400_000.0 - 0.0316).abs() < 0.002);
    }
}
