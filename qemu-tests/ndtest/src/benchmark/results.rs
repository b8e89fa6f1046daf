//! What the benchmark measured: every sample of every figure on every path, and the summary
//! reported from them (medians, and the ratios of the Executor to IPVS and to no balancer).
//!
//! The guest prints the samples as one JSON line; the host renders the same summary into
//! `docs/benchmarks.md` and a chart, so both read these types.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A way from the client to the servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Through the Executor.
    Ours,
    /// Through IPVS in direct-routing mode.
    Ipvs,
    /// Straight to one server: the limit the emulated machine sets.
    Direct,
}

impl PathKind {
    pub const ALL: [PathKind; 3] = [PathKind::Ours, PathKind::Ipvs, PathKind::Direct];

    pub fn name(self) -> &'static str {
        match self {
            PathKind::Ours => "nd",
            PathKind::Ipvs => "ipvs",
            PathKind::Direct => "none",
        }
    }
}

/// Whether a larger value of a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure and how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Short key, e.g. `forward_pps@1000`.
    pub key: String,
    /// What it is, for tables.
    pub label: String,
    pub unit: String,
    pub better: Better,
}

/// The samples of one figure, per path, in the order the rounds took them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Samples(pub BTreeMap<PathKind, Vec<f64>>);

/// Everything one benchmark run measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchResults {
    /// How the run was set up, as `key: value` lines.
    pub setup: BTreeMap<String, String>,
    /// The figures in the order they are reported.
    pub figures: Vec<Figure>,
    pub samples: BTreeMap<String, Samples>,
    /// Remarks the run made (entries that did not make it into a table, say).
    pub notes: Vec<String>,
}

/// The median of `values`; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// One figure's medians and ratios.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub figure: Figure,
    pub medians: BTreeMap<PathKind, f64>,
    /// How many samples each path has.
    pub counts: BTreeMap<PathKind, usize>,
    /// ours / IPVS, oriented so that above 1 means the Executor does better.
    pub vs_ipvs: Option<f64>,
    /// ours / no balancer, oriented the same way.
    pub vs_direct: Option<f64>,
}

/// `ours` against `other`, above 1 when `ours` is better.
fn advantage(ours: f64, other: f64, better: Better) -> Option<f64> {
    let ratio = match better {
        Better::Higher => ours / other,
        Better::Lower => other / ours,
    };
    ratio.is_finite().then_some(ratio)
}

impl BenchResults {
    /// Declares a figure (once; later calls keep the first declaration).
    pub fn figure(&mut self, key: &str, label: &str, unit: &str, better: Better) {
        if !self.figures.iter().any(|f| f.key == key) {
            self.figures.push(Figure {
                key: key.to_owned(),
                label: label.to_owned(),
                unit: unit.to_owned(),
                better,
            });
        }
    }

    /// Records one sample of figure `key` on `path`.
    pub fn record(&mut self, key: &str, path: PathKind, value: f64) {
        self.samples
            .entry(key.to_owned())
            .or_default()
            .0
            .entry(path)
            .or_default()
            .push(value);
    }

    /// The medians and ratios of every figure.
    pub fn summary(&self) -> Vec<SummaryRow> {
        self.figures
            .iter()
            .map(|figure| {
                let samples = self.samples.get(&figure.key).cloned().unwrap_or_default();
                let medians: BTreeMap<PathKind, f64> = samples
                    .0
                    .iter()
                    .filter_map(|(path, values)| Some((*path, median(values)?)))
                    .collect();
                let counts = samples.0.iter().map(|(p, v)| (*p, v.len())).collect();
                let ours = medians.get(&PathKind::Ours).copied();
                let against =
                    |other: PathKind| advantage(ours?, *medians.get(&other)?, figure.better);
                SummaryRow {
                    figure: figure.clone(),
                    vs_ipvs: against(PathKind::Ipvs),
                    vs_direct: against(PathKind::Direct),
                    medians,
                    counts,
                }
            })
            .collect()
    }

    /// The summary as a plain-text table, for the guest's log.
    pub fn text_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<44} {:>12} {:>12} {:>12} {:>9} {:>9}",
            "figure", "nd", "ipvs", "none", "nd/ipvs", "nd/none"
        );
        for row in self.summary() {
            let cell = |path| {
                row.medians
                    .get(&path)
                    .map_or("-".to_owned(), |v| format_value(*v))
            };
            let ratio = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{r:.2}"));
            let _ = writeln!(
                out,
                "{:<44} {:>12} {:>12} {:>12} {:>9} {:>9}",
                format!("{} ({})", row.figure.label, row.figure.unit),
                cell(PathKind::Ours),
                cell(PathKind::Ipvs),
                cell(PathKind::Direct),
                ratio(row.vs_ipvs),
                ratio(row.vs_direct)
            );
        }
        out
    }
}

/// A value with as many digits as it deserves.
pub fn format_value(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts_ignores_non_finite_values() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratios_say_above_one_when_the_executor_does_better() {
        let mut r = BenchResults::default();
        r.figure("rate", "rate", "1/s", Better::Higher);
        r.figure("p99", "p99", "us", Better::Lower);
        for (path, rate, p99) in [
            (PathKind::Ours, 120.0, 50.0),
            (PathKind::Ipvs, 100.0, 100.0),
            (PathKind::Direct, 150.0, 40.0),
        ] {
            r.record("rate", path, rate);
            r.record("p99", path, p99);
        }
        let summary = r.summary();
        assert_eq!(summary[0].vs_ipvs, Some(1.2));
        assert_eq!(summary[0].vs_direct, Some(0.8));
        assert_eq!(summary[1].vs_ipvs, Some(2.0));
        assert_eq!(summary[1].vs_direct, Some(0.8));
    }

    #[test]
    fn a_figure_without_a_path_has_no_ratio_to_it() {
        let mut r = BenchResults::default();
        r.figure("bytes", "bytes", "B", Better::Lower);
        r.record("bytes", PathKind::Ours, 32.0);
        let row = &r.summary()[0];
        assert_eq!(row.vs_ipvs, None);
        assert_eq!(row.counts.get(&PathKind::Ours), Some(&1));
        assert!(r.text_table().contains("32.0"));
    }

    #[test]
    fn results_survive_json() {
        let mut r = BenchResults::default();
        r.figure("rate", "rate", "1/s", Better::Higher);
        r.record("rate", PathKind::Ipvs, 1.5);
        r.setup.insert("rounds".into(), "1".into());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<BenchResults>(&json).unwrap(), r);
    }
}
