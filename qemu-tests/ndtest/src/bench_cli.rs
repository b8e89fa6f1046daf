//! The benchmark subcommands: their arguments, and how each runs and reports.

use clap::Subcommand;
use ndadm::model::MacAddr;
use ndtest::atomic_file::write_atomically;
use ndtest::bench::count_rx::{self, CountRxOptions};
use ndtest::bench::crr::{self, CrrOptions};
use ndtest::bench::inject::{self, InjectOptions, MAX_PAYLOAD};
use ndtest::bench::latency::{self, LatencyOptions, MAX_RATE};
use ndtest::bench::sink::{Sink, SinkMode, SinkOptions};
use ndtest::bench::stream::{self, StreamOptions, MAX_SEGMENT};
use ndtest::bench::termination::{block_termination_signals, serve_until_terminated};
use ndtest::raw_packets::frame::SourceRange;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Longest window: a day.
const MAX_SECONDS: u64 = 86_400;
/// Most connections or transactions under way at once.
const MAX_CONNECTIONS: u32 = 1_000_000;
/// Most event-loop threads.
const MAX_THREADS: u32 = 64;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Benchmark server: epoll event loops serving many connections each. Prints
    /// "listening ADDR:PORT" once bound; on SIGTERM or SIGINT prints a JSON report of what
    /// it received and sent, and exits 0.
    #[command(name = "bench-sink")]
    Sink {
        #[arg(long, value_name = "ADDR:PORT")]
        listen: SocketAddr,
        /// discard: read and drop; echo: send back; http: answer one request head with a
        /// small 200 response, then close first.
        #[arg(long, value_enum, default_value = "discard")]
        mode: SinkModeArg,
        /// Event-loop threads sharing the listener.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_THREADS)))]
        threads: u32,
        /// Also writes the final report to this file.
        #[arg(long, value_name = "PATH")]
        report_file: Option<PathBuf>,
    },
    /// Closed-loop connect/request/response/close against an HTTP server (such as
    /// bench-sink --mode http) from N concurrent places; prints a JSON report.
    #[command(name = "bench-crr")]
    Crr {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        /// Transactions under way at once.
        #[arg(long, value_name = "N", value_parser = connections)]
        concurrency: u32,
        /// The measured window.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// Event-loop threads sharing the concurrency.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_THREADS)))]
        threads: u32,
        /// A transaction not done this long after its connect fails.
        #[arg(long, value_name = "MS", default_value_t = 5000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// How long transactions under way at the end of the window may finish.
        #[arg(long, value_name = "MS", default_value_t = 2000)]
        drain_ms: u64,
    },
    /// Open-loop transactions started at a fixed rate whatever the completions, each
    /// timed from its scheduled start; prints a JSON report.
    #[command(name = "bench-latency")]
    Latency {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        /// Transactions started per second.
        #[arg(long, value_name = "R",
              value_parser = clap::value_parser!(u64).range(1..=MAX_RATE))]
        rate: u64,
        /// The window in which transactions start.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// Most transactions under way at once; due ones wait beyond it.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = connections)]
        concurrency_limit: u32,
        /// A transaction not done this long after its connect fails.
        #[arg(long, value_name = "MS", default_value_t = 5000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// How long transactions under way at the end of the window may finish.
        #[arg(long, value_name = "MS", default_value_t = 2000)]
        drain_ms: u64,
    },
    /// Long-lived connections to a discarding sink writing small segments with Nagle off
    /// as fast as the sockets take them; prints a JSON report.
    #[command(name = "bench-stream")]
    Stream {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        #[arg(long, value_name = "N", value_parser = connections)]
        conns: u32,
        /// The window during which connections write.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// Bytes per write.
        #[arg(long, value_name = "BYTES",
              value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SEGMENT)))]
        segment: u32,
        /// Event-loop threads sharing the connections.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_THREADS)))]
        threads: u32,
        /// Limit for establishing the connections.
        #[arg(long, value_name = "MS", default_value_t = 5000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// How long the sink has after the window to read the rest and close.
        #[arg(long, value_name = "MS", default_value_t = 2000)]
        drain_ms: u64,
    },
    /// Sends TCP frames of many flows to the balancer's MAC through an AF_PACKET socket on
    /// IF (needs CAP_NET_RAW): with --open one SYN per flow first, then ACK segments cycling
    /// through the flows; prints a JSON report.
    #[command(name = "bench-inject")]
    Inject {
        /// The interface to send on.
        #[arg(long, value_name = "IF")]
        ifname: String,
        /// The balancer's MAC.
        #[arg(long, value_name = "MAC")]
        dst_mac: MacAddr,
        /// Source MAC of the frames.
        #[arg(long, value_name = "MAC", conflicts_with = "src_mac_auto")]
        src_mac: Option<MacAddr>,
        /// Take the source MAC from IF (the default).
        #[arg(long)]
        src_mac_auto: bool,
        /// The cluster address.
        #[arg(long, value_name = "A.B.C.D")]
        vip: Ipv4Addr,
        /// The configured port of the cluster address.
        #[arg(long, value_name = "P")]
        port: u16,
        /// Distinct client (address, port) pairs.
        #[arg(long, value_name = "F",
              value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
        flows: u64,
        /// How long ACK segments are sent.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// ACK frames per second; as fast as the kernel takes them without it.
        #[arg(long, value_name = "PPS", value_parser = clap::value_parser!(u64).range(1..))]
        rate: Option<u64>,
        /// Send one SYN per flow first, so that the balancer enters every flow.
        #[arg(long)]
        open: bool,
        /// SYNs per second; as fast as the kernel takes them without it. A SYN the path
        /// drops leaves its flow out of the balancer's table, so that its ACKs are dropped
        /// too: pace the SYNs below what the balancer takes.
        #[arg(long, value_name = "PPS", requires = "open",
              value_parser = clap::value_parser!(u64).range(1..))]
        open_rate: Option<u64>,
        /// Client addresses are taken in order from this block.
        #[arg(long, value_name = "CIDR", default_value = "172.16.0.0/12")]
        sources: SourceRange,
        /// Payload bytes of each ACK segment.
        #[arg(long, value_name = "BYTES", default_value_t = 16,
              value_parser = clap::value_parser!(u16).range(0..=i64::from(MAX_PAYLOAD)))]
        payload: u16,
    },
    /// Counts the frames IF receives, from its statistics in sysfs read every interval;
    /// prints a JSON report.
    CountRx {
        /// The interface whose received frames are counted.
        #[arg(long, value_name = "IF")]
        ifname: String,
        /// How long to count.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// How often to read the counters.
        #[arg(long, value_name = "MS", default_value_t = 100,
              value_parser = clap::value_parser!(u64).range(1..))]
        interval_ms: u64,
        /// Created once counting has started, holding "counting IF".
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
    },
}

