//! The load-sharing evaluation's subcommands: the emulated server, the request mix, and the
//! driver that runs them in the VM.

use clap::Subcommand;
use nd_load_model::workload::SizeMix;
use ndtest::bench::ps_emulation::MAX_BUSY_FRACTION;
use ndtest::bench::ps_schedule::{Failure, Schedule, Timed, Window};
use ndtest::bench::ps_serve::{PsServeOptions, PsServer};
use ndtest::bench::termination::{block_termination_signals, serve_until_terminated};
use ndtest::bench::workload::{self, WorkloadOptions, MAX_RATE};
use ndtest::greeting::valid_server_name;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Longest window: a day.
const MAX_SECONDS: u64 = 86_400;
/// The largest capacity, in work units a second.
const MAX_CAPACITY: f64 = 1e9;

#[derive(Subcommand)]
pub enum EvaluationCommand {
    /// Emulated HTTP/1.0 server: a processor-sharing server of CAPACITY work units a second.
    /// `GET /work/N` is answered once it has had N units of service, every request in
    /// progress sharing the capacity equally; any other path costs 1 unit. Answers are 200
    /// with the body "NAME UNITS". Prints "listening ADDR:PORT" once bound; on SIGTERM or
    /// SIGINT prints a JSON report and exits 0.
    PsServe {
        #[arg(long, value_name = "ADDR:PORT")]
        listen: SocketAddr,
        /// The name that starts every answer's body (no whitespace).
        #[arg(long, value_parser = server_name)]
        name: String,
        /// Work units a second.
        #[arg(long, value_name = "UNITS_PER_SECOND", value_parser = capacity)]
        capacity: f64,
        /// The share of the capacity external load takes (0 to 0.99).
        #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = busy_fraction)]
        busy_fraction: f64,
        /// A file read every 200 ms whose number (0 to 1) replaces --busy-fraction while
        /// it is there.
        #[arg(long, value_name = "PATH")]
        busy_file: Option<PathBuf>,
        /// Rewritten every 200 ms with the load: the mean number of requests in progress
        /// over the last second (for an nd-agent to `cat`).
        #[arg(long, value_name = "PATH")]
        load_file: Option<PathBuf>,
        /// Rewritten every 200 ms with the statistics, as the JSON report.
        #[arg(long, value_name = "PATH")]
        stats_file: Option<PathBuf>,
        /// The instant (nanoseconds of CLOCK_MONOTONIC) the schedule's times count from;
        /// by default the server's start.
        #[arg(long, value_name = "NS")]
        schedule_epoch_ns: Option<u64>,
        /// From FROM seconds (to UNTIL) the speed is FACTOR times the capacity; repeatable,
        /// overlapping factors multiply. E.g. `30:0.5`.
        #[arg(long, value_name = "FROM[-UNTIL]:FACTOR", value_parser = speed_step)]
        capacity_schedule: Vec<Timed>,
        /// From FROM to UNTIL seconds work the balancer does not see takes SHARE (0 to 0.99)
        /// of the speed, and the load file counts it as one more task; repeatable.
        #[arg(long, value_name = "FROM[-UNTIL]:SHARE", value_parser = external_load)]
        external_load: Vec<Timed>,
        /// Fails every request at once, with this HTTP status (400 to 599) or `reset`.
        #[arg(long, value_name = "STATUS|reset", value_parser = Failure::parse)]
        fail_with: Option<Failure>,
        /// When --fail-with holds, in seconds of the schedule.
        #[arg(long, value_name = "FROM[-UNTIL]", default_value = "0", value_parser = Window::parse,
              requires = "fail_with")]
        fail_during: Window,
    },
    /// Open-loop requests: Poisson arrivals at R a second, each `GET /work/UNITS` with UNITS
    /// drawn from the mix, timed from its arrival; prints a JSON report.
    Workload {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        /// Mean arrivals a second.
        #[arg(long, value_name = "R", value_parser = rate)]
        rate: f64,
        /// The measured window.
        #[arg(long, value_name = "S", value_parser = window_seconds)]
        seconds: u64,
        /// Arrivals before the measured window, sent but not measured.
        #[arg(long, value_name = "S", default_value_t = 0,
              value_parser = clap::value_parser!(u64).range(0..=MAX_SECONDS))]
        warmup_seconds: u64,
        /// abcd: 1, 10, 100 and 1000 units (each 0.5 to 1.5 times) for 60, 30, 9 and 1% of
        /// the requests; pareto: Pareto of shape 1.5 with the same mean (22.6 units).
        #[arg(long, value_enum, default_value = "abcd")]
        mix: MixArg,
        /// Seed of the arrivals and sizes; a seed always gives the same requests.
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Most requests under way at once; arrivals wait beyond it.
        #[arg(long, value_name = "N", default_value_t = 2000,
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        concurrency_limit: u32,
        /// A request not done this long after its connect fails.
        #[arg(long, value_name = "MS", default_value_t = 30_000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// How long requests under way at the end of the window may finish.
        #[arg(long, value_name = "MS", default_value_t = 30_000)]
        drain_ms: u64,
    },
    /// Runs the load-sharing evaluation (inside the test VM): emulated servers of unequal
    /// capacities, the request mix near capacity, and each policy in turn; prints a table
    /// and the results as JSON.
    Evaluate {
        /// A short version of the plan, to see that it works.
        #[arg(long)]
        quick: bool,
        /// Also writes the results, one line of JSON, to this file.
        #[arg(long, value_name = "PATH")]
        results: Option<PathBuf>,
    },
}

