//! The JSON reports of the benchmark subcommands, one line each, so that a driver running
//! them in the VM can parse them back. Rates are per second of the measured window; latencies
//! are in microseconds.

use serde::{Deserialize, Serialize};

use super::histogram::LatencySummary;
use crate::report::{Counts, ErrorCounts};

/// Output of `ndtest bench-sink`, printed when it is stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SinkReport {
    /// The address it listened on.
    pub listen: String,
    /// `discard`, `echo` or `http`.
    pub mode: String,
    pub threads: u32,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections closed, by either side.
    pub closed: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// HTTP requests answered.
    pub requests: u64,
    /// Failed accepts, reads and writes.
    pub failed: u64,
    pub errors: ErrorCounts,
    /// From binding to the stop.
    pub elapsed_ms: u64,
}

/// Output of `ndtest bench-crr`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrrReport {
    pub to: String,
    pub concurrency: u32,
    pub threads: u32,
    /// The measured window.
    pub seconds: u64,
    /// Transactions completed within the window.
    pub completed: u64,
    /// Transactions per second of the window.
    pub rate: f64,
    /// Transactions that failed, all phases together.
    pub failed: u64,
    /// Failures by phase and cause (`connect_refused`, `response_timeout`, ...).
    pub errors: ErrorCounts,
    /// Transactions under way at the end of the window that completed before the drain
    /// deadline; not in `completed` or `rate`.
    pub drained: u64,
    /// Transactions still under way at the drain deadline, aborted.
    pub abandoned: u64,
    /// From connect to the server's close, of every completed transaction (drained ones
    /// included).
    pub latency_us: LatencySummary,
}

/// Output of `ndtest bench-latency`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    pub to: String,
    /// Transactions started per second, whatever the completions.
    pub target_rate: u64,
    pub seconds: u64,
    pub concurrency_limit: u32,
    /// Transactions due within the window: rate times seconds.
    pub scheduled: u64,
    /// Transactions started (a due one waits while `concurrency_limit` are under way).
    pub started: u64,
    pub completed: u64,
    /// Completed transactions per second of the window.
    pub achieved_rate: f64,
    pub failed: u64,
    pub errors: ErrorCounts,
    /// Due transactions never started: the limit was reached until the window's end.
    pub unstarted: u64,
    /// Transactions still under way at the drain deadline, aborted.
    pub abandoned: u64,
    /// Most transactions due at once but waiting for the concurrency limit.
    pub max_backlog: u64,
    /// From each transaction's scheduled start to the server's close: what a client
    /// arriving on schedule waits, delays in starting it included.
    pub latency_us: LatencySummary,
    /// From each transaction's actual connect to the server's close.
    pub service_us: LatencySummary,
}

/// Output of `ndtest bench-stream`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamReport {
    pub to: String,
    pub conns: u32,
    pub threads: u32,
    pub seconds: u64,
    /// Bytes per write.
    pub segment: u32,
    /// Connections that were established before the window.
    pub established: u64,
    /// Connections that failed to establish or broke.
    pub failed: u64,
    pub errors: ErrorCounts,
    /// Whole segments the kernel took within the window, over all connections.
    pub segments: u64,
    /// Bytes the kernel took within the window.
    pub bytes: u64,
    pub segments_per_second: f64,
    pub bytes_per_second: f64,
    /// TCP segments carrying data that the connections sent (`TCP_INFO`, read at the end of
    /// the window): what crossed the network, after the kernel coalesced writes.
    pub tcp_data_segs_out: u64,
    pub tcp_data_segs_per_second: f64,
    /// Bytes the sink's host acknowledged by the end of the window (`TCP_INFO`): `bytes`
    /// less what was still in flight or queued.
    pub tcp_bytes_acked: u64,
    /// Connections the sink closed in turn after the client's FIN, before the drain
    /// deadline: all their bytes reached it.
    pub closed_cleanly: u64,
}

/// Output of `ndtest bench-inject`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InjectReport {
    pub ifname: String,
    pub flows: u64,
    /// Bytes of each frame, Ethernet header included.
    pub frame_len: u64,
    /// Whether the socket sends straight to the driver, past the queueing discipline.
    pub qdisc_bypass: bool,
    /// SYNs sent, one per flow, before the window (with `--open`).
    pub syns_sent: u64,
    /// The ACKs that established the flows after their SYNs, with `--open`.
    #[serde(default)]
    pub open_acks_sent: u64,
    /// Time the SYNs took.
    pub open_ms: u64,
    /// ACK segments sent within the window.
    pub frames_sent: u64,
    pub bytes_sent: u64,
    /// The window, as measured.
    pub elapsed_ms: u64,
    /// Frames per second of the window.
    pub rate_pps: f64,
    /// The `--rate` asked for; none for as fast as the kernel takes them.
    pub target_rate: Option<u64>,
    /// Frames the kernel refused.
    pub send_errors: u64,
    pub send_errors_by_errno: Counts,
}

/// Output of `ndtest count-rx`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountRxReport {
    pub ifname: String,
    /// Between the first and the last reading of the counters.
    pub elapsed_ms: u64,
    /// Frames received in that time (`statistics/rx_packets`).
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Frames the interface dropped on receipt.
    pub rx_dropped: u64,
    /// Frames per second over the whole time.
    pub pps: f64,
    pub interval_ms: u64,
    /// Frames received in each interval, in order.
    pub per_interval: Vec<u64>,
    /// The median frames per second of the intervals that received any: the steady rate of
    /// a stream that started late or ended early.
    pub median_active_pps: f64,
}

