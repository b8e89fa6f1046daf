//! What the daemons do around their work: their common options, the pid file, the runtime,
//! and the exit status.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::logging::LogFormat;
use tracing::error;

/// The options every daemon takes (`nd-manager`, `nd-syncd`).
#[derive(Clone, Debug, clap::Args)]
pub struct DaemonArgs {
    /// The configuration file.
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Only check the configuration: exit 0 if it is valid, 1 if not.
    #[arg(long)]
    pub check: bool,
    /// Write the process id to this file once running; it is removed on a clean stop.
    #[arg(long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// How log lines are written.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Writes the pid file whole or not at all, so that a reader never sees it half written.
pub fn write_pid_file(path: &Path) -> Result<(), String> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{}\n", std::process::id()))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("cannot write the pid file {}: {e}", path.display()))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_holds_the_process_id_and_nothing_half_written_is_left() {
        let dir = std::env::temp_dir().join(format!("nd-pid-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("daemon.pid");
        write_pid_file(&path).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, format!("{}\n", std::process::id()));
        assert!(!dir.join("daemon.pid.partial").exists());
        let unwritable = dir.join("missing").join("daemon.pid");
        let error = write_pid_file(&unwritable).unwrap_err();
        assert!(error.contains("cannot write the pid file"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
