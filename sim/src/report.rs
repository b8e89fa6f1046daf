//! The evaluation as text: console tables, the Markdown report, CSV series and the charts.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use nd_manager::config::DEFAULT_INTERVAL;

use crate::chart::{self, ChartResult, Curve, Panel};
use crate::evaluation::Evaluation;
use crate::manager_link;
use crate::outcome::spread;
use crate::policy::{self, LoadSharing};
use crate::run::{AGENT_PERIOD, PROBE_WORK};
use crate::scenario::{Change, Scale, Scenario};
use crate::settle::{BAND, OSCILLATION};
use crate::study::{cdf_grid, quiesce_delay, PolicyResults, ScenarioResults, StepResponse};
use crate::workload::{SizeMix, CLASSES, PARETO_SHAPE, WORK_PER_SECOND};

/// Where charts and series go, under the output directory.
pub const SERIES_DIR: &str = "simulation";

/// The report's file name, in the output directory.
pub const REPORT_FILE: &str = "evaluation-simulation.md";

/// The largest cluster whose servers are listed one by one; larger ones by capacity class.
const LISTED_SERVERS: usize = 8;

/// How far Manager + wlc may be from IPVS wlc, on the mean and the 99th percentile, in S1 to
/// S3.
pub const TARGET_VS_WLC: f64 = 1.1;

/// The largest p99 of the Manager against round robin's in S1.
pub const TARGET_VS_ROUND_ROBIN: f64 = 0.05;

/// The largest share of IPVS wlc's failed requests the Manager may fail in S4.
pub const TARGET_FAILURES: f64 = 0.1;

/// The rounds within which the Manager must quiesce a fast-failing server.
pub const TARGET_QUIESCE_ROUNDS: f64 = 2.0;

/// The rounds after a change within which the Manager's weights should settle.
pub const TARGET_SETTLE_ROUNDS: usize = 3;

/// The rounds of the mean weight shares the report prints around the step change.
const PRINTED_ROUNDS: std::ops::RangeInclusive<i64> = -2..=10;

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

/// An interval in seconds as the report writes it ("2 s").
fn seconds(value: f64) -> String {
    format!("{value} s")
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

/// A change in percent with its sign, "+4%", "-12%", or "0%".
fn signed(change: f64) -> String {
    let rounded = change.round();
    if rounded == 0.0 {
        "0%".into()
    } else {
        format!("{rounded:+.0}%")
    }
}

/// "settles after 3 rounds", or that it never does.
fn settles(value: Option<usize>) -> String {
    match value {
        Some(1) => "settles after 1 round".into(),
        Some(n) => format!("settles after {n} rounds"),
        None => "never settles within the band".into(),
    }
}

/// The mean over the runs of each run's lowest lag-one autocorrelation.
fn mean_lag_one(step: &StepResponse) -> f64 {
    step.per_seed.iter().map(|s| s.lag_one).sum::<f64>() / step.per_seed.len().max(1) as f64
}

/// The mean over the runs of each run's relative noise before the change.
fn mean_noise(step: &StepResponse) -> f64 {
    step.per_seed.iter().map(|s| s.noise_before).sum::<f64>() / step.per_seed.len().max(1) as f64
}

/// The setting titles' short names: "S1" for "S1: unknown capacities", "S5" for "S5 /
/// setting 3: a step change".
fn short_title(scenario: &Scenario) -> &'static str {
    let head = scenario
        .title
        .split_once(':')
        .map_or(scenario.title, |(head, _)| head);
    head.split_once(" / ").map_or(head, |(first, _)| first)
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

/// One of the Manager's targets, as measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The setting it is judged in.
    pub setting: &'static str,
    /// What is measured.
    pub measure: String,
    /// The goal, as a bound on the measure.
    pub goal: String,
    /// The measured value.
    pub value: String,
    /// Whether the goal is met.
    pub met: bool,
}

/// The ratio of `managed`'s value to `reference`'s in the setting `key`, by `value`.
fn ratio_of(
    evaluation: &Evaluation,
    key: &str,
    managed: LoadSharing,
    reference: LoadSharing,
    value: impl Fn(&PolicyResults) -> f64,
) -> Option<f64> {
    let managed = evaluation.results(key, managed)?;
    let reference = evaluation.results(key, reference)?;
    Some(value(managed) / value(reference))
}

