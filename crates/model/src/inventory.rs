//! Inventory files: assets a discovery tool exported (JSON Lines or CSV), read as a stream
//! and merged by id with the assets the estate declares.
//!
//! A JSON Lines file is read in blocks of whole lines; the blocks are parsed on two threads
//! (each line with serde_json into a borrowed [`RawAsset`], then its repeated strings
//! interned) and put back in file order. A CSV file is read record by record. Neither keeps
//! the whole file's text. Every problem is collected (up to [`MAX_ERRORS_PER_FILE`] per file,
//! then a count), and a file with any problem adds no asset.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use crate::Estate;
use crate::diag::{Diagnostic, Place};
use crate::intern::{Interner, Sym, Tags};
use crate::load::{Capped, MAX_FILE_BYTES, TOO_BIG, io_diag, open_regular, place0};
use crate::origin::{SourceFile, SourceKind};
use crate::span::{Loc, Sp};
use crate::types::Asset;

/// At most this many problems are listed per inventory file; the rest are counted.
pub const MAX_ERRORS_PER_FILE: usize = 50;

/// The columns a CSV inventory file may have, in the documented order. Only `id` and
/// `service` are required.
pub const CSV_COLUMNS: [&str; 14] = [
    "id",
    "service",
    "env",
    "data",
    "tags",
    "provider",
    "added",
    "description",
    "external_id",
    "account",
    "region",
    "mode",
    "first_seen",
    "last_seen",
];

/// Block size for reading JSON Lines: big enough to amortise the hand-off between threads,
/// small enough that only a few blocks are ever in memory.
const BLOCK_BYTES: usize = 4 << 20;

/// Reads one inventory file as source `index`. `named_at` is where the estate names it (for
/// a missing file); `None` for a file given on the command line.
pub(crate) fn read(
    path: &Path,
    index: u32,
    named_at: Option<Place>,
    interner: &mut Interner,
    out: &mut Vec<Asset>,
) -> Result<SourceFile, Vec<Diagnostic>> {
    let kind = match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "ndjson") => SourceKind::Jsonl,
        Some("csv") => SourceKind::Csv,
        _ => {
            return Err(vec![
                Diagnostic::new(
                    named_at.or_else(|| Some(place0(path))),
                    format!(
                        "`{}` is not an inventory file this demarc reads",
                        path.display()
                    ),
                )
                .with_help("inventory files are JSON Lines (`.jsonl`, `.ndjson`) or CSV (`.csv`)"),
            ]);
        }
    };
    let file = open_regular(path).map_err(|mut d| {
        // A missing file is the estate's mistake: point at where it is named.
        if let Some(p) = named_at {
            d.message = format!("inventory file `{}`: {}", path.display(), d.message);
            d.place = Some(p);
        }
        vec![d]
    })?;
    let mut source = SourceFile::inventory(path, kind);
    let mut errors = Errors::default();
    let start = out.len();
    match kind {
        SourceKind::Csv => read_csv(file, path, index, &mut source, interner, &mut errors, out),
        _ => read_jsonl(file, path, index, interner, &mut errors, out),
    }
    if errors.count > 0 {
        out.truncate(start);
        return Err(errors.finish(path));
    }
    Ok(source)
}

/// The first [`MAX_ERRORS_PER_FILE`] problems of a file, in file order, and how many in all.
#[derive(Default)]
struct Errors {
    list: Vec<Diagnostic>,
    count: usize,
}

impl Errors {
    fn push(&mut self, d: Diagnostic) {
        self.count += 1;
        if self.list.len() < MAX_ERRORS_PER_FILE {
            self.list.push(d);
        }
    }
    fn append(&mut self, other: Errors) {
        self.count += other.count;
        let room = MAX_ERRORS_PER_FILE.saturating_sub(self.list.len());
        self.list.extend(other.list.into_iter().take(room));
    }
    fn finish(mut self, path: &Path) -> Vec<Diagnostic> {
        let more = self.count - self.list.len();
        if more > 0 {
            self.list.push(
                Diagnostic::new(
                    Some(place0(path)),
                    format!(
                        "{more} more problem{} in this file not shown",
                        if more == 1 { "" } else { "s" }
                    ),
                )
                .with_help(format!(
                    "the first {MAX_ERRORS_PER_FILE} are listed; fix them and run again"
                )),
            );
        }
        self.list
    }
}

