//! What a server did within a run's measured window, from the readings of its statistics
//! taken about once a second: its busy time and work done at the window's two ends are
//! interpolated between the readings around them.

use super::results::ServerWindow;
use crate::bench::report::PsServeReport;

/// `(busy seconds, work done)` at `at_ns`, between the readings around it; the nearest
/// reading's outside them. `readings` are in time order and not empty.
fn usage_at(readings: &[PsServeReport], at_ns: u64) -> (f64, f64) {
    let after = readings.partition_point(|r| r.at_ns < at_ns);
    if after == 0 {
        return (readings[0].busy_seconds, readings[0].work_done);
    }
    if after == readings.len() {
        let last = &readings[after - 1];
        return (last.busy_seconds, last.work_done);
    }
    let (a, b) = (&readings[after - 1], &readings[after]);
    let span = (b.at_ns - a.at_ns) as f64;
    let part = if span > 0.0 {
        (at_ns - a.at_ns) as f64 / span
    } else {
        1.0
    };
    let between = |x: f64, y: f64| x + (y - x) * part;
    (
        between(a.busy_seconds, b.busy_seconds),
        between(a.work_done, b.work_done),
    )
}

/// What the server of `readings` did from `start_ns` to `end_ns`.
pub fn server_window(readings: &[PsServeReport], start_ns: u64, end_ns: u64) -> ServerWindow {
    let Some(last) = readings.last() else {
        return ServerWindow::default();
    };
    let (busy_start, work_start) = usage_at(readings, start_ns);
    let (busy_end, work_end) = usage_at(readings, end_ns);
    let seconds = end_ns.saturating_sub(start_ns) as f64 / 1e9;
    ServerWindow {
        utilization: if seconds > 0.0 {
            ((busy_end - busy_start) / seconds).clamp(0.0, 1.0)
        } else {
            0.0
        },
        work_done: (work_end - work_start).max(0.0),
        cancelled: last.cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn reading(at_s: u64, busy_seconds: f64, work_done: f64) -> PsServeReport {
        PsServeReport {
            at_ns: at_s * S,
            busy_seconds,
            work_done,
            ..PsServeReport::default()
        }
    }

    #[test]
    fn the_window_s_ends_fall_between_readings() {
        // Busy half of every second from 10 s on, 500 units a second.
        let readings: Vec<PsServeReport> = (10..=20)
            .map(|t| reading(t, (t - 10) as f64 * 0.5, (t - 10) as f64 * 500.0))
            .collect();
        let window = server_window(&readings, 12 * S + S / 2, 18 * S);
        assert!((window.utilization - 0.5).abs() < 1e-9, "{window:?}");
        assert!((window.work_done - 2750.0).abs() < 1e-6, "{window:?}");
    }

    #[test]
    fn ends_outside_the_readings_take_the_nearest() {
        let readings = [reading(10, 1.0, 100.0), reading(11, 2.0, 300.0)];
        let window = server_window(&readings, 5 * S, 15 * S);
        assert!((window.utilization - 0.1).abs() < 1e-9);
        assert_eq!(window.work_done, 200.0);
        assert_eq!(server_window(&[], S, 2 * S), ServerWindow::default());
        let mut last = readings[1].clone();
        last.cancelled = 4;
        assert_eq!(server_window(&[last], S, 2 * S).cancelled, 4);
    }
}