/// The Manager's targets in the settings the evaluation ran.
pub fn targets(evaluation: &Evaluation) -> Vec<Target> {
    let mut targets = Vec::new();
    let title = |key: &str| {
        evaluation
            .scenarios
            .iter()
            .find(|r| r.scenario.key == key)
            .map(|r| short_title(&r.scenario))
    };
    let near_wlc = [
        ("s1-unknown-capacities", false),
        ("s2-known-capacities", false),
        ("s3-external-load", true),
    ];
    for (key, better) in near_wlc {
        let Some(setting) = title(key) else { continue };
        for (name, value) in [
            ("mean", PolicyResults::mean as fn(&PolicyResults) -> f64),
            ("p99", PolicyResults::p99),
        ] {
            let Some(r) = ratio_of(
                evaluation,
                key,
                policy::MANAGER_WLC,
                policy::IPVS_WLC,
                value,
            ) else {
                continue;
            };
            let bound = if better { 1.0 } else { TARGET_VS_WLC };
            targets.push(Target {
                setting,
                measure: format!("Manager + wlc's {name} / IPVS wlc's"),
                goal: if better {
                    "< 1 (better)".into()
                } else {
                    format!("≤ {TARGET_VS_WLC:.2}")
                },
                value: ratio(r),
                met: if better { r < bound } else { r <= bound },
            });
        }
    }
    if let Some(setting) = title("s1-unknown-capacities") {
        for managed in [policy::MANAGER_WRR, policy::MANAGER_WLC] {
            if let Some(r) = ratio_of(
                evaluation,
                "s1-unknown-capacities",
                managed,
                policy::ROUND_ROBIN,
                PolicyResults::p99,
            ) {
                targets.push(Target {
                    setting,
                    measure: format!("{}'s p99 / round robin's", managed.name),
                    goal: format!("≤ {TARGET_VS_ROUND_ROBIN}"),
                    value: ratio(r),
                    met: r <= TARGET_VS_ROUND_ROBIN,
                });
            }
        }
    }
    let failing = evaluation
        .scenarios
        .iter()
        .find(|r| r.scenario.key == "s4-fast-failure");
    if let Some(failing) = failing {
        let setting = short_title(&failing.scenario);
        let wlc_errors = failing.policy(policy::IPVS_WLC.key).map(|p| p.errors());
        for managed in [policy::MANAGER_WRR, policy::MANAGER_WLC] {
            let Some(results) = failing.policy(managed.key) else {
                continue;
            };
            if let Some(wlc_errors) = wlc_errors {
                let r = results.errors() as f64 / wlc_errors.max(1) as f64;
                targets.push(Target {
                    setting,
                    measure: format!(
                        "{}'s failed requests / IPVS wlc's ({} / {wlc_errors})",
                        managed.name,
                        results.errors()
                    ),
                    goal: format!("≤ {TARGET_FAILURES}"),
                    value: ratio(r),
                    met: r <= TARGET_FAILURES,
                });
            }
            let interval = managed.interval().unwrap_or(1.0);
            let delays: Vec<Option<f64>> = results
                .runs
                .iter()
                .map(|run| quiesce_delay(&failing.scenario, run))
                .collect();
            let worst = delays
                .iter()
                .map(|d| d.unwrap_or(f64::INFINITY))
                .fold(0.0, f64::max);
            targets.push(Target {
                setting,
                measure: format!(
                    "{}: rounds from the failure to weight 0, worst seed",
                    managed.name
                ),
                goal: format!("≤ {TARGET_QUIESCE_ROUNDS}"),
                value: if worst.is_finite() {
                    format!("{:.2} ({})", worst / interval, time(worst))
                } else {
                    "never".into()
                },
                met: worst / interval <= TARGET_QUIESCE_ROUNDS,
            });
        }
    }
    for managed in [policy::MANAGER_WRR, policy::MANAGER_WLC] {
        let Some(step) = evaluation.step_of(managed) else {
            continue;
        };
        let setting = short_title(&evaluation.step_runs.scenario);
        let settled = step.ensemble_settling.all_settled_after;
        targets.push(Target {
            setting,
            measure: format!(
                "{}: rounds until every weight share settles (mean of the runs)",
                managed.name
            ),
            goal: format!("≤ {TARGET_SETTLE_ROUNDS}"),
            value: rounds(settled),
            met: settled.is_some_and(|n| n <= TARGET_SETTLE_ROUNDS),
        });
        let lag_one = mean_lag_one(step);
        targets.push(Target {
            setting,
            measure: format!(
                "{}: lag-one autocorrelation of the shares after the change",
                managed.name
            ),
            goal: format!("≥ {OSCILLATION} (no oscillation)"),
            value: format!("{lag_one:.2}"),
            met: lag_one >= OSCILLATION,
        });
    }
    targets
}

/// The targets as a table, for this report and the VM's.
pub fn target_table(targets: &[Target]) -> String {
    let mut table = String::from(
        "| setting | measure | goal | measured | met? |\n| --- | --- | --- | ---: | --- |\n",
    );
    for target in targets {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} |",
            target.setting,
            target.measure,
            target.goal,
            target.value,
            yes_no(target.met)
        );
    }
    table
}

/// The console summary of the targets.
pub fn console_targets(evaluation: &Evaluation) -> String {
    let mut text = String::from("Targets\n");
    for target in targets(evaluation) {
        let _ = writeln!(
            text,
            "  {:<4} {:<78} {:>14} {:<16} {}",
            target.setting,
            target.measure,
            target.value,
            target.goal,
            if target.met { "met" } else { "missed" },
        );
    }
    text
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
         a file parsed by `nd_manager::config::Config::parse` and provisioned by \
         `nd_manager::provision::provision`, which gives the port the configured scheduler.\n\n\
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
         each time on log-log axes, where the 99th percentile is the crossing of 0.01); where \
         two policies are the same (round robin and static WRR when the operator's weights \
         are equal) one line hides the other.\n\n"
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
    doc.push_str(&interval_section(evaluation));
    doc.push_str(&computation_section(evaluation));
    doc.push_str(&probe_section(evaluation));
    doc.push_str(&findings_section(evaluation));
    doc.push_str(&files_section());
    doc
}

