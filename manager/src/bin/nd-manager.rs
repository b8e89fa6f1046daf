//! `nd-manager`: the Network Dispatcher Manager daemon.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use nd_manager::config::Config;
use nd_manager::daemon::Daemon;
use nd_manager::executor::NetlinkExecutor;
use nd_manager::logging;
use nd_manager::process::{self, write_pid_file, DaemonArgs};
use nd_manager::shutdown;
use nd_manager::signals::{Request, Signals};
use tokio::sync::mpsc;
use tracing::info;

/// Sets the Executor's server weights from the servers' measured load.
///
/// SIGHUP reloads the configuration (an invalid one is refused and the old one kept);
/// SIGTERM and SIGINT stop the daemon, leaving the last weights in place.
#[derive(Parser)]
#[command(name = "nd-manager", version)]
struct Cli {
    #[command(flatten)]
    daemon: DaemonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse().daemon;
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

async fn serve(cli: &DaemonArgs) -> Result<(), String> {
    let config = Config::load(&cli.config).map_err(|e| e.to_string())?;
    let mut signals = Signals::install().map_err(|e| format!("signal handlers: {e}"))?;
    let (trigger, shutdown) = shutdown::channel();
    let executor = Arc::new(NetlinkExecutor::new());
    let daemon = Daemon::start(cli.config.clone(), config, executor, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &cli.pid_file {
        write_pid_file(path)?;
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
