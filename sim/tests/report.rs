//! The report and its files, from a small evaluation.

use std::fs;
use std::path::PathBuf;

use nd_sim::chart;
use nd_sim::evaluation::{hurst_check, Evaluation, Plan, STEP_POLICIES};
use nd_sim::policy;
use nd_sim::report;
use nd_sim::scenario::{self, Scale};
use nd_sim::study::{step_response, study};

fn small_evaluation() -> Evaluation {
    let mut unknown = scenario::unknown_capacities(Scale::Quick);
    unknown.measured = 300.0;
    let mut step = scenario::step_change(Scale::Quick);
    step.measured = 400.0;
    let plan = Plan {
        scale: Scale::Quick,
        seeds: vec![1],
        step_seeds: vec![1, 2],
    };
    let policies = [
        policy::ROUND_ROBIN,
        policy::IPVS_WLC,
        policy::MANAGER_WRR,
        policy::MANAGER_WLC,
    ];
    let step_runs = study(&step, &STEP_POLICIES[..2], &plan.step_seeds);
    Evaluation {
        scenarios: vec![study(&unknown, &policies, &plan.seeds)],
        variants: vec![study(&unknown, &[policy::MANAGER_WRR_5S], &plan.seeds)],
        step: step_runs
            .policies
            .iter()
            .map(|results| step_response(&step, results))
            .collect(),
        step_runs,
        hurst: hurst_check(nd_sim::arrivals::ArrivalPattern::Poisson, 50.0, 2000.0, 1),
        plan,
        elapsed: 0.0,
    }
}

#[test]
fn the_report_has_a_table_per_setting_the_targets_and_the_step_study() {
    let evaluation = small_evaluation();
    let text = report::markdown(&evaluation, "nd-sim --quick");
    assert!(text.contains("Produced by `nd-sim --quick`"));
    assert!(text.contains("### S1: unknown capacities"));
    for name in ["round robin", "IPVS wlc", "Manager + wrr", "Manager + wlc"] {
        assert!(text.contains(&format!("| {name} | ")), "{name}");
    }
    // The configuration shown is the one the Manager runs under wlc.
    assert!(text.contains("scheduler = \"wlc\""));
    // Round robin overloads the half-speed server; the Manager, under either scheduler,
    // keeps it below saturation, and wlc with measured capacities beats wlc with equal
    // weights.
    let targets = report::targets(&evaluation);
    let measures: Vec<&str> = targets.iter().map(|t| t.measure.as_str()).collect();
    assert_eq!(targets.len(), 2 + 2 + 4, "{measures:?}");
    assert!(targets
        .iter()
        .all(|t| t.setting == "S1" || t.setting == "S5"));
    let versus_rr: Vec<_> = targets
        .iter()
        .filter(|t| t.measure.contains("round robin"))
        .collect();
    assert!(
        versus_rr.len() == 2 && versus_rr.iter().all(|t| t.met),
        "{versus_rr:?}"
    );
    assert!(
        targets
            .iter()
            .filter(|t| t.measure.starts_with("Manager + wlc's"))
            .all(|t| t.met),
        "{targets:?}"
    );
    assert!(text.contains("| S1 | Manager + wrr's p99 / round robin's | ≤ 0.05 |"));
    assert!(text.contains("## Weights after a step change"));
    assert!(text.contains("## The interval"));
    let summary = report::summary_csv(&evaluation);
    assert_eq!(summary.lines().count(), 1 + 4 + 1);
    assert!(summary.starts_with("setting,policy,seed,"));
    let weights = report::weights_csv(&evaluation);
    assert!(weights
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("manager-wrr,1,"));
}

#[test]
fn the_report_files_and_charts_are_written() {
    chart::load_font().expect("the chart font is installed");
    let evaluation = small_evaluation();
    let dir: PathBuf = std::env::temp_dir().join(format!("nd-sim-report-{}", std::process::id()));
    let written = report::write(&evaluation, &dir, "nd-sim").unwrap();
    let pngs: Vec<&PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(pngs.len(), 2, "{written:?}");
    for png in pngs {
        let bytes = fs::read(png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
            "{png:?}"
        );
    }
    assert!(dir.join(report::REPORT_FILE).exists());
    fs::remove_dir_all(&dir).unwrap();
}
