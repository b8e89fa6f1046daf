//! The report renders a results file into a document and a chart.

use std::path::PathBuf;
use std::process::Command;

use ndtest::benchmark::results::{BenchResults, Better, PathKind};

fn results() -> BenchResults {
    let mut r = BenchResults::default();
    r.setup.insert("rounds".into(), "3".into());
    for flows in [1000, 1_000_000] {
        let key = format!("forward_pps@{flows}");
        r.figure(
            &key,
            &format!("forwarded packets, {flows} flows"),
            "1/s",
            Better::Higher,
        );
        for (path, value) in [(PathKind::Ours, 50_000.0), (PathKind::Ipvs, 40_000.0)] {
            for round in 0..3 {
                r.record(&key, path, value + f64::from(round));
            }
        }
    }
    r.record("forward_pps@1000", PathKind::Direct, 90_000.0);
    r.figure(
        "entry_bytes@1000000",
        "memory per entry",
        "B",
        Better::Lower,
    );
    r.record("entry_bytes@1000000", PathKind::Ours, 42.0);
    r.record("entry_bytes@1000000", PathKind::Ipvs, 320.0);
    r.notes.push("a remark".into());
    r
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nd-bench-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn renders_tables_goals_and_a_png() {
    let dir = scratch("render");
    let input = dir.join("results.json");
    std::fs::write(&input, serde_json::to_string(&results()).unwrap()).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_nd-bench-report"))
        .arg("--results")
        .arg(&input)
        .arg("--out")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let doc = std::fs::read_to_string(dir.join("benchmarks.md")).unwrap();
    assert!(
        doc.contains(
            "| forwarded packets, 1000 flows | 1/s | 50001 | 40001 | 90000 | 1.25 | 0.56 |"
        ),
        "{doc}"
    );
    assert!(
        doc.contains(
            "| kernel memory per connection entry at 1000000 entries <= 64 B | 42.0 B | yes |"
        ),
        "{doc}"
    );
    assert!(doc.contains("- a remark"));
    let png = std::fs::read(dir.join("benchmarks.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_file_that_is_not_results() {
    let dir = scratch("refuse");
    let input = dir.join("results.json");
    std::fs::write(&input, "not json").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nd-bench-report"))
        .arg("--results")
        .arg(&input)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not benchmark results"));
    let _ = std::fs::remove_dir_all(&dir);
}
