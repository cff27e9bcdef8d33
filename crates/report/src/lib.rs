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

pub mod annex;
pub mod compliance;
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

    /// Renders in `format`. A terminal table takes the width of the terminal stdout is on, or
    /// [`PIPED_WIDTH`] when stdout is not a terminal; use [`Grid::render_for`] to choose.
    pub fn render(&self, format: Format, color: bool) -> String {
        self.render_for(format, Term::detect(color))
    }

    /// Renders in `format`, laying a terminal table out for `term`. A table is wrapped at
    /// spaces only: no id, path or YAML snippet is ever split mid-word. When even that cannot
    /// fit the width, each row becomes a block of `header: value` lines instead.
    pub fn render_for(&self, format: Format, term: Term) -> String {
        let color = term.color;
        match format {
            Format::Table => {
                let width = term.wrap_width();
                let min = self.min_widths();
                if !self.fits(width) {
                    return self.render_records(term);
                }
                let mut t = comfy_table::Table::new();
                t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                t.set_width(width.min(u16::MAX as usize) as u16);
                // The caller decided colour (terminal, NO_COLOR, --color); comfy-table would
                // otherwise drop styling whenever stdout is not a terminal.
                if color {
                    t.enforce_styling();
                } else {
                    t.force_no_tty();
                }
                t.set_header(&self.headers);
                for r in &self.rows {
                    t.add_row(r.iter().map(|c| {
                        let cell = comfy_table::Cell::new(c);
                        if color { colorize(cell, c) } else { cell }
                    }));
                }
                let constraints = min.iter().map(|&m| {
                    comfy_table::ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
                        m.min(u16::MAX as usize) as u16,
                    ))
                });
                t.set_constraints(constraints);
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

impl Grid {
    /// The narrowest each column can be without splitting a word.
    fn min_widths(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|k| {
                std::iter::once(&self.headers[k])
                    .chain(self.rows.iter().filter_map(|r| r.get(k)))
                    .flat_map(|c| c.split_whitespace())
                    .map(text_width)
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Whether the table fits `width` columns without splitting a word.
    pub fn fits(&self, width: usize) -> bool {
        self.min_widths().iter().sum::<usize>() + 3 * self.headers.len() < width
    }

    /// The narrow layout: per row, `header: value` for the first column, then indented
    /// `header: value` lines, values wrapped at spaces with a hanging indent.
    fn render_records(&self, term: Term) -> String {
        let mut out = String::new();
        let pad = self
            .headers
            .iter()
            .map(|h| text_width(h))
            .max()
            .unwrap_or(0);
        for (n, r) in self.rows.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            for (k, c) in r.iter().enumerate() {
                let head = if k == 0 {
                    format!("{}: {}", self.headers[0], paint(c, term.color, true))
                } else {
                    let h = &self.headers[k];
                    let lead = format!("  {h}:{}", " ".repeat(pad - text_width(h) + 1));
                    let wrapped = wrap(c, term.wrap_width(), text_width(&lead));
                    format!("{lead}{}", paint(&wrapped, term.color, false))
                };
                out.push_str(&head);
                out.push('\n');
            }
        }
        out
    }
}

/// Where a terminal table goes: how wide it may be and whether it may use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Columns of the terminal (or `COLUMNS`); `None` when the output is piped to a file or
    /// another program.
    pub width: Option<usize>,
    pub color: bool,
}

/// Lines of piped output (no terminal, no `COLUMNS`) are kept to this width.
pub const PIPED_WIDTH: usize = 100;
/// A gap list narrower than this uses the compact layout (one line per gap, its fix below).
pub const WIDE_TABLE: usize = 160;

impl Term {
    /// The terminal stdout is on, if any (the caller decides colour).
    pub fn detect(color: bool) -> Term {
        let width = comfy_table::Table::new()
            .width()
            .map(usize::from)
            .filter(|&w| w >= 20);
        Term { width, color }
    }
    /// The width to wrap at: the terminal's, or [`PIPED_WIDTH`] when piped.
    pub fn wrap_width(&self) -> usize {
        self.width.unwrap_or(PIPED_WIDTH).max(20)
    }
}

/// Columns a string takes on a terminal (one per character; good enough for ids and prose).
fn text_width(s: &str) -> usize {
    s.chars().count()
}

/// Wraps `text` to `width` columns, the first line starting at column `indent` and every
/// further line indented by `indent` spaces. It breaks only at spaces outside backticks and
/// brackets, so an id, a path or a YAML snippet such as `{scope: {service: aws:s3}}` is
/// never split; a word longer than the line stays whole.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    let (mut cur, mut depth, mut tick) = (String::new(), 0i32, false);
    for ch in text.chars() {
        match ch {
            '`' => tick = !tick,
            '{' | '[' if !tick => depth += 1,
            '}' | ']' if !tick => depth = (depth - 1).max(0),
            _ => {}
        }
        if ch.is_whitespace() && !tick && depth == 0 {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = String::new();
    let mut col = indent;
    for w in words {
        let wl = text_width(&w);
        if col > indent && col + 1 + wl > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if col > indent {
            out.push(' ');
            col += 1;
        }
        out.push_str(&w);
        col += wl;
    }
    out
}

/// ANSI colour for a severity word, or bold for a record's title line.
pub(crate) fn paint(text: &str, color: bool, bold: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match text {
        "critical" => "1;31",
        "high" => "31",
        "medium" => "33",
        "low" => "36",
        _ if bold => "1",
        _ => return text.to_string(),
    };
    format!("\x1b[{code}m{text}\x1b[0m")
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

/// Escapes text for HTML element content and attribute values: the one escape every
/// hand-built page (drill, annex, compliance) uses.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Inline `code` spans of generated text as `<code>`; everything else escaped.
pub(crate) fn inline_code(s: &str) -> String {
    let mut out = String::new();
    for (n, part) in s.split('`').enumerate() {
        if n % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&esc(part));
            out.push_str("</code>");
        } else {
            out.push_str(&esc(part));
        }
    }
    out
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