/// The request size mix.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MixArg {
    Abcd,
    Pareto,
}

fn server_name(text: &str) -> Result<String, String> {
    if valid_server_name(text) {
        Ok(text.to_owned())
    } else {
        Err("must be non-empty and without whitespace".to_owned())
    }
}

/// A finite number in `low..=high`.
fn number_in(text: &str, low: f64, high: f64, low_open: bool) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| "not a number".to_owned())?;
    let above_low = if low_open { value > low } else { value >= low };
    if value.is_finite() && above_low && value <= high {
        Ok(value)
    } else {
        let bracket = if low_open { "above" } else { "from" };
        Err(format!("must be {bracket} {low} and at most {high}"))
    }
}

fn capacity(text: &str) -> Result<f64, String> {
    number_in(text, 0.0, MAX_CAPACITY, true)
}

fn busy_fraction(text: &str) -> Result<f64, String> {
    number_in(text, 0.0, MAX_BUSY_FRACTION, false)
}

/// The largest speed factor of a schedule.
const MAX_SPEED_FACTOR: f64 = 100.0;

fn speed_step(text: &str) -> Result<Timed, String> {
    Timed::parse(text, 0.0, MAX_SPEED_FACTOR, true)
}

fn external_load(text: &str) -> Result<Timed, String> {
    Timed::parse(text, 0.0, MAX_BUSY_FRACTION, false)
}

fn rate(text: &str) -> Result<f64, String> {
    number_in(text, 0.0, MAX_RATE, true)
}

fn window_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n @ 1..=MAX_SECONDS) => Ok(n),
        _ => Err(format!(
            "must be a whole number of seconds from 1 to {MAX_SECONDS}"
        )),
    }
}

/// Prints a JSON report and exits 0, or the error and exits 1.
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

/// Runs an evaluation subcommand.
pub fn run(command: EvaluationCommand) -> ExitCode {
    match command {
        EvaluationCommand::PsServe {
            listen,
            name,
            capacity,
            busy_fraction,
            busy_file,
            load_file,
            stats_file,
            schedule_epoch_ns,
            capacity_schedule,
            external_load,
            fail_with,
            fail_during,
        } => {
            let options = PsServeOptions {
                listen,
                name,
                capacity,
                busy_fraction,
                busy_file,
                load_file,
                stats_file,
                schedule: Schedule {
                    epoch_ns: schedule_epoch_ns,
                    capacity: capacity_schedule,
                    external_load,
                    failure: fail_with.map(|failure| (failure, fail_during)),
                },
            };
            print_report("ps-serve", ps_serve(&options))
        }
        EvaluationCommand::Workload {
            to,
            rate,
            seconds,
            warmup_seconds,
            mix,
            seed,
            concurrency_limit,
            timeout_ms,
            drain_ms,
        } => {
            let options = WorkloadOptions {
                to,
                rate,
                warmup: Duration::from_secs(warmup_seconds),
                duration: Duration::from_secs(seconds),
                mix: match mix {
                    MixArg::Abcd => SizeMix::Classes,
                    MixArg::Pareto => SizeMix::Pareto,
                },
                seed,
                concurrency_limit,
                timeout: Duration::from_millis(timeout_ms),
                drain: Duration::from_millis(drain_ms),
            };
            print_report("workload", workload::run(&options).map(|r| r.to_json()))
        }
        EvaluationCommand::Evaluate { quick, results } => {
            let plan = if quick {
                ndtest::evaluation::Plan::quick()
            } else {
                ndtest::evaluation::Plan::full()
            };
            match ndtest::evaluation::run_plan(&plan) {
                Ok(measured) => {
                    ndtest::evaluation::print(&measured);
                    if let Some(path) = results {
                        let json = serde_json::to_string(&measured).unwrap_or_default();
                        if let Err(e) = std::fs::write(&path, json + "\n") {
                            eprintln!("ndtest evaluate: {}: {e}", path.display());
                            return ExitCode::FAILURE;
                        }
                    }
                    println!("nd-evaluate: done");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("ndtest evaluate: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Serves until SIGTERM or SIGINT; the final report's JSON.
fn ps_serve(options: &PsServeOptions) -> Result<String, String> {
    // Before any thread starts, so that every thread inherits the mask.
    block_termination_signals().map_err(|e| format!("cannot block signals: {e}"))?;
    let server =
        PsServer::bind(options).map_err(|e| format!("cannot serve on {}: {e}", options.listen))?;
    let addr = server.local_addr();
    // Tells a caller that asked for port 0 which port it got.
    println!("listening {addr}");
    let report = serve_until_terminated("ndtest ps-serve", |stop| server.serve(stop))?;
    Ok(report.to_json())
}
