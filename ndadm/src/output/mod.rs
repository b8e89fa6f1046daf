//! One output path for every result: JSON of the typed data, or its table.

mod format;
mod table;

use std::io::{self, Write};

use serde::Serialize;

pub use format::{
    affinity_cell, duration_ms, mac_or_dash, stats_cells, stats_table, STATS_COLUMNS,
};
pub use table::{Align, Table};

/// A result that prints as a table, and as JSON through `Serialize`.
pub trait Render: Serialize {
    /// The table view.
    fn table(&self) -> Table;
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// JSON instead of tables.
    pub json: bool,
    /// Indented JSON.
    pub pretty: bool,
}

impl Output {
    /// The text `value` prints as.
    pub fn render<R: Render + ?Sized>(&self, value: &R) -> String {
        if !self.json {
            return value.table().to_string();
        }
        let json = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        // The result types hold only strings, numbers and options: serializing cannot fail.
        let mut text = json.expect("result types serialize to JSON");
        text.push('\n');
        text
    }

    /// Prints `value` on standard output.
    pub fn print<R: Render + ?Sized>(&self, value: &R) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        stdout.write_all(self.render(value).as_bytes())?;
        stdout.flush()
    }
}