/// A string from the input, borrowed when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Tags as written, in order; a key given twice is an error.
#[derive(Default)]
struct RawTags<'a>(Vec<(Str<'a>, Str<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawTags<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = RawTags<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tag names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawTags<'a>, A::Error> {
                let mut pairs: Vec<(Str<'a>, Str<'a>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Str<'a>, Str<'a>>()? {
                    if pairs.iter().any(|(x, _)| **x == *k) {
                        return Err(serde::de::Error::custom(format!(
                            "tag `{}` is given twice; keep one value",
                            &*k
                        )));
                    }
                    pairs.push((k, v));
                }
                Ok(RawTags(pairs))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// One JSON Lines record as written: the fields of a YAML asset, borrowed from the line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(borrow)]
    service: Str<'a>,
    #[serde(default, borrow)]
    env: Option<Str<'a>>,
    #[serde(default, borrow)]
    data: Vec<Str<'a>>,
    #[serde(default, borrow)]
    tags: RawTags<'a>,
    #[serde(default, borrow)]
    provider: Option<Str<'a>>,
    #[serde(default, borrow)]
    added: Option<Str<'a>>,
    #[serde(default, borrow)]
    description: Option<Str<'a>>,
    #[serde(default, borrow)]
    external_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    account: Option<Str<'a>>,
    #[serde(default, borrow)]
    region: Option<Str<'a>>,
    #[serde(default, borrow)]
    mode: Option<Str<'a>>,
    #[serde(default, borrow)]
    first_seen: Option<Str<'a>>,
    #[serde(default, borrow)]
    last_seen: Option<Str<'a>>,
}

/// Interning for one worker: a local set in front of the caller's interner, which is locked
/// only for a string this worker has not seen. Every `Sym` handed out is the caller's.
struct Cache<'a> {
    local: HashMap<Sym, (), BuildHasherDefault<FxHasher>>,
    shared: &'a Mutex<&'a mut Interner>,
}

impl Cache<'_> {
    fn sym(&mut self, s: &str) -> Sym {
        if let Some((k, _)) = self.local.get_key_value(s) {
            return k.clone();
        }
        let sym = match self.shared.lock() {
            Ok(mut i) => i.intern(s),
            // Another worker panicked holding the lock; its panic is re-raised on join.
            Err(p) => p.into_inner().intern(s),
        };
        self.local.insert(sym.clone(), ());
        sym
    }
}

/// A fast, non-cryptographic hasher (FxHash) for maps keyed by strings from the input. The
/// maps are private to one load, so collision-flooding resistance buys nothing here.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }
    fn finish(&self) -> u64 {
        // The multiply only carries low bits upwards, and hashbrown picks buckets by the low
        // bits: without this final mix (murmur3's) ids that differ only in their last
        // characters, like `a0000001`, all land in a few buckets and inserts go quadratic.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The fields of one record, from JSON or CSV, before checking and interning.
#[derive(Default)]
struct Fields<'a> {
    id: Cow<'a, str>,
    service: Cow<'a, str>,
    env: Option<Cow<'a, str>>,
    data: Vec<Cow<'a, str>>,
    tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    provider: Option<Cow<'a, str>>,
    added: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    external_id: Option<Cow<'a, str>>,
    account: Option<Cow<'a, str>>,
    region: Option<Cow<'a, str>>,
    mode: Option<Cow<'a, str>>,
    first_seen: Option<Cow<'a, str>>,
    last_seen: Option<Cow<'a, str>>,
}

impl<'a> From<RawAsset<'a>> for Fields<'a> {
    fn from(r: RawAsset<'a>) -> Self {
        let o = |s: Option<Str<'a>>| s.map(|s| s.0);
        Fields {
            id: r.id.0,
            service: r.service.0,
            env: o(r.env),
            data: r.data.into_iter().map(|s| s.0).collect(),
            tags: r.tags.0.into_iter().map(|(k, v)| (k.0, v.0)).collect(),
            provider: o(r.provider),
            added: o(r.added),
            description: o(r.description),
            external_id: o(r.external_id),
            account: o(r.account),
            region: o(r.region),
            mode: o(r.mode),
            first_seen: o(r.first_seen),
            last_seen: o(r.last_seen),
        }
    }
}

