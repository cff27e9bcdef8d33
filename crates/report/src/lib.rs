//! Renderers: turn a resolution and its analysis into what people and tools read.
//!
//! Tabular results go through [`Grid`], which renders as a terminal table, CSV, Markdown or
//! JSON rows, so every command offers the same four formats. Command-specific JSON shapes are
//! in [`json`] and documented in `docs/json-output.md`; they are contracts: add fields, never
//! rename or remove them. [`html::report`] writes a self-contained HTML page.
//!
//! ```
//! use demarc_report::{Format, Grid};
//! let mut g = Grid::new(["asset", "owner"]);
//! g.row(["vm1", "acme/platform"]);
//! assert_eq!(g.render(Format::Csv, false), "asset,owner\nvm1,acme/platform\n");
//! ```

pub mod html;
pub mod json;
mod text;

pub use text::*;

/// Output formats for tabular commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Md,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "table" => Some(Format::Table),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Md),
            _ => None,
        }
    }
}

/// A table of strings that renders in any [`Format`].
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Grid {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Grid {
        Grid {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Table => {
                let mut t = comfy_table::Table::new();
                t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                // A terminal that reports no usable width (0 columns under some CI runners and
                // serial consoles) would squeeze every column to one character: print unwrapped.
                if t.width().is_some_and(|w| w < 40) {
                    t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
                }
                t.set_header(&self.headers);
                for r in &self.rows {
                    t.add_row(r.iter().map(|c| {
                        let cell = comfy_table::Cell::new(c);
                        if color { colorize(cell, c) } else { cell }
                    }));
                }
                format!("{t}\n")
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                // Writing to memory cannot fail; the only error source is the sink.
                w.write_record(&self.headers).expect("in-memory csv");
                for r in &self.rows {
                    w.write_record(r).expect("in-memory csv");
                }
                String::from_utf8(w.into_inner().expect("in-memory csv"))
                    .expect("csv of UTF-8 is UTF-8")
            }
            Format::Md => {
                let esc = |s: &str| s.replace('|', "\\|").replace('\n', "<br>");
                let mut out = format!(
                    "| {} |\n",
                    self.headers
                        .iter()
                        .map(|h| esc(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                out.push_str(&format!("|{}\n", "---|".repeat(self.headers.len())));
                for r in &self.rows {
                    out.push_str(&format!(
                        "| {} |\n",
                        r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
                    ));
                }
                out
            }
            Format::Json => {
                let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
                    .rows
                    .iter()
                    .map(|r| {
                        self.headers
                            .iter()
                            .zip(r)
                            .map(|(h, c)| (h.clone(), serde_json::Value::String(c.clone())))
                            .collect()
                    })
                    .collect();
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&rows).expect("json of strings")
                )
            }
        }
    }
}

fn colorize(cell: comfy_table::Cell, text: &str) -> comfy_table::Cell {
    use comfy_table::Color;
    let color = match text {
        "critical" | "high" => Some(Color::Red),
        "medium" => Some(Color::Yellow),
        "low" => Some(Color::Cyan),
        t if t.contains("(unassigned)") => Some(Color::Red),
        _ => None,
    };
    match color {
        Some(c) => cell.fg(c),
        None => cell,
    }
}
