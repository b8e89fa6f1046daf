//! The evaluation as text: console tables, the Markdown report, CSV series and the charts.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::chart::{self, ChartResult, Curve, Panel};
use crate::evaluation::Evaluation;
use crate::manager_link;
use crate::outcome::spread;
use crate::policy::{self, LoadSharing};
use crate::run::{AGENT_PERIOD, PROBE_WORK};
use crate::scenario::{Change, Scale, Scenario};
use crate::settle::{BAND, OSCILLATION};
use crate::study::{cdf_grid, PolicyResults, ScenarioResults, StepResponse};
use crate::workload::{SizeMix, CLASSES, PARETO_SHAPE, WORK_PER_SECOND};

/// Where charts and series go, under the output directory.
pub const SERIES_DIR: &str = "simulation";

/// The report's file name, in the output directory.
pub const REPORT_FILE: &str = "evaluation-simulation.md";

/// The largest cluster whose servers are listed one by one; larger ones by capacity class.
const LISTED_SERVERS: usize = 8;

/// The p99 ratio to round robin the Manager should reach.
pub const TARGET_VS_ROUND_ROBIN: f64 = 0.7;

/// The rounds after a change within which the Manager's weights should settle.
pub const TARGET_SETTLE_ROUNDS: usize = 3;

/// A duration in milliseconds below a second, in seconds above, to three figures.
pub fn time(seconds: f64) -> String {
    if seconds < 1.0 {
        let ms = seconds * 1000.0;
        if ms < 10.0 {
            format!("{ms:.2} ms")
        } else if ms < 100.0 {
            format!("{ms:.1} ms")
        } else {
            format!("{ms:.0} ms")
        }
    } else if seconds < 10.0 {
        format!("{seconds:.2} s")
    } else if seconds < 100.0 {
        format!("{seconds:.1} s")
    } else {
        format!("{seconds:.0} s")
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}", fraction * 100.0)
}

fn capacity_text(capacity: f64) -> String {
    format!("{capacity}")
}

/// The servers' capacity classes, in order of first appearance, with their members.
fn classes(scenario: &Scenario) -> Vec<(f64, Vec<usize>)> {
    let mut classes: Vec<(f64, Vec<usize>)> = Vec::new();
    for (index, &capacity) in scenario.capacities.iter().enumerate() {
        match classes.iter_mut().find(|(c, _)| *c == capacity) {
            Some((_, members)) => members.push(index),
            None => classes.push((capacity, vec![index])),
        }
    }
    classes.sort_by(|a, b| a.0.total_cmp(&b.0));
    classes
}

/// Per-server values in percent, one by one or as the mean of each capacity class.
fn per_server(scenario: &Scenario, values: &[f64]) -> String {
    if values.len() <= LISTED_SERVERS {
        return values
            .iter()
            .map(|&v| percent(v))
            .collect::<Vec<_>>()
            .join(" / ");
    }
    classes(scenario)
        .iter()
        .map(|(capacity, members)| {
            let mean = members.iter().map(|&i| values[i]).sum::<f64>() / members.len() as f64;
            format!("{}: {}", capacity_text(*capacity), percent(mean))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Markdown table of one scenario's results.
pub fn scenario_table(results: &ScenarioResults) -> String {
    let scenario = &results.scenario;
    let listed = scenario.capacities.len() <= LISTED_SERVERS;
    let (share_head, util_head) = if listed {
        (
            "share per server (%)",
            "utilization per server (%)".to_string(),
        )
    } else {
        (
            "share of one server, by capacity (%)",
            "utilization, mean by capacity (%)".to_string(),
        )
    };
    let mut table = format!(
        "| policy | mean | p99 | p99, lowest and highest seed | errors | {util_head} | \
         {share_head} |\n| --- | ---: | ---: | ---: | ---: | --- | --- |\n"
    );
    for policy in &results.policies {
        let (low, high) = policy.p99_range();
        let utilization = policy.utilization();
        let utilization = if listed {
            per_server(scenario, &utilization)
        } else {
            let (min, _, max) = spread(&utilization);
            format!(
                "{} (range {} – {})",
                per_server(scenario, &utilization),
                percent(min),
                percent(max)
            )
        };
        let errors = policy.errors();
        let errors = if errors == 0 {
            "0".to_string()
        } else {
            format!(
                "{errors} ({}%)",
                percent(errors as f64 / policy.measured_requests() as f64)
            )
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} – {} | {errors} | {utilization} | {} |",
            policy.policy.name,
            time(policy.mean()),
            time(policy.p99()),
            time(low),
            time(high),
            per_server(scenario, &policy.shares()),
        );
    }
    table
}

/// One Manager policy's p99 against the references, in one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetCheck {
    /// The scenario's title.
    pub scenario: &'static str,
    /// The Manager policy.
    pub policy: LoadSharing,
    /// Its p99 over round robin's.
    pub vs_round_robin: f64,
    /// Its p99 over IPVS wlc's.
    pub vs_wlc: f64,
}

impl TargetCheck {
    /// Whether its p99 is at most 0.7 times round robin's and no worse than wlc's.
    pub fn meets(&self) -> (bool, bool) {
        (
            self.vs_round_robin <= TARGET_VS_ROUND_ROBIN,
            self.vs_wlc <= 1.0,
        )
    }
}

/// The p99 checks of the Manager policies over wrr and wlc in every scenario.
pub fn target_checks(evaluation: &Evaluation) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    for results in &evaluation.scenarios {
        let p99 = |key: &str| results.policy(key).map(PolicyResults::p99);
        let (Some(rr), Some(wlc)) = (p99(policy::ROUND_ROBIN.key), p99(policy::IPVS_WLC.key))
        else {
            continue;
        };
        for managed in [policy::MANAGER_WRR, policy::MANAGER_WLC] {
            if let Some(p99) = p99(managed.key) {
                checks.push(TargetCheck {
                    scenario: results.scenario.title,
                    policy: managed,
                    vs_round_robin: p99 / rr,
                    vs_wlc: p99 / wlc,
                });
            }
        }
    }
    checks
}