/// A bad value in a record: the field and what is wrong with it.
struct FieldError {
    field: &'static str,
    message: String,
    help: String,
}

fn date(field: &'static str, v: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    let Some(v) = v else { return Ok(None) };
    v.trim()
        .parse::<NaiveDate>()
        .map(Some)
        .map_err(|_| FieldError {
            field,
            message: format!("`{field}`: `{v}` is not a date"),
            help: "write a date as YYYY-MM-DD, e.g. 2026-11-23".into(),
        })
}

/// Checks and interns one record into an asset whose values are located at `loc`.
fn build(f: Fields<'_>, loc: Loc, cache: &mut Cache<'_>) -> Result<Asset, FieldError> {
    if f.id.trim().is_empty() {
        return Err(FieldError {
            field: "id",
            message: "`id` is empty".into(),
            help: "give every asset a unique id".into(),
        });
    }
    if f.service.trim().is_empty() {
        return Err(FieldError {
            field: "service",
            message: "`service` is empty".into(),
            help: "name a catalog service such as `aws:ec2` (see `demarc catalog list services`)"
                .into(),
        });
    }
    let added = date("added", f.added.as_deref())?;
    let first_seen = date("first_seen", f.first_seen.as_deref())?;
    let last_seen = date("last_seen", f.last_seen.as_deref())?;
    if let (Some(a), Some(b)) = (first_seen, last_seen)
        && b < a
    {
        return Err(FieldError {
            field: "last_seen",
            message: format!("`last_seen` ({b}) is before `first_seen` ({a})"),
            help: "check the dates".into(),
        });
    }
    let mut sym = |s: Option<Cow<'_, str>>| s.map(|s| cache.sym(&s));
    let env = sym(f.env);
    let provider = sym(f.provider).map(|p| Sp::at(p, loc));
    let account = sym(f.account);
    let region = sym(f.region);
    let mode = sym(f.mode);
    let data = f.data.iter().map(|d| cache.sym(d)).collect();
    let tags = if f.tags.is_empty() {
        Tags::default()
    } else {
        Tags::from_syms(
            f.tags
                .iter()
                .map(|(k, v)| (cache.sym(k), cache.sym(v)))
                .collect(),
        )
    };
    Ok(Asset {
        id: Sp::at(f.id.into_owned(), loc),
        service: Sp::at(cache.sym(&f.service), loc),
        env,
        data,
        tags,
        provider,
        added,
        description: f.description.map(Cow::into_owned),
        external_id: f.external_id.map(Cow::into_owned),
        account,
        region,
        mode,
        first_seen,
        last_seen,
    })
}

/// A block of whole lines of a JSON Lines file.
struct Block {
    index: usize,
    first_line: u32,
    /// Line breaks in `bytes`.
    lines: u32,
    bytes: Vec<u8>,
    /// The file's last line, which had no line break: perhaps truncated.
    unterminated: bool,
}

/// Reads a JSON Lines file onto the end of `out`: a reader thread cuts it into blocks of
/// whole lines, workers parse blocks, and this thread appends their assets in file order as
/// they arrive, so each block's assets are moved once and freed block by block.
fn read_jsonl(
    file: std::fs::File,
    path: &Path,
    index: u32,
    interner: &mut Interner,
    errors: &mut Errors,
    out: &mut Vec<Asset>,
) {
    let file_len = file.metadata().map_or(0, |m| m.len());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let shared = Mutex::new(interner);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Block>(workers);
    let rx = Mutex::new(rx);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, Vec<Asset>, Errors, usize)>();
    let start_len = out.len();
    let mut read_error: Option<Diagnostic> = None;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, shared, done_tx) = (&rx, &shared, done_tx.clone());
                s.spawn(move || {
                    let mut cache = Cache {
                        local: HashMap::default(),
                        shared,
                    };
                    loop {
                        let block = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => break,
                        };
                        let Ok(block) = block else { break };
                        let (assets, errs) = parse_block(&block, path, index, &mut cache);
                        if done_tx
                            .send((block.index, assets, errs, block.bytes.len()))
                            .is_err()
                        {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(done_tx);
        let reader = s.spawn(move || split_blocks(file, path, tx));
        // Blocks that finished before an earlier one, waiting for their turn.
        let mut pending: std::collections::BTreeMap<usize, (Vec<Asset>, Errors, usize)> =
            std::collections::BTreeMap::new();
        let mut next = 0;
        let mut bytes_done: u64 = 0;
        for (i, assets, errs, bytes) in done_rx {
            pending.insert(i, (assets, errs, bytes));
            while let Some((assets, errs, bytes)) = pending.remove(&next) {
                next += 1;
                errors.append(errs);
                if errors.count > 0 {
                    continue; // the file will add nothing; free its assets now
                }
                if bytes_done == 0 && !assets.is_empty() {
                    // Reserve for the whole file once, from the first block's bytes per
                    // asset (plus 2%), instead of doubling a vector of a million assets.
                    let per = (bytes as u64 / assets.len() as u64).max(1);
                    let estimate = (file_len / per) as usize;
                    out.reserve(estimate + estimate / 50);
                }
                bytes_done += bytes as u64;
                out.extend(assets);
            }
        }
        for w in workers {
            if let Err(p) = w.join() {
                std::panic::resume_unwind(p);
            }
        }
        read_error = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
    });
    if let Some(d) = read_error {
        errors.push(d);
    }
    if errors.count > 0 {
        out.truncate(start_len);
    }
}

