//! `nd-manager`: the Network Dispatcher Manager daemon.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use nd_manager::config::Config;
use nd_manager::daemon::Daemon;
use nd_manager::executor::NetlinkExecutor;
use nd_manager::logging::{self, LogFormat};
use nd_manager::signals::{Request, Signals};
use nd_manager::{process, shutdown};
use tokio::sync::mpsc;
use tracing::info;

/// Sets the Executor's server weights from the servers' measured load.
///
/// SIGHUP reloads the configuration (an invalid one is refused and the old one kept);
/// SIGTERM and SIGINT stop the daemon, leaving the last weights in place.
#[derive(Parser)]
#[command(name = "nd-manager", version)]
struct Cli {
    /// The configuration file.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Only check the configuration: exit 0 if it is valid, 1 if not.
    #[arg(long)]
    check: bool,
    /// Write the process id to this file once running; it is removed on a clean stop.
    #[arg(long, value_name = "PATH")]
    pid_file: Option<PathBuf>,
    /// How log lines are written.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.check {
        return match Config::load(&cli.config) {
            Ok(config) => {
                println!(
                    "{}: valid ({} services, {} servers)",
                    cli.config.display(),
                    config.services.len(),
                    config.managed_servers().len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nd-manager: {e}");
                ExitCode::FAILURE
            }
        };
    }
    logging::init(cli.log_format);
    process::run(serve(&cli))
}

async fn serve(cli: &Cli) -> Result<(), String> {
    let config = Config::load(&cli.config).map_err(|e| e.to_string())?;
    let mut signals = Signals::install().map_err(|e| format!("signal handlers: {e}"))?;
    let (trigger, shutdown) = shutdown::channel();
    let executor = Arc::new(NetlinkExecutor::new());
    let daemon = Daemon::start(cli.config.clone(), config, executor, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &cli.pid_file {
        write_pid(path)?;
    }
    let (reload, reloads) = mpsc::channel(1);
    let running = tokio::spawn(daemon.run(reloads));
    while signals.next().await == Request::Reload {
        info!("SIGHUP: reloading {}", cli.config.display());
        // One pending reload reads the file as it is then; more add nothing.
        let _ = reload.try_send(());
    }
    trigger.trigger();
    let stopped = running.await;
    if let Some(path) = &cli.pid_file {
        let _ = std::fs::remove_file(path);
    }
    stopped.map_err(|e| format!("the daemon failed: {e}"))
}

/// Writes the pid file whole or not at all, so that a reader never sees it half written.
fn write_pid(path: &Path) -> Result<(), String> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{}\n", std::process::id()))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("cannot write the pid file {}: {e}", path.display()))
}
