//! The report an agent sends the Manager: one UDP datagram of JSON per period.
//!
//! ```json
//! {"version":1,"metrics":{"load":0.42,"mem":61.5}}
//! ```
//!
//! The Manager knows the sender by the datagram's source address, so the report carries no
//! server name. Fields a later version adds are ignored. A datagram stays well below a usual
//! path MTU: metric names are short and their number is bounded, and both ends check the size.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The report format this code writes and reads.
pub const REPORT_VERSION: u32 = 1;
/// Most metrics one report carries.
pub const MAX_METRICS: usize = 16;
/// Longest metric name.
pub const MAX_NAME_LEN: usize = 32;
/// Largest datagram sent or accepted; 16 metrics of 32-byte names with the longest numbers
/// JSON writes come to under 1000 bytes.
pub const MAX_DATAGRAM: usize = 1200;

/// One agent report: the latest value of each metric whose command succeeded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The format version, [`REPORT_VERSION`].
    pub version: u32,
    /// Values by metric name.
    pub metrics: BTreeMap<String, f64>,
}

/// Why a report cannot be sent or was not accepted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The datagram is larger than [`MAX_DATAGRAM`].
    #[error("{0} bytes, more than the {MAX_DATAGRAM} a report may have")]
    TooLarge(usize),
    /// The datagram is not a report.
    #[error("not a report: {0}")]
    Malformed(String),
    /// The report is of a format version this code does not read.
    #[error("report version {0}, expected {REPORT_VERSION}")]
    Version(u32),
    /// The report carries more than [`MAX_METRICS`] metrics.
    #[error("{0} metrics, more than {MAX_METRICS}")]
    TooManyMetrics(usize),
    /// A metric name is empty, too long or has characters names may not have.
    #[error("\"{0}\" is not a metric name")]
    BadName(String),
    /// A value is not a finite number.
    #[error("metric \"{0}\" is not a finite number")]
    NotFinite(String),
}

/// Whether `name` may name a metric: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `_`, `-`
/// or `.`.
pub fn valid_metric_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// [`valid_metric_name`], with the reason as an error.
pub fn check_metric_name(name: &str) -> Result<(), String> {
    if valid_metric_name(name) {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a metric name (1 to {MAX_NAME_LEN} letters, digits, '_', '-' or \
             '.')"
        ))
    }
}

impl AgentReport {
    /// A report of the current version carrying `metrics`.
    pub fn new(metrics: BTreeMap<String, f64>) -> AgentReport {
        AgentReport {
            version: REPORT_VERSION,
            metrics,
        }
    }

    /// The datagram for this report.
    pub fn encode(&self) -> Result<Vec<u8>, ReportError> {
        self.check()?;
        let bytes = serde_json::to_vec(self).map_err(|e| ReportError::Malformed(e.to_string()))?;
        if bytes.len() > MAX_DATAGRAM {
            return Err(ReportError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// The report a datagram carries.
    pub fn decode(datagram: &[u8]) -> Result<AgentReport, ReportError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(ReportError::TooLarge(datagram.len()));
        }
        // The version is read first so that a later format is refused as such, not as junk.
        #[derive(Deserialize)]
        struct Envelope {
            version: u32,
            #[serde(default)]
            metrics: serde_json::Value,
        }
        let malformed = |e: serde_json::Error| ReportError::Malformed(e.to_string());
        let envelope: Envelope = serde_json::from_slice(datagram).map_err(malformed)?;
        if envelope.version != REPORT_VERSION {
            return Err(ReportError::Version(envelope.version));
        }
        let report = AgentReport::new(serde_json::from_value(envelope.metrics).map_err(malformed)?);
        report.check()?;
        Ok(report)
    }

    fn check(&self) -> Result<(), ReportError> {
        if self.metrics.len() > MAX_METRICS {
            return Err(ReportError::TooManyMetrics(self.metrics.len()));
        }
        for (name, value) in &self.metrics {
            if !valid_metric_name(name) {
                return Err(ReportError::BadName(name.clone()));
            }
            if !value.is_finite() {
                return Err(ReportError::NotFinite(name.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn report(pairs: &[(&str, f64)]) -> AgentReport {
        AgentReport::new(pairs.iter().map(|&(n, v)| (n.to_string(), v)).collect())
    }

    #[test]
    fn encodes_the_documented_shape() {
        let bytes = report(&[("load", 0.42), ("mem", 61.5)]).encode().unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"version":1,"metrics":{"load":0.42,"mem":61.5}}"#
        );
    }

    #[test]
    fn the_largest_report_fits_in_a_datagram() {
        let metrics = (0..MAX_METRICS)
            .map(|i| (format!("{i:0>width$}", width = MAX_NAME_LEN), -f64::MAX))
            .collect();
        let bytes = AgentReport::new(metrics).encode().unwrap();
        assert!(bytes.len() <= MAX_DATAGRAM, "{} bytes", bytes.len());
    }

    #[test]
    fn refuses_what_is_not_a_current_report() {
        let oversized = [b' '; MAX_DATAGRAM + 1];
        let cases: [(&[u8], &str); 6] = [
            (
                b"load 12",
                "not a report: expected value at line 1 column 1",
            ),
            (
                br#"{"metrics":{}}"#,
                "not a report: missing field `version` at line 1 column 14",
            ),
            (
                br#"{"version":2,"metrics":[1]}"#,
                "report version 2, expected 1",
            ),
            (
                br#"{"version":1,"metrics":{"load":"high"}}"#,
                "not a report: invalid type: string \"high\", expected f64",
            ),
            (
                br#"{"version":1,"metrics":{"lo ad":1}}"#,
                "\"lo ad\" is not a metric name",
            ),
            (
                &oversized,
                "1201 bytes, more than the 1200 a report may have",
            ),
        ];
        for (datagram, expected) in cases {
            let error = AgentReport::decode(datagram).unwrap_err();
            assert_eq!(
                error.to_string(),
                expected,
                "{}",
                String::from_utf8_lossy(datagram)
            );
        }
    }

    #[test]
    fn bounds_the_number_of_metrics_both_ways() {
        let metrics = (0..=MAX_METRICS).map(|i| (format!("m{i}"), 1.0)).collect();
        let too_many = AgentReport::new(metrics);
        assert_eq!(
            too_many.encode(),
            Err(ReportError::TooManyMetrics(MAX_METRICS + 1))
        );
        let datagram = serde_json::to_vec(&too_many).unwrap();
        assert_eq!(
            AgentReport::decode(&datagram),
            Err(ReportError::TooManyMetrics(MAX_METRICS + 1))
        );
    }

    #[test]
    fn ignores_fields_a_later_version_adds() {
        let decoded =
            AgentReport::decode(br#"{"version":1,"host":"web1","metrics":{"load":3}}"#).unwrap();
        assert_eq!(decoded, report(&[("load", 3.0)]));
    }

    proptest! {
        #[test]
        fn round_trips(
            metrics in prop::collection::btree_map(
                "[a-z_.-][a-z0-9_.-]{0,31}",
                prop::num::f64::NORMAL | prop::num::f64::ZERO,
                0..=MAX_METRICS,
            )
        ) {
            let sent = AgentReport::new(metrics);
            let received = AgentReport::decode(&sent.encode().unwrap()).unwrap();
            prop_assert_eq!(received, sent);
        }
    }
}