/// Reads the file into blocks of whole lines and sends them to the workers. Returns the
/// read error, if any (the blocks before it are still parsed, for their own errors).
fn split_blocks(
    file: std::fs::File,
    path: &Path,
    tx: std::sync::mpsc::SyncSender<Block>,
) -> Option<Diagnostic> {
    let mut reader = Capped::new(file, MAX_FILE_BYTES);
    let mut carry: Vec<u8> = Vec::new();
    let mut line: u32 = 1;
    let mut index = 0;
    loop {
        let mut buf = Vec::with_capacity(BLOCK_BYTES + carry.len() + 1024);
        buf.append(&mut carry);
        let mut eof = false;
        while buf.len() < BLOCK_BYTES {
            let start = buf.len();
            buf.resize(start + (BLOCK_BYTES - start).max(64 * 1024), 0);
            match reader.read(&mut buf[start..]) {
                Ok(0) => {
                    buf.truncate(start);
                    eof = true;
                    break;
                }
                Ok(n) => buf.truncate(start + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(start),
                Err(e) => {
                    buf.truncate(start);
                    let d = if e.to_string().starts_with(TOO_BIG) {
                        Diagnostic::new(
                            Some(place0(path)),
                            format!("file is larger than the limit of {MAX_FILE_BYTES} bytes"),
                        )
                        .with_help("split the inventory across several files")
                    } else {
                        io_diag(path, &e)
                    };
                    return Some(d);
                }
            }
        }
        let (block, unterminated) = if eof {
            let unterminated = buf.last().is_some_and(|&b| b != b'\n');
            (buf, unterminated)
        } else {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(nl) => {
                    carry = buf[nl + 1..].to_vec();
                    buf.truncate(nl + 1);
                    (buf, false)
                }
                // One line longer than a block: keep reading it.
                None => {
                    carry = buf;
                    continue;
                }
            }
        };
        let lines = block.iter().filter(|&&b| b == b'\n').count() as u32;
        let first_line = line;
        line = line.saturating_add(lines);
        if !block.is_empty()
            && tx
                .send(Block {
                    index,
                    first_line,
                    lines,
                    bytes: block,
                    unterminated,
                })
                .is_err()
        {
            return None;
        }
        index += 1;
        if eof {
            return None;
        }
    }
}

