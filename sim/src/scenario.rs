//! The simulated settings: a cluster, its workload, and what happens to it during the run.
//!
//! Loads are offered loads, as a share of the cluster's total capacity at the start: load
//! 0.9 on capacities 1, 1, 1 and 0.5 is 3.15 units of capacity's worth of work per second.
//! Every run is a warm-up, whose requests are not measured, then the measured window;
//! disturbances are placed at fractions of the measured window.

use crate::arrivals::ArrivalPattern;
use crate::workload::{SizeMix, WORK_PER_SECOND};

/// How large the runs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The settings as reported.
    Full,
    /// Shorter windows and a 10-server scaled-up cluster: seconds in a debug build.
    Quick,
}

/// Something that happens to one server during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// Its speed is multiplied by this factor.
    Speed(f64),
    /// Work the balancer does not see takes this share of its speed, and shows as one more
    /// runnable task in its load.
    ExternalLoad(f64),
    /// It answers every request at once with an error.
    FastFail,
}

/// A change to one server from one point of the measured window to another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Disturbance {
    /// The server's index.
    pub server: usize,
    /// What happens.
    pub change: Change,
    /// When it starts, as a fraction of the measured window.
    pub from: f64,
    /// When it ends, as a fraction of the measured window; `None`: it lasts.
    pub until: Option<f64>,
}

/// One simulated setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// A short name for files and command lines.
    pub key: &'static str,
    /// Its title in the report.
    pub title: &'static str,
    /// What it shows, in a sentence.
    pub description: &'static str,
    /// Each server's capacity at the start: its speed, in units of [`WORK_PER_SECOND`].
    pub capacities: Vec<f64>,
    /// Whether the operator knows the capacities: if so they are the static weights and the
    /// capacities declared to the Manager; if not every server is declared alike.
    pub capacities_known: bool,
    /// Request sizes.
    pub sizes: SizeMix,
    /// Request arrivals.
    pub arrivals: ArrivalPattern,
    /// Offered load as a share of the starting capacity.
    pub load: f64,
    /// Seconds simulated before measuring.
    pub warm_up: f64,
    /// Seconds measured.
    pub measured: f64,
    /// What happens to servers during the run.
    pub disturbances: Vec<Disturbance>,
}

impl Scenario {
    /// The cluster's total capacity at the start.
    pub fn total_capacity(&self) -> f64 {
        self.capacities.iter().sum()
    }

    /// Requests per second.
    pub fn arrival_rate(&self) -> f64 {
        self.load * self.total_capacity() * WORK_PER_SECOND / self.sizes.mean()
    }

    /// When the measured window ends and arrivals stop.
    pub fn end(&self) -> f64 {
        self.warm_up + self.measured
    }

    /// The time at `fraction` of the measured window.
    pub fn at(&self, fraction: f64) -> f64 {
        self.warm_up + fraction * self.measured
    }

    /// The operator's weights: the capacities scaled so that the largest is 100, or 100 for
    /// every server when the capacities are not known.
    pub fn static_weights(&self) -> Vec<u32> {
        let largest = self.capacities.iter().copied().fold(0.0, f64::max);
        self.capacities
            .iter()
            .map(|&capacity| {
                if self.capacities_known {
                    ((100.0 * capacity / largest).round() as u32).max(1)
                } else {
                    100
                }
            })
            .collect()
    }

    /// The capacity declared to the Manager for each server.
    pub fn declared_capacities(&self) -> Vec<f64> {
        if self.capacities_known {
            self.capacities.clone()
        } else {
            vec![1.0; self.capacities.len()]
        }
    }
}

/// The paper's cluster: three servers and one at half their capacity.
const PAPER_CLUSTER: [f64; 4] = [1.0, 1.0, 1.0, 0.5];

fn windows(scale: Scale) -> (f64, f64) {
    match scale {
        Scale::Full => (300.0, 3600.0),
        Scale::Quick => (100.0, 900.0),
    }
}

/// Setting 1, the paper's: four servers, one at half capacity, the A/B/C/D mix, Poisson
/// arrivals at 90% load.
pub fn paper(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "paper",
        title: "Setting 1: the paper's cluster at 90% load",
        description: "Four servers of capacities 1, 1, 1 and 0.5, the A/B/C/D mix, Poisson \
                      arrivals at 90% of capacity; capacities known to the operator.",
        capacities: PAPER_CLUSTER.to_vec(),
        capacities_known: true,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::Poisson,
        load: 0.9,
        warm_up,
        measured,
        disturbances: Vec::new(),
    }
}

/// Setting 2, scaled up: 50 servers of five capacities (10 servers in the quick scale),
/// self-similar bursty arrivals at 85% load.
pub fn scaled(scale: Scale) -> Scenario {
    let (servers, warm_up, measured) = match scale {
        Scale::Full => (50, 300.0, 1200.0),
        Scale::Quick => (10, 100.0, 400.0),
    };
    const CAPACITIES: [f64; 5] = [0.5, 1.0, 1.5, 2.0, 3.0];
    Scenario {
        key: "scaled",
        title: "Setting 2: a scaled-up heterogeneous cluster, bursty arrivals at 85% load",
        description: "Servers of capacities 0.5, 1, 1.5, 2 and 3 in equal numbers, the \
                      A/B/C/D mix, self-similar arrivals (H = 0.8) at 85% of capacity; \
                      capacities known to the operator.",
        capacities: (0..servers)
            .map(|i| CAPACITIES[i % CAPACITIES.len()])
            .collect(),
        capacities_known: true,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::SELF_SIMILAR,
        load: 0.85,
        warm_up,
        measured,
        disturbances: Vec::new(),
    }
}

