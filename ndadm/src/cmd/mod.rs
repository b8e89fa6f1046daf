//! The command line: `ndadm [-j] OBJECT COMMAND ...`, one file per object.

mod affinity;
mod apply;
mod config;
mod conn;
mod flush;
mod ha;
mod info;
mod port;
mod server;
mod show;
mod vip;
mod weights;

use std::io;

use clap::{CommandFactory, Parser, Subcommand};
use ndadm::client::{self, Client};

use crate::output::Output;

pub use affinity::AffinityCommand;
pub use apply::ApplyArgs;
pub use config::ConfigCommand;
pub use conn::ConnCommand;
pub use ha::HaCommand;
pub use port::PortCommand;
pub use server::ServerCommand;
pub use show::ShowArgs;
pub use vip::VipCommand;
pub use weights::WeightsCommand;

/// Administer the Network Dispatcher Executor (the nd kernel module).
#[derive(Debug, Parser, PartialEq)]
#[command(name = "ndadm", version, propagate_version = true)]
pub struct Cli {
    /// Print JSON instead of tables
    #[arg(short, long, global = true, display_order = 900)]
    pub json: bool,
    /// Indent JSON output
    #[arg(short, long, global = true, display_order = 901)]
    pub pretty: bool,
    /// What to act on
    #[command(subcommand)]
    pub object: Object,
}

/// The objects `ndadm` administers.
#[derive(Debug, Subcommand, PartialEq)]
pub enum Object {
    /// Cluster addresses (VIPs)
    #[command(subcommand)]
    Vip(VipCommand),
    /// Ports of cluster addresses
    #[command(subcommand)]
    Port(PortCommand),
    /// Servers behind ports
    #[command(subcommand)]
    Server(ServerCommand),
    /// Weights of all servers of a port at once
    #[command(subcommand)]
    Weights(WeightsCommand),
    /// The connection table
    #[command(subcommand)]
    Conn(ConnCommand),
    /// Clients bound to servers by their ports' affinity
    #[command(subcommand)]
    Affinity(AffinityCommand),
    /// Connection timeouts and the bounds of the connection and affinity tables
    #[command(subcommand)]
    Config(ConfigCommand),
    /// High availability: the role of this Executor and its synchronisation with the peer
    #[command(subcommand)]
    Ha(HaCommand),
    /// Module protocol version, connection count and limit, drop counters
    Info,
    /// The whole configuration: VIPs, their ports and servers
    Show(ShowArgs),
    /// Remove every VIP and connection
    Flush,
    /// Make the configuration match a TOML file
    Apply(ApplyArgs),
}

/// Why a command failed after its arguments were accepted.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The module or the netlink socket failed.
    #[error("{0}")]
    Client(#[from] client::Error),
    /// `apply` could not use its file.
    #[error("{0}")]
    Apply(#[from] crate::apply::ApplyError),
    /// Standard output failed.
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

impl Cli {
    /// Checks what the argument parsers cannot see one value at a time; the error exits with
    /// status 2 like any usage error, with the usage of the offending subcommand.
    pub fn validate(&self) -> Result<(), clap::Error> {
        let (path, problem) = match &self.object {
            Object::Weights(command) => (["weights", "set"], command.validate()),
            _ => return Ok(()),
        };
        problem.map_err(|message| {
            let mut command = Cli::command();
            command.build();
            let subcommand = path
                .iter()
                .try_fold(&mut command, |command, name| {
                    command.find_subcommand_mut(name)
                })
                .expect("the path names existing subcommands");
            subcommand.error(clap::error::ErrorKind::ValueValidation, message)
        })
    }

    /// Connects to the module and runs the command.
    pub fn run(self) -> Result<(), Failure> {
        let output = Output {
            json: self.json,
            pretty: self.pretty,
        };
        let connect = Client::connect;
        match self.object {
            Object::Vip(command) => command.run(&connect()?, &output),
            Object::Port(command) => command.run(&connect()?, &output),
            Object::Server(command) => command.run(&connect()?, &output),
            Object::Weights(command) => command.run(&connect()?),
            Object::Conn(command) => command.run(&connect()?, &output),
            Object::Affinity(command) => command.run(&connect()?, &output),
            Object::Config(command) => command.run(&connect()?, &output),
            Object::Ha(command) => command.run(&connect()?, &output),
            Object::Info => info::run(&connect()?, &output),
            Object::Show(args) => args.run(&connect()?, &output),
            Object::Flush => flush::run(&connect()?),
            Object::Apply(args) => {
                // A bad file is reported whether or not the module is there.
                let desired = args.load()?;
                args.run(&desired, &connect()?, &output)
            }
        }
    }
}

/// Parses a command line into its object, for the per-object tests.
#[cfg(test)]
fn parse_object(argv: &[&str]) -> Result<Object, clap::Error> {
    Cli::try_parse_from(argv).map(|cli| cli.object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_flags_are_global() {
        let cli = Cli::try_parse_from(["ndadm", "vip", "show", "-j", "--pretty"]).unwrap();
        assert!(cli.json && cli.pretty);
        assert_eq!(cli.object, Object::Vip(VipCommand::Show));
        let cli = Cli::try_parse_from(["ndadm", "--json", "info"]).unwrap();
        assert!(cli.json && !cli.pretty);
        assert_eq!(cli.object, Object::Info);
    }

    #[test]
    fn unknown_objects_and_missing_commands_are_usage_errors() {
        for argv in [
            &["ndadm"][..],
            &["ndadm", "route", "show"],
            &["ndadm", "vip"],
            &["ndadm", "vip", "frobnicate"],
        ] {
            let error = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{argv:?}");
        }
    }
}
