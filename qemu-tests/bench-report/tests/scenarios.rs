//! The evaluation report renders fabricated results of every scenario: a section each with
//! its table and charts, the weights of the step, and the targets judged on the figures.

mod common;

use ndtest::bench::histogram::Histogram;
use ndtest::bench::ps_schedule::Window;
use ndtest::bench::report::WorkloadReport;
use ndtest::evaluation::policy::Policy;
use ndtest::evaluation::results::{
    EvalResults, Evaluation, PolicyRun, ServerSpec, ServerWindow, WeightSample,
};
use ndtest::evaluation::scenario::Scenario;

/// What a fabricated run looks like.
struct Shape {
    /// Its requests took `base_ms` times 1 to 100.
    base_ms: u64,
    failed: u64,
    weights: Vec<WeightSample>,
}

fn shape(base_ms: u64, failed: u64) -> Shape {
    Shape {
        base_ms,
        failed,
        weights: Vec::new(),
    }
}

/// Weights read once a second from 0 to 59 s: `before` until `at` seconds, `after` from then.
fn weights(before: [u64; 3], at: f64, after: [u64; 3]) -> Vec<WeightSample> {
    (0..60)
        .map(|t| WeightSample {
            seconds: f64::from(t),
            weights: if f64::from(t) < at { before } else { after }.to_vec(),
        })
        .collect()
}

fn run(policy: Policy, shape: Shape, disturbance: Option<Window>) -> PolicyRun {
    let mut histogram = Histogram::new();
    for i in 1..=100u64 {
        histogram.record(shape.base_ms * i * 1_000_000);
    }
    PolicyRun {
        policy,
        round: 1,
        workload: WorkloadReport {
            completed: 100,
            failed: shape.failed,
            errors: if shape.failed > 0 {
                [("response_not_200".to_owned(), shape.failed)].into()
            } else {
                Default::default()
            },
            response_us: histogram.summary_us(),
            per_server: [
                ("srv1".to_owned(), 40),
                ("srv2".to_owned(), 40),
                ("srv3".to_owned(), 20),
            ]
            .into(),
            response_buckets: histogram.buckets(),
            ..WorkloadReport::default()
        },
        servers: [0.7, 0.7, 0.6]
            .map(|utilization| ServerWindow {
                utilization,
                ..ServerWindow::default()
            })
            .into(),
        weights: shape.weights,
        disturbance,
    }
}

/// `scenario` with one run of each of its policies, shaped by `shape_of`.
fn scenario(scenario: Scenario, shape_of: impl Fn(Policy) -> Shape) -> EvalResults {
    let policies = scenario.policies();
    let disturbance = scenario.disturbance().map(|d| Window {
        from: 15.0 + d.from * 45.0,
        until: d.until.map(|u| 15.0 + u * 45.0),
    });
    EvalResults {
        scenario,
        setup: [(
            "load".to_owned(),
            format!("{:.0}%", scenario.load() * 100.0),
        )]
        .into(),
        servers: ["srv1", "srv2", "srv3"]
            .into_iter()
            .zip(scenario.capacities())
            .map(|(name, capacity)| ServerSpec {
                name: name.into(),
                address: "10.0.0.11".into(),
                capacity,
            })
            .collect(),
        runs: policies
            .iter()
            .map(|&policy| run(policy, shape_of(policy), disturbance))
            .collect(),
        policies,
        warmup_seconds: 15,
        seconds: 45,
        timeout_ms: 20_000,
        manager_interval_ms: 2000,
        notes: Vec::new(),
    }
}

fn evaluation() -> Evaluation {
    let s1 = |policy| match policy {
        // A tenth of round robin's requests fail: its p99 is above the timeout.
        Policy::RoundRobin => shape(10, 12),
        Policy::IpvsWlc => shape(2, 0),
        Policy::ManagerWlc => shape(2, 0),
        _ => shape(3, 0),
    };
    let s2 = |policy| match policy {
        Policy::IpvsWlc => shape(2, 0),
        // Twice IPVS's times: the target is missed.
        Policy::ManagerWlc => shape(4, 0),
        _ => shape(3, 0),
    };
    let s3 = |policy| match policy {
        Policy::IpvsWlc => shape(4, 0),
        Policy::ManagerWlc => shape(2, 0),
        _ => shape(3, 0),
    };
    let s4 = |policy| match policy {
        Policy::IpvsWlc => shape(1, 50),
        // Quiesced at the second reading into the failure (at 30 s), late for the other.
        Policy::ManagerWeighted => Shape {
            weights: weights([100; 3], 31.5, [100, 100, 0]),
            ..shape(1, 2)
        },
        Policy::ManagerWlc => Shape {
            weights: weights([100; 3], 36.0, [100, 100, 0]),
            ..shape(1, 10)
        },
        _ => shape(1, 30),
    };
    let s5 = |policy| match policy {
        Policy::ManagerWeighted | Policy::ManagerWlc => Shape {
            // The step at 37.5 s; the shares move at the next reading and stay.
            weights: weights([100, 100, 50], 38.0, [50, 100, 50]),
            ..shape(2, 0)
        },
        _ => shape(2, 0),
    };
    Evaluation {
        scenarios: vec![
            scenario(Scenario::Paper, |_| shape(2, 0)),
            scenario(Scenario::UnknownCapacities, s1),
            scenario(Scenario::KnownCapacities, s2),
            scenario(Scenario::ExternalLoad, s3),
            scenario(Scenario::FastFailure, s4),
            scenario(Scenario::StepChange, s5),
        ],
    }
}

