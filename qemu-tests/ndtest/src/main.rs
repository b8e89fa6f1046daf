mod bench_cli;
mod evaluation_cli;

use clap::{CommandFactory, Parser, Subcommand};
use ndadm::model::MacAddr;
use ndtest::agent_garbage;
use ndtest::connect::{self, ConnectOptions};
use ndtest::fuzz_netlink::{self, FuzzOptions};
use ndtest::greeting::valid_server_name;
use ndtest::hold::{self, HoldOptions};
use ndtest::raw_packets::{self, frame::SourceRange, RawOptions, Traffic};
use ndtest::serve::{HttpFault, ServeMode, ServeOptions, Server};
use ndtest::wait_port::wait_for_port;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Traffic tool for the load balancer tests.
#[derive(Parser)]
#[command(name = "ndtest", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// TCP server: greets each connection with
    /// "NAME <peer_ip>:<peer_port> <local_ip>:<local_port>", then echoes
    /// until EOF; with --http, answers each HTTP request with 200 and that
    /// line as the body instead. Prints "listening ADDR:PORT" once bound;
    /// exits 0 on SIGTERM.
    Serve {
        #[arg(long, value_name = "ADDR:PORT")]
        listen: SocketAddr,
        /// Server name sent in the greeting (no whitespace).
        #[arg(long, value_parser = parse_server_name)]
        name: String,
        /// Delay before the greeting or response, to act as a slow server.
        #[arg(long, value_name = "N", default_value_t = 0)]
        delay_ms: u64,
        /// Speak HTTP/1.0 (a health endpoint for advisors) instead of greet-and-echo.
        #[arg(long)]
        http: bool,
        /// With --http, answer every request in this broken way.
        #[arg(long, value_enum, requires = "http")]
        fault: Option<HttpFault>,
    },
    /// Opens short connections (greeting, echo, close) and prints a JSON
    /// report; exits 0 whatever the outcome.
    Connect {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        #[arg(long, value_name = "N")]
        count: u32,
        /// Most connections open at once.
        #[arg(long, value_name = "K", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..))]
        parallel: u32,
        /// Limit for the handshake and for each read or write.
        #[arg(long, value_name = "T", default_value_t = 3000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// Connection i (from 0) uses source port P+i.
        #[arg(long, value_name = "P")]
        source_ports_from: Option<u16>,
        /// Connect from this address (one of the host's).
        #[arg(long, value_name = "ADDR")]
        source_address: Option<std::net::IpAddr>,
    },
    /// Opens long-lived connections, sends a numbered chunk on each every
    /// interval for the given time, checks the echo, and prints a JSON report.
    Hold {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        conns: u32,
        /// How long traffic runs once the connections are established.
        #[arg(long, value_name = "S")]
        seconds: u64,
        #[arg(long, value_name = "I", default_value_t = 200,
              value_parser = clap::value_parser!(u64).range(1..))]
        interval_ms: u64,
        /// Limit for the handshake and for each read or write.
        #[arg(long, value_name = "T", default_value_t = 5000,
              value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
        /// Created once every connection attempt has finished, before traffic
        /// starts; holds "established=K conns=N".
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
    },
    /// Runs the QEMU suite's scenarios (inside the test VM).
    Suite {
        /// Comma-separated scenario names; all when empty.
        #[arg(long, default_value = "")]
        only: String,
    },
    /// Runs the forwarding benchmark (inside the test VM): the Executor, IPVS and no
    /// balancer, interleaved; prints a table and the results as JSON.
    Benchmark {
        /// One short round instead of the full plan.
        #[arg(long)]
        quick: bool,
        /// Also writes the results, one line of JSON, to this file.
        #[arg(long, value_name = "PATH")]
        results: Option<PathBuf>,
    },
    /// Sends malformed administration requests to the nd module of this namespace and
    /// checks each is rejected (exit 1 if one is not).
    AdminProbe,
    /// Sends random, valid and mutated requests to the nd module of this
    /// namespace, one at a time, and prints a JSON report of how they were
    /// answered; exits 1 if, with --uid, a mutating request was accepted.
    FuzzNetlink {
        #[arg(long, value_name = "N")]
        count: u64,
        /// Seed of the request generator; a seed always draws the same requests.
        #[arg(long, value_name = "S")]
        seed: u64,
        /// Appends each accepted mutating request to FILE (hex, one a line)
        /// for replay-netlink.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Becomes this user (and group), without supplementary groups or
        /// capabilities, before opening any socket.
        #[arg(long, value_name = "UID")]
        uid: Option<u32>,
    },
    /// Resends the requests of a fuzz-netlink record file in order, each with
    /// NLM_F_ACK, and prints a JSON report; exits 1 if one was not acknowledged.
    ReplayNetlink {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Sends crafted Ethernet frames to the dispatcher through an AF_PACKET
    /// socket on IF (needs CAP_NET_RAW) and prints a JSON report.
    RawPackets {
        #[arg(long, value_name = "IF")]
        ifname: String,
        /// The dispatcher's MAC.
        #[arg(long, value_name = "MAC")]
        dst_mac: MacAddr,
        #[arg(long, value_name = "A.B.C.D")]
        vip: Ipv4Addr,
        /// The configured port of the cluster address.
        #[arg(long, value_name = "P")]
        port: u16,
        #[arg(long, value_name = "N")]
        count: u64,
        /// Seed of the frame generator; a seed always draws the same frames.
        #[arg(long, value_name = "S")]
        seed: u64,
        /// malformed: each frame one of many broken or unexpected kinds;
        /// synflood: valid SYNs from random clients.
        #[arg(long, value_enum)]
        kind: RawKind,
        /// Client addresses are drawn from this block.
        #[arg(long, value_name = "CIDR", default_value = "172.16.0.0/12")]
        sources: SourceRange,
        /// Frames per second; as fast as the kernel takes them without it.
        #[arg(long, value_name = "PPS", value_parser = clap::value_parser!(u64).range(1..))]
        rate: Option<u64>,
    },
    /// Sends datagrams to a Manager's agent port that are not valid reports, or are
    /// reports with extreme values, and prints a JSON report of what was sent.
    AgentGarbage {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        #[arg(long, value_name = "N")]
        count: u64,
        /// Seed of the datagram generator; a seed always draws the same datagrams.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// The metric name the datagrams speak of.
        #[arg(long, value_name = "NAME", default_value = "load")]
        metric: String,
        /// Pause between datagrams.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        gap_ms: u64,
    },
    /// Runs a command as another user, without capabilities.
    RunAs {
        #[arg(long)]
        uid: u32,
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Retries connecting until it succeeds (exit 0) or times out (exit 1).
    WaitPort {
        #[arg(long, value_name = "ADDR:PORT")]
        to: SocketAddr,
        #[arg(long, value_name = "T", default_value_t = 10000)]
        timeout_ms: u64,
    },
    #[command(flatten)]
    Bench(bench_cli::BenchCommand),
    #[command(flatten)]
    Evaluation(evaluation_cli::EvaluationCommand),
}

/// The frames `raw-packets` sends.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RawKind {
    Malformed,
    Synflood,
}

