//! `nd-syncd`: the Network Dispatcher sync daemon.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use nd_manager::logging;
use nd_manager::process::{self, write_pid_file, DaemonArgs};
use nd_manager::shutdown;
use nd_manager::signals::{Request, Signals};
use nd_syncd::config::Config;
use nd_syncd::daemon::Daemon;
use nd_syncd::executor::NetlinkExecutor;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Relays the active Executor's connection table to the standby's, and its weights.
///
/// SIGHUP reloads the timings (an invalid file is refused and the old one kept); SIGTERM
/// and SIGINT stop the daemon. Neither touches the Executor's table or role.
#[derive(Parser)]
#[command(name = "nd-syncd", version)]
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
                    "{}: valid (node {}, listening on {}, peer {})",
                    cli.config.display(),
                    config.node,
                    config.listen,
                    config.peer
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nd-syncd: {e}");
                ExitCode::FAILURE
            }
        };
    }
    logging::init(cli.log_format);
    process::run(serve(&cli))
}

async fn serve(cli: &DaemonArgs) -> Result<(), String> {
    let mut config = Config::load(&cli.config).map_err(|e| e.to_string())?;
    let mut signals = Signals::install().map_err(|e| format!("signal handlers: {e}"))?;
    let (trigger, shutdown) = shutdown::channel();
    let daemon = Daemon::bind(config.clone(), Arc::new(NetlinkExecutor::new()), shutdown)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    if let Some(path) = &cli.pid_file {
        write_pid_file(path)?;
    }
    let (reload, reloads) = mpsc::channel(1);
    let running = tokio::spawn(daemon.run(reloads));
    while signals.next().await == Request::Reload {
        info!("SIGHUP: reloading {}", cli.config.display());
        match Config::load(&cli.config) {
            Err(e) => warn!("reload refused, going on with the previous configuration: {e}"),
            Ok(new) => {
                let fixed = config.needs_restart(&new);
                if !fixed.is_empty() {
                    warn!(
                        "{} changed: that takes a restart; reloading only the timings",
                        fixed.join(", ")
                    );
                }
                let _ = reload.try_send(new.timings);
                config.timings = new.timings;
            }
        }
    }
    trigger.trigger();
    let stopped = running.await;
    if let Some(path) = &cli.pid_file {
        let _ = std::fs::remove_file(path);
    }
    stopped.map_err(|e| format!("the daemon failed: {e}"))
}
