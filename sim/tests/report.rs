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
    let mut paper = scenario::paper(Scale::Quick);
    paper.measured = 300.0;
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
    let step_runs = study(&step, &STEP_POLICIES, &plan.step_seeds);
    Evaluation {
        scenarios: vec![study(&paper, &policies, &plan.seeds)],
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
    assert!(text.contains("### Setting 1: the paper's cluster at 90% load"));
    for name in ["round robin", "IPVS wlc", "Manager + wrr", "Manager + wlc"] {
        assert!(text.contains(&format!("| {name} | ")), "{name}");
    }
    // Round robin overloads the half-speed server, so the Manager meets the first target.
    let checks = report::target_checks(&evaluation);
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|check| check.meets().0), "{checks:?}");
    assert!(text.contains("| Setting 1: the paper's cluster at 90% load | Manager + wrr |"));
    assert!(text.contains("## Weights after a step change"));
    let summary = report::summary_csv(&evaluation);
    assert_eq!(summary.lines().count(), 1 + 4);
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