/// Output of `ndtest ps-serve`: rewritten to its statistics file while it runs, and printed
/// when it is stopped. Work is in work units; a request is in progress from the end of its
/// head to its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PsServeReport {
    /// The name its responses carry.
    pub name: String,
    /// The address it listened on.
    pub listen: String,
    /// Work units a second without external load.
    pub capacity: f64,
    /// Work units a second now, after external load took its share.
    pub speed: f64,
    /// When the figures were taken, in nanoseconds of `CLOCK_MONOTONIC` (one clock for
    /// every network namespace of a host).
    pub at_ns: u64,
    /// Connections accepted.
    pub accepted: u64,
    /// Requests that entered service.
    pub requests: u64,
    /// Requests answered when done.
    pub completed: u64,
    /// Requests whose client went (a reset) before they were done.
    pub cancelled: u64,
    /// Request heads that were not a request it serves, answered with 400.
    pub bad_requests: u64,
    /// Requests its schedule failed at once (an error status or a reset).
    #[serde(default)]
    pub failed_fast: u64,
    pub in_progress: u64,
    /// Seconds with at least one request in progress, since it started.
    pub busy_seconds: f64,
    /// Work units served since it started.
    pub work_done: f64,
    /// The mean number of requests in progress over the last second.
    pub load: f64,
    /// Failed accepts, reads, writes and file updates.
    pub errors: ErrorCounts,
}

/// Output of `ndtest workload`. Only requests that arrived within the measured window are
/// counted, except in the `warmup_` fields; response times are from each request's arrival
/// to the end of its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    pub to: String,
    /// The request size mix (`abcd` or `pareto`).
    pub mix: String,
    pub seed: u64,
    /// Mean arrivals a second.
    pub rate: f64,
    pub warmup_seconds: u64,
    /// The measured window.
    pub seconds: u64,
    pub concurrency_limit: u32,
    /// The measured window, in nanoseconds of `CLOCK_MONOTONIC`.
    pub window_start_ns: u64,
    pub window_end_ns: u64,
    /// Requests that arrived within the window, and the work units they asked for.
    pub scheduled: u64,
    pub work_scheduled: f64,
    pub started: u64,
    /// Completed, at any time before the drain deadline.
    pub completed: u64,
    pub failed: u64,
    /// Failures by phase and cause (`connect_refused`, `response_timeout`, ...).
    pub errors: ErrorCounts,
    /// Arrived but never started: the concurrency limit was reached until the window's end.
    pub unstarted: u64,
    /// Under way at the drain deadline, aborted.
    pub abandoned: u64,
    /// Most arrivals waiting at once for the concurrency limit.
    pub max_backlog: u64,
    /// Warm-up requests that completed, and that did not.
    pub warmup_completed: u64,
    pub warmup_failed: u64,
    /// From arrival to the end of the response, of every completed request.
    pub response_us: LatencySummary,
    /// From connect to the end of the response.
    pub service_us: LatencySummary,
    /// Completed requests by the server that answered them (the first word of the body).
    pub per_server: Counts,
    /// The response times in nanoseconds as histogram buckets (the bucket's largest value,
    /// count), for distributions that merge across runs.
    pub response_buckets: Vec<(u64, u64)>,
}

/// `from_json` and `to_json` for each report type.
macro_rules! json_report {
    ($($report:ty),+) => {
        $(
            impl $report {
                /// Parses the report from the JSON the subcommand printed.
                pub fn from_json(text: &str) -> serde_json::Result<Self> {
                    serde_json::from_str(text)
                }

                /// The report as one line of JSON.
                pub fn to_json(&self) -> String {
                    serde_json::to_string(self).expect("report serializes")
                }
            }
        )+
    };
}

json_report!(
    SinkReport,
    CrrReport,
    LatencyReport,
    StreamReport,
    InjectReport,
    CountRxReport,
    PsServeReport,
    WorkloadReport
);

/// Adds `n` occurrences of each kind in `from` to `into`.
pub fn add_counts(into: &mut Counts, from: &Counts) {
    for (kind, n) in from {
        *into.entry(kind.clone()).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let crr = CrrReport {
            to: "127.0.0.1:80".into(),
            concurrency: 8,
            completed: 100,
            rate: 50.0,
            errors: [("connect_refused".to_owned(), 2)].into(),
            failed: 2,
            latency_us: LatencySummary {
                count: 100,
                p50: 40,
                max: 90,
                ..LatencySummary::default()
            },
            ..CrrReport::default()
        };
        assert_eq!(CrrReport::from_json(&crr.to_json()).unwrap(), crr);
        let value: serde_json::Value = serde_json::from_str(&crr.to_json()).unwrap();
        assert_eq!(value["latency_us"]["p50"], 40);
        assert_eq!(value["errors"]["connect_refused"], 2);

        let inject = InjectReport {
            target_rate: Some(1000),
            ..InjectReport::default()
        };
        assert_eq!(InjectReport::from_json(&inject.to_json()).unwrap(), inject);
        let rx = CountRxReport {
            per_interval: vec![1, 2, 3],
            ..CountRxReport::default()
        };
        assert_eq!(CountRxReport::from_json(&rx.to_json()).unwrap(), rx);
    }

    #[test]
    fn counts_add_up() {
        let mut total: Counts = [("a".to_owned(), 1)].into();
        add_counts(
            &mut total,
            &[("a".to_owned(), 2), ("b".to_owned(), 3)].into(),
        );
        assert_eq!(total, [("a".to_owned(), 3), ("b".to_owned(), 3)].into());
    }
}
