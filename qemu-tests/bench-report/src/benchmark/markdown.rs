//! `docs/benchmarks.md`: how the run was made, the medians and ratios of every figure, the
//! verdict on each goal, and the run's remarks, with the analysis kept from the previous file
//! ([`crate::analysis`]).

use std::fmt::Write as _;

use ndtest::benchmark::results::{format_value, BenchResults, PathKind};

use super::targets::Verdict;
use crate::analysis;

fn cell(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), format_value)
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |r| format!("{r:.2}"))
}

/// The whole document.
pub fn document(
    results: &BenchResults,
    verdicts: &[Verdict],
    chart: &str,
    analysis: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Forwarding benchmark: nd, IPVS and no balancer\n");
    let _ = writeln!(
        out,
        "Produced by `make bench`: the test kernel without its debug options, one VM under \
         emulation (TCG), the suite's topology (a client, a balancer, three servers on one \
         bridge). Every round measures the three paths in turn, the order rotating from round to \
         round; each balancer run gets a fresh network namespace. The figures are medians over \
         the rounds. Under emulation absolute speeds mean little; the ratios between paths \
         measured in the same run are what to read. Ratios are oriented so that above 1 means nd \
         does better (for latency and memory, IPVS's figure over nd's).\n"
    );
    let _ = writeln!(out, "| setting | value |\n| --- | --- |");
    for (key, value) in &results.setup {
        let _ = writeln!(out, "| {key} | {value} |");
    }
    let _ = writeln!(
        out,
        "\n## Results\n\n| figure | unit | nd | IPVS | none | nd/IPVS | nd/none |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in results.summary() {
        let median = |path| row.medians.get(&path).copied();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.figure.label,
            row.figure.unit,
            cell(median(PathKind::Ours)),
            cell(median(PathKind::Ipvs)),
            cell(median(PathKind::Direct)),
            ratio(row.vs_ipvs),
            ratio(row.vs_direct),
        );
    }
    let _ = writeln!(out, "\n![ratios]({chart})\n");
    let _ = writeln!(
        out,
        "## Goals\n\n| goal | measured | met |\n| --- | ---: | --- |"
    );
    for verdict in verdicts {
        let met = match verdict.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not measured",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {met} |",
            verdict.goal,
            verdict.measured.as_deref().unwrap_or("–")
        );
    }
    if !results.notes.is_empty() {
        let _ = writeln!(out, "\n## Remarks of the run\n");
        for note in &results.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    let _ = writeln!(out, "\n## What the figures say\n");
    let _ = writeln!(out, "{}", analysis.unwrap_or(analysis::PLACEHOLDER));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndtest::benchmark::results::Better;

    #[test]
    fn keeps_the_written_analysis_and_fills_the_tables() {
        let previous = "old tables\n<!-- analysis -->\nWhy nd is faster.\n<!-- /analysis -->\n";
        let analysis = analysis::kept(previous);
        let mut r = BenchResults::default();
        r.figure("conn_rate", "new connections", "1/s", Better::Higher);
        r.record("conn_rate", PathKind::Ours, 1200.0);
        r.record("conn_rate", PathKind::Ipvs, 1000.0);
        let doc = document(&r, &[], "benchmarks.png", analysis);
        assert!(doc.contains("| new connections | 1/s | 1200 | 1000 | – | 1.20 | – |"));
        assert!(doc.contains("Why nd is faster."));
    }
}
