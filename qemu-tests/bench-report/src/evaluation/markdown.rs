//! `docs/evaluation-vm.md`: how the evaluation was made, the Manager's targets as measured,
//! then for each scenario its setup, each policy's response times, utilizations and shares,
//! the charts, and the run's remarks; with the analysis kept from the previous file
//! ([`crate::analysis`]).

use std::fmt::Write as _;

use ndtest::evaluation::results::{format_millis, percents, EvalResults, Evaluation, Millis};

use super::targets::targets;
use crate::analysis;

/// The charts of one scenario, by file name beside the document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Charts {
    pub cdf: String,
    /// None when no run had changing weights.
    pub weights: Option<String>,
}

const METHOD: &str = "\
How the Executor, IPVS and the Manager share load among servers of unequal capacity, measured \
in the test VM with the real kernel module, the real `nd-manager` and `nd-agent`, real TCP \
connections and direct routing: the setting of the Network Dispatcher paper (Goldszmidt and \
Hunt, 1998) in small, then the five scenarios of the simulation of \
`docs/evaluation-simulation.md` (S1 to S5) on the VM's three servers: unknown capacities, known \
capacities with heavy-tailed sizes, external load, a fast-failing server and a step change, \
each comparing round robin, static WRR, IPVS `wlc`, the Manager over the Executor's `wrr` and \
the Manager over the Executor's `wlc`.

Produced by `make evaluate` (`qemu-tests/run-evaluation.sh`): the test kernel without its \
debug options and the module built for it, one VM under emulation (TCG, two CPUs), the \
suite's topology (a client, a balancer namespace, three servers on one bridge), then \
`nd-evaluation-report` on the host. `make evaluate-quick` runs a short version.

## How capacity is emulated

All the servers share the VM's two emulated CPUs, so no server can be made faster than \
another by doing real work. Each server runs `ndtest ps-serve`, an HTTP/1.0 server that \
answers a request `GET /work/N` when a processor-sharing server of its capacity would have \
finished it: every request in progress gets an equal share of the capacity, the next \
completion is computed exactly (the simulator's own queue, `nd-load-model`) and a timer wakes \
the server then. The Manager's HTTP advisor asks for `GET /work/20`, a request near the mean \
size that waits in the queue like the others, so its timing shows the load, as in the paper; \
a probe of one unit would take about as long as the emulated machine's own cost of a request \
(a few milliseconds) and the `capacity` policy would measure that cost instead. Every \
second a server's load (the mean number of requests in progress over the last second) is in \
a file that the server's `nd-agent` reads with `cat` as the `load` host metric. A client that \
gives up (a timeout) resets its connection and its request leaves the queue.

