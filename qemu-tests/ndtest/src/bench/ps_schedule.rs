//! What happens to an emulated server while it runs, by the clock: its speed changes
//! (`--capacity-schedule`), work the balancer does not see takes part of it for a time
//! (`--external-load`), or it fails every request at once (`--fail-with`). Times are seconds
//! from an epoch, the server's start unless the caller gives one, so that a driver can line
//! the schedule up with its workload.
//!
//! Every entry holds over a window `FROM[-UNTIL]` (seconds, `UNTIL` left out: to the end).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::clock::NANOS_PER_SECOND;

/// A span of a run, in seconds from the schedule's epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub from: f64,
    /// `None`: to the end of the run.
    pub until: Option<f64>,
}

impl Window {
    /// From the epoch on, always.
    pub const ALWAYS: Window = Window {
        from: 0.0,
        until: None,
    };

    /// Whether `seconds` falls in it (its start included, its end not).
    pub fn contains(&self, seconds: f64) -> bool {
        seconds >= self.from && self.until.is_none_or(|until| seconds < until)
    }

    /// Reads `FROM` or `FROM-UNTIL`.
    pub fn parse(text: &str) -> Result<Window, String> {
        let seconds = |t: &str| -> Result<f64, String> {
            match t.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
                _ => Err(format!("{t:?} is not a number of seconds")),
            }
        };
        let window = match text.split_once('-') {
            Some((from, until)) => Window {
                from: seconds(from)?,
                until: Some(seconds(until)?),
            },
            None => Window {
                from: seconds(text)?,
                until: None,
            },
        };
        if window.until.is_some_and(|until| until <= window.from) {
            return Err(format!("{text:?}: the window ends before it starts"));
        }
        Ok(window)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.until {
            Some(until) => write!(f, "{}-{}", self.from, until),
            None => write!(f, "{}", self.from),
        }
    }
}

/// A number that holds over a window: `FROM[-UNTIL]:VALUE`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timed {
    pub window: Window,
    pub value: f64,
}

impl Timed {
    /// Reads `FROM[-UNTIL]:VALUE`, the value in `low..=high` (`low` excluded if `low_open`).
    pub fn parse(text: &str, low: f64, high: f64, low_open: bool) -> Result<Timed, String> {
        let (window, value) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not FROM[-UNTIL]:VALUE"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{value:?} is not a number"))?;
        let above = if low_open { value > low } else { value >= low };
        if !(value.is_finite() && above && value <= high) {
            return Err(format!("{value} is not within {low} to {high}"));
        }
        Ok(Timed {
            window: Window::parse(window)?,
            value,
        })
    }
}

impl fmt::Display for Timed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.window, self.value)
    }
}

/// How a failing server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// At once, with this HTTP status.
    Status(u16),
    /// By resetting the connection.
    Reset,
}

impl Failure {
    /// Reads an HTTP error status (400 to 599) or `reset`.
    pub fn parse(text: &str) -> Result<Failure, String> {
        if text == "reset" {
            return Ok(Failure::Reset);
        }
        match text.parse::<u16>() {
            Ok(status @ 400..=599) => Ok(Failure::Status(status)),
            _ => Err(format!(
                "{text:?} is neither an HTTP error status nor \"reset\""
            )),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(status) => write!(f, "{status}"),
            Failure::Reset => f.write_str("reset"),
        }
    }
}

/// Where a server stands at an instant of its schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conditions {
    /// Its speed over its capacity, external load aside.
    pub speed_factor: f64,
    /// The share of its speed external load takes.
    pub external_share: f64,
    pub failing: Option<Failure>,
}

/// Everything that happens to one server, from `epoch_ns` (of `CLOCK_MONOTONIC`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    /// `None`: the server's start.
    pub epoch_ns: Option<u64>,
    /// Speed factors; those that overlap multiply.
    pub capacity: Vec<Timed>,
    /// Shares of the speed external work takes; those that overlap add up.
    pub external_load: Vec<Timed>,
    pub failure: Option<(Failure, Window)>,
}

impl Schedule {
    /// Whether anything ever happens.
    pub fn is_empty(&self) -> bool {
        self.capacity.is_empty() && self.external_load.is_empty() && self.failure.is_none()
    }

    /// The conditions at `now_ns`, for a server started at `start_ns`; before the epoch
    /// nothing has happened yet.
    pub fn at(&self, start_ns: u64, now_ns: u64) -> Conditions {
        let epoch = self.epoch_ns.unwrap_or(start_ns);
        let seconds = if now_ns >= epoch {
            (now_ns - epoch) as f64 / NANOS_PER_SECOND as f64
        } else {
            -1.0
        };
        let active = |t: &&Timed| t.window.contains(seconds);
        Conditions {
            speed_factor: self
                .capacity
                .iter()
                .filter(active)
                .map(|t| t.value)
                .product(),
            external_share: self
                .external_load
                .iter()
                .filter(active)
                .map(|t| t.value)
                .sum::<f64>()
                .min(1.0),
            failing: self
                .failure
                .filter(|(_, window)| window.contains(seconds))
                .map(|(failure, _)| failure),
        }
    }