fn parse_block(
    block: &Block,
    path: &Path,
    index: u32,
    cache: &mut Cache<'_>,
) -> (Vec<Asset>, Errors) {
    let mut assets = Vec::with_capacity(block.lines as usize + 1);
    let mut errors = Errors::default();
    let at = |line: u32, column: u32| Place {
        file: path.to_path_buf(),
        line,
        column,
    };
    let mut lines = block.bytes.split(|&b| b == b'\n').peekable();
    let mut n = block.first_line;
    while let Some(raw) = lines.next() {
        let line_no = n;
        n = n.saturating_add(1);
        let last = lines.peek().is_none();
        if last && raw.is_empty() {
            break; // after the final line break
        }
        let mut raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line_no == 1 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                let column = String::from_utf8_lossy(&raw[..e.valid_up_to()])
                    .chars()
                    .count() as u32
                    + 1;
                errors.push(
                    Diagnostic::new(
                        Some(at(line_no, column)),
                        format!(
                            "not UTF-8 text (invalid byte 0x{:02X})",
                            raw[e.valid_up_to()]
                        ),
                    )
                    .with_help("export the inventory as UTF-8"),
                );
                continue;
            }
        };
        // serde would also read a struct from an array (by position); a line is an object.
        let start = text.len() - text.trim_start().len();
        if !text[start..].starts_with('{') {
            errors.push(
                Diagnostic::new(
                    Some(at(line_no, text[..start].chars().count() as u32 + 1)),
                    "this line is not a JSON object",
                )
                .with_help(
                    "each line is one asset: a JSON object such as \
                     {\"id\": \"web-1\", \"service\": \"aws:ec2\"}",
                ),
            );
            continue;
        }
        let raw_asset: RawAsset<'_> = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let truncated =
                    last && block.unterminated && e.classify() == serde_json::error::Category::Eof;
                let (message, help) = if truncated {
                    (
                        "the last line ends in the middle of a record: the file looks truncated"
                            .to_string(),
                        "export the inventory again, or finish or remove the last line".to_string(),
                    )
                } else {
                    json_error(&e)
                };
                errors.push(
                    Diagnostic::new(Some(at(line_no, e.column() as u32)), message).with_help(help),
                );
                continue;
            }
        };
        let loc = Loc::new(index, line_no, 0);
        match build(raw_asset.into(), loc, cache) {
            Ok(a) => assets.push(a),
            Err(fe) => {
                // Point at the field's key when it can be found on the line.
                let column = text
                    .find(&format!("\"{}\"", fe.field))
                    .map_or(0, |i| text[..i].chars().count() as u32 + 1);
                errors.push(
                    Diagnostic::new(Some(at(line_no, column)), fe.message).with_help(fe.help),
                );
            }
        }
    }
    (assets, errors)
}

/// serde_json's message without its " at line 1 column N" (the place is shown as
/// `file:line:column`), and a fix.
fn json_error(e: &serde_json::Error) -> (String, String) {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    if let Some(hint) = unknown_field_help(&message) {
        // The valid names are in the help; keep the message short.
        let message = match message.split_once(", expected") {
            Some((m, _)) => m.to_string(),
            None => message,
        };
        return (message, hint);
    }
    let help = match e.classify() {
        serde_json::error::Category::Data => {
            "each line is one asset: a JSON object with at least `id` and `service` \
             (docs/estate-format.md, Inventory)"
        }
        _ => {
            "each line must be one complete JSON object, e.g. {\"id\": \"web-1\", \"service\": \"aws:ec2\"}"
        }
    };
    (message, help.to_string())
}

fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, _) = rest.split_once('`')?;
    Some(match crate::suggest(field, CSV_COLUMNS) {
        Some(s) => format!(
            "did you mean `{s}`? (valid fields: {})",
            CSV_COLUMNS.join(", ")
        ),
        None => format!("valid fields: {}", CSV_COLUMNS.join(", ")),
    })
}

