//! Reading an estate from one estate file or a directory of them, adding its inventory files,
//! and merging everything into one [`Estate`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::Estate;
use crate::diag::{Diagnostic, Diagnostics, Place};
use crate::intern::Interner;
use crate::origin::{SourceFile, SourceKind};
use crate::span::{Loc, Sp, with_file};
use crate::types::{EstateDoc, Settings};

/// Files larger than this are refused: while reading, not only from what the file system
/// says, so a file that grows (or a device that never ends) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// How to load an estate besides its own files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Inventory files to add to the estate (`--inventory FILE`), after those the estate's
    /// `inventory:` key names. JSON Lines (`.jsonl`, `.ndjson`) or CSV (`.csv`).
    pub inventory: Vec<PathBuf>,
}

/// Loads an estate from a `.yaml`/`.yml`/`.json` file or from every such file in a directory
/// (recursively, in name order), plus the inventory files it names and those in `options`.
/// Repeated strings are interned into `interner`. Does not validate references; see
/// [`crate::validate`].
pub fn load_path(
    path: &Path,
    options: &LoadOptions,
    interner: &mut Interner,
) -> Result<Estate, Diagnostics> {
    let files = collect_files(path)?;
    let mut sources = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for f in &files {
        match read_text(f) {
            Ok(text) => sources.push((f.clone(), text)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    load_sources_with(sources, options, interner)
}

/// Loads an estate from in-memory `(name, text)` pairs; the names are used in error messages
/// (and, for `inventory:` entries, as the base of relative paths). Uses a fresh interner.
pub fn load_sources(sources: Vec<(PathBuf, String)>) -> Result<Estate, Diagnostics> {
    load_sources_with(sources, &LoadOptions::default(), &mut Interner::new())
}

/// [`load_sources`] with options and the caller's interner.
pub fn load_sources_with(
    sources: Vec<(PathBuf, String)>,
    options: &LoadOptions,
    interner: &mut Interner,
) -> Result<Estate, Diagnostics> {
    let files: Vec<PathBuf> = sources.iter().map(|(p, _)| p.clone()).collect();
    let results = parse_all(sources, interner);
    let mut docs = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(d) => docs.push(d),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    // Inventory files: those the estate names (relative to the file naming them), then the
    // caller's.
    let mut inventory: Vec<(PathBuf, Option<Loc>)> = Vec::new();
    for doc in &mut docs {
        for entry in std::mem::take(&mut doc.inventory) {
            let base = files
                .get(entry.loc.file as usize)
                .and_then(|f| f.parent())
                .unwrap_or(Path::new(""));
            inventory.push((base.join(&entry.value), Some(entry.loc)));
        }
    }
    inventory.extend(options.inventory.iter().map(|p| (p.clone(), None)));

    let sources: Vec<SourceFile> = files.iter().map(SourceFile::policy).collect();
    let mut estate = match merge(sources, docs) {
        Ok(e) => e,
        Err(d) => {
            errors = d.0;
            Estate::default()
        }
    };
    let declared = estate.assets.len();
    for (path, named_at) in inventory {
        let index = estate.sources.len() as u32;
        let place_named = named_at.map(|l| estate.place(l));
        match crate::inventory::read(&path, index, place_named, interner, &mut estate.assets) {
            Ok(source) => estate.sources.push(source),
            Err(mut e) => {
                estate
                    .sources
                    .push(SourceFile::inventory(&path, SourceKind::Jsonl));
                errors.append(&mut e);
            }
        }
    }
    if errors.is_empty() {
        errors = crate::inventory::merge_assets(&mut estate, declared);
    }
    if errors.is_empty() {
        Ok(estate)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Opens `path` for reading if it is a regular file (following symbolic links). FIFOs,
/// devices, sockets and directories are refused before they are opened, so a named pipe
/// cannot block the load and `/dev/zero` cannot feed it forever.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File, Diagnostic> {
    let meta = std::fs::metadata(path).map_err(|e| io_diag(path, &e))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta.file_type()));
    }
    let file = std::fs::File::open(path).map_err(|e| io_diag(path, &e))?;
    // The path may have been swapped between the two calls; check what was opened.
    let meta = file.metadata().map_err(|e| io_diag(path, &e))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta.file_type()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(path, meta.len()));
    }
    Ok(file)
}

