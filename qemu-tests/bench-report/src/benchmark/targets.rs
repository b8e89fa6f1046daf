//! The goals the benchmark is read against, and whether a run meets them.

use ndtest::benchmark::results::{median, BenchResults, PathKind, SummaryRow};

/// One goal and what the run measured of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub goal: String,
    /// The measured value, as text; `None` when the run did not measure it.
    pub measured: Option<String>,
    pub met: Option<bool>,
}

fn row<'a>(summary: &'a [SummaryRow], key: &str) -> Option<&'a SummaryRow> {
    summary.iter().find(|row| row.figure.key == key)
}

fn ratio_goal(summary: &[SummaryRow], key: &str, goal: &str, at_least: f64) -> Verdict {
    let ratio = row(summary, key).and_then(|row| row.vs_ipvs);
    Verdict {
        goal: goal.to_owned(),
        measured: ratio.map(|r| format!("{r:.2}")),
        met: ratio.map(|r| r >= at_least),
    }
}

/// The ours-only median of `key`.
fn ours(results: &BenchResults, key: &str) -> Option<f64> {
    median(results.samples.get(key)?.0.get(&PathKind::Ours)?)
}

/// The verdict on every goal, for the largest table the run filled (`largest` entries).
pub fn verdicts(results: &BenchResults, smallest: u64, largest: u64) -> Vec<Verdict> {
    let summary = results.summary();
    let mut verdicts = vec![
        ratio_goal(
            &summary,
            &format!("forward_pps@{smallest}"),
            "forwarding rate of established flows, nd/IPVS >= 1.2",
            1.2,
        ),
        ratio_goal(
            &summary,
            "conn_rate",
            "new connections a second, nd/IPVS >= 1.2",
            1.2,
        ),
        ratio_goal(
            &summary,
            "latency_p99",
            "p99 latency no worse than IPVS (IPVS/nd >= 1.0)",
            1.0,
        ),
    ];
    for (key, what) in [
        ("entry_bytes", "kernel memory"),
        ("table_bytes", "table slots"),
    ] {
        let bytes = ours(results, &format!("{key}@{largest}"));
        verdicts.push(Verdict {
            goal: format!("{what} per connection entry at {largest} entries <= 64 B"),
            measured: bytes.map(|b| format!("{b:.1} B")),
            met: bytes.map(|b| b <= 64.0),
        });
    }
    let cost = ours(results, &format!("forward_pps@{smallest}"))
        .zip(ours(results, &format!("forward_pps@{largest}")))
        .map(|(small, large)| small / large);
    verdicts.push(Verdict {
        goal: format!(
            "per-packet cost with {largest} entries within 1.3x of {smallest} (rate at \
             {smallest} / rate at {largest})"
        ),
        measured: cost.map(|c| format!("{c:.2}x")),
        met: cost.map(|c| c <= 1.3),
    });
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndtest::benchmark::results::Better;

    #[test]
    fn judges_ratios_bytes_and_lookup_cost() {
        let mut r = BenchResults::default();
        r.figure("forward_pps@1000", "f", "1/s", Better::Higher);
        r.figure("forward_pps@1000000", "f", "1/s", Better::Higher);
        r.figure("conn_rate", "c", "1/s", Better::Higher);
        r.figure("entry_bytes@1000000", "b", "B", Better::Lower);
        for (path, small, large, conns) in [
            (PathKind::Ours, 130.0, 110.0, 90.0),
            (PathKind::Ipvs, 100.0, 50.0, 100.0),
        ] {
            r.record("forward_pps@1000", path, small);
            r.record("forward_pps@1000000", path, large);
            r.record("conn_rate", path, conns);
        }
        r.record("entry_bytes@1000000", PathKind::Ours, 40.0);
        let v = verdicts(&r, 1000, 1_000_000);
        assert_eq!(v[0].met, Some(true), "{v:?}");
        assert_eq!(v[1].met, Some(false));
        assert_eq!(v[2].met, None, "latency was not measured");
        assert_eq!(v[3].met, Some(true));
        assert_eq!(v[4].met, None);
        assert_eq!(v[5].measured.as_deref(), Some("1.18x"));
        assert_eq!(v[5].met, Some(true));
    }
}