fn read_csv(
    file: std::fs::File,
    path: &Path,
    index: u32,
    source: &mut SourceFile,
    interner: &mut Interner,
    errors: &mut Errors,
    assets: &mut Vec<Asset>,
) {
    let at = |line: u32| Place {
        file: path.to_path_buf(),
        line,
        column: 0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Capped::new(file, MAX_FILE_BYTES));
    let mut record = csv::ByteRecord::new();
    let csv_error = |e: csv::Error, errors: &mut Errors| {
        let line = e.position().map_or(0, |p| p.line() as u32);
        let d = match e.kind() {
            csv::ErrorKind::Io(io) if io.to_string().starts_with(TOO_BIG) => Diagnostic::new(
                Some(place0(path)),
                format!("file is larger than the limit of {MAX_FILE_BYTES} bytes"),
            )
            .with_help("split the inventory across several files"),
            csv::ErrorKind::Io(io) => io_diag(path, io),
            _ => Diagnostic::new(Some(at(line)), format!("bad CSV: {e}"))
                .with_help("check the quoting on this line"),
        };
        errors.push(d);
    };
    // The header.
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            errors.push(
                Diagnostic::new(Some(place0(path)), "the CSV file is empty").with_help(format!(
                    "start with a header row: {}",
                    CSV_COLUMNS.join(",")
                )),
            );
            return;
        }
        Err(e) => {
            csv_error(e, errors);
            return;
        }
    }
    let mut columns: Vec<usize> = Vec::with_capacity(record.len());
    for (i, name) in record.iter().enumerate() {
        let name = String::from_utf8_lossy(name);
        let mut name = name.trim();
        if i == 0 {
            name = name.trim_start_matches('\u{FEFF}');
        }
        match CSV_COLUMNS.iter().position(|c| *c == name) {
            Some(c) if columns.contains(&c) => errors.push(
                Diagnostic::new(Some(at(1)), format!("column `{name}` is given twice"))
                    .with_help("keep one column of each name"),
            ),
            Some(c) => columns.push(c),
            None => {
                let (m, h) = crate::diag::unknown("column", name, CSV_COLUMNS);
                errors.push(
                    Diagnostic::new(Some(at(1)), m)
                        .with_help(format!("{h} (the columns are {})", CSV_COLUMNS.join(","))),
                );
                columns.push(usize::MAX);
            }
        }
    }
    for required in ["id", "service"] {
        let c = CSV_COLUMNS.iter().position(|x| *x == required);
        if !columns.iter().any(|x| Some(*x) == c) {
            errors.push(
                Diagnostic::new(
                    Some(at(1)),
                    format!("the header has no `{required}` column"),
                )
                .with_help("`id` and `service` are required; the other columns are optional"),
            );
        }
    }
    if errors.count > 0 {
        return;
    }
    let shared = Mutex::new(interner);
    let mut cache = Cache {
        local: HashMap::default(),
        shared: &shared,
    };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                csv_error(e, errors);
                if fatal {
                    break;
                }
                continue;
            }
        }
        let (line, number) = record
            .position()
            .map_or((0, 0), |p| (p.line() as u32, p.record()));
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        source.record_starts(line, number);
        if record.len() != columns.len() {
            errors.push(
                Diagnostic::new(
                    Some(at(line)),
                    format!(
                        "record {number} has {} field{}; the header has {}",
                        record.len(),
                        if record.len() == 1 { "" } else { "s" },
                        columns.len()
                    ),
                )
                .with_help("give every row one field per header column (quote a value that contains a comma)"),
            );
            continue;
        }
        let mut f = Fields::default();
        let mut bad = false;
        for (value, &c) in record.iter().zip(&columns) {
            let value = match std::str::from_utf8(value) {
                Ok(v) => v.trim(),
                Err(e) => {
                    errors.push(
                        Diagnostic::new(
                            Some(at(line)),
                            format!(
                                "record {number}, column `{}`: not UTF-8 text (invalid byte 0x{:02X})",
                                CSV_COLUMNS[c],
                                value[e.valid_up_to()]
                            ),
                        )
                        .with_help("export the inventory as UTF-8"),
                    );
                    bad = true;
                    break;
                }
            };
            if value.is_empty() {
                continue;
            }
            let v = Some(Cow::Borrowed(value));
            match CSV_COLUMNS[c] {
                "id" => f.id = Cow::Borrowed(value),
                "service" => f.service = Cow::Borrowed(value),
                "env" => f.env = v,
                "data" => {
                    f.data = value
                        .split(';')
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(Cow::Borrowed)
                        .collect()
                }
                "tags" => {
                    for pair in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                        let Some((k, tv)) = pair.split_once('=') else {
                            errors.push(
                                Diagnostic::new(
                                    Some(at(line)),
                                    format!(
                                        "record {number}, column `tags`: `{pair}` is not `key=value`"
                                    ),
                                )
                                .with_help("write tags as key=value pairs separated by `;`, e.g. team=web;patch=self"),
                            );
                            bad = true;
                            break;
                        };
                        let k = k.trim();
                        if f.tags.iter().any(|(x, _)| x == k) {
                            errors.push(
                                Diagnostic::new(
                                    Some(at(line)),
                                    format!(
                                        "record {number}, column `tags`: tag `{k}` is given twice"
                                    ),
                                )
                                .with_help("keep one value"),
                            );
                            bad = true;
                            break;
                        }
                        f.tags.push((Cow::Borrowed(k), Cow::Borrowed(tv.trim())));
                    }
                }
                "provider" => f.provider = v,
                "added" => f.added = v,
                "description" => f.description = v,
                "external_id" => f.external_id = v,
                "account" => f.account = v,
                "region" => f.region = v,
                "mode" => f.mode = v,
                "first_seen" => f.first_seen = v,
                "last_seen" => f.last_seen = v,
                _ => {}
            }
        }
        if bad {
            continue;
        }
        match build(f, Loc::new(index, line, 0), &mut cache) {
            Ok(a) => assets.push(a),
            Err(fe) => errors.push(
                Diagnostic::new(
                    Some(at(line)),
                    format!("record {number}, column {}", fe.message),
                )
                .with_help(fe.help),
            ),
        }
    }
}