fn not_regular(path: &Path, t: &std::fs::FileType) -> Diagnostic {
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            "a named pipe (FIFO)"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let what = if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Diagnostic::new(
        Some(place0(path)),
        format!("cannot read: this is {what}, not a regular file"),
    )
    .with_help("demarc reads only regular files; copy the data to a file first")
}

fn too_big(path: &Path, len: u64) -> Diagnostic {
    Diagnostic::new(
        Some(place0(path)),
        format!("file is {len} bytes or more; the limit is {MAX_FILE_BYTES}"),
    )
    .with_help("split it across several files")
}

/// A reader that fails once more than `limit` bytes have been read.
pub(crate) struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Capped<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Capped { inner, left: limit }
    }
}

/// The error [`Capped`] returns; its text is what users see.
pub(crate) const TOO_BIG: &str = "the file is larger than the limit";

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Read one byte past the limit so that a file of exactly the limit passes.
        let want = (buf.len() as u64).min(self.left.saturating_add(1)) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.left = 0;
            return Err(std::io::Error::other(format!(
                "{TOO_BIG} of {MAX_FILE_BYTES} bytes"
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads a whole estate file as UTF-8 text, refusing what is not a regular file and
/// stopping at [`MAX_FILE_BYTES`].
fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    Capped::new(file, MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            if e.to_string().starts_with(TOO_BIG) {
                too_big(path, MAX_FILE_BYTES + 1)
            } else {
                io_diag(path, &e)
            }
        })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = &e.as_bytes()[..valid];
        let line = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let column =
            (valid - text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)) as u32 + 1;
        Diagnostic::new(
            Some(Place {
                file: path.to_path_buf(),
                line,
                column,
            }),
            format!("not UTF-8 text (invalid byte at offset {valid})"),
        )
        .with_help("save the file as UTF-8")
    })
}

/// Parses every file, several at a time: YAML parsing is most of the cost of a big estate,
/// and the files of a directory are independent until they are merged. Results keep the
/// files' order, and each file's text is dropped as soon as it is parsed.
///
/// One file (or one core) parses on this thread with the caller's interner installed
/// ([`Interner::scoped`]). With several workers each installs a copy of it, and afterwards
/// every asset's strings are adopted into the caller's interner, so the result shares the
/// same allocations as a one-thread load.
fn parse_all(
    sources: Vec<(PathBuf, String)>,
    interner: &mut Interner,
) -> Vec<Result<EstateDoc, Diagnostic>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len());
    if workers <= 1 {
        return interner.scoped(|| {
            sources
                .into_iter()
                .enumerate()
                .map(|(i, (path, text))| parse_doc(i as u32, &path, text))
                .collect()
        });
    }
    let base = interner.clone();
    let queue = std::sync::Mutex::new(sources.into_iter().enumerate());
    let mut results: Vec<(usize, Result<EstateDoc, Diagnostic>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let mut local = base.clone();
                let queue = &queue;
                s.spawn(move || {
                    let mut out = Vec::new();
                    local.scoped(|| {
                        loop {
                            // A poisoned lock means another worker panicked; stop taking work.
                            let next = match queue.lock() {
                                Ok(mut q) => q.next(),
                                Err(_) => None,
                            };
                            let Some((i, (path, text))) = next else { break };
                            out.push((i, parse_doc(i as u32, &path, text)));
                        }
                    });
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results
        .into_iter()
        .map(|(_, r)| {
            r.map(|mut doc| {
                for a in &mut doc.assets {
                    crate::inventory::adopt_asset(interner, a);
                }
                doc
            })
        })
        .collect()
}

fn parse_doc(file: u32, path: &Path, mut text: String) -> Result<EstateDoc, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(EstateDoc::default());
    }
    // A JSON estate file is parsed as YAML 1.2 (JSON is its flow style), which keeps every
    // value's line and column. A tab is whitespace in JSON but not in YAML, and is never
    // raw inside a valid JSON string, so it becomes a space: same meaning, same columns.
    if path.extension().is_some_and(|e| e == "json") && text.contains('\t') {
        text = text.replace('\t', " ");
    }
    let text = text.as_str();
    // The default budget stops at 250,000 nodes, about 40,000 assets. Node and event budgets
    // grow with the file instead (a node needs at least two bytes of text), while the alias and
    // anchor limits that stop "billion laughs" expansion keep their defaults.
    let mut options = serde_saphyr::Options::default();
    if let Some(b) = options.budget.as_mut() {
        b.max_nodes = b.max_nodes.max(text.len() / 2 + 1);
        b.max_events = b.max_events.max(text.len() + 1);
        b.max_total_scalar_bytes = b.max_total_scalar_bytes.max(text.len() + 1);
    }
    with_file(file, || {
        serde_saphyr::from_str_with_options::<EstateDoc>(text, options)
    })
    .map_err(|e| {
        let place = e.location().map(|l| Place {
            file: path.to_path_buf(),
            line: l.line() as u32,
            column: l.column() as u32,
        });
        let message = e.without_snippet().to_string();
        // serde-saphyr already says "at line X column Y"; we print that as file:line:col.
        let message = strip_position(&message);
        // serde-saphyr's advice here is for programmers (an `Options` setting); say it for users.
        let (message, duplicate) = match message.split_once(", set DuplicateKeyPolicy") {
            Some((m, _)) => (m.to_string(), true),
            None => (message, false),
        };
        let help = if duplicate {
            Some(
                "a key may appear once in a mapping: remove the repeated key or merge the two"
                    .to_string(),
            )
        } else {
            unknown_field_hint(&message)
        };
        let help = help.unwrap_or_else(|| {
            "fix the YAML at this position; `demarc schema` prints the format and \
             docs/estate-format.md explains every field"
                .to_string()
        });
        Diagnostic::new(place.or_else(|| Some(place0(path))), message).with_help(help)
    })
}