/// The targets table's row for `measure` in `setting`: its goal, value and verdict.
fn target<'a>(doc: &'a str, setting: &str, measure: &str) -> &'a str {
    let start = format!("| {setting} | {measure} | ");
    let line = doc
        .lines()
        .find(|line| line.starts_with(&start))
        .unwrap_or_else(|| panic!("no target {setting} {measure}:\n{doc}"));
    &line[start.len()..]
}

#[test]
fn every_scenario_has_its_section_and_charts() {
    let dir = common::scratch("nd-eval-scenarios", "sections");
    let output = common::render(&dir, &serde_json::to_string(&evaluation()).unwrap());
    assert!(output.status.success(), "{output:?}");
    let doc = std::fs::read_to_string(dir.join("evaluation-vm.md")).unwrap();
    let mut at = 0;
    for scenario in Scenario::ALL {
        let heading = format!("## {}\n", scenario.title());
        let found = doc[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading} missing or out of order"));
        at += found + heading.len();
        let cdf = match scenario {
            Scenario::Paper => "evaluation-vm-cdf.png".to_owned(),
            _ => format!("evaluation-vm-{}-cdf.png", scenario.key()),
        };
        assert!(doc.contains(&format!("({cdf})")), "{cdf}");
        assert!(common::is_png(&dir.join(&cdf)), "{cdf}");
    }
    assert!(doc.find("## Targets").unwrap() < doc.find("## S1: unknown capacities").unwrap());
    let step = "evaluation-vm-s5-step-change-weights.png";
    assert!(doc.contains(&format!("![S5 weights]({step})")), "{doc}");
    assert!(common::is_png(&dir.join(step)));
    assert!(doc.contains("| Manager + wlc | 1 | 100 | 0 |"), "{doc}");
    assert!(
        doc.contains("- Manager + wlc: response_not_200 10"),
        "{doc}"
    );
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(console.contains("S4: a fast-failing server"), "{console}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_targets_are_judged_on_the_figures() {
    let dir = common::scratch("nd-eval-scenarios", "targets");
    assert!(
        common::render(&dir, &serde_json::to_string(&evaluation()).unwrap())
            .status
            .success()
    );
    let doc = std::fs::read_to_string(dir.join("evaluation-vm.md")).unwrap();
    // Equal times: the ratio is 1, within 10% but not better.
    assert_eq!(
        target(&doc, "S1", "Manager + wlc's mean / IPVS wlc's"),
        "≤ 1.10 | 1.00 | yes |"
    );
    assert_eq!(
        target(&doc, "S2", "Manager + wlc's p99 / IPVS wlc's"),
        "≤ 1.10 | 2.00 | no |"
    );
    assert_eq!(
        target(&doc, "S3", "Manager + wlc's mean / IPVS wlc's"),
        "< 1 (better) | 0.50 | yes |"
    );
    // Round robin's p99 is above the 20 s timeout; the Manager's is about 0.3 s or 0.2 s.
    let wrr = target(&doc, "S1", "Manager + wrr's p99 / round robin's");
    assert!(
        wrr.starts_with("≤ 0.05 | < 0.01") && wrr.ends_with("| yes |"),
        "{wrr}"
    );
    assert_eq!(
        target(
            &doc,
            "S4",
            "Manager + wrr's failed requests / IPVS wlc's (2 / 50)"
        ),
        "≤ 0.1 | 0.04 | yes |"
    );
    assert_eq!(
        target(
            &doc,
            "S4",
            "Manager + wlc's failed requests / IPVS wlc's (10 / 50)"
        ),
        "≤ 0.1 | 0.20 | no |"
    );
    assert_eq!(
        target(
            &doc,
            "S4",
            "Manager + wrr: intervals from the failure to weight 0, worst round"
        ),
        "≤ 2 | 1.00 (2.0 s) | yes |"
    );
    assert_eq!(
        target(
            &doc,
            "S4",
            "Manager + wlc: intervals from the failure to weight 0, worst round"
        ),
        "≤ 2 | 3.00 (6.0 s) | no |"
    );
    assert_eq!(
        target(
            &doc,
            "S5",
            "Manager + wlc: intervals until every weight share settles, worst round (the \
             changed share's noise before the step: 0%)"
        ),
        "≤ 3 | 1 | yes |"
    );
    let lag = target(
        &doc,
        "S5",
        "Manager + wrr: lag-one autocorrelation of the shares after the step, lowest round",
    );
    assert!(lag.ends_with("| yes |"), "{lag}");
    let _ = std::fs::remove_dir_all(&dir);
}