/// S1: capacities unknown, so every configured weight is equal; one server at half speed;
/// the A/B/C/D mix at 80% load.
pub fn unknown_capacities(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "s1-unknown-capacities",
        title: "S1: unknown capacities",
        description: "The paper's cluster at 80% load, but the operator gives every server \
                      the same weight and declares no capacity to the Manager.",
        capacities: PAPER_CLUSTER.to_vec(),
        capacities_known: false,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::Poisson,
        load: 0.8,
        warm_up,
        measured,
        disturbances: Vec::new(),
    }
}

/// S2: capacities known, Pareto sizes at 80% load.
pub fn known_capacities_pareto(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "s2-known-capacities",
        title: "S2: known capacities, Pareto sizes",
        description: "The paper's cluster at 80% load with Pareto (shape 1.5) request sizes; \
                      capacities known to the operator and declared to the Manager.",
        capacities: PAPER_CLUSTER.to_vec(),
        capacities_known: true,
        sizes: SizeMix::Pareto,
        arrivals: ArrivalPattern::Poisson,
        load: 0.8,
        warm_up,
        measured,
        disturbances: Vec::new(),
    }
}

/// S3: a server loses half its speed to work the balancer does not see, for the middle third
/// of the measured window.
pub fn external_load(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "s3-external-load",
        title: "S3: external load",
        description: "The paper's cluster at 75% load; for the middle third of the run, work \
                      the balancer does not see takes half of the first server's speed \
                      (87.5% load on what is left).",
        capacities: PAPER_CLUSTER.to_vec(),
        capacities_known: true,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::Poisson,
        load: 0.75,
        warm_up,
        measured,
        disturbances: vec![Disturbance {
            server: 0,
            change: Change::ExternalLoad(0.5),
            from: 1.0 / 3.0,
            until: Some(2.0 / 3.0),
        }],
    }
}

/// S4: a server that answers every request at once with an error, for the middle third of
/// the measured window.
pub fn fast_failure(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "s4-fast-failure",
        title: "S4: a fast-failing server",
        description: "Four equal servers at 60% load; for the middle third of the run the \
                      fourth answers every request at once with an error (80% load on the \
                      other three once it is left out).",
        capacities: vec![1.0; 4],
        capacities_known: true,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::Poisson,
        load: 0.6,
        warm_up,
        measured,
        disturbances: vec![Disturbance {
            server: 3,
            change: Change::FastFail,
            from: 1.0 / 3.0,
            until: Some(2.0 / 3.0),
        }],
    }
}

/// S5 and setting 3: a full-speed server's speed halves in the middle of the measured window
/// and stays so.
pub fn step_change(scale: Scale) -> Scenario {
    let (warm_up, measured) = windows(scale);
    Scenario {
        key: "s5-step-change",
        title: "S5 / setting 3: a step change",
        description: "The paper's cluster at 70% load; half way through, the first server's \
                      speed halves for good (82% load on what is left). The operator's \
                      weights and declared capacities stay those of the start.",
        capacities: PAPER_CLUSTER.to_vec(),
        capacities_known: true,
        sizes: SizeMix::Classes,
        arrivals: ArrivalPattern::Poisson,
        load: 0.7,
        warm_up,
        measured,
        disturbances: vec![Disturbance {
            server: 0,
            change: Change::Speed(0.5),
            from: 0.5,
            until: None,
        }],
    }
}

/// Every setting, in report order.
pub fn all(scale: Scale) -> Vec<Scenario> {
    vec![
        paper(scale),
        scaled(scale),
        step_change(scale),
        unknown_capacities(scale),
        known_capacities_pareto(scale),
        external_load(scale),
        fast_failure(scale),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_load_and_capacity() {
        let paper = paper(Scale::Full);
        // 0.9 * 3.5 * 1000 / 22.6 requests per second.
        assert!((paper.arrival_rate() - 139.38).abs() < 0.01);
        assert_eq!(paper.static_weights(), [100, 100, 100, 50]);
        assert_eq!(unknown_capacities(Scale::Full).static_weights(), [100; 4]);
        assert_eq!(
            unknown_capacities(Scale::Full).declared_capacities(),
            [1.0; 4]
        );
        let scaled = scaled(Scale::Full);
        assert_eq!(scaled.capacities.len(), 50);
        assert_eq!(scaled.total_capacity(), 80.0);
    }

    #[test]
    fn keys_are_unique() {
        let scenarios = all(Scale::Quick);
        let mut keys: Vec<&str> = scenarios.iter().map(|s| s.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), scenarios.len());
    }
}