A scenario's disturbance is on the disturbed server's schedule, whose clock starts with the \
workload: its speed multiplied by a factor from an instant on (`--capacity-schedule`), work \
the balancer does not see taking a share of its speed for a window (`--external-load`, which \
its load file counts as one more task, as a CPU hog shows in a host's load average), or every \
request answered at once with HTTP 500 for a window (`--fail-with 500 --fail-during`).

The clients are `ndtest workload`: open-loop Poisson arrivals, each request on a connection of \
its own asking for a size drawn from the A/B/C/D classes (1, 10, 100 and 1000 work units, each \
0.5 to 1.5 times, for 60, 30, 9 and 1% of the requests; mean 22.6 units), timed from its \
arrival to the end of its response. Requests that arrive during the warm-up are sent but not \
measured. Within a round every policy gets the same requests (same seed); the order of the \
policies rotates from round to round, and each run gets a fresh balancer namespace and fresh \
servers.

Response times are over all requests that arrived in the measured window: a request that \
failed (timed out) counts as slower than every completed one, and a percentile that falls \
among the failed ones is shown as above the timeout. The mean is that of the completed \
requests. Utilization is the share of the measured window a server had a request in \
progress; the share is that of the completed requests each server answered. Under emulation \
the absolute times stretch with the emulated machine's hiccups; compare the policies with \
each other.";

/// A response time cell.
fn time(value: Millis, timeout_ms: f64) -> String {
    format_millis(value, timeout_ms)
}

pub use nd_sim::report::target_table;

/// The whole document; `charts` go with the scenarios of `evaluation` in order.
pub fn document(evaluation: &Evaluation, charts: &[Charts], analysis: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Load sharing in the VM\n\n{METHOD}\n");
    let targets = targets(evaluation);
    if !targets.is_empty() {
        let _ = writeln!(
            out,
            "## Targets\n\nThe simulation's targets, judged on what was measured here: Manager \
             + wlc within 10% of IPVS wlc on the mean and the 99th percentile in S1 and S2 and \
             better in S3; the Manager's p99 at most 0.05 times round robin's in S1; in S4 at \
             most a tenth of IPVS wlc's failed requests and the failing server at weight 0 \
             within 2 intervals; in S5 every weight share within 10% of its final value within \
             3 intervals of the step, without oscillating (judged on one reading of the weights \
             per interval, as the simulation judges its rounds; a single run cannot settle \
             within a band narrower than its own noise, which is shown beside it). A p99 above \
             the timeout is only bounded, and so is a ratio with one.\n\n{}",
            target_table(&targets)
        );
    }
    let empty = Charts::default();
    for (index, results) in evaluation.scenarios.iter().enumerate() {
        scenario_section(&mut out, results, charts.get(index).unwrap_or(&empty));
    }
    let _ = writeln!(out, "## What the figures say\n");
    let _ = writeln!(out, "{}", analysis.unwrap_or(analysis::PLACEHOLDER));
    out
}

/// One scenario's section.
fn scenario_section(out: &mut String, results: &EvalResults, charts: &Charts) {
    let timeout = results.timeout_ms as f64;
    let scenario = results.scenario;
    let _ = writeln!(
        out,
        "## {}\n\n{}\n\n### Setup\n\n| setting | value |\n| --- | --- |",
        scenario.title(),
        scenario.description()
    );
    for (key, value) in &results.setup {
        let _ = writeln!(out, "| {key} | {value} |");
    }
    let _ = writeln!(
        out,
        "\n| server | address | capacity (units/s) |\n| --- | --- | ---: |"
    );
    for server in &results.servers {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            server.name, server.address, server.capacity
        );
    }
    let _ = writeln!(out, "\n| policy | configuration |\n| --- | --- |");
    for policy in &results.policies {
        let _ = writeln!(out, "| {} | {} |", policy.name(), policy.description());
    }
    let names: Vec<&str> = results.servers.iter().map(|s| s.name.as_str()).collect();
    let _ = writeln!(
        out,
        "\n### Results\n\n| policy | rounds | completed | failed | mean | p50 | p90 | p99 | p99 by \
         round | slowest | utilization {} (%) | share {} (%) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |",
        names.join(" / "),
        names.join(" / ")
    );
    for row in results.summary() {
        let by_round: Vec<String> = row
            .p99_by_round_ms
            .iter()
            .map(|p| time(*p, timeout))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.policy.name(),
            row.rounds,
            row.completed,
            row.failed,
            time(row.mean_ms, timeout),
            time(row.p50_ms, timeout),
            time(row.p90_ms, timeout),
            time(row.p99_ms, timeout),
            by_round.join(", "),
            time(row.max_ms, timeout),
            percents(&row.utilization),
            percents(&row.share),
        );
    }
    let _ = writeln!(
        out,
        "\nThe distributions, over all rounds (the CDF on a log time axis, and the fraction of \
         requests slower than each time on log-log axes, where the 99th percentile is the \
         crossing of 0.01; a curve that ends below 1 lost requests):\n\n![{} response times]({})\n",
        scenario.short(),
        charts.cdf
    );
    match &charts.weights {
        Some(chart) => {
            let _ = writeln!(
                out,
                "The weights the Manager gave the servers, read once a second in the first round \
                 of each Manager policy:\n\n![{} weights]({chart})\n",
                scenario.short()
            );
        }
        None => {
            let _ = writeln!(out, "No run of a Manager policy, so no weights to show.\n");
        }
    }
    let failures: Vec<String> = results
        .summary()
        .iter()
        .filter(|row| !row.errors.is_empty())
        .map(|row| {
            let kinds: Vec<String> = row
                .errors
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            format!("{}: {}", row.policy.name(), kinds.join(", "))
        })
        .collect();
    if !results.notes.is_empty() || !failures.is_empty() {
        let _ = writeln!(out, "### Remarks of the run\n");
        for note in failures.iter().chain(&results.notes) {
            let _ = writeln!(out, "- {note}");
        }
        let _ = writeln!(out);
    }
}
