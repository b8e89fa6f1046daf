//! What an emulated server tells others while it runs: its load, a one-second load average
//! (the mean number of requests in progress over the last second) written to a file for the
//! Manager's agent to `cat`, as the paper's agents report a host's load; and the external
//! load it should emulate, read from a file that a scenario may rewrite at any time.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use super::clock::{nanos, seconds_between};

/// The span the load is averaged over.
pub const LOAD_WINDOW: Duration = Duration::from_secs(1);

/// The mean number of requests in progress over the last [`LOAD_WINDOW`], from readings of
/// the integral of requests in progress over time.
#[derive(Debug, Default)]
pub struct LoadMeter {
    /// (instant, request-seconds so far), oldest first; the first at or before the window.
    readings: VecDeque<(u64, f64)>,
}

impl LoadMeter {
    /// Takes the reading at `now_ns` (the queue's request-seconds so far, and the requests in
    /// progress now) and returns the load: the mean over the window, or over what there is
    /// of it since the first reading; the requests in progress for the first reading.
    pub fn record(&mut self, now_ns: u64, request_seconds: f64, in_progress: usize) -> f64 {
        self.readings.push_back((now_ns, request_seconds));
        let window_start = now_ns.saturating_sub(nanos(LOAD_WINDOW));
        while self.readings.len() > 2 && self.readings[1].0 <= window_start {
            self.readings.pop_front();
        }
        let (from_ns, from) = self.readings[0];
        let seconds = seconds_between(from_ns, now_ns);
        if seconds > 0.0 {
            ((request_seconds - from) / seconds).max(0.0)
        } else {
            in_progress as f64
        }
    }
}

/// The load as the load file holds it.
pub fn load_text(load: f64) -> String {
    format!("{load:.2}")
}

/// The share of its capacity external load takes, as a file at `path` says: a number from 0
/// to 1 as its first word; `None` if the file is missing or says something else.
pub fn read_busy_fraction(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let fraction: f64 = text.split_whitespace().next()?.parse().ok()?;
    (0.0..=1.0).contains(&fraction).then_some(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::clock::NANOS_PER_SECOND;

    const S: u64 = NANOS_PER_SECOND;

    #[test]
    fn the_load_is_the_mean_over_the_last_second() {
        let mut meter = LoadMeter::default();
        assert_eq!(
            meter.record(10 * S, 0.0, 3),
            3.0,
            "no history: the count now"
        );
        // Two requests for half a second: one request-second.
        assert!((meter.record(10 * S + S / 2, 1.0, 2) - 2.0).abs() < 1e-9);
        // Then none for a second and a half: the window holds only the idle time.
        for tick in 1..=6 {
            meter.record(10 * S + S / 2 + tick * S / 4, 1.0, 0);
        }
        assert_eq!(meter.record(12 * S, 1.0, 0), 0.0);
        // Four requests from 12 s: a quarter of a second of them is a load of 1.
        let load = meter.record(12 * S + S / 4, 1.0 + 4.0 * 0.25, 4);
        assert!((load - 1.0).abs() < 1e-9, "{load}");
        assert!(meter.readings.len() <= 7, "old readings are dropped");
    }

    #[test]
    fn the_busy_file_says_a_fraction_or_nothing() {
        let dir = std::env::temp_dir().join(format!("ndtest-busy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("busy");
        assert_eq!(read_busy_fraction(&path), None, "missing");
        for (text, fraction) in [
            ("0.25\n", Some(0.25)),
            ("1", Some(1.0)),
            ("0 extra words", Some(0.0)),
            ("1.5", None),
            ("-0.1", None),
            ("half", None),
            ("", None),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_busy_fraction(&path), fraction, "{text:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(load_text(2.0 / 3.0), "0.67");
    }
}
