//! The settings the evaluation runs: the paper's cluster near capacity, and five scenarios
//! where the Executor's per-connection scheduling and the Manager's feedback each have
//! something to prove (the simulator's S1 to S5, `sim/src/scenario.rs`, on the VM's three
//! servers). Each names its cluster, its request mix and load, what happens to a server
//! during the run, and the policies it compares.
//!
//! Loads are offered loads over the cluster's capacity at the start; the disturbed
//! scenarios run lighter than the simulator's four-server ones so that what is left after
//! the disturbance (two or three servers here) stays below saturation.

use nd_load_model::workload::SizeMix;
use serde::{Deserialize, Serialize};

use super::policy::{proportional_weights, Policy, MAX_WEIGHT};
use crate::bench::ps_schedule::{Failure, Schedule, Timed, Window};
use std::time::Duration;

/// The paper's cluster in small: one server of half the others' capacity (work units a
/// second).
pub const CAPACITIES: [f64; 3] = [1000.0, 1000.0, 500.0];

/// How a fast-failing server answers.
pub const FAILURE: Failure = Failure::Status(500);

/// One setting.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// The paper's cluster at 90% load: the first evaluation, kept as it was (and what
    /// results from before scenarios were measured in).
    #[default]
    Paper,
    /// S1: every configured weight equal, one server at half speed.
    UnknownCapacities,
    /// S2: the capacities known, heavy-tailed request sizes.
    KnownCapacities,
    /// S3: a server loses half its speed to work the balancer does not see.
    ExternalLoad,
    /// S4: a server answers every request at once with an error.
    FastFailure,
    /// S5: a server's speed halves for good half way through.
    StepChange,
}

/// What happens to one server during a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Its speed is multiplied by this factor.
    Speed(f64),
    /// Work the balancer does not see takes this share of its speed.
    ExternalLoad(f64),
    /// It answers every request at once with [`FAILURE`].
    FastFail,
}

/// A change to one server over part of the measured window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Disturbance {
    /// The server's index.
    pub server: usize,
    pub change: Change,
    /// When it starts, as a fraction of the measured window.
    pub from: f64,
    /// When it ends, as a fraction of the measured window; `None`: it lasts.
    pub until: Option<f64>,
}

impl Scenario {
    /// In report order.
    pub const ALL: [Scenario; 6] = [
        Scenario::Paper,
        Scenario::UnknownCapacities,
        Scenario::KnownCapacities,
        Scenario::ExternalLoad,
        Scenario::FastFailure,
        Scenario::StepChange,
    ];