fn model_section(evaluation: &Evaluation) -> String {
    let hurst = evaluation.hurst;
    let setup = policy::MANAGER_WLC
        .manager()
        .expect("Manager + wlc is a Manager policy");
    let manager_config =
        manager_link::config_text(&[1.0, 1.0, 1.0, 0.5], policy::MANAGER_WLC.scheduler, setup);
    let config = nd_manager::config::Config::parse("simulation.toml", &manager_config)
        .expect("the simulation's configuration is valid");
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
         otherwise). *Manager + wrr* is the Manager with the service's `scheduler = \"wrr\"` \
         and so its default policy there, `weighted` (weights in inverse proportion to the \
         load index); *Manager best* the same with `policy = \"best\"`; *Manager + wlc* the \
         Manager with `scheduler = \"wlc\"` and so its default policy there, `capacity` \
         (weights in proportion to each server's measured rate of service, `(connections + 1) \
         / probe time`, the median of three rounds). The simulated Executor runs the \
         scheduler the Manager gave the port. Manager policies start from the operator's \
         weights. The Manager's variants (other intervals, other weight computations, a \
         larger probe) are described where they are compared.\n\
         * **The Manager** runs every {} (its default interval) from a point of its interval \
         drawn from the seed. Like the daemon it reads the Executor's connections, probes, \
         and decides when the last answer is in or the advisor's {} timeout has run out. The \
         HTTP advisor's probe is a request of {PROBE_WORK} unit sent to the server's own \
         address: it shares the server like any request, and its response time is the \
         advisor's timing; a failing server answers it with status 500. The Executor's \
         counters give `new_conns` (connections given to the server since the previous \
         round), `active_conns` (its requests in progress at the decision) and the requests \
         in progress as the probes went out, which the capacity policy pairs with the probe's \
         time. The agents report `load` every {AGENT_PERIOD} s: the mean number of runnable \
         tasks over the last second (requests and probes in progress, plus one while \
         external work runs). Every metric is fresh, so none marks a server down except the \
         advisor. New weights are published with fresh WRR credit, as the Executor does. The \
         configuration is the README's example with the Manager's defaults; for the paper's \
         cluster under wlc:\n\n\
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
        seconds(DEFAULT_INTERVAL.as_secs_f64()),
        seconds(config.advisors[0].timeout.as_secs_f64()),
    )
}

fn targets_section(evaluation: &Evaluation) -> String {
    format!(
        "## Targets\n\n\
         Manager + wlc within {:.0}% of IPVS wlc on the mean and the 99th percentile in S1 to \
         S3, and better in S3; in S4, at most a tenth of the failed requests of IPVS wlc, \
         the failing server quiesced within {TARGET_QUIESCE_ROUNDS} intervals; the Manager's \
         p99 at most {TARGET_VS_ROUND_ROBIN} times round robin's in S1, with either \
         scheduler; in S5 the weights settled within {TARGET_SETTLE_ROUNDS} intervals of the \
         step, without oscillating (judged as in the next section).\n\n{}\n",
        (TARGET_VS_WLC - 1.0) * 100.0,
        target_table(&targets(evaluation))
    )
}

fn step_table(evaluation: &Evaluation) -> String {
    let mut table = String::from(
        "| policy | interval | changed server's weight share before → after | mean of the \
         runs: the changed share settles after | mean of the runs: every share settles after \
         | single runs settling within 3 rounds | noise of a single run before the change | \
         lag-one autocorrelation after (mean of runs) | oscillates? |\n\
         | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let server = evaluation.step_runs.scenario.disturbances[0].server;
    for step in &evaluation.step {
        let interval = step.policy.interval().unwrap_or(1.0);
        let ensemble = &step.ensemble_settling;
        let within = step
            .per_seed
            .iter()
            .filter(|s| {
                s.changed_settled_after
                    .is_some_and(|n| n <= TARGET_SETTLE_ROUNDS)
            })
            .count();
        let noise = mean_noise(step);
        let lag_one = mean_lag_one(step);
        let in_rounds = |n: Option<usize>| match n {
            Some(n) => format!("{n} rounds ({})", time(n as f64 * interval)),
            None => "never".into(),
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} → {} | {} | {} | {within} of {} | {}% | {lag_one:.2} | {} |",
            step.policy.name,
            seconds(interval),
            percent(ensemble.before[server]),
            percent(ensemble.after[server]),
            in_rounds(ensemble.changed_settled_after),
            in_rounds(ensemble.all_settled_after),
            step.per_seed.len(),
            percent(noise),
            yes_no(lag_one < OSCILLATION),
        );
    }
    table
}