fn parse_server_name(name: &str) -> Result<String, String> {
    if valid_server_name(name) {
        Ok(name.to_owned())
    } else {
        Err("must be non-empty and without whitespace".to_owned())
    }
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    raise_open_file_limit();
    match command {
        Command::Serve {
            listen,
            name,
            delay_ms,
            http,
            fault,
        } => serve(ServeOptions {
            listen,
            name,
            greeting_delay: Duration::from_millis(delay_ms),
            mode: match (http, fault) {
                (true, Some(fault)) => ServeMode::BrokenHttp(fault),
                (true, None) => ServeMode::Http,
                (false, _) => ServeMode::GreetAndEcho,
            },
        }),
        Command::Connect {
            to,
            count,
            parallel,
            timeout_ms,
            source_ports_from,
            source_address,
        } => {
            if let Some(first) = source_ports_from {
                if !connect::source_ports_fit(first, count) {
                    Cli::command()
                        .error(
                            clap::error::ErrorKind::ValueValidation,
                            "--source-ports-from plus --count runs past port 65535",
                        )
                        .exit();
                }
            }
            let report = connect::run(&ConnectOptions {
                to,
                count,
                parallel,
                timeout: Duration::from_millis(timeout_ms),
                source_ports_from,
                source_address,
            });
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Command::Hold {
            to,
            conns,
            seconds,
            interval_ms,
            timeout_ms,
            ready_file,
        } => {
            let report = hold::run(&HoldOptions {
                to,
                conns,
                duration: Duration::from_secs(seconds),
                interval: Duration::from_millis(interval_ms),
                timeout: Duration::from_millis(timeout_ms),
                ready_file,
            });
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Command::Suite { only } => {
            if let Some(unknown) = only
                .split(',')
                .find(|n| !n.is_empty() && !ndtest::suite::names().any(|k| k == *n))
            {
                eprintln!("ndtest suite: no scenario named {unknown}");
                return ExitCode::from(2);
            }
            if ndtest::suite::run(&only) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::RunAs { uid, command } => run_as(uid, &command),
        Command::Benchmark { quick, results } => {
            let plan = if quick {
                ndtest::benchmark::Plan::smoke()
            } else {
                ndtest::benchmark::Plan::full()
            };
            match ndtest::benchmark::run_plan(&plan) {
                Ok(measured) => {
                    ndtest::benchmark::print(&measured);
                    if let Some(path) = results {
                        let json = serde_json::to_string(&measured).unwrap_or_default();
                        if let Err(e) = std::fs::write(&path, json + "\n") {
                            eprintln!("ndtest benchmark: {}: {e}", path.display());
                            return ExitCode::FAILURE;
                        }
                    }
                    println!("nd-bench: done");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("ndtest benchmark: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::AdminProbe => {
            if ndtest::admin_probe::run() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::FuzzNetlink {
            count,
            seed,
            record,
            uid,
        } => {
            let options = FuzzOptions {
                count,
                seed,
                record,
                uid,
            };
            print_report("fuzz-netlink", fuzz_netlink::run(&options), |report| {
                (report.to_json(), report.accepted_unprivileged.is_empty())
            })
        }
        Command::ReplayNetlink { file } => {
            print_report("replay-netlink", fuzz_netlink::replay(&file), |report| {
                (report.to_json(), report.failed == 0)
            })
        }
        Command::RawPackets {
            ifname,
            dst_mac,
            vip,
            port,
            count,
            seed,
            kind,
            sources,
            rate,
        } => {
            let traffic = match kind {
                RawKind::Malformed => Traffic::Malformed,
                RawKind::Synflood => Traffic::Synflood,
            };
            let options = RawOptions {
                ifname,
                dst_mac,
                vip,
                port,
                count,
                seed,
                traffic,
                sources,
                rate,
            };
            print_report("raw-packets", raw_packets::run(&options), |report| {
                (report.to_json(), true)
            })
        }
        Command::AgentGarbage {
            to,
            count,
            seed,
            metric,
            gap_ms,
        } => {
            let options = agent_garbage::GarbageOptions {
                to,
                count,
                seed,
                metric,
                gap: Duration::from_millis(gap_ms),
            };
            let result = agent_garbage::run(&options).map_err(|e| format!("{to}: {e}"));
            print_report("agent-garbage", result, |report| (report.to_json(), true))
        }
        Command::Bench(command) => bench_cli::run(command),
        Command::Evaluation(command) => evaluation_cli::run(command),
        Command::WaitPort { to, timeout_ms } => {
            if wait_for_port(to, Duration::from_millis(timeout_ms)) {
                ExitCode::SUCCESS
            } else {
                eprintln!("ndtest wait-port: {to} not accepting after {timeout_ms} ms");
                ExitCode::FAILURE
            }
        }
    }
}

/// Prints a subcommand's JSON report, or its error on stderr. `judge` gives the report's
/// JSON and whether it shows nothing wrong; the exit status is 0 only then.
fn print_report<R>(
    subcommand: &str,
    result: Result<R, String>,
    judge: impl FnOnce(&R) -> (String, bool),
) -> ExitCode {
    match result {
        Ok(report) => {
            let (json, clean) = judge(&report);
            println!("{json}");
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("ndtest {subcommand}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: ServeOptions) -> ExitCode {
    exit_zero_on_sigterm();
    let server = match Server::bind(&options) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("ndtest serve: cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        // Tells a caller that asked for port 0 which port it got.
        Ok(addr) => println!("listening {addr}"),
        Err(error) => {
            eprintln!("ndtest serve: {error}");
            return ExitCode::FAILURE;
        }
    }
    let error = server.run();
    eprintln!("ndtest serve: accept failed: {error}");
    ExitCode::FAILURE
}

/// Drops to `uid` (and its group) and executes `command`; returns only on failure.
fn run_as(uid: u32, command: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    if let Err(error) = ndtest::privileges::become_user(uid) {
        eprintln!("ndtest run-as: cannot become uid {uid}: {error}");
        return ExitCode::FAILURE;
    }
    let error = std::process::Command::new(&command[0])
        .args(&command[1..])
        .exec();
    eprintln!("ndtest run-as: {}: {error}", command[0]);
    ExitCode::FAILURE
}

/// Test scripts stop servers with SIGTERM and treat that as a normal end.
fn exit_zero_on_sigterm() {
    extern "C" fn exit_zero(_signal: libc::c_int) {
        // Only async-signal-safe calls are allowed here.
        unsafe { libc::_exit(0) }
    }
    let handler: extern "C" fn(libc::c_int) = exit_zero;
    // SAFETY: installs a handler that only calls _exit.
    unsafe {
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

/// Hundreds of connections need more descriptors than the usual soft limit
/// of 1024; the hard limit is as far as an unprivileged raise can go.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