/// Makes an asset's strings share the interner's allocations.
pub(crate) fn adopt_asset(interner: &mut Interner, a: &mut Asset) {
    interner.adopt(&mut a.service.value);
    for s in a
        .env
        .iter_mut()
        .chain(a.data.iter_mut())
        .chain(a.provider.iter_mut().map(|p| &mut p.value))
        .chain(a.account.iter_mut())
        .chain(a.region.iter_mut())
        .chain(a.mode.iter_mut())
    {
        interner.adopt(s);
    }
    for (k, v) in a.tags.0.iter_mut() {
        interner.adopt(k);
        interner.adopt(v);
    }
}

/// Merges assets that share an id, where at least one of them comes from an inventory file
/// (index `declared` and after). Fields given in both must agree; a field given in one only
/// is taken from it; tags merge by key. Two declared (YAML) assets with one id are left for
/// [`crate::validate`] to report, as before. Returns one diagnostic per disagreement, naming
/// both places.
pub(crate) fn merge_assets(estate: &mut Estate, declared: usize) -> Vec<Diagnostic> {
    if estate.assets.len() == declared {
        return Vec::new();
    }
    let mut dups: Vec<(u32, u32)> = Vec::new();
    {
        let mut first: HashMap<&str, u32, BuildHasherDefault<FxHasher>> = HashMap::default();
        first.reserve(estate.assets.len());
        for (i, a) in estate.assets.iter().enumerate() {
            match first.entry(a.id.value.as_str()) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i as u32);
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    if i >= declared {
                        dups.push((*o.get(), i as u32));
                    }
                }
            }
        }
    }
    if dups.is_empty() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let mut removed = vec![false; estate.assets.len()];
    // Only the sources are needed to cite places; borrow them apart from the assets.
    let view = Estate {
        sources: std::mem::take(&mut estate.sources),
        ..Estate::default()
    };
    for (keep, drop) in dups {
        let (keep, drop) = (keep as usize, drop as usize);
        let (head, tail) = estate.assets.split_at_mut(drop);
        let from = std::mem::replace(
            &mut tail[0],
            Asset {
                id: Sp::new(String::new()),
                service: Sp::new(Sym::new("")),
                env: None,
                data: Vec::new(),
                tags: Tags::default(),
                provider: None,
                added: None,
                description: None,
                external_id: None,
                account: None,
                region: None,
                mode: None,
                first_seen: None,
                last_seen: None,
            },
        );
        removed[drop] = true;
        for (field, here, there) in merge_one(&mut head[keep], from) {
            let id = &head[keep].id.value;
            errors.push(
                Diagnostic::new(
                    view.try_place(there),
                    format!(
                        "asset `{id}` disagrees on `{field}`: {here} at {} but {} at {}",
                        view.cite(there),
                        field_value_at(&head[keep], &field),
                        view.cite(head[keep].id.loc)
                    ),
                )
                .with_help(
                    "an asset found in several places must agree on every field given in \
                     more than one of them; correct one, or leave the field out of one",
                ),
            );
        }
    }
    estate.sources = view.sources;
    let mut i = 0;
    estate.assets.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    errors
}

