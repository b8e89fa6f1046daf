//! The evaluation report renders a fabricated results file of one setting, as evaluations
//! before scenarios wrote them, into a document and two charts.

mod common;

use std::process::Command;

use ndtest::bench::histogram::Histogram;
use ndtest::bench::report::WorkloadReport;
use ndtest::evaluation::policy::Policy;
use ndtest::evaluation::results::{EvalResults, PolicyRun, ServerSpec, ServerWindow, WeightSample};

/// A run of `policy` whose requests took `base_ms` times 1 to 100, with `failed` failures.
fn run(policy: Policy, round: u32, base_ms: u64, failed: u64) -> PolicyRun {
    let mut histogram = Histogram::new();
    for i in 1..=100u64 {
        histogram.record(base_ms * i * 1_000_000);
    }
    let weights = if policy.manager_policy().is_some() {
        (0..30u32)
            .map(|t| WeightSample {
                seconds: f64::from(t),
                weights: vec![100, 100 - u64::from(t), 50 + u64::from(t)],
            })
            .collect()
    } else {
        Vec::new()
    };
    PolicyRun {
        policy,
        round,
        workload: WorkloadReport {
            completed: 100,
            failed,
            errors: if failed > 0 {
                [("response_timeout".to_owned(), failed)].into()
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
        servers: [0.8, 0.85, 0.9]
            .map(|utilization| ServerWindow {
                utilization,
                ..ServerWindow::default()
            })
            .into(),
        weights,
        disturbance: None,
    }
}

fn results(policies: &[Policy]) -> EvalResults {
    let mut runs = Vec::new();
    for round in 1..=2 {
        for (index, &policy) in policies.iter().enumerate() {
            let failed = u64::from(policy == Policy::RoundRobin) * 5;
            runs.push(run(policy, round, 1 + index as u64, failed));
        }
    }
    EvalResults {
        setup: [("load".to_owned(), "90% of the total capacity".to_owned())].into(),
        servers: [("srv1", 1000.0), ("srv2", 1000.0), ("srv3", 500.0)]
            .map(|(name, capacity)| ServerSpec {
                name: name.into(),
                address: "10.0.0.11".into(),
                capacity,
            })
            .into(),
        policies: policies.to_vec(),
        warmup_seconds: 10,
        seconds: 60,
        timeout_ms: 30_000,
        runs,
        notes: vec!["round 2, Manager best: a remark".into()],
        ..EvalResults::default()
    }
}

#[test]
fn renders_the_table_both_charts_and_keeps_the_analysis() {
    let dir = common::scratch("nd-eval-report", "all");
    let output = common::render(
        &dir,
        &serde_json::to_string(&results(&Policy::PAPER)).unwrap(),
    );
    assert!(output.status.success(), "{output:?}");
    let doc = std::fs::read_to_string(dir.join("evaluation-vm.md")).unwrap();
    // Round robin: 200 completed of 210; its p99 (rank 208) is among the failures.
    assert!(
        doc.contains("| round robin | 2 | 200 | 10 | 50.5 ms | "),
        "{doc}"
    );
    assert!(
        doc.contains("| > 30 s | > 30 s, > 30 s | 100 ms |"),
        "{doc}"
    );
    assert!(
        doc.contains("| 80.0 / 85.0 / 90.0 | 40.0 / 40.0 / 20.0 |"),
        "{doc}"
    );
    assert!(doc.contains("| IPVS wlc | IPVS in direct-routing mode, `ipvsadm -s wlc`"));
    assert!(doc.contains("- round robin: response_timeout 10"), "{doc}");
    assert!(doc.contains("- round 2, Manager best: a remark"));
    assert!(doc.contains("![paper weights](evaluation-vm-weights.png)"));
    assert!(doc.contains("| srv3 | 10.0.0.11 | 500 |"));
    assert!(common::is_png(&dir.join("evaluation-vm-cdf.png")));
    assert!(common::is_png(&dir.join("evaluation-vm-weights.png")));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("Manager best"), "{table}");

    // The maintainers' analysis survives a second rendering.
    let written = doc.replace("(No analysis yet.)", "Dynamic feedback wins.");
    std::fs::write(dir.join("evaluation-vm.md"), written).unwrap();
    assert!(common::render(
        &dir,
        &serde_json::to_string(&results(&Policy::PAPER)).unwrap()
    )
    .status
    .success());
    let again = std::fs::read_to_string(dir.join("evaluation-vm.md")).unwrap();
    assert!(again.contains("Dynamic feedback wins."));
    assert!(!again.contains("(No analysis yet.)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_the_manager_there_is_no_weights_chart() {
    let dir = common::scratch("nd-eval-report", "static");
    std::fs::write(dir.join("evaluation-vm-weights.png"), "stale").unwrap();
    let output = common::render(
        &dir,
        &serde_json::to_string(&results(&[Policy::RoundRobin, Policy::IpvsWlc])).unwrap(),
    );
    assert!(output.status.success(), "{output:?}");
    let doc = std::fs::read_to_string(dir.join("evaluation-vm.md")).unwrap();
    assert!(doc.contains("No run of a Manager policy"), "{doc}");
    assert!(
        !dir.join("evaluation-vm-weights.png").exists(),
        "the stale chart is gone"
    );
    assert!(common::is_png(&dir.join("evaluation-vm-cdf.png")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_what_is_not_evaluation_results() {
    let dir = common::scratch("nd-eval-report", "refuse");
    let input = dir.join("results.json");
    for text in ["not json", "{\"runs\": 3}"] {
        std::fs::write(&input, text).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_nd-evaluation-report"))
            .arg("--results")
            .arg(&input)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("not evaluation results"));
    }
    let empty = EvalResults::default();
    let output = common::render(&dir, &serde_json::to_string(&empty).unwrap());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no run"));
    let _ = std::fs::remove_dir_all(&dir);
}