/// A ratio to two significant figures.
fn ratio(value: f64) -> String {
    if value >= 0.095 {
        format!("{value:.2}")
    } else {
        format!("{value:.1e}")
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn rounds(value: Option<usize>) -> String {
    value.map_or("never".into(), |n| n.to_string())
}

fn target_table(checks: &[TargetCheck]) -> String {
    let mut table = String::from(
        "| setting | Manager policy | p99 / round robin's | ≤ 0.7? | p99 / IPVS wlc's | ≤ 1? |\n\
         | --- | --- | ---: | --- | ---: | --- |\n",
    );
    for check in checks {
        let (rr, wlc) = check.meets();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} |",
            check.scenario,
            check.policy.name,
            ratio(check.vs_round_robin),
            yes_no(rr),
            ratio(check.vs_wlc),
            yes_no(wlc)
        );
    }
    table
}

fn step_table(evaluation: &Evaluation) -> String {
    let mut table = String::from(
        "| policy | changed server's weight share before → after | mean of the runs: the \
         changed share settles after | mean of the runs: every share settles after | \
         single runs settling within 3 rounds | noise of a single run before the change | \
         lag-one autocorrelation after (mean of runs) | oscillates? |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for step in &evaluation.step {
        let server = evaluation.step_runs.scenario.disturbances[0].server;
        let ensemble = &step.ensemble_settling;
        let within = step
            .per_seed
            .iter()
            .filter(|s| {
                s.changed_settled_after
                    .is_some_and(|n| n <= TARGET_SETTLE_ROUNDS)
            })
            .count();
        let runs = step.per_seed.len() as f64;
        let noise = step.per_seed.iter().map(|s| s.noise_before).sum::<f64>() / runs;
        let lag_one = step.per_seed.iter().map(|s| s.lag_one).sum::<f64>() / runs;
        let _ = writeln!(
            table,
            "| {} | {} → {} | {} rounds | {} rounds | {within} of {} | {}% | {lag_one:.2} | {} |",
            step.policy.name,
            percent(ensemble.before[server]),
            percent(ensemble.after[server]),
            rounds(ensemble.changed_settled_after),
            rounds(ensemble.all_settled_after),
            step.per_seed.len(),
            percent(noise),
            yes_no(lag_one < OSCILLATION),
        );
    }
    table
}

fn size_mix_text() -> String {
    let classes: Vec<String> = CLASSES
        .iter()
        .map(|c| {
            let unit = if c.work == 1.0 { "unit" } else { "units" };
            format!("{} {} {unit} {}%", c.name, c.work, c.share * 100.0)
        })
        .collect();
    format!(
        "A/B/C/D classes: {} (uniform on 0.5 to 1.5 times the class's size); mean {} units. \
         Pareto: shape {PARETO_SHAPE}, the same mean.",
        classes.join(", "),
        SizeMix::Classes.mean()
    )
}

