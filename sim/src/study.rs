//! A scenario under every policy and several seeds, reduced to what the report shows.

use crate::outcome::{quantile, Conservation, RunOutcome, WeightSample};
use crate::policy::LoadSharing;
use crate::run::run;
use crate::scenario::Scenario;
use crate::settle::{ensemble_mean, settling, shares, Settling};

/// Response times at which distributions are sampled: 10^-4 s to 10^4 s, 10 a decade.
pub fn cdf_grid() -> Vec<f64> {
    (0..=80)
        .map(|i| 10f64.powf(-4.0 + f64::from(i) / 10.0))
        .collect()
}

/// One run, without its raw response times.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Its seed.
    pub seed: u64,
    /// Mean response time, in seconds.
    pub mean: f64,
    /// Median response time.
    pub p50: f64,
    /// 99th percentile response time.
    pub p99: f64,
    /// Requests in the measured window.
    pub measured_requests: u64,
    /// Of those, failed or refused.
    pub errors: u64,
    /// Each server's share of the requests.
    pub shares: Vec<f64>,
    /// Each server's busy fraction.
    pub utilization: Vec<f64>,
    /// The fraction of response times at or below each point of [`cdf_grid`].
    pub cdf: Vec<f64>,
    /// The weights after each Manager round.
    pub weights: Vec<WeightSample>,
    /// Totals to check.
    pub conservation: Conservation,
}

impl RunSummary {
    /// The summary of `outcome`, run with `seed`.
    pub fn of(outcome: RunOutcome, seed: u64) -> RunSummary {
        RunSummary {
            seed,
            mean: outcome.mean(),
            p50: quantile(&outcome.response_times, 0.5),
            p99: outcome.p99(),
            measured_requests: outcome.measured_requests,
            errors: outcome.errors,
            cdf: cdf_grid().iter().map(|&t| outcome.cdf(t)).collect(),
            shares: outcome.shares,
            utilization: outcome.utilization,
            weights: outcome.weights,
            conservation: outcome.conservation,
        }
    }
}

/// One policy over every seed.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyResults {
    /// The policy.
    pub policy: LoadSharing,
    /// One summary per seed.
    pub runs: Vec<RunSummary>,
}

impl PolicyResults {
    fn average(&self, value: impl Fn(&RunSummary) -> f64) -> f64 {
        self.runs.iter().map(value).sum::<f64>() / self.runs.len() as f64
    }

    fn average_each(&self, values: impl Fn(&RunSummary) -> &Vec<f64>) -> Vec<f64> {
        let n = values(&self.runs[0]).len();
        (0..n).map(|i| self.average(|run| values(run)[i])).collect()
    }

    /// Mean response time, averaged over the seeds.
    pub fn mean(&self) -> f64 {
        self.average(|run| run.mean)
    }

    /// 99th percentile response time, averaged over the seeds.
    pub fn p99(&self) -> f64 {
        self.average(|run| run.p99)
    }

    /// The lowest and highest 99th percentile of the seeds.
    pub fn p99_range(&self) -> (f64, f64) {
        let p99s = self.runs.iter().map(|run| run.p99);
        (
            p99s.clone().fold(f64::INFINITY, f64::min),
            p99s.fold(f64::NEG_INFINITY, f64::max),
        )
    }

    /// Failed and refused requests, over every seed.
    pub fn errors(&self) -> u64 {
        self.runs.iter().map(|run| run.errors).sum()
    }

    /// Measured requests, over every seed.
    pub fn measured_requests(&self) -> u64 {
        self.runs.iter().map(|run| run.measured_requests).sum()
    }

    /// Each server's share of the requests, averaged over the seeds.
    pub fn shares(&self) -> Vec<f64> {
        self.average_each(|run| &run.shares)
    }

    /// Each server's utilization, averaged over the seeds.
    pub fn utilization(&self) -> Vec<f64> {
        self.average_each(|run| &run.utilization)
    }

    /// The response-time distribution at the [`cdf_grid`] points, averaged over the seeds.
    pub fn cdf(&self) -> Vec<f64> {
        self.average_each(|run| &run.cdf)
    }
}

/// A scenario under several policies.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioResults {
    /// The scenario.
    pub scenario: Scenario,
    /// One entry per policy, in the order given.
    pub policies: Vec<PolicyResults>,
}

impl ScenarioResults {
    /// The results of the policy named `key`.
    pub fn policy(&self, key: &str) -> Option<&PolicyResults> {
        self.policies.iter().find(|p| p.policy.key == key)
    }
}

/// Runs `scenario` under each of `policies` with each of `seeds`.
pub fn study(scenario: &Scenario, policies: &[LoadSharing], seeds: &[u64]) -> ScenarioResults {
    ScenarioResults {
        scenario: scenario.clone(),
        policies: policies
            .iter()
            .map(|&policy| PolicyResults {
                policy,
                runs: seeds
                    .iter()
                    .map(|&seed| RunSummary::of(run(scenario, policy, seed), seed))
                    .collect(),
            })
            .collect(),
    }
}

/// How one policy's weights answered a step change, over several seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResponse {
    /// The policy.
    pub policy: LoadSharing,
    /// When the change happened.
    pub change_time: f64,
    /// Each seed's own judgement.
    pub per_seed: Vec<Settling>,
    /// Weight shares averaged over the seeds, round by round, from `rounds_before` rounds
    /// before the change.
    pub ensemble: Vec<Vec<f64>>,
    /// Rounds of `ensemble` before the change.
    pub rounds_before: usize,
    /// The judgement of the averaged series.
    pub ensemble_settling: Settling,
}

/// The rounds of the averaged series shown before the change.
pub const ROUNDS_BEFORE: usize = 20;

/// Judges how the weights of the Manager policy `results` settled after the scenario's first
/// disturbance.
pub fn step_response(scenario: &Scenario, results: &PolicyResults) -> StepResponse {
    let disturbance = scenario.disturbances[0];
    let change_time = scenario.at(disturbance.from);
    let mut per_seed = Vec::new();
    let mut aligned = Vec::new();
    for run in &results.runs {
        let series = shares(&run.weights);
        let change = run.weights.partition_point(|w| w.time <= change_time);
        per_seed.push(settling(&series, change, disturbance.server));
        let start = change.saturating_sub(ROUNDS_BEFORE);
        aligned.push(series[start..].to_vec());
    }
    let ensemble = ensemble_mean(&aligned);
    let ensemble_settling = settling(&ensemble, ROUNDS_BEFORE, disturbance.server);
    StepResponse {
        policy: results.policy,
        change_time,
        per_seed,
        ensemble,
        rounds_before: ROUNDS_BEFORE,
        ensemble_settling,
    }
}

/// Seconds from the start of the scenario's first disturbance to the first of the
/// Manager's rounds after it that gives the disturbed server weight 0; `None` if none does.
pub fn quiesce_delay(scenario: &Scenario, run: &RunSummary) -> Option<f64> {
    let disturbance = scenario.disturbances.first()?;
    let from = scenario.at(disturbance.from);
    run.weights
        .iter()
        .find(|sample| sample.time >= from && sample.weights[disturbance.server] == 0)
        .map(|sample| sample.time - from)
}