/// The mean weight shares of the default Manager policies, round by round around the step.
fn weights_over_time(evaluation: &Evaluation) -> String {
    let steps: Vec<&StepResponse> = [policy::MANAGER_WRR, policy::MANAGER_WLC]
        .into_iter()
        .filter_map(|p| evaluation.step_of(p))
        .collect();
    let mut table = String::from("| round |");
    for step in &steps {
        let _ = write!(table, " {} |", step.policy.name);
    }
    table.push_str("\n| ---: |");
    for _ in &steps {
        table.push_str(" --- |");
    }
    table.push('\n');
    for round in PRINTED_ROUNDS {
        let _ = write!(table, "| {round} |");
        for step in &steps {
            let index = step.rounds_before as i64 + round - 1;
            let cell = usize::try_from(index)
                .ok()
                .and_then(|index| step.ensemble.get(index))
                .map_or("-".into(), |row| {
                    row.iter()
                        .map(|&s| percent(s))
                        .collect::<Vec<_>>()
                        .join(" / ")
                });
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    table
}

fn step_section(evaluation: &Evaluation) -> String {
    let step_scenario = &evaluation.step_runs.scenario;
    let server = step_scenario.disturbances[0].server;
    format!(
        "## Weights after a step change\n\n\
         The weights should settle within {TARGET_SETTLE_ROUNDS} rounds of a step change, \
         without oscillating. In setting 3 (S5), the first server's speed halves at {:.0} s; \
         the study runs every Manager policy and variant with {} seeds. A weight *share* (the \
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
         The weights over time, as the mean of the runs of each server's share (%, servers 1 \
         to {}), round by round; round 1 is the first decision after server {}'s speed \
         halves, every {} with the Manager's defaults:\n\n{}\n\
         One run's weights round by round are in `{SERIES_DIR}/weights-step.csv`, and around \
         the change in the chart (one run of each default policy and of Manager + wlc with \
         inverse-load weights, and the changed server's mean share):\n\n\
         ![Weights around the step change]({SERIES_DIR}/{WEIGHTS_CHART})\n\n",
        step_scenario.at(step_scenario.disturbances[0].from),
        evaluation.plan.step_seeds.len(),
        BAND * 100.0,
        step_table(evaluation),
        step_scenario.capacities.len(),
        server + 1,
        seconds(DEFAULT_INTERVAL.as_secs_f64()),
        weights_over_time(evaluation),
    )
}

/// `base` at each interval the evaluation ran it at, shortest first: its variants and
/// itself, at the default.
fn at_intervals(base: LoadSharing) -> Vec<LoadSharing> {
    let mut all: Vec<LoadSharing> = policy::VARIANTS
        .into_iter()
        .filter(|v| {
            v.scheduler == base.scheduler
                && v.manager()
                    .is_some_and(|s| s.replaced_by.is_none() && s.interval.is_some())
        })
        .collect();
    all.retain(|v| v.interval() != base.interval());
    all.push(base);
    all.sort_by(|a, b| {
        a.interval()
            .unwrap_or(0.0)
            .total_cmp(&b.interval().unwrap_or(0.0))
    });
    all
}

fn interval_section(evaluation: &Evaluation) -> String {
    let families = [policy::MANAGER_WRR, policy::MANAGER_WLC];
    let columns: Vec<LoadSharing> = families.iter().flat_map(|&b| at_intervals(b)).collect();
    let head = |p: &LoadSharing| {
        let default = if p.manager().is_some_and(|s| s.interval.is_none()) {
            " (default)"
        } else {
            ""
        };
        format!(
            "{} {}{default}",
            if p.scheduler == policy::MANAGER_WRR.scheduler {
                "wrr"
            } else {
                "wlc"
            },
            seconds(p.interval().unwrap_or(0.0))
        )
    };
    let mut table = String::from("| setting |");
    for column in &columns {
        let _ = write!(table, " {} |", head(column));
    }
    table.push_str("\n| --- |");
    for _ in &columns {
        table.push_str(" ---: |");
    }
    table.push('\n');
    for results in &evaluation.scenarios {
        let _ = write!(table, "| {} |", short_title(&results.scenario));
        for &column in &columns {
            let cell = evaluation
                .results(results.scenario.key, column)
                .map_or("-".into(), |r| {
                    format!("{} ({})", time(r.p99()), time(r.mean()))
                });
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    for (label, value) in [
        (
            "S5: every share settles after (rounds)",
            (|step: &StepResponse| rounds(step.ensemble_settling.all_settled_after))
                as fn(&StepResponse) -> String,
        ),
        ("S5: lag-one autocorrelation", |step: &StepResponse| {
            format!("{:.2}", mean_lag_one(step))
        }),
    ] {
        let _ = write!(table, "| {label} |");
        for &column in &columns {
            let cell = evaluation.step_of(column).map_or("-".into(), value);
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    let failing = |p: LoadSharing| {
        evaluation
            .results("s4-fast-failure", p)
            .map_or("-".into(), |r| r.errors().to_string())
    };
    let _ = write!(table, "| S4: failed requests |");
    for &column in &columns {
        let _ = write!(table, " {} |", failing(column));
    }
    table.push('\n');
    format!(
        "## The interval\n\n\
         The Manager's two schedulers with their default policies, deciding every 1, 2 and \
         5 s (everything else at its default). Each cell is the 99th percentile and, in \
         brackets, the mean, over the same seeds as the main tables; below, from the \
         step-change study, the rounds until the weights settle and the lag-one \
         autocorrelation after the change, and the failed requests of S4.\n\n{table}\n"
    )
}

fn computation_section(evaluation: &Evaluation) -> String {
    let mut wrr = String::from(
        "| setting | inverse load (default): mean | p99 | utilization (%) | proportional: \
         mean | p99 | utilization (%) |\n| --- | ---: | ---: | --- | ---: | ---: | --- |\n",
    );
    let mut wlc = String::from(
        "| setting | capacity (default): mean | p99 | inverse load: mean | p99 |\n\
         | --- | ---: | ---: | ---: | ---: |\n",
    );
    for results in &evaluation.scenarios {
        let key = results.scenario.key;
        let get = |p: LoadSharing| evaluation.results(key, p);
        if let (Some(inverse), Some(proportional)) = (
            get(policy::MANAGER_WRR),
            get(policy::MANAGER_WRR_PROPORTIONAL),
        ) {
            let _ = writeln!(
                wrr,
                "| {} | {} | {} | {} | {} | {} | {} |",
                short_title(&results.scenario),
                time(inverse.mean()),
                time(inverse.p99()),
                per_server(&results.scenario, &inverse.utilization()),
                time(proportional.mean()),
                time(proportional.p99()),
                per_server(&results.scenario, &proportional.utilization()),
            );
        }
        if let (Some(capacity), Some(inverse)) =
            (get(policy::MANAGER_WLC), get(policy::MANAGER_WLC_INVERSE))
        {
            let _ = writeln!(
                wlc,
                "| {} | {} | {} | {} | {} |",
                short_title(&results.scenario),
                time(capacity.mean()),
                time(capacity.p99()),
                time(inverse.mean()),
                time(inverse.p99()),
            );
        }
    }
    let step_line = |p: LoadSharing| {
        evaluation.step_of(p).map_or(String::new(), |step| {
            format!(
                "{}: every share {}, lag-one {:.2}",
                p.name,
                settles(step.ensemble_settling.all_settled_after),
                mean_lag_one(step)
            )
        })
    };
    format!(
        "## Weight computations the Manager does not use\n\n\
         Under wrr, the load policy in *proportional-correction* form \
         (`sim/src/alternatives.rs`): each round multiplies each weight by `(mean L + e) / (L \
         + e)`, blended by the smoothing, so it stops only where every load index is equal, \
         where the inverse-load form stops where `weight × (L + e)` is. Under wlc, the \
         `weighted` policy's inverse-load weights in place of the capacities (what the \
         configuration refuses). Both at the default interval.\n\n\
         Under wrr (utilization per server, or by capacity class):\n\n{wrr}\n\
         Under wlc:\n\n{wlc}\n\
         After the step change: {}; {}; {}; {}.\n\n",
        step_line(policy::MANAGER_WRR),
        step_line(policy::MANAGER_WRR_PROPORTIONAL),
        step_line(policy::MANAGER_WLC),
        step_line(policy::MANAGER_WLC_INVERSE),
    )
}

fn probe_section(evaluation: &Evaluation) -> String {
    let mut table = String::from(
        "| setting | IPVS wlc: mean | p99 | Manager + wlc, 1-unit probe (default): mean | p99 \
         | 20-unit probe: mean | p99 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for results in &evaluation.scenarios {
        let key = results.scenario.key;
        let get = |p: LoadSharing| evaluation.results(key, p);
        let (Some(wlc), Some(small), Some(large)) = (
            get(policy::IPVS_WLC),
            get(policy::MANAGER_WLC),
            get(policy::MANAGER_WLC_PROBE_20),
        ) else {
            continue;
        };
        let against = |value: f64, base: f64| format!("{} ({})", time(value), ratio(value / base));
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} |",
            short_title(&results.scenario),
            time(wlc.mean()),
            time(wlc.p99()),
            against(small.mean(), wlc.mean()),
            against(small.p99(), wlc.p99()),
            against(large.mean(), wlc.mean()),
            against(large.p99(), wlc.p99()),
        );
    }
    let step_line = |p: LoadSharing| {
        evaluation.step_of(p).map_or(String::new(), |step| {
            format!(
                "{}: every share {}, lag-one {:.2}, noise of a single run {}%",
                p.name,
                settles(step.ensemble_settling.all_settled_after),
                mean_lag_one(step),
                percent(mean_noise(step))
            )
        })
    };
    format!(
        "## The probe's size\n\n\
         The `capacity` policy times the HTTP advisor's probe, so the probe's size matters. \
         Here a request costs nothing but its work, and the default probe is {PROBE_WORK} \
         unit; the VM's evaluation (`docs/evaluation-vm.md`) asks for 20 units, since there a \
         request costs the emulated machine a few milliseconds besides its work and a \
         one-unit probe would time that cost. A longer probe shares the server with more \
         requests that arrive or end while it runs, which the connections counted as it goes \
         out do not show, so its rate is noisier. Manager + wlc with each probe, at the \
         default interval, and in brackets over IPVS wlc's:\n\n{table}\n\
         After the step change: {}; {}.\n\n",
        step_line(policy::MANAGER_WLC),
        step_line(policy::MANAGER_WLC_PROBE_20),
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

/// The lowest and highest of `values`.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    })
}

/// The lowest and highest utilization by capacity class, as (capacity, utilization) of each.
fn class_extremes(scenario: &Scenario, utilization: &[f64]) -> ((f64, f64), (f64, f64)) {
    let classes = by_class(scenario, utilization);
    (classes[0], classes[classes.len() - 1])
}

/// What the numbers say, and why.
fn findings_section(evaluation: &Evaluation) -> String {
    let find = |key: &str| evaluation.scenarios.iter().find(|r| r.scenario.key == key);
    let keys = [
        "paper",
        "scaled",
        "s1-unknown-capacities",
        "s2-known-capacities",
        "s3-external-load",
        "s4-fast-failure",
        "s5-step-change",
    ];
    if keys.iter().any(|key| find(key).is_none()) {
        return String::new();
    }
    let get = |key: &str, p: LoadSharing| -> PolicyResults {
        evaluation
            .results(key, p)
            .cloned()
            .expect("every setting runs every policy and variant")
    };
    let p99_ratio =
        |key: &str, a: LoadSharing, b: LoadSharing| get(key, a).p99() / get(key, b).p99();
    let interval = seconds(DEFAULT_INTERVAL.as_secs_f64());
    let mut text = String::from("## What the numbers say, and why\n\n");

    // Manager + wlc against IPVS wlc.
    let vs_wlc = |key: &str| ratio(p99_ratio(key, policy::MANAGER_WLC, policy::IPVS_WLC));
    let unknown = find("s1-unknown-capacities").expect("checked");
    let slow = unknown
        .scenario
        .capacities
        .iter()
        .position(|&c| c < 1.0)
        .unwrap_or(0);
    let failing_wlc = get("s4-fast-failure", policy::IPVS_WLC);
    let _ = write!(
        text,
        "**Manager + wlc against IPVS wlc.** Where the operator's weights are the true \
         capacities and nothing changes (setting 1, setting 2, S2), Manager + wlc's p99 is \
         {}, {} and {} times IPVS wlc's: its weights are the measured capacities, which the \
         median of three rounds keeps within a few percent of the true ones. Where the \
         operator's weights are wrong or become so, it does better, because IPVS wlc gives \
         every server connections in proportion to weights that no longer say what the \
         servers can do: {} times IPVS wlc's p99 in S1, where IPVS wlc, given equal weights, \
         keeps the half-speed server {}% busy against {}% under Manager + wlc; {} in S3, \
         where unseen work takes half the first server's speed; {} in S5, where its speed \
         halves. In S4 its p99 is {} times IPVS wlc's: IPVS wlc fails {} requests on the \
         failing server at once, which leaves the other three at 60% load, while the \
         Manager serves those requests on the three at 80%.\n\n",
        vs_wlc("paper"),
        vs_wlc("scaled"),
        vs_wlc("s2-known-capacities"),
        vs_wlc("s1-unknown-capacities"),
        percent(get("s1-unknown-capacities", policy::IPVS_WLC).utilization()[slow]),
        percent(get("s1-unknown-capacities", policy::MANAGER_WLC).utilization()[slow]),
        vs_wlc("s3-external-load"),
        vs_wlc("s5-step-change"),
        vs_wlc("s4-fast-failure"),
        failing_wlc.errors(),
    );

    // Manager + wrr against IPVS wlc.
    let (wrr_low, wrr_high) = range(
        keys.iter()
            .map(|key| p99_ratio(key, policy::MANAGER_WRR, policy::IPVS_WLC)),
    );
    let scaled = find("scaled").expect("checked");
    let ((small_c, small_u), (large_c, large_u)) = class_extremes(
        &scaled.scenario,
        &get("scaled", policy::MANAGER_WRR).utilization(),
    );
    let _ = write!(
        text,
        "**Manager + wrr against IPVS wlc.** Manager + wrr's p99 is {} to {} times IPVS \
         wlc's over the seven settings. wlc looks at every server's connections at every new \
         connection; the Manager looks every {interval} and sets the proportions in which \
         round robin deals connections out until its next round. With heavy-tailed sizes a \
         server that has just taken a class D request holds a second's worth of work or \
         more: wlc routes around it at once, round robin not within the interval. Even the \
         exact proportions (static WRR with the true capacities) have a p99 {} times wlc's \
         in setting 1 ({} against {}); the Manager's weights, which follow the load, do \
         better than that ({}). They also settle where `weight × (L + e)` is the same on \
         every server, not where load per capacity is: in setting 2 the servers of capacity \
         {} run {}% busy and those of capacity {} {}%.\n\n",
        ratio(wrr_low),
        ratio(wrr_high),
        ratio(p99_ratio("paper", policy::STATIC_WRR, policy::IPVS_WLC)),
        time(get("paper", policy::STATIC_WRR).p99()),
        time(get("paper", policy::IPVS_WLC).p99()),
        time(get("paper", policy::MANAGER_WRR).p99()),
        capacity_text(small_c),
        percent(small_u),
        capacity_text(large_c),
        percent(large_u),
    );

    // Against round robin.
    let rr_unknown = get("s1-unknown-capacities", policy::ROUND_ROBIN);
    let _ = write!(
        text,
        "**Against round robin.** In S1 the Manager's p99 is {} (wrr) and {} (wlc) times \
         round robin's. Round robin gives the half-speed server a quarter of 80% of the \
         cluster's 3.5 units, 112% of what it can do, so its queue grows for the whole run \
         and round robin's tail is set by the length of the run (p99 {}).\n\n",
        ratio(p99_ratio(
            "s1-unknown-capacities",
            policy::MANAGER_WRR,
            policy::ROUND_ROBIN
        )),
        ratio(p99_ratio(
            "s1-unknown-capacities",
            policy::MANAGER_WLC,
            policy::ROUND_ROBIN
        )),
        time(rr_unknown.p99()),
    );

    // The fast-failing server.
    let failing = find("s4-fast-failure").expect("checked");
    let failing_rr = get("s4-fast-failure", policy::ROUND_ROBIN);
    let worst_delay = |p: LoadSharing| {
        get("s4-fast-failure", p)
            .runs
            .iter()
            .map(|run| quiesce_delay(&failing.scenario, run).unwrap_or(f64::INFINITY))
            .fold(0.0, f64::max)
    };
    let wlc_more = failing_wlc.errors() as f64 / failing_rr.errors().max(1) as f64 - 1.0;
    let managed_wrr = get("s4-fast-failure", policy::MANAGER_WRR);
    let managed_wlc = get("s4-fast-failure", policy::MANAGER_WLC);
    let _ = write!(
        text,
        "**The fast-failing server (S4).** IPVS wlc sends it {:.0}% more requests than \
         round robin does while it fails ({} errors against {}): it has no connection in \
         progress, so wlc sees it as the least loaded. It does not draw everything because \
         the Executor keeps each closed connection for its 120 s FIN timeout, counted as \
         inactive, and wlc weighs those too. The Manager's advisor gets status 500 at its \
         next round, which quiesces the server at once: at worst {} after the failure \
         started under Manager + wrr and {} under Manager + wlc, with rounds every \
         {interval}. Until then the server fails what it is given: Manager + wrr fails {} \
         requests in all and Manager + wlc {}, more because wlc, like IPVS wlc, sends the \
         failing server more than its share until the round.\n\n",
        wlc_more * 100.0,
        failing_wlc.errors(),
        failing_rr.errors(),
        time(worst_delay(policy::MANAGER_WRR)),
        time(worst_delay(policy::MANAGER_WLC)),
        managed_wrr.errors(),
        managed_wlc.errors(),
    );

    // The step change.
    let settle = |p: LoadSharing| {
        evaluation
            .step_of(p)
            .map_or(("-".to_string(), 0.0), |step| {
                (
                    settles(step.ensemble_settling.all_settled_after),
                    mean_lag_one(step),
                )
            })
    };
    let (wrr_rounds, wrr_lag) = settle(policy::MANAGER_WRR);
    let (wlc_rounds, wlc_lag) = settle(policy::MANAGER_WLC);
    let (inverse_rounds, inverse_lag) = settle(policy::MANAGER_WLC_INVERSE);
    let _ = write!(
        text,
        "**Step change (S5).** After the change, with the defaults, the mean of Manager + \
         wrr's weight shares {} (lag-one autocorrelation {wrr_lag:.2}) and that of Manager + \
         wlc's {} (lag-one {wlc_lag:.2}): the median needs two rounds of the halved rate, and \
         then the weights are the measured capacities, with nothing to overshoot. With \
         inverse-load weights under wlc the mean {} and the lag-one autocorrelation is \
         {inverse_lag:.2}{}: a weight raised \
         draws a burst of connections at once (wlc brings the server's connections per \
         weight up to the others', 120 s of closed connections included), which the next \
         round reads as load.\n\n",
        wrr_rounds,
        wlc_rounds,
        inverse_rounds,
        if inverse_lag < OSCILLATION {
            ", so the weights flip between high and low"
        } else {
            ""
        },
    );

    // The interval.
    let change = |key: &str, faster: LoadSharing, slower: LoadSharing| {
        (get(key, faster).p99() / get(key, slower).p99() - 1.0) * 100.0
    };
    let spread_of = |faster: LoadSharing, slower: LoadSharing| {
        range(keys.iter().map(|key| change(key, faster, slower)))
    };
    let spread_text = |faster: LoadSharing, slower: LoadSharing| {
        let (low, high) = spread_of(faster, slower);
        (signed(low), signed(high))
    };
    let (wrr1_low, wrr1_high) = spread_text(policy::MANAGER_WRR_1S, policy::MANAGER_WRR_5S);
    let (wrr2_low, wrr2_high) = spread_text(policy::MANAGER_WRR, policy::MANAGER_WRR_5S);
    let (wlc1_low, wlc1_high) = spread_text(policy::MANAGER_WLC_1S, policy::MANAGER_WLC_5S);
    let (wlc2_low, wlc2_high) = spread_text(policy::MANAGER_WLC, policy::MANAGER_WLC_5S);
    // How much of the reduction 1 s brings against 5 s the default keeps, over the settings.
    let gain = |p: LoadSharing| {
        keys.iter()
            .map(|key| get(key, policy::MANAGER_WRR_5S).p99() - get(key, p).p99())
            .sum::<f64>()
    };
    let kept = gain(policy::MANAGER_WRR) / gain(policy::MANAGER_WRR_1S);
    let settles_at = |p: LoadSharing| {
        evaluation.step_of(p).map_or("-".to_string(), |step| {
            step.ensemble_settling
                .all_settled_after
                .map_or("never".to_string(), |n| n.to_string())
        })
    };
    let default_settled = evaluation
        .step_of(policy::MANAGER_WRR)
        .and_then(|step| step.ensemble_settling.all_settled_after)
        .is_some_and(|n| n <= TARGET_SETTLE_ROUNDS);
    let timeout_fits = nd_manager::config::DEFAULT_ADVISOR_TIMEOUT <= DEFAULT_INTERVAL;
    let _ = write!(
        text,
        "**The interval.** Under wrr a shorter interval helps: against 5 s, the p99 changes \
         by {wrr1_low} to {wrr1_high} at 1 s and by {wrr2_low} to \
         {wrr2_high} at 2 s over the seven settings, since round robin's proportions are \
         corrected sooner; the mean of the shares settles after {} rounds at 1 s, {} at 2 s \
         and {} at 5 s, and none oscillates. Under wlc it does not matter much ({wlc1_low} to \
         {wlc1_high} at 1 s, {wlc2_low} to {wlc2_high} at 2 s): the capacities \
         change only when a server does, and wlc follows the connections in between. The \
         default is {interval}: under wrr it keeps {:.0}% of what 1 s takes off the p99 \
         against 5 s (summed over the settings), its weights settle {} {TARGET_SETTLE_ROUNDS} \
         rounds, and the advisors' default timeout of {} {} the interval.\n\n",
        settles_at(policy::MANAGER_WRR_1S),
        settles_at(policy::MANAGER_WRR),
        settles_at(policy::MANAGER_WRR_5S),
        kept * 100.0,
        if default_settled {
            "within"
        } else {
            "later than"
        },
        seconds(nd_manager::config::DEFAULT_ADVISOR_TIMEOUT.as_secs_f64()),
        if timeout_fits { "fits in" } else { "is cut to" },
    );

    // The proportional form.
    let better = keys
        .iter()
        .filter(|key| p99_ratio(key, policy::MANAGER_WRR_PROPORTIONAL, policy::MANAGER_WRR) < 1.0)
        .count();
    let (prop_low, prop_high) = range(keys.iter().map(|key| {
        (p99_ratio(key, policy::MANAGER_WRR_PROPORTIONAL, policy::MANAGER_WRR) - 1.0) * 100.0
    }));
    let (prop_low, prop_high) = (signed(prop_low), signed(prop_high));
    let ((p_small_c, p_small_u), (p_large_c, p_large_u)) = class_extremes(
        &scaled.scenario,
        &get("scaled", policy::MANAGER_WRR_PROPORTIONAL).utilization(),
    );
    let (u_low, u_high) = range(
        get("s1-unknown-capacities", policy::MANAGER_WRR_PROPORTIONAL)
            .utilization()
            .into_iter(),
    );
    let (prop_rounds, prop_lag) = settle(policy::MANAGER_WRR_PROPORTIONAL);
    let _ = write!(
        text,
        "**The proportional form under wrr.** It changes Manager + wrr's p99 by \
         {prop_low} to {prop_high} (lower in {better} of the seven settings), but it \
         is not the Manager's: its weights wander, since each round multiplies the last \
         round's weights by the noise of this round's loads (after the step change the mean \
         of its shares {prop_rounds}, lag-one {prop_lag:.2}), and where the \
         declared capacities differ it does not equalize load per capacity either, but \
         overshoots the other way: the index divides response times and the `load` metric \
         by the capacity as it does connection counts, and a slower server's response time \
         is longer at the same utilization, so equal indexes leave the small servers idle. \
         In setting 2 its servers of capacity {} run {}% busy and those of capacity {} {}%. \
         Only with equal declared capacities does it equalize utilization (S1: {}% to \
         {}%).\n\n",
        capacity_text(p_small_c),
        percent(p_small_u),
        capacity_text(p_large_c),
        percent(p_large_u),
        percent(u_low),
        percent(u_high),
    );

    let best = get("paper", policy::MANAGER_BEST);
    let best_scaled = get("scaled", policy::MANAGER_BEST);
    let _ = write!(
        text,
        "**Manager best** sends every new connection to one server for a whole interval, \
         several times that server's capacity for {interval} at these loads: p99 {} in \
         setting 1 and {} in setting 2.\n\n",
        time(best.p99()),
        time(best_scaled.p99()),
    );
    text
}

fn files_section() -> String {
    format!(
        "## Files\n\n\
         * `{SERIES_DIR}/summary.csv`: every run (setting, policy or variant, seed): \
         requests, errors, mean, median and p99 response times, each server's share and \
         utilization.\n\
         * `{SERIES_DIR}/cdf.csv`: each setting's and policy's response-time distribution, \
         averaged over the seeds, at 5 points a decade.\n\
         * `{SERIES_DIR}/weights-step.csv`: the weights after every round of the step \
         study's first seed from {WEIGHTS_CSV_SECONDS:.0} s before the change to \
         {WEIGHTS_CSV_SECONDS:.0} s after, for the Manager's two schedulers with its \
         defaults.\n\
         * `{SERIES_DIR}/step-mean-shares.csv`: the weight shares round by round from \
         {} rounds before the change to {STEP_MEAN_ROUNDS} after, averaged over the step \
         study's seeds, for every policy of the study.\n",
        crate::study::ROUNDS_BEFORE,
    )
}

/// How far before and after the change `weights-step.csv` goes, in seconds.
const WEIGHTS_CSV_SECONDS: f64 = 300.0;

/// The rounds after the change `step-mean-shares.csv` and the chart go to.
const STEP_MEAN_ROUNDS: usize = 60;

/// How far before and after the change the chart's single runs go, in seconds.
const CHART_WINDOW: f64 = 200.0;

/// Every run, main and variants, as a CSV row.
pub fn summary_csv(evaluation: &Evaluation) -> String {
    let mut csv =
        String::from("setting,policy,seed,requests,errors,mean_s,p50_s,p99_s,shares,utilization\n");
    for results in evaluation.scenarios.iter().chain(&evaluation.variants) {
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

/// The weights after every round of the step study's first seed near the change, for the
/// Manager's defaults.
pub fn weights_csv(evaluation: &Evaluation) -> String {
    let scenario = &evaluation.step_runs.scenario;
    let change = scenario.at(scenario.disturbances[0].from);
    let servers = scenario.capacities.len();
    let mut csv = String::from("policy,seed,time_s");
    for server in 1..=servers {
        let _ = write!(csv, ",weight_{server}");
    }
    csv.push('\n');
    for policy in &evaluation.step_runs.policies {
        if ![policy::MANAGER_WRR.key, policy::MANAGER_WLC.key].contains(&policy.policy.key) {
            continue;
        }
        let run = &policy.runs[0];
        for sample in &run.weights {
            if (sample.time - change).abs() > WEIGHTS_CSV_SECONDS {
                continue;
            }
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
            .take(step.rounds_before + STEP_MEAN_ROUNDS)
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
    let mut panels = Vec::new();
    let shown = [
        policy::MANAGER_WRR,
        policy::MANAGER_WLC,
        policy::MANAGER_WLC_INVERSE,
    ];
    for policy in &evaluation.step_runs.policies {
        if !shown.iter().any(|p| p.key == policy.policy.key) {
            continue;
        }
        let run = &policy.runs[0];
        let near: Vec<_> = run
            .weights
            .iter()
            .filter(|w| (w.time - change).abs() <= CHART_WINDOW)
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
                "{}: weights after each round ({} apart), seed {}",
                policy.policy.name,
                seconds(policy.policy.interval().unwrap_or(0.0)),
                run.seed
            ),
            y_label: "weight".into(),
            curves,
        });
    }
    let server = scenario.disturbances[0].server;
    let curves = evaluation
        .step
        .iter()
        .map(|step: &StepResponse| {
            let interval = step.policy.interval().unwrap_or(1.0);
            Curve {
                label: step.policy.name.to_string(),
                points: step
                    .ensemble
                    .iter()
                    .enumerate()
                    .take(step.rounds_before + STEP_MEAN_ROUNDS)
                    .map(|(index, row)| {
                        let round = index as f64 - step.rounds_before as f64 + 1.0;
                        (round * interval, row[server] * 100.0)
                    })
                    .filter(|&(t, _)| t.abs() <= CHART_WINDOW)
                    .collect(),
            }
        })
        .collect();
    panels.push(Panel {
        caption: format!(
            "server {}'s share of the weights (%), mean of {} runs, at each round",
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