/// What the sink does with a connection's bytes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SinkModeArg {
    Discard,
    Echo,
    Http,
}

fn connections(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n @ 1..=MAX_CONNECTIONS) => Ok(n),
        _ => Err(format!("must be a number from 1 to {MAX_CONNECTIONS}")),
    }
}

fn window_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n @ 1..=MAX_SECONDS) => Ok(n),
        _ => Err(format!(
            "must be a whole number of seconds from 1 to {MAX_SECONDS}"
        )),
    }
}

/// Prints a benchmark's JSON report and exits 0, or its error and exits 1.
fn print_report(subcommand: &str, result: Result<String, String>) -> ExitCode {
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ndtest {subcommand}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a benchmark subcommand.
pub fn run(command: BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Sink {
            listen,
            mode,
            threads,
            report_file,
        } => {
            let mode = match mode {
                SinkModeArg::Discard => SinkMode::Discard,
                SinkModeArg::Echo => SinkMode::Echo,
                SinkModeArg::Http => SinkMode::Http,
            };
            let options = SinkOptions {
                listen,
                mode,
                threads,
            };
            print_report("bench-sink", sink(&options, report_file.as_deref()))
        }
        BenchCommand::Crr {
            to,
            concurrency,
            seconds,
            threads,
            timeout_ms,
            drain_ms,
        } => {
            let options = CrrOptions {
                to,
                concurrency,
                threads,
                duration: Duration::from_secs(seconds),
                timeout: Duration::from_millis(timeout_ms),
                drain: Duration::from_millis(drain_ms),
            };
            print_report("bench-crr", crr::run(&options).map(|r| r.to_json()))
        }
        BenchCommand::Latency {
            to,
            rate,
            seconds,
            concurrency_limit,
            timeout_ms,
            drain_ms,
        } => {
            let options = LatencyOptions {
                to,
                rate,
                duration: Duration::from_secs(seconds),
                concurrency_limit,
                timeout: Duration::from_millis(timeout_ms),
                drain: Duration::from_millis(drain_ms),
            };
            print_report("bench-latency", latency::run(&options).map(|r| r.to_json()))
        }
        BenchCommand::Stream {
            to,
            conns,
            seconds,
            segment,
            threads,
            timeout_ms,
            drain_ms,
        } => {
            let options = StreamOptions {
                to,
                conns,
                threads,
                duration: Duration::from_secs(seconds),
                segment,
                connect_timeout: Duration::from_millis(timeout_ms),
                drain: Duration::from_millis(drain_ms),
            };
            print_report("bench-stream", stream::run(&options).map(|r| r.to_json()))
        }
        BenchCommand::Inject {
            ifname,
            dst_mac,
            src_mac,
            src_mac_auto: _,
            vip,
            port,
            flows,
            seconds,
            rate,
            open,
            open_rate,
            sources,
            payload,
        } => {
            let options = InjectOptions {
                ifname,
                dst_mac: dst_mac.0,
                src_mac: src_mac.map(|mac| mac.0),
                vip,
                port,
                sources,
                flows,
                duration: Duration::from_secs(seconds),
                rate,
                open,
                open_rate,
                payload,
            };
            print_report("bench-inject", inject::run(&options).map(|r| r.to_json()))
        }
        BenchCommand::CountRx {
            ifname,
            seconds,
            interval_ms,
            ready_file,
        } => {
            let options = CountRxOptions {
                ifname,
                duration: Duration::from_secs(seconds),
                interval: Duration::from_millis(interval_ms),
                ready_file,
            };
            print_report("count-rx", count_rx::run(&options).map(|r| r.to_json()))
        }
    }
}

/// Serves until SIGTERM or SIGINT; the report's JSON.
fn sink(options: &SinkOptions, report_file: Option<&Path>) -> Result<String, String> {
    // Before any thread starts, so that every thread inherits the mask and the signal waits
    // for the one thread that takes it.
    block_termination_signals().map_err(|e| format!("cannot block signals: {e}"))?;
    let sink =
        Sink::bind(options).map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let addr = sink.local_addr().map_err(|e| e.to_string())?;
    // Tells a caller that asked for port 0 which port it got.
    println!("listening {addr}");
    let report = serve_until_terminated("ndtest bench-sink", |stop| sink.serve(stop))?;
    let json = report.to_json();
    if let Some(path) = report_file {
        write_atomically(path, &json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(json)
}