    /// A short name, as the simulator's.
    pub fn key(self) -> &'static str {
        match self {
            Scenario::Paper => "paper",
            Scenario::UnknownCapacities => "s1-unknown-capacities",
            Scenario::KnownCapacities => "s2-known-capacities",
            Scenario::ExternalLoad => "s3-external-load",
            Scenario::FastFailure => "s4-fast-failure",
            Scenario::StepChange => "s5-step-change",
        }
    }

    /// Its label in target tables.
    pub fn short(self) -> &'static str {
        match self {
            Scenario::Paper => "paper",
            Scenario::UnknownCapacities => "S1",
            Scenario::KnownCapacities => "S2",
            Scenario::ExternalLoad => "S3",
            Scenario::FastFailure => "S4",
            Scenario::StepChange => "S5",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Scenario::Paper => "The paper's cluster near capacity",
            Scenario::UnknownCapacities => "S1: unknown capacities",
            Scenario::KnownCapacities => "S2: known capacities, Pareto sizes",
            Scenario::ExternalLoad => "S3: external load",
            Scenario::FastFailure => "S4: a fast-failing server",
            Scenario::StepChange => "S5: a step change",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Scenario::Paper => {
                "Servers of 1000, 1000 and 500 units/s, the A/B/C/D mix at 90% load; static WRR \
                 knows the capacities, IPVS and the Manager do not."
            }
            Scenario::UnknownCapacities => {
                "Servers of 1000, 1000 and 500 units/s, the A/B/C/D mix at 80% load; the \
                 operator gives every server the same weight and declares no capacity to the \
                 Manager."
            }
            Scenario::KnownCapacities => {
                "Servers of 1000, 1000 and 500 units/s, Pareto (shape 1.5) request sizes at 80% \
                 load; the capacities are the static weights and are declared to the Manager."
            }
            Scenario::ExternalLoad => {
                "Servers of 1000, 1000 and 500 units/s, the A/B/C/D mix at 65% load, capacities \
                 known; for the middle third of the measured window work the balancer does not \
                 see takes half of srv1's speed (81% load on what is left), and srv1's load \
                 file counts it as one more task, as a CPU hog shows in a host's load."
            }
            Scenario::FastFailure => {
                "Three servers of 1000 units/s, the A/B/C/D mix at 50% load; for the middle \
                 third of the measured window srv3 answers every request at once with HTTP 500 \
                 (75% load on the other two once it is left out)."
            }
            Scenario::StepChange => {
                "Servers of 1000, 1000 and 500 units/s, the A/B/C/D mix at 65% load, capacities \
                 known; half way through the measured window srv1's speed halves for good (81% \
                 load on what is left). The static weights and declared capacities stay those \
                 of the start."
            }
        }
    }

    /// Each server's capacity at the start.
    pub fn capacities(self) -> [f64; 3] {
        match self {
            Scenario::FastFailure => [1000.0; 3],
            _ => CAPACITIES,
        }
    }

    pub fn mix(self) -> SizeMix {
        match self {
            Scenario::KnownCapacities => SizeMix::Pareto,
            _ => SizeMix::Classes,
        }
    }

    /// The offered load over the capacity at the start.
    pub fn load(self) -> f64 {
        match self {
            Scenario::Paper => 0.9,
            Scenario::UnknownCapacities | Scenario::KnownCapacities => 0.8,
            Scenario::ExternalLoad | Scenario::StepChange => 0.65,
            Scenario::FastFailure => 0.5,
        }
    }

    /// Whether `policy` is configured with the capacities: as static weights, or declared to
    /// the Manager.
    pub fn capacities_known_to(self, policy: Policy) -> bool {
        match self {
            // As the first evaluation had it: only the static weights know.
            Scenario::Paper => policy == Policy::StaticWrr,
            Scenario::UnknownCapacities => false,
            _ => !matches!(policy, Policy::RoundRobin),
        }
    }

    pub fn disturbance(self) -> Option<Disturbance> {
        let middle_third = |server, change| Disturbance {
            server,
            change,
            from: 1.0 / 3.0,
            until: Some(2.0 / 3.0),
        };
        match self {
            Scenario::ExternalLoad => Some(middle_third(0, Change::ExternalLoad(0.5))),
            Scenario::FastFailure => Some(middle_third(2, Change::FastFail)),
            Scenario::StepChange => Some(Disturbance {
                server: 0,
                change: Change::Speed(0.5),
                from: 0.5,
                until: None,
            }),
            _ => None,
        }
    }

    /// The policies it compares.
    pub fn policies(self) -> Vec<Policy> {
        match self {
            Scenario::Paper => Policy::PAPER.to_vec(),
            _ => Policy::COMPARED.to_vec(),
        }
    }
}

/// One scenario as a plan runs it: the scenario's own figures unless the plan says
/// otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub scenario: Scenario,
    /// The policies, before rotation.
    pub policies: Vec<Policy>,
    /// Offered work over total capacity.
    pub load: f64,
}

impl Setting {
    /// `scenario` as it is.
    pub fn of(scenario: Scenario) -> Setting {
        Setting {
            scenario,
            policies: scenario.policies(),
            load: scenario.load(),
        }
    }

