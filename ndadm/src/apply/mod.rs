//! `ndadm apply`: a declarative configuration file, and the changes that make the module
//! match it.

mod file;
mod plan;

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ndadm::model::{ConfigChange, MacAddr, PortOptions};

pub use file::parse;
pub use plan::plan;

/// The configuration a file asks for: every VIP, port and server, and optional settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    /// Settings to hold; those left out stay as they are.
    pub config: ConfigChange,
    /// Every VIP with its ports, each with its servers.
    pub vips: BTreeMap<Ipv4Addr, BTreeMap<u16, BTreeMap<Ipv4Addr, DesiredServer>>>,
    /// The scheduler and affinity settings the file gives, by VIP and port; a setting it
    /// leaves out stays as the port has it (a new port gets the module's default).
    pub port_options: BTreeMap<(Ipv4Addr, u16), PortOptions>,
}

/// A server as the file describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DesiredServer {
    /// Its weight (1 when the file gives none, as for `server add`).
    pub weight: u32,
    /// Its static MAC address, if any.
    pub mac: Option<MacAddr>,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The file cannot be read.
    #[error("{file}: {source}")]
    Read {
        /// The file as named on the command line.
        file: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not describe a valid configuration.
    #[error("{0}")]
    Invalid(Invalid),
}

/// A problem at a place in the file.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The file as named on the command line.
    pub file: String,
    /// The 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// The field whose value is wrong, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}
