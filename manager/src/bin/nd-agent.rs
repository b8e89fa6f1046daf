//! `nd-agent`: reports a server's host metrics to the Network Dispatcher Manager.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nd_manager::agent::{self, AgentConfig};
use nd_manager::logging::{self, LogFormat};
use nd_manager::signals::{Request, Signals};
use nd_manager::{process, shutdown};

/// Runs each configured command every period and sends the values to the Manager.
///
/// SIGTERM and SIGINT stop it.
#[derive(Parser)]
#[command(name = "nd-agent", version)]
struct Cli {
    /// The configuration file.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Only check the configuration: exit 0 if it is valid, 1 if not.
    #[arg(long)]
    check: bool,
    /// Send one report, print it as JSON on standard output, and exit.
    #[arg(long, conflicts_with = "check")]
    once: bool,
    /// How log lines are written.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match AgentConfig::load(&cli.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("nd-agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.check {
        println!(
            "{}: valid ({} metrics)",
            cli.config.display(),
            config.metrics.len()
        );
        return ExitCode::SUCCESS;
    }
    logging::init(cli.log_format);
    process::run(async {
        let reported = if cli.once {
            report_once(&config).await
        } else {
            run_until_stopped(config).await
        };
        reported.map_err(|e| e.to_string())
    })
}

/// Sends one report and prints it.
async fn report_once(config: &AgentConfig) -> io::Result<()> {
    let socket = agent::connect(config).await?;
    let report = agent::report_once(config, &socket).await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Reports every period until SIGTERM or SIGINT.
async fn run_until_stopped(config: AgentConfig) -> io::Result<()> {
    let mut signals = Signals::install()?;
    let (trigger, shutdown) = shutdown::channel();
    let running = tokio::spawn(agent::run(config, shutdown));
    // SIGHUP has nothing to reload here; it is just not fatal.
    while signals.next().await != Request::Stop {}
    trigger.trigger();
    running.await?
}
