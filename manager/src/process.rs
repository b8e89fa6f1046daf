//! What both binaries do around their work: the runtime, and the exit status.

use std::future::Future;
use std::process::ExitCode;

use tracing::error;

/// Runs `work` on a single-threaded runtime (netlink requests and commands use tokio's
/// blocking pool and child reaper, not this thread) and turns its outcome into the exit
/// status, logging the error that ended it.
pub fn run(work: impl Future<Output = Result<(), String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            ExitCode::FAILURE
        }
    }
}
