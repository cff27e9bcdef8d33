//! Streaming readers: the format is detected from the content, then the file is parsed as a
//! stream. A large document (a Terraform plan, an AWS Config snapshot, a Kubernetes list) is
//! walked with a serde visitor that hands each resource on as soon as it is parsed, so memory
//! holds one resource at a time, never the document. JSON Lines files (Cloud Asset Inventory
//! exports, demarc's own rows) are read line by line; CSV record by record.

use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What the walk found: one resource-sized piece of the document, with where it was.
#[derive(Debug)]
pub enum Item {
    /// A Terraform state (v4) `resources[]` entry (with its `instances`).
    TfStateResource(Value),
    /// A resource of a `values`/`planned_values` module tree (`terraform show -json`).
    TfModuleResource(Value),
    /// A plan's `resource_changes[]` entry.
    TfChange(Value),
    /// An AWS Config configuration item (object, or a JSON string from `SelectResourceConfig`).
    ConfigItem(Value),
    /// An element of a top-level array or of a `data` array: an Azure Resource Graph row, a
    /// Cloud Asset, or a Cloud Custodian resource.
    Element(Value),
    /// A Kubernetes list's `items[]` entry.
    K8s(Value),
    /// A line of a JSON Lines file.
    Line(Value),
    /// A CSV record as column → value.
    Csv(Vec<(String, String)>),
}

/// The detected shape of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One JSON document (object or array), walked as a stream.
    Document,
    /// JSON Lines: one object per line.
    Lines,
    /// CSV with a header row.
    Csv,
}

/// A problem reading an input file: the message, with the byte offset and JSON path where
/// the parser stopped.
#[derive(Debug, Clone)]
pub struct ReadError {
    pub message: String,
    pub offset: Option<u64>,
    pub path: Option<String>,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (&self.offset, &self.path) {
            (Some(o), Some(p)) => write!(f, " (at byte offset {o}, JSON path {p})"),
            (Some(o), None) => write!(f, " (at byte offset {o})"),
            (None, Some(p)) => write!(f, " (at JSON path {p})"),
            (None, None) => Ok(()),
        }
    }
}

impl ReadError {
    fn msg(m: impl Into<String>) -> Self {
        ReadError {
            message: m.into(),
            offset: None,
            path: None,
        }
    }
}

/// Counts the bytes read through it: for progress and for error offsets.
pub struct Counting<R> {
    inner: R,
    count: Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count.set(self.count.get() + amt as u64);
        self.inner.consume(amt)
    }
}

const PEEK: usize = 1 << 20;

type Decoded = std::io::Chain<
    std::io::Cursor<Vec<u8>>,
    encoding_rs_io::DecodeReaderBytes<Counting<Box<dyn Read>>, Vec<u8>>,
>;

/// The reader [`open`] returns: a buffer over the decoded stream that counts the bytes
/// handed out (for error offsets). serde_json reads a stream one byte at a time; this type's
/// one-byte read is a few inlined instructions, where a `Box<dyn BufRead>` (or std's
/// `BufReader` behind it) cost a call per byte and made reading about twice as slow.
pub struct Input {
    inner: Decoded,
    buf: Box<[u8]>,
    at: usize,
    len: usize,
    count: Rc<std::cell::Cell<u64>>,
}

impl Input {
    #[cold]
    fn refill(&mut self) -> std::io::Result<()> {
        self.at = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Read for Input {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.len {
            self.refill()?;
        }
        let n = out.len().min(self.len - self.at);
        if n == 1 {
            out[0] = self.buf[self.at];
        } else {
            out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        }
        self.at += n;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at == self.len {
            self.refill()?;
        }
        Ok(&self.buf[self.at..self.len])
    }
    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.len - self.at);
        self.at += amt;
        self.count.set(self.count.get() + amt as u64);
    }
}