/// For serde's "unknown field `x`, expected one of a, b" (or "expected `a` or `b`"), the
/// nearest valid field name, so a typo gets a one-word fix.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let fields: Vec<&str> = expected
        .split([',', ' '])
        .map(|w| w.trim_matches(|c: char| c == '`' || c.is_whitespace()))
        .filter(|w| !w.is_empty() && !matches!(*w, "one" | "of" | "or"))
        .collect();
    Some(match crate::suggest(field, fields.iter().copied()) {
        Some(s) => format!(
            "did you mean `{s}`? (valid fields here: {})",
            fields.join(", ")
        ),
        None => format!("valid fields here: {}", fields.join(", ")),
    })
}

fn strip_position(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        // A single file; `read_text` refuses it if it is not a regular file.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out).map_err(|e| io_error(path, &e))?;
    out.sort();
    if out.is_empty() {
        return Err(Diagnostic::new(
            Some(place0(path)),
            "no .yaml or .yml files in this directory (nor .json estate files)",
        )
        .with_help("run `demarc init DIR` to scaffold an estate")
        .into());
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostics {
    io_diag(path, e).into()
}

pub(crate) fn io_diag(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(Some(place0(path)), format!("cannot read: {e}"))
        .with_help("check the path and its permissions")
}

/// A whole file, no position: rendered as just the path.
pub(crate) fn place0(path: &Path) -> Place {
    Place {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
    }
}

/// Merges parsed files: scalars must be given once (or agree), maps merge by key (a key given
/// twice is an error), lists are appended.
fn merge(sources: Vec<SourceFile>, docs: Vec<EstateDoc>) -> Result<Estate, Diagnostics> {
    let mut errors = Vec::new();
    let mut out = Estate {
        sources,
        ..Estate::default()
    };
    let whole = out.clone();
    let place = |loc: Loc| whole.place(loc);
    // Where to report a key no file sets: the file when there is one, else nowhere.
    let nowhere: Option<Place> = match whole.sources.as_slice() {
        [one] => Some(place0(&one.path)),
        _ => None,
    };
    let in_files = match whole.sources.len() {
        0 | 1 => String::new(),
        n => format!(" (none of the {n} estate files sets it)"),
    };
    let mut version: Option<Sp<u32>> = None;
    let mut name: Option<Sp<String>> = None;
    let mut customer: Option<Sp<String>> = None;
    let mut settings: Option<Sp<Settings>> = None;
    fn once<T: PartialEq + Clone>(
        slot: &mut Option<Sp<T>>,
        new: Option<Sp<T>>,
        key: &str,
        errors: &mut Vec<Diagnostic>,
        place: &dyn Fn(Loc) -> Place,
    ) {
        if let Some(n) = new {
            match slot {
                Some(old) if old.value != n.value => errors.push(
                    Diagnostic::new(
                        Some(place(n.loc)),
                        format!("`{key}` is set again with a different value"),
                    )
                    .with_help(format!(
                        "it was first set at {}; give it once or give the same value",
                        fmt_place(&place(old.loc))
                    )),
                ),
                Some(_) => {}
                None => *slot = Some(n),
            }
        }
    }
    for doc in docs {
        once(&mut version, doc.version, "version", &mut errors, &place);
        once(&mut name, doc.estate, "estate", &mut errors, &place);
        once(&mut customer, doc.customer, "customer", &mut errors, &place);
        if let Some(s) = doc.settings {
            if let Some(old) = &settings {
                errors.push(
                    Diagnostic::new(Some(place(s.loc)), "`settings` is given in two files")
                        .with_help(format!(
                            "keep one `settings` block (the other is at {})",
                            fmt_place(&place(old.loc))
                        )),
                );
            } else {
                settings = Some(s);
            }
        }
        merge_map(&mut out.parties, doc.parties, "party", &mut errors, &place);
        merge_map(
            &mut out.services,
            doc.services,
            "service",
            &mut errors,
            &place,
        );
        out.contracts.extend(doc.contracts);
        out.assignments.extend(doc.assignments);
        out.overrides.extend(doc.overrides);
        // A single file's assets are moved, not copied: at a million assets the copy
        // would briefly double the largest allocation of the load.
        if out.assets.is_empty() {
            out.assets = doc.assets;
        } else {
            out.assets.extend(doc.assets);
        }
        out.evidence.extend(doc.evidence);
        out.reviews.extend(doc.reviews);
        merge_map(
            &mut out.templates,
            doc.templates,
            "template",
            &mut errors,
            &place,
        );
        out.apply.extend(doc.apply);
        out.accepted.extend(doc.accepted);
    }
    match version {
        Some(v) if v.value != 1 => errors.push(
            Diagnostic::new(
                Some(place(v.loc)),
                format!("unsupported format version {}", v.value),
            )
            .with_help("this demarc reads `version: 1`"),
        ),
        Some(_) => {}
        None => errors.push(
            Diagnostic::new(nowhere.clone(), format!("missing `version`{in_files}"))
                .with_help("add `version: 1` at the top of the estate"),
        ),
    }
    match name {
        Some(n) => out.name = n.value,
        None => errors.push(
            Diagnostic::new(nowhere.clone(), format!("missing `estate`{in_files}"))
                .with_help("name the estate, e.g. `estate: acme-retail`"),
        ),
    }
    match customer {
        Some(c) => out.customer = c,
        None => errors.push(
            Diagnostic::new(nowhere.clone(), format!("missing `customer`{in_files}")).with_help(
                "name the party that owns the data and stays accountable, e.g. `customer: acme`",
            ),
        ),
    }
    out.settings = settings.map(|s| s.value).unwrap_or_default();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errors))
    }
}