    pub fn capacities(&self) -> [f64; 3] {
        self.scenario.capacities()
    }

    pub fn mix(&self) -> SizeMix {
        self.scenario.mix()
    }

    /// Mean arrivals a second that offer the load.
    pub fn rate(&self) -> f64 {
        self.load * self.capacities().iter().sum::<f64>() / self.mix().mean()
    }

    /// The weights `policy` starts with: the capacities where it knows them; otherwise equal,
    /// the Manager's at its largest.
    pub fn initial_weights(&self, policy: Policy) -> [u32; 3] {
        if self.scenario.capacities_known_to(policy) {
            proportional_weights(&self.capacities())
        } else if policy.manager_policy().is_some() {
            [MAX_WEIGHT; 3]
        } else {
            [1; 3]
        }
    }

    /// The capacities declared to the Manager for `policy`, relative to the largest; `None`
    /// declares none (every server alike).
    pub fn declared_capacities(&self, policy: Policy) -> Option<[f64; 3]> {
        let capacities = self.capacities();
        let largest = capacities.iter().copied().fold(0.0, f64::max);
        (policy.manager_policy().is_some() && self.scenario.capacities_known_to(policy))
            .then(|| capacities.map(|c| c / largest))
    }

    /// When the disturbance holds, in seconds from the workload's start, for a warm-up of
    /// `warmup` and a window of `seconds`.
    pub fn disturbance_window(&self, warmup: Duration, seconds: u64) -> Option<Window> {
        let disturbance = self.scenario.disturbance()?;
        let at = |fraction: f64| warmup.as_secs_f64() + fraction * seconds as f64;
        Some(Window {
            from: at(disturbance.from),
            until: disturbance.until.map(at),
        })
    }