/// Quoted text of a field of an asset, for a conflict message.
fn field_value_at(a: &Asset, field: &str) -> String {
    let q = |s: Option<&str>| s.map_or("not given".to_string(), |s| format!("`{s}`"));
    if let Some(tag) = field.strip_prefix("tags.") {
        return q(a.tags.get(tag));
    }
    match field {
        "service" => q(Some(&a.service.value)),
        "env" => q(a.env.as_deref()),
        "data" => format!("`[{}]`", join(&a.data)),
        "provider" => q(a.provider.as_ref().map(|p| p.value.as_str())),
        "added" => q(a.added.map(|d| d.to_string()).as_deref()),
        "description" => q(a.description.as_deref()),
        "external_id" => q(a.external_id.as_deref()),
        "account" => q(a.account.as_deref()),
        "region" => q(a.region.as_deref()),
        "mode" => q(a.mode.as_deref()),
        "first_seen" => q(a.first_seen.map(|d| d.to_string()).as_deref()),
        "last_seen" => q(a.last_seen.map(|d| d.to_string()).as_deref()),
        _ => String::new(),
    }
}

fn join(v: &[Sym]) -> String {
    v.iter().map(Sym::as_str).collect::<Vec<_>>().join(", ")
}

/// Merges `from` into `into`; returns `(field, from's value, from's place)` per disagreement.
fn merge_one(into: &mut Asset, from: Asset) -> Vec<(String, String, Loc)> {
    let at = from.id.loc;
    let mut conflicts = Vec::new();
    fn one<T: PartialEq + fmt::Display>(
        into: &mut Option<T>,
        from: Option<T>,
        field: &str,
        at: Loc,
        out: &mut Vec<(String, String, Loc)>,
    ) {
        match (into.as_ref(), from) {
            (_, None) => {}
            (None, Some(v)) => *into = Some(v),
            (Some(a), Some(b)) if *a == b => {}
            (Some(_), Some(b)) => out.push((field.to_string(), format!("`{b}`"), at)),
        }
    }
    if into.service.value != from.service.value {
        conflicts.push(("service".into(), format!("`{}`", from.service.value), at));
    }
    one(&mut into.env, from.env, "env", at, &mut conflicts);
    if !from.data.is_empty() {
        if into.data.is_empty() {
            into.data = from.data;
        } else {
            fn set(v: &[Sym]) -> Vec<&str> {
                let mut v: Vec<&str> = v.iter().map(Sym::as_str).collect();
                v.sort_unstable();
                v.dedup();
                v
            }
            if set(&into.data) != set(&from.data) {
                conflicts.push(("data".into(), format!("`[{}]`", join(&from.data)), at));
            }
        }
    }
    if !from.tags.is_empty() {
        let mut pairs: Vec<(Sym, Sym)> = into.tags.0.to_vec();
        for (k, v) in from.tags.0.iter() {
            match pairs.iter().find(|(x, _)| x == k) {
                Some((_, old)) if old != v => {
                    conflicts.push((format!("tags.{k}"), format!("`{v}`"), at));
                }
                Some(_) => {}
                None => pairs.push((k.clone(), v.clone())),
            }
        }
        into.tags = Tags::from_syms(pairs);
    }
    match (&into.provider, from.provider) {
        (_, None) => {}
        (None, Some(p)) => into.provider = Some(p),
        (Some(a), Some(b)) if a.value == b.value => {}
        (Some(_), Some(b)) => conflicts.push(("provider".into(), format!("`{}`", b.value), at)),
    }
    one(&mut into.added, from.added, "added", at, &mut conflicts);
    one(
        &mut into.description,
        from.description,
        "description",
        at,
        &mut conflicts,
    );
    one(
        &mut into.external_id,
        from.external_id,
        "external_id",
        at,
        &mut conflicts,
    );
    one(
        &mut into.account,
        from.account,
        "account",
        at,
        &mut conflicts,
    );
    one(&mut into.region, from.region, "region", at, &mut conflicts);
    one(&mut into.mode, from.mode, "mode", at, &mut conflicts);
    one(
        &mut into.first_seen,
        from.first_seen,
        "first_seen",
        at,
        &mut conflicts,
    );
    one(
        &mut into.last_seen,
        from.last_seen,
        "last_seen",
        at,
        &mut conflicts,
    );
    conflicts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differing_in_their_last_characters_spread_over_buckets() {
        let hash = |s: &str| {
            let mut h = FxHasher::default();
            std::hash::Hash::hash(s, &mut h);
            h.finish()
        };
        // The low 10 bits pick one of 1024 buckets: 1000 sequential ids must use most of them.
        let buckets: std::collections::HashSet<u64> = (0..1000)
            .map(|i| hash(&format!("a{i:07}")) & 1023)
            .collect();
        assert!(buckets.len() > 550, "{}", buckets.len());
    }
}