fn scenario_parameters(scenario: &Scenario) -> String {
    let disturbances: Vec<String> = scenario
        .disturbances
        .iter()
        .map(|d| {
            let until = d
                .until
                .map_or("the end".into(), |u| format!("{:.0} s", scenario.at(u)));
            let what = match d.change {
                Change::Speed(factor) => format!("server {}'s speed × {factor}", d.server + 1),
                Change::ExternalLoad(share) => format!(
                    "unseen work takes {}% of server {}'s speed",
                    share * 100.0,
                    d.server + 1
                ),
                Change::FastFail => format!("server {} fails every request", d.server + 1),
            };
            format!("{what} from {:.0} s to {until}", scenario.at(d.from))
        })
        .collect();
    let capacities = if scenario.capacities.len() <= LISTED_SERVERS {
        scenario
            .capacities
            .iter()
            .map(|&c| capacity_text(c))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        classes(scenario)
            .iter()
            .map(|(c, members)| format!("{} × {}", members.len(), capacity_text(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{}\n\nParameters: capacities {capacities} ({}known to the operator); {}; {}; load \
         {}% ({:.1} requests/s); warm-up {:.0} s, measured {:.0} s{}.",
        scenario.description,
        if scenario.capacities_known {
            ""
        } else {
            "not "
        },
        scenario.sizes.name(),
        scenario.arrivals.describe(),
        scenario.load * 100.0,
        scenario.arrival_rate(),
        scenario.warm_up,
        scenario.measured,
        if disturbances.is_empty() {
            String::new()
        } else {
            format!("; {}", disturbances.join("; "))
        }
    )
}

/// The console summary of one scenario.
pub fn console(results: &ScenarioResults) -> String {
    let mut text = format!("{}\n", results.scenario.title);
    let _ = writeln!(
        text,
        "  {:<15} {:>10} {:>10} {:>9}  shares (%)",
        "policy", "mean", "p99", "errors"
    );
    for policy in &results.policies {
        let _ = writeln!(
            text,
            "  {:<15} {:>10} {:>10} {:>9}  {}",
            policy.policy.name,
            time(policy.mean()),
            time(policy.p99()),
            policy.errors(),
            per_server(&results.scenario, &policy.shares())
        );
    }
    text
}

/// The console summary of the targets.
pub fn console_targets(evaluation: &Evaluation) -> String {
    let mut text = String::from("Targets (p99 ratios; settling in rounds after the change)\n");
    for check in target_checks(evaluation) {
        let (rr, wlc) = check.meets();
        let _ = writeln!(
            text,
            "  {:<64} {:<14} vs RR {} ({})  vs wlc {} ({})",
            check.scenario,
            check.policy.name,
            ratio(check.vs_round_robin),
            if rr { "meets" } else { "misses" },
            ratio(check.vs_wlc),
            if wlc { "meets" } else { "misses" },
        );
    }
    for step in &evaluation.step {
        let e = &step.ensemble_settling;
        let lag_one =
            step.per_seed.iter().map(|s| s.lag_one).sum::<f64>() / step.per_seed.len() as f64;
        let _ = writeln!(
            text,
            "  step change, {:<14} changed share settles after {} rounds, all after {}, \
             lag-one {lag_one:.2}",
            step.policy.name,
            rounds(e.changed_settled_after),
            rounds(e.all_settled_after),
        );
    }
    text
}

fn chart_path(key: &str) -> String {
    format!("{SERIES_DIR}/cdf-{key}.png")
}

const WEIGHTS_CHART: &str = "weights-step.png";

/// The Markdown report.
pub fn markdown(evaluation: &Evaluation, command: &str) -> String {
    let plan = &evaluation.plan;
    let seeds = |s: &[u64]| format!("{} to {}", s[0], s[s.len() - 1]);
    let mut doc = String::new();
    let _ = write!(
        doc,
        "# Load sharing in simulation\n\n\
         How the Executor's schedulers and the Manager's feedback loop share load, measured in a \
         discrete-event simulation that runs their own code: `nd-core`'s schedulers pick every \
         server, and every weight of the Manager's policies comes from the Manager's feedback \
         pass (`nd_manager::cycle::Feedback::run`) over its in-memory Executor, configured by \
         a file parsed by `nd_manager::config::Config::parse`.\n\n\
         Produced by `{command}` from the repository root{}. Seeds {} for every setting, {} \
         for the step-change study. A run is a pure function of its seed: the same command \
         writes the same report.\n\n",
        if plan.scale == Scale::Quick {
            " (the quick scale: shorter runs, a 10-server scaled-up cluster)"
        } else {
            ""
        },
        seeds(&plan.seeds),
        seeds(&plan.step_seeds),
    );
    doc.push_str(&model_section(evaluation));
    doc.push_str("## Results\n\n");
    let _ = write!(
        doc,
        "Times are response times of the measured requests that succeeded (arrival to \
         completion), averaged over the seeds; errors are requests answered with an error or \
         refused for want of a server, over all seeds. Utilization is the share of the \
         measured window a server was busy. Each setting's response-time distribution is in \
         `{SERIES_DIR}/cdf-<setting>.png` (the CDF on a log time axis, and the fraction above \
         each time on log-log axes, where the 99th percentile is the crossing of 0.01); where two policies are the same \
         (round robin and static WRR when the operator's weights are equal) one line hides \
         the other.\n\n"
    );
    for results in &evaluation.scenarios {
        let _ = write!(
            doc,
            "### {}\n\n{}\n\n{}\n![Response times, {}]({})\n\n",
            results.scenario.title,
            scenario_parameters(&results.scenario),
            scenario_table(results),
            results.scenario.title,
            chart_path(results.scenario.key),
        );
    }
    doc.push_str(&targets_section(evaluation));
    doc.push_str(&step_section(evaluation));
    doc.push_str(&findings_section(evaluation));
    doc.push_str(&files_section());
    doc
}

fn model_section(evaluation: &Evaluation) -> String {
    let hurst = evaluation.hurst;
    let manager_config =
        manager_link::config_text(&[1.0, 1.0, 1.0, 0.5], nd_manager::config::Policy::Weighted);
    format!(
        "## The model\n\n\
         * **Servers** are processor-sharing queues: a server of capacity `c` does `c × \
         {WORK_PER_SECOND}` work units a second, shared equally among the requests it holds. \
         The simulation is event-driven (a binary heap of events); each server keeps a virtual \
         clock of the service every one of its requests has received, so the next completion \
         is known exactly and nothing is stepped.\n\
         * **Work units**: one unit is what serving a 1 KB object costs. {}\n\
         * **Arrivals**: Poisson, or the superposition of Pareto ON/OFF sources (shape 1.4, so \
         a Hurst parameter of (3 − 1.4) / 2 = 0.8; an ON source emits a Poisson stream). The \
         aggregated-variance estimate of a generated stream ({:.0} requests/s over {:.0} s, \
         counted per second) is H = {:.2}.\n\
         * **Connections**: a request is an established connection from its dispatch to its \
         completion, and then stays in the Executor's table for its FIN timeout (120 s, the \
         Executor's default) as an *inactive* connection, which wlc counts at 1/256 of an \
         active one, as IPVS does.\n\
         * **Policies**: *round robin* is the Executor's smooth WRR with equal weights; \
         *static WRR*, *IPVS wlc* and *IPVS sed* use the operator's weights (the capacities \
         scaled to a largest weight of 100, where the operator knows them; equal weights \
         otherwise); *Manager + wrr* is the Manager's default `weighted` policy over WRR, \
         *Manager best* its `best` policy, and *Manager + wlc* the `weighted` policy's weights \
         given to wlc. Manager policies start from the operator's weights.\n\
         * **The Manager** runs every 5 s from a point of its interval drawn from the seed. \
         Like the daemon it probes first and decides when the last answer is in or the \
         advisor's 2 s timeout has run out. The HTTP advisor's probe is a request of {PROBE_WORK} \
         unit sent to the server's own address: it shares the server like any request, and \
         its response time is the advisor's timing; a failing server answers it with status \
         500. The Executor's counters give `new_conns` (connections given to the server since \
         the previous round) and `active_conns` (its requests in progress). The agents report \
         `load` every {AGENT_PERIOD} s: the mean number of runnable tasks over the last second \
         (requests and probes in progress, plus one while external work runs). Every metric \
         is fresh, so none marks a server down except the advisor. New weights are published \
         with fresh WRR credit, as the Executor does. The configuration is the README's \
         example with the Manager's defaults; for the paper's cluster:\n\n\
         ```toml\n{manager_config}```\n\n\
         * **Measurement**: requests arriving during the warm-up are served but not measured; \
         arrivals stop at the end of the measured window and the run goes on until every \
         request is done, so the slowest measured requests count too. Each run checks that \
         every request finished and that the work the servers did equals the work given to \
         them.\n\n",
        size_mix_text(),
        hurst.rate,
        hurst.seconds,
        hurst.estimated,
    )
}

fn targets_section(evaluation: &Evaluation) -> String {
    let checks = target_checks(evaluation);
    format!(
        "## Targets\n\n\
         The Manager should bring the 99th percentile to at most 0.7 times round robin's and \
         no worse than IPVS wlc's.\n\n{}\n",
        target_table(&checks)
    )
}

fn step_section(evaluation: &Evaluation) -> String {
    let step_scenario = &evaluation.step_runs.scenario;
    format!(
        "## Weights after a step change\n\n\
         The weights should settle within {TARGET_SETTLE_ROUNDS} rounds of a step change, \
         without oscillating. In setting 3 (S5), the first server's speed halves at {:.0} s; \
         the study runs the two Manager policies with {} seeds. A weight *share* (the \
         server's weight over the sum: what WRR acts on) has settled after `j` rounds when \
         from the `j`-th round after the change to the end of the run it stays within {}% of \
         its final value, the mean over the second half of the rounds after the change. A \
         single run's shares move from round to round by more than that band whatever the \
         loop does (the column *noise* is their relative standard deviation before the \
         change), so settling is judged on the mean of the runs, round by round, which \
         keeps the loop's response and averages the noise out. Oscillation is judged on \
         single runs, by the lag-one autocorrelation of each share's deviations from its \
         final value in the settled regime (the second half of the rounds after the change), \
         the lowest of the servers: below {OSCILLATION} a weight flips between high and low \
         from one round to the next.\n\n{}\n\
         ![Weights around the step change]({SERIES_DIR}/{WEIGHTS_CHART})\n\n",
        step_scenario.at(step_scenario.disturbances[0].from),
        evaluation.plan.step_seeds.len(),
        BAND * 100.0,
        step_table(evaluation),
    )
}

/// The mean of `values` over the servers of each capacity class: (capacity, mean).
fn by_class(scenario: &Scenario, values: &[f64]) -> Vec<(f64, f64)> {
    classes(scenario)
        .into_iter()
        .map(|(capacity, members)| {
            let mean = members.iter().map(|&i| values[i]).sum::<f64>() / members.len() as f64;
            (capacity, mean)
        })
        .collect()
}

/// What the numbers say, and why.
fn findings_section(evaluation: &Evaluation) -> String {
    let find = |key: &str| evaluation.scenarios.iter().find(|r| r.scenario.key == key);
    let (Some(paper), Some(scaled), Some(unknown), Some(failing)) = (
        find("paper"),
        find("scaled"),
        find("s1-unknown-capacities"),
        find("s4-fast-failure"),
    ) else {
        return String::new();
    };
    let get = |results: &'_ ScenarioResults, p: LoadSharing| -> PolicyResults {
        results
            .policy(p.key)
            .cloned()
            .expect("every setting runs every policy")
    };
    let checks = target_checks(evaluation);
    let meets_rr = checks.iter().filter(|c| c.meets().0).count();
    let meets_wlc = checks.iter().filter(|c| c.meets().1).count();
    let range_vs_wlc = |managed: LoadSharing| {
        checks
            .iter()
            .filter(|c| c.policy == managed)
            .fold((f64::INFINITY, 0.0f64), |(l, h), c| {
                (l.min(c.vs_wlc), h.max(c.vs_wlc))
            })
    };
    let (wlc_low, wlc_high) = range_vs_wlc(policy::MANAGER_WRR);
    let (managed_wlc_low, managed_wlc_high) = range_vs_wlc(policy::MANAGER_WLC);
    let mut text = String::from(
        "## What the numbers say, and why

",
    );

    let rr = get(paper, policy::ROUND_ROBIN);
    let managed = get(paper, policy::MANAGER_WRR);
    let static_wrr = get(paper, policy::STATIC_WRR);
    let wlc = get(paper, policy::IPVS_WLC);
    let failing_rr = get(failing, policy::ROUND_ROBIN);
    let failing_wlc = get(failing, policy::IPVS_WLC);
    let failing_managed = get(failing, policy::MANAGER_WRR);
    let _ = write!(
        text,
        "**Against round robin** the Manager meets the target in {meets_rr} of the {} \
         (setting, Manager policy) pairs. Wherever round robin gives a slow server more than \
         it can do, that server's queue grows for the whole run, so round robin's tail is \
         set by the length of the run (its p99 is {} in setting 1), while the Manager's \
         weights keep every server below saturation ({}). In S4 round robin has the lower \
         p99 of the requests that succeed, because the requests it sends to the failing \
         server fail at once and leave the other three at 60% load; the Manager keeps those \
         requests and serves them on the other three at 80%. It fails {} requests in all \
         against round robin's {}.\n\n",
        checks.len(),
        time(rr.p99()),
        time(managed.p99()),
        failing_managed.errors(),
        failing_rr.errors(),
    );

    let classes_scaled = by_class(&scaled.scenario, &get(scaled, policy::MANAGER_WRR).shares());
    let util_scaled = by_class(
        &scaled.scenario,
        &get(scaled, policy::MANAGER_WRR).utilization(),
    );
    let total = scaled.scenario.total_capacity();
    let (small, large) = (classes_scaled[0], classes_scaled[classes_scaled.len() - 1]);
    let (small_util, large_util) = (util_scaled[0].1, util_scaled[util_scaled.len() - 1].1);
    let unknown_util = get(unknown, policy::MANAGER_WRR).utilization();
    let slow = unknown
        .scenario
        .capacities
        .iter()
        .position(|&c| c < 1.0)
        .unwrap_or(0);
    let others = unknown_util
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != slow)
        .map(|(_, &u)| u)
        .sum::<f64>()
        / (unknown_util.len() - 1) as f64;
    let noise = evaluation
        .step
        .first()
        .map(|step| {
            step.per_seed.iter().map(|s| s.noise_before).sum::<f64>() / step.per_seed.len() as f64
        })
        .unwrap_or(0.0);
    let _ = write!(
        text,
        "**Against IPVS wlc** the Manager meets the target in {meets_wlc} of the {} pairs; \
         Manager + wrr's p99 is {} to {} times wlc's. Three reasons, the first the \
         largest:\n\n\
         * *Time scale.* wlc looks at every server's connections at every new connection; the \
         Manager looks every 5 s and sets the proportions in which round robin deals \
         connections out until its next round. With heavy-tailed sizes a server that has \
         just taken a class D request holds a second's worth of work or more: wlc routes \
         around it at once, the Manager's weights not within the interval. Even the exact proportions \
         (static WRR with the true capacities) have a p99 {} times wlc's in setting 1 \
         ({} against {}). The Manager's weights, which follow the load, do better than that \
         ({}), but what wlc acts on is not in a 5-second average.\n\
         * *The inverse-load formula's fixed point.* `wcf.rs` aims each weight at \
         `1 / (LMI + e)` relative to the lightest server, so the loop settles where \
         `weight × (LMI + e)` is the same on every server, not where load per capacity is. \
         Metrics are divided by the declared capacity, but connections follow the weights: \
         were the index made of new connections alone, weights would settle in proportion to \
         the square root of the capacities (the Manager's own simulation test shows it). The \
         other metrics grow faster than linearly with utilization and pull the weights part \
         of the way back, not all of it. In setting 2 the Manager gives each server of \
         capacity {} a share of {}% of the requests (its capacity's share is {}%) and each \
         of capacity {} {}% ({}%): the small servers run {}% busy, the large {}%. In S1, capacities \
         unknown, the half-speed server ends {}% busy against {}% for the others. A \
         weight computation whose fixed point is equal load per capacity (a multiplicative \
         correction such as `w × mean(LMI) / LMI`, which stops moving only when every index \
         is equal) would not have this bias; it is not what the Manager implements, and \
         the simulation measures the Manager as it is.\n\
         * *Noise.* Counters over 5 s and one probe per server are noisy at these rates: \
         with nothing changing, a single run's weight shares move from round to round with a \
         relative standard deviation of {}% (the step study above), so round robin deals \
         connections in proportions that are off by that much for 5 s at a time.\n\n",
        checks.len(),
        ratio(wlc_low),
        ratio(wlc_high),
        ratio(static_wrr.p99() / wlc.p99()),
        time(static_wrr.p99()),
        time(wlc.p99()),
        time(managed.p99()),
        capacity_text(small.0),
        percent(small.1),
        percent(small.0 / total),
        capacity_text(large.0),
        percent(large.1),
        percent(large.0 / total),
        percent(small_util),
        percent(large_util),
        percent(unknown_util[slow]),
        percent(others),
        percent(noise),
    );

    let best = get(paper, policy::MANAGER_BEST);
    let best_scaled = get(scaled, policy::MANAGER_BEST);
    let _ = write!(
        text,
        "**Manager + wlc** keeps wlc's reaction to each connection but gives it the \
         Manager's compressed, noisy weights instead of the true capacities, and its loop \
         oscillates (see the step study): its p99 is {} to {} times wlc's. **Manager best** sends \
         every new connection to one server for a whole interval, several times that \
         server's capacity for 5 s at these loads: p99 {} in setting 1 and {} in setting \
         2.\n\n",
        ratio(managed_wlc_low),
        ratio(managed_wlc_high),
        time(best.p99()),
        time(best_scaled.p99()),
    );
    let wlc_more = failing_wlc.errors() as f64 / failing_rr.errors().max(1) as f64 - 1.0;
    let _ = write!(
        text,
        "**The fast-failing server (S4).** wlc sends it {:.0}% more requests than round robin \
         does while it fails ({} errors against {}): it has no connection in progress, so \
         wlc sees it as the least loaded. It does not draw everything because the Executor \
         keeps each closed connection for its 120 s FIN timeout, counted as inactive, and \
         wlc weighs those too; the shorter that timeout, the more a fast-failing server \
         draws. The Manager's advisor gets status 500 and quiesces it at the next round.\n\n",
        wlc_more * 100.0,
        failing_wlc.errors(),
        failing_rr.errors(),
    );
    for step in &evaluation.step {
        let e = &step.ensemble_settling;
        let runs = step.per_seed.len() as f64;
        let lag_one = step.per_seed.iter().map(|s| s.lag_one).sum::<f64>() / runs;
        let settled = e
            .all_settled_after
            .is_some_and(|n| n <= TARGET_SETTLE_ROUNDS);
        let _ = write!(
            text,
            "**Step change, {}.** The mean of the runs settles {} after the change, and the \
             lag-one autocorrelation is {lag_one:.2}: the settling target is {}.{}\n\n",
            step.policy.name,
            e.all_settled_after
                .map_or("never".to_string(), |n| format!("{n} rounds")),
            if settled && lag_one >= OSCILLATION {
                format!(
                    "met for the loop's response; {} of the {} single runs stay within 10% \
                     of their final share from the third round on, for their own noise",
                    step.per_seed
                        .iter()
                        .filter(|s| s
                            .changed_settled_after
                            .is_some_and(|n| n <= TARGET_SETTLE_ROUNDS))
                        .count(),
                    step.per_seed.len()
                )
            } else {
                "missed".to_string()
            },
            if lag_one < OSCILLATION {
                " Under wlc a weight change moves connections at once, and the 120 s of \
                 inactive connections in wlc's overhead make the effect on `new_conns` far \
                 larger than in proportion to the weight, so the smoothed loop over-corrects \
                 every round and the weights flip between high and low."
            } else {
                ""
            },
        );
    }
    text
}

fn files_section() -> String {
    format!(
        "## Files\n\n\
         * `{SERIES_DIR}/summary.csv`: every run (setting, policy, seed): requests, errors, \
         mean, median and p99 response times, each server's share and utilization.\n\
         * `{SERIES_DIR}/cdf.csv`: each setting's and policy's response-time distribution, \
         averaged over the seeds, at 5 points a decade.\n\
         * `{SERIES_DIR}/weights-step.csv`: the weights after every round of the step \
         study's first seed, for both Manager policies.\n\
         * `{SERIES_DIR}/step-mean-shares.csv`: the weight shares round by round from 20 \
         rounds before the change to 60 after, averaged over the step study's seeds.\n"
    )
}

/// Every run as a CSV row.
pub fn summary_csv(evaluation: &Evaluation) -> String {
    let mut csv =
        String::from("setting,policy,seed,requests,errors,mean_s,p50_s,p99_s,shares,utilization\n");
    for results in &evaluation.scenarios {
        for policy in &results.policies {
            for run in &policy.runs {
                let join = |values: &[f64]| {
                    values
                        .iter()
                        .map(|v| format!("{v:.4}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let _ = writeln!(
                    csv,
                    "{},{},{},{},{},{:.6},{:.6},{:.6},{},{}",
                    results.scenario.key,
                    policy.policy.key,
                    run.seed,
                    run.measured_requests,
                    run.errors,
                    run.mean,
                    run.p50,
                    run.p99,
                    join(&run.shares),
                    join(&run.utilization),
                );
            }
        }
    }
    csv
}

/// Each setting's and policy's mean CDF, from its first point above 0 to its first at 1.
pub fn cdf_csv(evaluation: &Evaluation) -> String {
    let grid = cdf_grid();
    let mut csv = String::from("setting,policy,seconds,fraction_at_or_below\n");
    for results in &evaluation.scenarios {
        for policy in &results.policies {
            // Every other point of the grid, 5 a decade, keeps the file small.
            for (&seconds, &fraction) in trimmed(&grid, &policy.cdf()).step_by(2) {
                let _ = writeln!(
                    csv,
                    "{},{},{seconds:.6e},{fraction:.5}",
                    results.scenario.key, policy.policy.key
                );
            }
        }
    }
    csv
}

/// The points of a CDF from the last at 0 to the first at 1.
fn trimmed<'a>(grid: &'a [f64], cdf: &'a [f64]) -> impl Iterator<Item = (&'a f64, &'a f64)> {
    let first = cdf.iter().rposition(|&f| f == 0.0).unwrap_or(0);
    let last = cdf.iter().position(|&f| f >= 1.0).unwrap_or(cdf.len() - 1);
    grid[first..=last].iter().zip(&cdf[first..=last])
}

/// The weights after every round of the step study's first seed.
pub fn weights_csv(evaluation: &Evaluation) -> String {
    let servers = evaluation.step_runs.scenario.capacities.len();
    let mut csv = String::from("policy,seed,time_s");
    for server in 1..=servers {
        let _ = write!(csv, ",weight_{server}");
    }
    csv.push('\n');
    for policy in &evaluation.step_runs.policies {
        let run = &policy.runs[0];
        for sample in &run.weights {
            let weights: Vec<String> = sample.weights.iter().map(u32::to_string).collect();
            let _ = writeln!(
                csv,
                "{},{},{:.3},{}",
                policy.policy.key,
                run.seed,
                sample.time,
                weights.join(",")
            );
        }
    }
    csv
}

/// The mean weight shares around the change, round by round.
pub fn step_mean_csv(evaluation: &Evaluation) -> String {
    let servers = evaluation.step_runs.scenario.capacities.len();
    let mut csv = String::from("policy,round_after_change");
    for server in 1..=servers {
        let _ = write!(csv, ",share_{server}");
    }
    csv.push('\n');
    for step in &evaluation.step {
        for (index, row) in step
            .ensemble
            .iter()
            .enumerate()
            .take(step.rounds_before + 60)
        {
            let round = index as i64 - step.rounds_before as i64 + 1;
            let row: Vec<String> = row.iter().map(|s| format!("{s:.5}")).collect();
            let _ = writeln!(csv, "{},{round},{}", step.policy.key, row.join(","));
        }
    }
    csv
}

fn cdf_chart(dir: &Path, results: &ScenarioResults) -> ChartResult<PathBuf> {
    let grid = cdf_grid();
    let curves: Vec<Curve> = results
        .policies
        .iter()
        .map(|policy| Curve {
            label: policy.policy.name.to_string(),
            points: trimmed(&grid, &policy.cdf())
                .map(|(&x, &y)| (x, y))
                .collect(),
        })
        .collect();
    let path = dir.join(chart_path(results.scenario.key));
    chart::response_times(&path, results.scenario.title, &curves)?;
    Ok(path)
}

fn step_chart(dir: &Path, evaluation: &Evaluation) -> ChartResult<PathBuf> {
    let scenario = &evaluation.step_runs.scenario;
    let change = scenario.at(scenario.disturbances[0].from);
    let window = 40.0 * 5.0;
    let mut panels = Vec::new();
    for policy in &evaluation.step_runs.policies {
        let run = &policy.runs[0];
        let near: Vec<_> = run
            .weights
            .iter()
            .filter(|w| (w.time - change).abs() <= window)
            .cloned()
            .collect();
        let curves = (0..scenario.capacities.len())
            .map(|server| Curve {
                label: format!(
                    "server {} (capacity {})",
                    server + 1,
                    scenario.capacities[server]
                ),
                points: near
                    .iter()
                    .map(|w| (w.time - change, f64::from(w.weights[server])))
                    .collect(),
            })
            .collect();
        panels.push(Panel {
            caption: format!(
                "{}: weights after each round, seed {}",
                policy.policy.name, run.seed
            ),
            y_label: "weight".into(),
            curves,
        });
    }
    let server = scenario.disturbances[0].server;
    let curves = evaluation
        .step
        .iter()
        .map(|step: &StepResponse| Curve {
            label: step.policy.name.to_string(),
            points: step
                .ensemble
                .iter()
                .enumerate()
                .take(step.rounds_before + 60)
                .map(|(index, row)| {
                    let round = index as f64 - step.rounds_before as f64 + 1.0;
                    (round * 5.0, row[server] * 100.0)
                })
                .collect(),
        })
        .collect();
    panels.push(Panel {
        caption: format!(
            "server {}'s share of the weights (%), mean of {} runs, by round (5 s each)",
            server + 1,
            evaluation.plan.step_seeds.len()
        ),
        y_label: "weight share (%)".into(),
        curves,
    });
    let path = dir.join(SERIES_DIR).join(WEIGHTS_CHART);
    chart::weights_over_time(
        &path,
        &format!(
            "{}: server {}'s speed halves at 0 s",
            scenario.title,
            server + 1
        ),
        "seconds from the change",
        0.0,
        &panels,
    )?;
    Ok(path)
}

/// Writes the report, the CSV series and the charts under `dir`, returning their paths.
pub fn write(evaluation: &Evaluation, dir: &Path, command: &str) -> ChartResult<Vec<PathBuf>> {
    let series = dir.join(SERIES_DIR);
    fs::create_dir_all(&series)?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, text: String| -> ChartResult<()> {
        fs::write(&path, text)?;
        written.push(path);
        Ok(())
    };
    put(dir.join(REPORT_FILE), markdown(evaluation, command))?;
    put(series.join("summary.csv"), summary_csv(evaluation))?;
    put(series.join("cdf.csv"), cdf_csv(evaluation))?;
    put(series.join("weights-step.csv"), weights_csv(evaluation))?;
    put(
        series.join("step-mean-shares.csv"),
        step_mean_csv(evaluation),
    )?;
    for results in &evaluation.scenarios {
        written.push(cdf_chart(dir, results)?);
    }
    written.push(step_chart(dir, evaluation)?);
    Ok(written)
}
