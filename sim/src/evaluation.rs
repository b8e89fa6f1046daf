//! The whole evaluation: every scenario under every policy and every Manager variant, the
//! step-change study, and the burstiness of the self-similar arrivals.

use std::time::Instant;

use crate::arrivals::{counts_per_bin, hurst_aggregated_variance, ArrivalPattern, Arrivals};
use crate::policy::{self, LoadSharing};
use crate::rng::Rng;
use crate::scenario::{self, Scale, Scenario};
use crate::study::{step_response, study, PolicyResults, ScenarioResults, StepResponse};

/// The Manager policies whose step response is studied: the two schedulers with the
/// Manager's defaults first, then the variants.
pub const STEP_POLICIES: [LoadSharing; 9] = [
    policy::MANAGER_WRR,
    policy::MANAGER_WLC,
    policy::MANAGER_WRR_1S,
    policy::MANAGER_WRR_5S,
    policy::MANAGER_WLC_1S,
    policy::MANAGER_WLC_5S,
    policy::MANAGER_WRR_PROPORTIONAL,
    policy::MANAGER_WLC_INVERSE,
    policy::MANAGER_WLC_PROBE_20,
];

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// How large.
    pub scale: Scale,
    /// The seeds of every scenario's runs.
    pub seeds: Vec<u64>,
    /// The seeds of the step-change study, averaged into its mean response.
    pub step_seeds: Vec<u64>,
}

impl Plan {
    /// The reported plan at `scale`: 5 seeds per scenario and 100 for the step study, or 2
    /// and 10 for the quick scale; seeds count up from `first_seed`.
    pub fn new(scale: Scale, first_seed: u64) -> Plan {
        let (seeds, step_seeds) = match scale {
            Scale::Full => (5, 100),
            Scale::Quick => (2, 10),
        };
        Plan {
            scale,
            seeds: (first_seed..first_seed + seeds).collect(),
            step_seeds: (first_seed..first_seed + step_seeds).collect(),
        }
    }
}

/// The burstiness of the self-similar pattern as generated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HurstCheck {
    /// The pattern's theoretical Hurst parameter.
    pub theoretical: f64,
    /// The aggregated-variance estimate from a generated stream.
    pub estimated: f64,
    /// The generated stream's rate.
    pub rate: f64,
    /// And length, in seconds.
    pub seconds: f64,
}

/// Everything the report shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// What was run.
    pub plan: Plan,
    /// Each scenario under every policy.
    pub scenarios: Vec<ScenarioResults>,
    /// Each scenario under the Manager's variants ([`policy::VARIANTS`]).
    pub variants: Vec<ScenarioResults>,
    /// The step scenario under [`STEP_POLICIES`] with the step seeds.
    pub step_runs: ScenarioResults,
    /// How their weights settled.
    pub step: Vec<StepResponse>,
    /// The self-similar arrivals' Hurst parameter.
    pub hurst: HurstCheck,
    /// Wall-clock seconds the evaluation took.
    pub elapsed: f64,
}

impl Evaluation {
    /// The results of `policy` in the setting `key`, from the main runs or the variants.
    pub fn results(&self, key: &str, policy: LoadSharing) -> Option<&PolicyResults> {
        self.scenarios
            .iter()
            .chain(&self.variants)
            .filter(|results| results.scenario.key == key)
            .find_map(|results| results.policy(policy.key))
    }

    /// The step response of `policy`, if it was studied.
    pub fn step_of(&self, policy: LoadSharing) -> Option<&StepResponse> {
        self.step.iter().find(|step| step.policy.key == policy.key)
    }
}

/// Estimates the Hurst parameter of `pattern` from a stream of `rate` per second over
/// `seconds`, counted per second.
pub fn hurst_check(pattern: ArrivalPattern, rate: f64, seconds: f64, seed: u64) -> HurstCheck {
    let mut arrivals = Arrivals::new(pattern, rate, Rng::new(seed, "hurst"));
    let times: Vec<f64> = std::iter::from_fn(|| Some(arrivals.next_arrival()))
        .take_while(|&t| t < seconds)
        .collect();
    HurstCheck {
        theoretical: pattern.hurst(),
        estimated: hurst_aggregated_variance(&counts_per_bin(&times, 1.0, seconds)),
        rate,
        seconds,
    }
}

/// Runs `plan`, telling `progress` what it starts.
pub fn evaluate(plan: &Plan, mut progress: impl FnMut(&str)) -> Evaluation {
    let started = Instant::now();
    let mut scenarios = Vec::new();
    let mut variants = Vec::new();
    for scenario in scenario::all(plan.scale) {
        progress(scenario.title);
        scenarios.push(study(&scenario, &policy::ALL, &plan.seeds));
        variants.push(study(&scenario, &policy::VARIANTS, &plan.seeds));
    }
    let step_scenario: Scenario = scenario::step_change(plan.scale);
    progress("step-change study");
    let step_runs = study(&step_scenario, &STEP_POLICIES, &plan.step_seeds);
    let step = step_runs
        .policies
        .iter()
        .map(|results| step_response(&step_scenario, results))
        .collect();
    let hurst_seconds = match plan.scale {
        Scale::Full => 40_000.0,
        Scale::Quick => 10_000.0,
    };
    let hurst = hurst_check(
        ArrivalPattern::SELF_SIMILAR,
        100.0,
        hurst_seconds,
        plan.seeds[0],
    );
    Evaluation {
        plan: plan.clone(),
        scenarios,
        variants,
        step_runs,
        step,
        hurst,
        elapsed: started.elapsed().as_secs_f64(),
    }
}