/// Opens `input` for streaming: a UTF-16 file (with a byte-order mark) is decoded to UTF-8
/// on the fly, a UTF-8 byte-order mark is skipped. Returns the reader and its shape. `raw`
/// counts the file's bytes read (progress), `pos` the (decoded) bytes parsed (error offsets).
pub fn open(
    input: Box<dyn Read>,
    raw: Rc<std::cell::Cell<u64>>,
    pos: Rc<std::cell::Cell<u64>>,
) -> Result<(Input, Shape), ReadError> {
    let counted = Counting {
        inner: input,
        count: raw,
    };
    // Sniffs the byte-order mark: UTF-16 (either order) is transcoded, UTF-8's is removed.
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .bom_sniffing(true)
        .strip_bom(true)
        .utf8_passthru(true)
        .build(counted);
    // The first block, read whole (the decoder hands out small pieces), then the rest.
    let mut decoded = decoded;
    let mut first = Vec::with_capacity(PEEK);
    (&mut decoded)
        .take(PEEK as u64)
        .read_to_end(&mut first)
        .map_err(|e| ReadError::msg(format!("cannot read: {e}")))?;
    let head = first.as_slice();
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| ReadError::msg("the file is empty"))?;
    let shape = match head[start] {
        b'[' => Shape::Document,
        b'{' => {
            // JSON Lines when the first line is a whole object on its own and more follows,
            // or when it is a row demarc or Cloud Asset Inventory writes one per line.
            let rest = &head[start..];
            match rest.iter().position(|&b| b == b'\n') {
                Some(nl) => match serde_json::from_slice::<Map<String, Value>>(&rest[..nl]) {
                    Ok(m) => {
                        let more = rest[nl..].iter().any(|b| !b.is_ascii_whitespace());
                        if more || m.contains_key("assetType") || m.contains_key("service") {
                            Shape::Lines
                        } else {
                            Shape::Document
                        }
                    }
                    Err(_) => Shape::Document,
                },
                None => Shape::Document,
            }
        }
        _ => {
            let line = head[start..]
                .split(|&b| b == b'\n')
                .next()
                .unwrap_or_default();
            let line = String::from_utf8_lossy(line);
            let cols: Vec<&str> = line.trim().split(',').map(str::trim).collect();
            if cols.contains(&"id") && cols.contains(&"service") {
                Shape::Csv
            } else {
                let shown: String = line.chars().take(40).collect();
                return Err(ReadError::msg(format!(
                    "unknown inventory format: the content starts with `{shown}`, which is neither JSON (Terraform state or plan, AWS Config, Azure Resource Graph, Cloud Asset Inventory, Kubernetes list, Cloud Custodian resources) nor a demarc inventory CSV header (with `id` and `service` columns)"
                )));
            }
        }
    };
    Ok((
        Input {
            inner: std::io::Cursor::new(first).chain(decoded),
            buf: vec![0; PEEK].into_boxed_slice(),
            at: 0,
            len: 0,
            count: pos,
        },
        shape,
    ))
}

type Sink<'a> = dyn FnMut(Item) -> Result<(), String> + 'a;

/// Where the walk is: the JSON path, and an error the sink raised (to tell it from a parse
/// error).
struct Ctx<'a, 's> {
    sink: RefCell<&'s mut Sink<'a>>,
    path: RefCell<Vec<String>>,
    sink_error: RefCell<Option<String>>,
    /// Whether the document had anything this reader knows (a resource list).
    recognized: std::cell::Cell<bool>,
}

impl Ctx<'_, '_> {
    fn emit<E: de::Error>(&self, item: Item) -> Result<(), E> {
        (self.sink.borrow_mut())(item).map_err(|m| {
            *self.sink_error.borrow_mut() = Some(m.clone());
            E::custom(m)
        })
    }
    fn path_string(&self) -> String {
        let mut s = String::from("$");
        for p in self.path.borrow().iter() {
            s.push_str(p);
        }
        s
    }
}

#[derive(Clone, Copy)]
enum Kind {
    TfState,
    TfModule,
    TfChange,
    Config,
    Element,
    K8s,
}