fn merge_map<T>(
    into: &mut BTreeMap<String, Sp<T>>,
    from: BTreeMap<String, Sp<T>>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
    place: &dyn Fn(Loc) -> Place,
) {
    for (k, v) in from {
        if let Some(old) = into.get(&k) {
            errors.push(
                Diagnostic::new(Some(place(v.loc)), format!("{what} `{k}` is defined twice"))
                    .with_help(format!(
                        "the first definition is at {}; keep one",
                        fmt_place(&place(old.loc))
                    )),
            );
        } else {
            into.insert(k, v);
        }
    }
}

pub(crate) fn fmt_place(p: &Place) -> String {
    match (p.line, p.column) {
        (0, _) => p.file.display().to_string(),
        (l, 0) => format!("{}:{l}", p.file.display()),
        (l, c) => format!("{}:{l}:{c}", p.file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_cap_is_enforced_while_reading() {
        let mut buf = Vec::new();
        let err = Capped::new(&[7u8; 100][..], 99)
            .read_to_end(&mut buf)
            .unwrap_err();
        assert!(err.to_string().starts_with(TOO_BIG), "{err}");
        assert!(buf.len() <= 100);
        let mut buf = Vec::new();
        Capped::new(&[7u8; 100][..], 100)
            .read_to_end(&mut buf)
            .unwrap();
        assert_eq!(buf.len(), 100, "exactly the limit is allowed");
    }
}
