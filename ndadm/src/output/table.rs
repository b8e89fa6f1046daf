//! Aligned text tables.

use std::fmt;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text: flush left.
    Left,
    /// Numbers: flush right.
    Right,
}

/// A table of text cells printed in aligned columns two spaces apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    headers: Option<Vec<String>>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: Some(columns.iter().map(|(name, _)| name.to_string()).collect()),
            aligns: columns.iter().map(|&(_, align)| align).collect(),
            rows: Vec::new(),
        }
    }

    /// A table without a header row, for key-value listings.
    pub fn headerless(aligns: &[Align]) -> Table {
        Table {
            headers: None,
            aligns: aligns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing trailing cells print empty.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert!(cells.len() <= self.aligns.len(), "more cells than columns");
        self.rows.push(cells);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&Vec<String>> = self.headers.iter().chain(&self.rows).collect();
        let mut widths = vec![0; self.aligns.len()];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line.iter()) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for line in lines {
            let mut text = String::new();
            for (column, (&align, &width)) in self.aligns.iter().zip(&widths).enumerate() {
                let cell = line.get(column).map_or("", String::as_str);
                if column > 0 {
                    text.push_str("  ");
                }
                match align {
                    Align::Left => text.push_str(&format!("{cell:<width$}")),
                    Align::Right => text.push_str(&format!("{cell:>width$}")),
                }
            }
            writeln!(f, "{}", text.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let mut table = Table::new(&[("NAME", Align::Left), ("COUNT", Align::Right)]);
        table.row(vec!["a".into(), "1".into()]);
        table.row(vec!["longer".into(), "12345".into()]);
        table.row(vec!["b".into()]);
        assert_eq!(
            table.to_string(),
            "NAME    COUNT\n\
             a           1\n\
             longer  12345\n\
             b\n"
        );
    }

    #[test]
    fn headerless_tables_print_only_rows() {
        let mut table = Table::headerless(&[Align::Left, Align::Right]);
        table.row(vec!["conn-limit".into(), "10".into()]);
        table.row(vec!["x".into(), "200".into()]);
        assert_eq!(table.to_string(), "conn-limit   10\nx           200\n");
    }
}