    /// Server `server`'s schedule, its times from `epoch_ns`, the workload's start.
    pub fn schedule(
        &self,
        server: usize,
        epoch_ns: u64,
        warmup: Duration,
        seconds: u64,
    ) -> Schedule {
        let mut schedule = Schedule::default();
        let (Some(disturbance), Some(window)) = (
            self.scenario.disturbance(),
            self.disturbance_window(warmup, seconds),
        ) else {
            return schedule;
        };
        if disturbance.server != server {
            return schedule;
        }
        schedule.epoch_ns = Some(epoch_ns);
        match disturbance.change {
            Change::Speed(factor) => schedule.capacity.push(Timed {
                window,
                value: factor,
            }),
            Change::ExternalLoad(share) => schedule.external_load.push(Timed {
                window,
                value: share,
            }),
            Change::FastFail => schedule.failure = Some((FAILURE, window)),
        }
        schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn the_scenarios_are_those_of_the_simulation() {
        let s1 = Setting::of(Scenario::UnknownCapacities);
        assert_eq!(s1.capacities(), CAPACITIES);
        assert_eq!((s1.mix(), s1.load), (SizeMix::Classes, 0.8));
        for policy in Policy::COMPARED {
            let weights = s1.initial_weights(policy);
            assert!(weights.iter().all(|&w| w == weights[0]), "{policy:?}");
            assert_eq!(s1.declared_capacities(policy), None);
        }
        let s2 = Setting::of(Scenario::KnownCapacities);
        assert_eq!(s2.mix(), SizeMix::Pareto);
        assert_eq!(s2.initial_weights(Policy::IpvsWlc), [100, 100, 50]);
        assert_eq!(s2.initial_weights(Policy::StaticWrr), [100, 100, 50]);
        assert_eq!(s2.initial_weights(Policy::RoundRobin), [1, 1, 1]);
        assert_eq!(
            s2.declared_capacities(Policy::ManagerWlc),
            Some([1.0, 1.0, 0.5])
        );
        assert_eq!(s2.declared_capacities(Policy::IpvsWlc), None);
        for scenario in Scenario::ALL.into_iter().skip(1) {
            assert_eq!(scenario.policies(), Policy::COMPARED);
        }
    }

    #[test]
    fn the_paper_s_setting_is_the_first_evaluation_s() {
        let paper = Setting::of(Scenario::Paper);
        assert_eq!(paper.policies, Policy::PAPER);
        assert_eq!(paper.initial_weights(Policy::StaticWrr), [100, 100, 50]);
        assert_eq!(paper.initial_weights(Policy::IpvsWlc), [1, 1, 1]);
        assert_eq!(paper.initial_weights(Policy::ManagerWeighted), [100; 3]);
        assert_eq!(paper.declared_capacities(Policy::ManagerWeighted), None);
        // 90% of 2500 units/s at 22.6 units a request.
        assert!((paper.rate() - 0.9 * 2500.0 / 22.6).abs() < 1e-9);
    }

    #[test]
    fn what_is_left_after_a_disturbance_stays_below_saturation() {
        for scenario in Scenario::ALL {
            let setting = Setting::of(scenario);
            let mut left = setting.capacities();
            if let Some(d) = scenario.disturbance() {
                left[d.server] *= match d.change {
                    Change::Speed(factor) => factor,
                    Change::ExternalLoad(share) => 1.0 - share,
                    Change::FastFail => 0.0,
                };
            }
            let offered = setting.load * setting.capacities().iter().sum::<f64>();
            let load = offered / left.iter().sum::<f64>();
            assert!(load <= 0.9, "{scenario:?}: {load}");
        }
    }

    #[test]
    fn only_the_disturbed_server_gets_a_schedule_at_the_workload_s_times() {
        let warmup = Duration::from_secs(15);
        let s3 = Setting::of(Scenario::ExternalLoad);
        let window = s3.disturbance_window(warmup, 60).unwrap();
        assert_eq!((window.from, window.until), (35.0, Some(55.0)));
        let schedule = s3.schedule(0, 7 * S, warmup, 60);
        assert_eq!(schedule.epoch_ns, Some(7 * S));
        assert_eq!(schedule.external_load, [Timed { window, value: 0.5 }]);
        assert_eq!(schedule.at(0, 7 * S + 40 * S).external_share, 0.5);
        assert_eq!(schedule.at(0, 7 * S + 56 * S).external_share, 0.0);
        assert!(s3.schedule(1, 7 * S, warmup, 60).is_empty());

        let s4 = Setting::of(Scenario::FastFailure);
        let schedule = s4.schedule(2, 0, warmup, 60);
        assert_eq!(schedule.at(0, 40 * S).failing, Some(FAILURE));
        assert_eq!(schedule.at(0, 30 * S).failing, None);
        assert!(s4.schedule(0, 0, warmup, 60).is_empty());

        let s5 = Setting::of(Scenario::StepChange);
        let schedule = s5.schedule(0, 0, warmup, 60);
        assert_eq!(schedule.at(0, 44 * S).speed_factor, 1.0);
        assert_eq!(schedule.at(0, 45 * S).speed_factor, 0.5);
        assert_eq!(schedule.at(0, 10_000 * S).speed_factor, 0.5, "for good");

        for undisturbed in [Scenario::Paper, Scenario::KnownCapacities] {
            assert!((0..3).all(|server| Setting::of(undisturbed)
                .schedule(server, 0, warmup, 60)
                .is_empty()));
        }
    }

    #[test]
    fn keys_are_unique_and_survive_json() {
        let mut keys: Vec<&str> = Scenario::ALL.iter().map(|s| s.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Scenario::ALL.len());
        let json = serde_json::to_string(&Scenario::FastFailure).unwrap();
        assert_eq!(json, "\"fast_failure\"");
        let change = serde_json::to_string(&Change::Speed(0.5)).unwrap();
        assert_eq!(
            serde_json::from_str::<Change>(&change).unwrap(),
            Change::Speed(0.5)
        );
    }
}
