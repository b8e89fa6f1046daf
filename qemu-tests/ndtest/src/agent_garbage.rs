//! `ndtest agent-garbage`: datagrams to the Manager's agent port that are not the reports it
//! expects, or are reports at the edges of what it accepts.
//!
//! Each datagram is one of the kinds below, drawn from a seeded generator so that a seed
//! always sends the same datagrams. Everything but `Extreme` must be ignored by the Manager;
//! `Extreme` reports are valid and carry the largest, smallest and negative finite values.

use crate::prng::Prng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// The largest datagram the Manager reads whole; larger ones must be refused as such.
const REPORT_LIMIT: usize = 1200;

/// What one datagram is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GarbageKind {
    /// Random bytes.
    Noise,
    /// A valid report cut short.
    Truncated,
    /// A report of a format version the Manager does not read.
    WrongVersion,
    /// `metrics` of the wrong JSON type, or values that are not numbers.
    WrongTypes,
    /// A number beyond f64's range, which JSON can spell.
    OutOfRange,
    /// Metric names that are too long or have forbidden characters.
    BadNames,
    /// More metrics than a report may carry.
    TooManyMetrics,
    /// Over the datagram limit.
    Oversized,
    /// Nesting deeper than any parser should follow.
    DeepNesting,
    /// An empty datagram.
    Empty,
    /// A valid report with extreme values.
    Extreme,
}

const KINDS: [GarbageKind; 11] = [
    GarbageKind::Noise,
    GarbageKind::Truncated,
    GarbageKind::WrongVersion,
    GarbageKind::WrongTypes,
    GarbageKind::OutOfRange,
    GarbageKind::BadNames,
    GarbageKind::TooManyMetrics,
    GarbageKind::Oversized,
    GarbageKind::DeepNesting,
    GarbageKind::Empty,
    GarbageKind::Extreme,
];

/// Options of `ndtest agent-garbage`.
pub struct GarbageOptions {
    /// The Manager's agent address.
    pub to: SocketAddr,
    pub count: u64,
    pub seed: u64,
    /// The metric name reports use.
    pub metric: String,
    /// Pause between datagrams.
    pub gap: Duration,
}

/// What was sent.
#[derive(Debug, Default, Serialize)]
pub struct GarbageReport {
    pub sent: u64,
    /// Datagrams the kernel refused to send (an oversized one on a small MTU, say).
    pub send_errors: u64,
    pub kinds: BTreeMap<GarbageKind, u64>,
}

impl GarbageReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One datagram of `kind` about `metric`.
pub fn datagram(kind: GarbageKind, metric: &str, rng: &mut Prng) -> Vec<u8> {
    let report = |metrics: &str| format!(r#"{{"version":1,"metrics":{{{metrics}}}}}"#);
    match kind {
        GarbageKind::Noise => {
            let len = rng.between(1, 1500) as usize;
            rng.bytes(len)
        }
        GarbageKind::Truncated => {
            let whole = report(&format!(r#""{metric}":12.5"#));
            let cut = rng.between(1, whole.len() as u64 - 1) as usize;
            whole.as_bytes()[..cut].to_vec()
        }
        GarbageKind::WrongVersion => {
            let version = *rng.pick(&[0u64, 2, 99, u64::from(u32::MAX) + 1]);
            format!(r#"{{"version":{version},"metrics":{{"{metric}":1}}}}"#).into_bytes()
        }
        GarbageKind::WrongTypes => rng
            .pick(&[
                r#"{"version":1,"metrics":[1,2,3]}"#.to_owned(),
                r#"{"version":"1","metrics":{}}"#.to_owned(),
                report(&format!(r#""{metric}":"high""#)),
                report(&format!(r#""{metric}":null"#)),
                report(&format!(r#""{metric}":true"#)),
                report(&format!(r#""{metric}":{{"x":1}}"#)),
                r#"{"version":1,"metrics":{"load":NaN}}"#.to_owned(),
                r#"{"version":1,"metrics":{"load":Infinity}}"#.to_owned(),
            ])
            .clone()
            .into_bytes(),
        GarbageKind::OutOfRange => {
            let value = *rng.pick(&["1e400", "-1e400", "1e99999999999"]);
            report(&format!(r#""{metric}":{value}"#)).into_bytes()
        }
        GarbageKind::BadNames => {
            let name = rng
                .pick(&[
                    "x".repeat(33),
                    "lo ad".to_owned(),
                    String::new(),
                    "load\\u0000".to_owned(),
                    "caf\u{e9}".to_owned(),
                ])
                .clone();
            report(&format!(r#""{name}":1"#)).into_bytes()
        }
        GarbageKind::TooManyMetrics => {
            let metrics: Vec<String> = (0..17).map(|i| format!(r#""m{i}":1"#)).collect();
            report(&metrics.join(",")).into_bytes()
        }
        GarbageKind::Oversized => {
            let padding = " ".repeat(REPORT_LIMIT);
            report(&format!(r#""{metric}":1{padding}"#)).into_bytes()
        }
        GarbageKind::DeepNesting => {
            let depth = 4096;
            let value = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            report(&format!(r#""{metric}":{value}"#))
                .into_bytes()
                .into_iter()
                .take(REPORT_LIMIT)
                .collect()
        }
        GarbageKind::Empty => Vec::new(),
        GarbageKind::Extreme => {
            let value = *rng.pick(&[
                "1.7976931348623157e308",
                "-1.7976931348623157e308",
                "5e-324",
                "0",
                "-0.0",
            ]);
            report(&format!(r#""{metric}":{value}"#)).into_bytes()
        }
    }
}

/// Sends `options.count` datagrams.
pub fn run(options: &GarbageOptions) -> io::Result<GarbageReport> {
    let socket = UdpSocket::bind(("0.0.0.0", 0))?;
    socket.connect(options.to)?;
    let mut rng = Prng::new(options.seed);
    let mut report = GarbageReport::default();
    for _ in 0..options.count {
        let kind = *rng.pick(&KINDS);
        let bytes = datagram(kind, &options.metric, &mut rng);
        match socket.send(&bytes) {
            Ok(_) => report.sent += 1,
            // Nobody listening answers with ICMP, which a later send reports; keep going.
            Err(_) => report.send_errors += 1,
        }
        *report.kinds.entry(kind).or_default() += 1;
        if !options.gap.is_zero() {
            std::thread::sleep(options.gap);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses_as_report(bytes: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Report {
            #[allow(dead_code)]
            version: u32,
            #[allow(dead_code)]
            metrics: BTreeMap<String, f64>,
        }
        bytes.len() <= REPORT_LIMIT
            && serde_json::from_slice::<Report>(bytes).is_ok_and(|r| r.version == 1)
    }

    #[test]
    fn only_extreme_datagrams_are_well_formed_reports() {
        let mut rng = Prng::new(3);
        for kind in KINDS {
            for _ in 0..50 {
                let bytes = datagram(kind, "load", &mut rng);
                let well_formed = parses_as_report(&bytes)
                    && !matches!(kind, GarbageKind::BadNames | GarbageKind::TooManyMetrics);
                assert_eq!(
                    well_formed,
                    kind == GarbageKind::Extreme,
                    "{kind:?}: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    #[test]
    fn oversized_datagrams_are_over_the_limit() {
        let bytes = datagram(GarbageKind::Oversized, "load", &mut Prng::new(1));
        assert!(bytes.len() > REPORT_LIMIT);
    }
}
