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

pub mod drill;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
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
                // The caller decided colour (terminal, NO_COLOR, --color); comfy-table would
                // otherwise drop styling whenever stdout is not a terminal.
                if color {
                    t.enforce_styling();
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
            _ => {
                let mut w = RowWriter::new(format, &self.headers, Vec::new())
                    .expect("writing to memory cannot fail");
                for r in &self.rows {
                    w.row(r).expect("writing to memory cannot fail");
                }
                let bytes = w.finish().expect("writing to memory cannot fail");
                String::from_utf8(bytes).expect("rows of UTF-8 strings are UTF-8")
            }
        }
    }
}

/// Writes rows as CSV, Markdown or JSON as they come, so a command can print millions of rows
/// without holding them (`demarc matrix --rows` on a large estate). [`Grid::render`] uses it
/// too, so a streamed table and a collected one are byte-identical.
///
/// ```
/// use demarc_report::{Format, RowWriter};
/// let mut w = RowWriter::new(Format::Md, &["asset", "owner"], Vec::new()).unwrap();
/// w.row(&["vm|1", "acme"]).unwrap();
/// assert_eq!(String::from_utf8(w.finish().unwrap()).unwrap(), "| asset | owner |\n|---|---|\n| vm\\|1 | acme |\n");
/// ```
pub struct RowWriter<W: std::io::Write> {
    headers: Vec<String>,
    sink: Sink<W>,
    rows: usize,
}

enum Sink<W: std::io::Write> {
    // Boxed: the CSV writer carries its own buffer, the other sinks are just the writer.
    Csv(Box<csv::Writer<W>>),
    Md(W),
    Json(W),
}

impl<W: std::io::Write> RowWriter<W> {
    /// Starts the output (the CSV or Markdown header). `Format::Table` cannot stream (column
    /// widths depend on every row) and is written as Markdown.
    pub fn new<S: AsRef<str>>(format: Format, headers: &[S], mut out: W) -> std::io::Result<Self> {
        let headers: Vec<String> = headers.iter().map(|h| h.as_ref().to_string()).collect();
        let sink = match format {
            Format::Csv => {
                let mut w = Box::new(csv::Writer::from_writer(out));
                w.write_record(&headers)?;
                Sink::Csv(w)
            }
            Format::Json => Sink::Json(out),
            Format::Md | Format::Table => {
                let cells: Vec<String> = headers.iter().map(|h| md_escape(h)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
                writeln!(out, "|{}", "---|".repeat(headers.len()))?;
                Sink::Md(out)
            }
        };
        Ok(RowWriter {
            headers,
            sink,
            rows: 0,
        })
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Csv(w) => w.write_record(cells.iter().map(|c| c.as_ref()))?,
            Sink::Md(w) => {
                let cells: Vec<String> = cells.iter().map(|c| md_escape(c.as_ref())).collect();
                writeln!(w, "| {} |", cells.join(" | "))?;
            }
            Sink::Json(w) => {
                // The same text serde_json's pretty printer gives for an array of objects:
                // each object indented by two spaces, separated by commas.
                let object: serde_json::Map<String, serde_json::Value> = self
                    .headers
                    .iter()
                    .zip(cells)
                    .map(|(h, c)| (h.clone(), serde_json::Value::String(c.as_ref().to_string())))
                    .collect();
                let text = serde_json::to_string_pretty(&object).map_err(std::io::Error::other)?;
                w.write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
                for (n, line) in text.lines().enumerate() {
                    if n > 0 {
                        w.write_all(b"\n")?;
                    }
                    w.write_all(b"  ")?;
                    w.write_all(line.as_bytes())?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Ends the output (closes the JSON array, flushes) and returns the writer.
    pub fn finish(self) -> std::io::Result<W> {
        match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| e.into_error()),
            Sink::Md(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Sink::Json(mut w) => {
                w.write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
                w.flush()?;
                Ok(w)
            }
        }
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Grid {
        let mut g = Grid::new(["asset", "owner", "note"]);
        g.row(["vm|1", "acme/dba", "two\nlines"]);
        g.row(["db \"x\"", "aws, acme", ""]);
        g
    }

    #[test]
    fn streamed_rows_match_the_serde_json_pretty_array() {
        let g = sample();
        let expected: Vec<serde_json::Map<String, serde_json::Value>> = g
            .rows
            .iter()
            .map(|r| {
                g.headers
                    .iter()
                    .zip(r)
                    .map(|(h, c)| (h.clone(), serde_json::Value::String(c.clone())))
                    .collect()
            })
            .collect();
        let text = g.render(Format::Json, false);
        assert_eq!(
            text,
            format!("{}\n", serde_json::to_string_pretty(&expected).unwrap())
        );
        let empty = Grid::new(["a"]).render(Format::Json, false);
        assert_eq!(empty, "[]\n");
    }

    #[test]
    fn csv_and_markdown_escape_what_would_break_them() {
        let g = sample();
        assert_eq!(
            g.render(Format::Csv, false),
            "asset,owner,note\nvm|1,acme/dba,\"two\nlines\"\n\"db \"\"x\"\"\",\"aws, acme\",\n"
        );
        assert_eq!(
            g.render(Format::Md, false),
            "| asset | owner | note |\n|---|---|---|\n| vm\\|1 | acme/dba | two<br>lines |\n| db \"x\" | aws, acme |  |\n"
        );
    }
}