    /// Its command-line options for `ndtest ps-serve`.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(epoch) = self.epoch_ns {
            args.extend(["--schedule-epoch-ns".to_owned(), epoch.to_string()]);
        }
        for timed in &self.capacity {
            args.extend(["--capacity-schedule".to_owned(), timed.to_string()]);
        }
        for timed in &self.external_load {
            args.extend(["--external-load".to_owned(), timed.to_string()]);
        }
        if let Some((failure, window)) = self.failure {
            args.extend(["--fail-with".to_owned(), failure.to_string()]);
            args.extend(["--fail-during".to_owned(), window.to_string()]);
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SECOND;

    #[test]
    fn windows_read_and_hold_from_their_start_to_before_their_end() {
        let w = Window::parse("30-60").unwrap();
        assert_eq!((w.from, w.until), (30.0, Some(60.0)));
        assert!(!w.contains(29.999) && w.contains(30.0) && w.contains(59.9) && !w.contains(60.0));
        let open = Window::parse("2.5").unwrap();
        assert!(open.contains(1e9) && !open.contains(2.4));
        for bad in ["", "x", "-3", "5-5", "6-5", "1-x", "inf"] {
            assert!(Window::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Window::parse(&w.to_string()).unwrap(), w);
    }

    #[test]
    fn timed_values_are_checked() {
        let t = Timed::parse("30:0.5", 0.0, 1.0, true).unwrap();
        assert_eq!(t.window, Window::parse("30").unwrap());
        assert_eq!(t.value, 0.5);
        assert!(Timed::parse("30:0", 0.0, 1.0, true).is_err(), "open below");
        assert!(Timed::parse("30:0", 0.0, 1.0, false).is_ok());
        assert!(Timed::parse("30:1.5", 0.0, 1.0, true).is_err());
        assert!(Timed::parse("30", 0.0, 1.0, true).is_err());
        assert_eq!(Timed::parse(&t.to_string(), 0.0, 1.0, true).unwrap(), t);
    }

    #[test]
    fn failures_read() {
        assert_eq!(Failure::parse("500"), Ok(Failure::Status(500)));
        assert_eq!(Failure::parse("reset"), Ok(Failure::Reset));
        for bad in ["200", "302", "600", "RST", ""] {
            assert!(Failure::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_conditions_follow_the_clock_from_the_epoch() {
        let schedule = Schedule {
            epoch_ns: Some(100 * S),
            capacity: vec![
                Timed::parse("30:0.5", 0.0, 1.0, true).unwrap(),
                Timed::parse("40-50:0.5", 0.0, 1.0, true).unwrap(),
            ],
            external_load: vec![Timed::parse("10-20:0.4", 0.0, 1.0, false).unwrap()],
            failure: Some((Failure::Status(500), Window::parse("5-6").unwrap())),
        };
        // The server's start does not matter when there is an epoch.
        let at = |seconds: u64| schedule.at(7 * S, 100 * S + seconds * S);
        assert_eq!(
            schedule.at(0, 50 * S),
            Conditions {
                speed_factor: 1.0,
                external_share: 0.0,
                failing: None
            },
            "before the epoch"
        );
        assert_eq!(at(5).failing, Some(Failure::Status(500)));
        assert_eq!(at(6).failing, None);
        assert_eq!((at(15).speed_factor, at(15).external_share), (1.0, 0.4));
        assert_eq!(at(20).external_share, 0.0);
        assert_eq!(at(29).speed_factor, 1.0);
        assert_eq!(at(30).speed_factor, 0.5);
        assert_eq!(at(45).speed_factor, 0.25, "overlapping factors multiply");
        assert_eq!(at(1000).speed_factor, 0.5, "an open window lasts");
        // Without an epoch, times are from the server's start.
        let from_start = Schedule {
            epoch_ns: None,
            ..schedule.clone()
        };
        assert_eq!(from_start.at(7 * S, 37 * S).speed_factor, 0.5);
        assert_eq!(from_start.at(7 * S, 36 * S).speed_factor, 1.0);
    }

    #[test]
    fn the_options_say_the_schedule() {
        let schedule = Schedule {
            epoch_ns: Some(42),
            capacity: vec![Timed::parse("30:0.5", 0.0, 1.0, true).unwrap()],
            external_load: vec![Timed::parse("10-20:0.5", 0.0, 1.0, false).unwrap()],
            failure: Some((Failure::Reset, Window::ALWAYS)),
        };
        assert_eq!(
            schedule.args().join(" "),
            "--schedule-epoch-ns 42 --capacity-schedule 30:0.5 --external-load 10-20:0.5 \
             --fail-with reset --fail-during 0"
        );
        assert!(Schedule::default().is_empty() && Schedule::default().args().is_empty());
    }
}
