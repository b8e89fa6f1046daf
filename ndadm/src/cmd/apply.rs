//! `ndadm apply -f FILE`: make the module's configuration match a TOML file.

use std::path::PathBuf;

use clap::Args;
use ndadm::client::{Client, Error, Request};
use serde::Serialize;

use super::Failure;
use crate::apply::{self, ApplyError, Desired};
use crate::output::{Align, Output, Render, Table};

/// Options of `apply`.
#[derive(Debug, Args, PartialEq)]
pub struct ApplyArgs {
    /// The configuration file (TOML: [config], [[vip]], [[vip.port]], server = [...])
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    /// Print the changes without making them
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

/// The changes `apply` made or would make.
#[derive(Debug, Serialize)]
struct Applied {
    /// Whether the changes were made (not a dry run).
    applied: bool,
    /// Each change, as error messages would name it.
    changes: Vec<String>,
}

impl Render for Applied {
    fn table(&self) -> Table {
        let mut table = Table::headerless(&[Align::Left]);
        if self.changes.is_empty() {
            table.row(vec!["nothing to change".into()]);
        }
        for change in &self.changes {
            table.row(vec![change.clone()]);
        }
        table
    }
}

impl ApplyArgs {
    /// Reads and checks the file, before anything talks to the module.
    pub fn load(&self) -> Result<Desired, ApplyError> {
        let name = self.file.display().to_string();
        let text = std::fs::read_to_string(&self.file).map_err(|source| ApplyError::Read {
            file: name.clone(),
            source,
        })?;
        apply::parse(&name, &text).map_err(ApplyError::Invalid)
    }

    /// Makes the module's configuration match `desired`, the file's content.
    pub fn run(self, desired: &Desired, client: &Client, output: &Output) -> Result<(), Failure> {
        let requests = apply::plan(&client.tree()?, &client.config()?, desired);
        if !self.dry_run {
            let total = requests.len();
            for (index, request) in requests.iter().enumerate() {
                client.execute(request).map_err(|error| {
                    let action = format!(
                        "apply {}, change {} of {total}: {}",
                        self.file.display(),
                        index + 1,
                        error.action()
                    );
                    Error::new(action, error.into_kind())
                })?;
            }
        }
        output.print(&Applied {
            applied: !self.dry_run,
            changes: requests.iter().map(Request::describe).collect(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cmd::{Cli, Object};

    #[test]
    fn parses_the_file_and_dry_run_flags() {
        let cli = Cli::try_parse_from(["ndadm", "apply", "-f", "lb.toml", "-n"]).unwrap();
        assert_eq!(
            cli.object,
            Object::Apply(ApplyArgs {
                file: "lb.toml".into(),
                dry_run: true
            })
        );
        assert!(Cli::try_parse_from(["ndadm", "apply"]).is_err());
    }

    #[test]
    fn reports_changes_or_that_there_are_none() {
        let none = Applied {
            applied: true,
            changes: vec![],
        };
        assert_eq!(Output::default().render(&none), "nothing to change\n");
        let some = Applied {
            applied: false,
            changes: vec!["add VIP 10.0.0.1".into()],
        };
        let json = Output {
            json: true,
            pretty: false,
        };
        assert_eq!(
            json.render(&some),
            "{\"applied\":false,\"changes\":[\"add VIP 10.0.0.1\"]}\n"
        );
    }
}
