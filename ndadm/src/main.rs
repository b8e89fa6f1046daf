//! `ndadm`: the command-line administration tool of the Network Dispatcher Executor.

mod apply;
mod args;
mod cmd;
mod output;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use cmd::{Cli, Failure};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(usage) = cli.validate() {
        usage.exit();
    }
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`ndadm conn show | head`) is not a failure.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("ndadm: {failure}");
            ExitCode::from(1)
        }
    }
}
