//! The evaluation's charts: the response-time distribution of every policy, and the weights
//! the Manager gave the servers over time.

use std::path::Path;

use nd_charts::{response_times, weights_over_time, ChartResult, Curve, Panel};
use ndtest::evaluation::results::{Distribution, EvalResults};
use ndtest::evaluation::scenario::Scenario;

/// The file of `scenario`'s chart `chart` (`cdf` or `weights`); the paper's setting keeps the
/// names it had before there were scenarios.
pub fn file_name(scenario: Scenario, chart: &str) -> String {
    match scenario {
        Scenario::Paper => format!("evaluation-vm-{chart}.png"),
        _ => format!("evaluation-vm-{}-{chart}.png", scenario.key()),
    }
}

/// A short description of the cluster and its load, for titles.
fn cluster(results: &EvalResults) -> String {
    let capacities: Vec<String> = results
        .servers
        .iter()
        .map(|s| format!("{}", s.capacity))
        .collect();
    let load = results.setup.get("load").map_or("", String::as_str);
    format!(
        "{} servers of {} units/s, load {}",
        results.servers.len(),
        capacities.join(", "),
        load.split_whitespace().next().unwrap_or("?")
    )
}

/// Each policy's response times over all its rounds, failures counted as never done.
pub fn cdf(path: &Path, results: &EvalResults) -> ChartResult<()> {
    let curves: Vec<Curve> = results
        .summary()
        .iter()
        .map(|row| Curve {
            label: row.policy.name().to_owned(),
            points: Distribution::of(results.runs_of(row.policy)).cdf_seconds(),
        })
        .filter(|curve| !curve.points.is_empty())
        .collect();
    if curves.is_empty() {
        return Err("no policy completed a request".into());
    }
    response_times(
        path,
        &format!(
            "{}: response times in the VM ({})",
            results.scenario.title(),
            cluster(results)
        ),
        &curves,
    )
}

/// Where the weights chart draws its line: at the disturbance's start where there is one,
/// at the end of the warm-up otherwise; and what the line means.
fn mark(results: &EvalResults) -> (f64, &'static str) {
    let disturbed = results.runs.iter().find_map(|run| run.disturbance);
    match disturbed {
        Some(window) => (window.from, "the line marks the disturbance's start"),
        None => (
            results.warmup_seconds as f64,
            "the line marks the end of the warm-up",
        ),
    }
}

/// The Manager's weights in the first round of each Manager policy; `false` (and nothing
/// drawn) when no run has weights.
pub fn weights(path: &Path, results: &EvalResults) -> ChartResult<bool> {
    let mut panels = Vec::new();
    for policy in &results.policies {
        let Some(run) = results.runs_of(*policy).find(|run| !run.weights.is_empty()) else {
            continue;
        };
        let curves = results
            .servers
            .iter()
            .enumerate()
            .map(|(index, server)| Curve {
                label: format!("{} ({} units/s)", server.name, server.capacity),
                points: run
                    .weights
                    .iter()
                    .filter_map(|w| Some((w.seconds, *w.weights.get(index)? as f64)))
                    .collect(),
            })
            .collect();
        panels.push(Panel {
            caption: format!(
                "{}, round {}: weights once a second",
                policy.name(),
                run.round
            ),
            y_label: "weight".into(),
            curves,
        });
    }
    if panels.is_empty() {
        return Ok(false);
    }
    let (at, meaning) = mark(results);
    weights_over_time(
        path,
        &format!(
            "{}: the Manager's weights ({}); {meaning}",
            results.scenario.title(),
            cluster(results)
        ),
        "seconds since the first request",
        at,
        &panels,
    )?;
    Ok(true)
}