/// A whole document: an object whose resource arrays are streamed, or an array of elements.
struct Top<'c, 'a, 's>(&'c Ctx<'a, 's>);
/// An array whose elements are handed on one by one.
struct SeqOf<'c, 'a, 's>(&'c Ctx<'a, 's>, Kind);
/// `values` / `planned_values`: `{root_module: Module}`.
struct Values<'c, 'a, 's>(&'c Ctx<'a, 's>);
/// A module: `resources` streamed, `child_modules` recursively.
struct Module<'c, 'a, 's>(&'c Ctx<'a, 's>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.recognized.set(true);
        SeqOf(self.0, Kind::Element).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(key) = map.next_key::<String>()? {
            ctx.path.borrow_mut().push(format!(".{key}"));
            if matches!(
                key.as_str(),
                "resources"
                    | "values"
                    | "planned_values"
                    | "resource_changes"
                    | "configurationItems"
                    | "Results"
                    | "items"
            ) {
                ctx.recognized.set(true);
            }
            match key.as_str() {
                "resources" => map.next_value_seed(SeqOf(ctx, Kind::TfState))?,
                "values" | "planned_values" => map.next_value_seed(Values(ctx))?,
                "resource_changes" => map.next_value_seed(SeqOf(ctx, Kind::TfChange))?,
                "configurationItems" | "Results" => {
                    map.next_value_seed(SeqOf(ctx, Kind::Config))?
                }
                "items" => map.next_value_seed(SeqOf(ctx, Kind::K8s))?,
                "data" => map.next_value_seed(Top(ctx))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            ctx.path.borrow_mut().pop();
        }
        Ok(())
    }
    // A scalar where a document is expected: say what was found.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(E::custom(format!(
            "expected an object or array, found the string {v:?}"
        )))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for SeqOf<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SeqOf<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        // `resources` that is an object is not a resource list (e.g. a nested document):
        // walk it as a document.
        Top(self.0).visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.0;
        let mut i = 0usize;
        loop {
            ctx.path.borrow_mut().push(format!("[{i}]"));
            let Some(v) = seq.next_element::<Value>()? else {
                ctx.path.borrow_mut().pop();
                break;
            };
            let item = match self.1 {
                Kind::TfState => Item::TfStateResource(v),
                Kind::TfModule => Item::TfModuleResource(v),
                Kind::TfChange => Item::TfChange(v),
                Kind::Config => Item::ConfigItem(v),
                Kind::Element => Item::Element(v),
                Kind::K8s => Item::K8s(v),
            };
            ctx.emit(item)?;
            ctx.path.borrow_mut().pop();
            i += 1;
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Values<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `root_module`")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(key) = map.next_key::<String>()? {
            ctx.path.borrow_mut().push(format!(".{key}"));
            if key == "root_module" {
                map.next_value_seed(Module(ctx))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            ctx.path.borrow_mut().pop();
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Module<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Module<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Terraform module object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // `child_modules`: an array of modules.
        let ctx = self.0;
        let mut i = 0usize;
        loop {
            ctx.path.borrow_mut().push(format!("[{i}]"));
            let more = seq.next_element_seed(Module(ctx))?;
            ctx.path.borrow_mut().pop();
            if more.is_none() {
                break;
            }
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(key) = map.next_key::<String>()? {
            ctx.path.borrow_mut().push(format!(".{key}"));
            match key.as_str() {
                "resources" => map.next_value_seed(SeqOf(ctx, Kind::TfModule))?,
                "child_modules" => map.next_value_seed(Module(ctx))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            ctx.path.borrow_mut().pop();
        }
        Ok(())
    }
}

/// Files up to this size are read whole and parsed from memory: serde_json reads a slice
/// several times faster than a stream (borrowed strings, no per-byte reader call). Larger
/// files stream, so memory stays bounded whatever their size.
pub const WHOLE_MAX: u64 = 64 << 20;

/// The byte offset of serde_json's 1-based line and column in `bytes`.
fn offset_of(bytes: &[u8], line: usize, column: usize) -> u64 {
    let mut offset = 0;
    for _ in 1..line {
        match bytes[offset..].iter().position(|&b| b == b'\n') {
            Some(p) => offset += p + 1,
            None => break,
        }
    }
    (offset + column.saturating_sub(1)).min(bytes.len()) as u64
}

/// Reads a whole input, handing every item to `sink` in file order. `count` is the number of
/// (decoded) bytes read so far, for error offsets. `whole`: the input is at most
/// [`WHOLE_MAX`] bytes and is read into memory first.
pub fn walk(
    reader: Input,
    shape: Shape,
    count: Rc<std::cell::Cell<u64>>,
    sink: &mut Sink<'_>,
    whole: bool,
) -> Result<(), ReadError> {
    match shape {
        Shape::Document => {
            let ctx = Ctx {
                sink: RefCell::new(sink),
                path: RefCell::new(Vec::new()),
                sink_error: RefCell::new(None),
                recognized: std::cell::Cell::new(false),
            };
            let fail = |e: serde_json::Error, offset: u64| {
                if let Some(m) = ctx.sink_error.borrow_mut().take() {
                    return ReadError {
                        message: m,
                        offset: Some(offset),
                        path: Some(ctx.path_string()),
                    };
                }
                let what = if e.is_eof() {
                    "the JSON ends too early (a truncated file?)".to_string()
                } else {
                    format!("malformed JSON: {e}")
                };
                ReadError {
                    message: what,
                    offset: Some(offset),
                    path: Some(ctx.path_string()),
                }
            };
            if whole {
                let mut bytes = Vec::new();
                let mut reader = reader;
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| ReadError::msg(format!("cannot read: {e}")))?;
                let mut de = serde_json::Deserializer::from_slice(&bytes);
                let r = Top(&ctx).deserialize(&mut de).and_then(|_| de.end());
                // serde_json gives every error, a sink's included, the position it stopped at.
                r.map_err(|e| {
                    let at = if e.is_eof() {
                        bytes.len() as u64
                    } else {
                        offset_of(&bytes, e.line(), e.column())
                    };
                    fail(e, at)
                })?;
            } else {
                let mut de = serde_json::Deserializer::from_reader(reader);
                let r = Top(&ctx).deserialize(&mut de).and_then(|_| de.end());
                r.map_err(|e| fail(e, count.get()))?;
            }
            if !ctx.recognized.get() {
                return Err(ReadError::msg(
                    "unknown inventory format: a JSON document with none of the keys this reader knows (`resources`, `values`, `planned_values`, `resource_changes` for Terraform; `configurationItems` or `Results` for AWS Config; `data` for Azure Resource Graph; `items` for a Kubernetes list) and not an array of resources",
                ));
            }
            Ok(())
        }
        Shape::Lines => {
            let mut line = String::new();
            let mut reader = reader;
            let mut n = 0u64;
            loop {
                line.clear();
                let at = count.get();
                let read = reader
                    .read_line(&mut line)
                    .map_err(|e| ReadError::msg(format!("cannot read: {e}")))?;
                if read == 0 {
                    break;
                }
                n += 1;
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&line).map_err(|e| ReadError {
                    message: format!("line {n}: malformed JSON: {e}"),
                    offset: Some(at),
                    path: None,
                })?;
                sink(Item::Line(v)).map_err(|m| ReadError {
                    message: format!("line {n}: {m}"),
                    offset: Some(at),
                    path: None,
                })?;
            }
            Ok(())
        }
        Shape::Csv => {
            let mut rdr = csv::ReaderBuilder::new().from_reader(reader);
            let headers: Vec<String> = rdr
                .headers()
                .map_err(|e| ReadError::msg(format!("CSV header: {e}")))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            for (n, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| ReadError {
                    message: format!("CSV record {}: {e}", n + 1),
                    offset: None,
                    path: None,
                })?;
                let row = headers
                    .iter()
                    .cloned()
                    .zip(rec.iter().map(str::to_string))
                    .collect();
                sink(Item::Csv(row))
                    .map_err(|m| ReadError::msg(format!("CSV record {}: {m}", n + 1)))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `text` read whole or streamed; the items' kinds, or the error.
    fn walk_text(text: &str, whole: bool, fail_on: Option<usize>) -> Result<usize, ReadError> {
        let raw = Rc::new(std::cell::Cell::new(0));
        let pos = Rc::new(std::cell::Cell::new(0));
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let (reader, shape) = open(input, raw, pos.clone())?;
        let mut n = 0;
        walk(
            reader,
            shape,
            pos,
            &mut |_item| {
                n += 1;
                if Some(n) == fail_on {
                    return Err("the sink refused it".into());
                }
                Ok(())
            },
            whole,
        )?;
        Ok(n)
    }

    const STATE: &str = r#"{"version": 4, "resources": [
  {"mode": "managed", "type": "aws_s3_bucket", "name": "a", "instances": [{"attributes": {"id": "a"}}]},
  {"mode": "managed", "type": "aws_s3_bucket", "name": "b", "instances": [{"attributes": {"id": "b"}}]}
]}"#;

    #[test]
    fn read_whole_or_streamed_a_document_gives_the_same_items() {
        assert_eq!(walk_text(STATE, true, None).unwrap(), 2);
        assert_eq!(walk_text(STATE, false, None).unwrap(), 2);
    }

    #[test]
    fn errors_point_into_the_file_either_way() {
        // Malformed: a missing comma between the two resources.
        let bad = STATE.replacen("}]},\n", "}]}\n", 1);
        let at = bad
            .find("\n  {\"mode\": \"managed\", \"type\": \"aws_s3_bucket\", \"name\": \"b\"")
            .unwrap();
        for whole in [true, false] {
            let e = walk_text(&bad, whole, None).unwrap_err();
            assert!(e.message.starts_with("malformed JSON"), "{e}");
            let off = e.offset.unwrap() as usize;
            // At the resource that should have been preceded by a comma.
            assert!((at..=at + 4).contains(&off), "whole={whole}: {off} vs {at}");
            assert_eq!(e.path.as_deref(), Some("$.resources[1]"), "whole={whole}");
        }
        // Truncated.
        for whole in [true, false] {
            let e = walk_text(&STATE[..STATE.len() - 4], whole, None).unwrap_err();
            assert!(e.message.contains("ends too early"), "{e}");
            assert_eq!(e.offset, Some(STATE.len() as u64 - 4), "whole={whole}");
        }
        // The sink's own error: read whole, at the end of the item it refused (serde_json's
        // position, the byte it stopped at); streamed, somewhere after it (the stream has
        // read ahead).
        let end_of_second = STATE.rfind("}]}").unwrap() + 3;
        for whole in [true, false] {
            let e = walk_text(STATE, whole, Some(2)).unwrap_err();
            assert_eq!(e.message, "the sink refused it");
            let off = e.offset.unwrap() as usize;
            if whole {
                assert!(
                    (end_of_second..=end_of_second + 1).contains(&off),
                    "{off} vs {end_of_second}"
                );
            } else {
                assert!(
                    (end_of_second..=STATE.len()).contains(&off),
                    "{off} vs {end_of_second}"
                );
            }
        }
    }
}
