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
    /// Leave out the newest ingested inventory snapshot (`DIR/.demarc/inventory/`,
    /// [`latest_snapshot`]) that an estate directory otherwise loads automatically.
    pub no_snapshot: bool,
    /// Refuse inventory files the estate names outside this directory (absolute paths, `..`,
    /// symbolic links leading out). The server sets it to a version's directory, so an
    /// uploaded estate cannot make it read the server's own files.
    pub confine_to: Option<PathBuf>,
}

/// Where `demarc ingest inventory` keeps an estate directory's inventory snapshots.
pub const SNAPSHOT_DIR: &str = ".demarc/inventory";

/// The inventory snapshots of the estate directory `dir`, oldest first: the
/// `DIR/.demarc/inventory/*.jsonl` files other than their `*.resources.jsonl` sidecars, in name
/// order (names start with a UTC timestamp, so name order is time order). Files being written
/// (hidden `.tmp` names) are never listed.
pub fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(SNAPSHOT_DIR)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                !n.starts_with('.') && n.ends_with(".jsonl") && !n.ends_with(".resources.jsonl")
            })
        })
        .collect();
    out.sort();
    out
}

/// The newest inventory snapshot of the estate directory `dir`, if it has any.
pub fn latest_snapshot(dir: &Path) -> Option<PathBuf> {
    snapshots(dir).pop()
}

/// The names of an estate's root file, in the order they are looked for. A directory is an
/// estate when it holds one of them; `demarc` with no path looks for one in the current
/// directory and then in each parent, as cargo looks for `Cargo.toml`.
pub const ROOT_FILES: [&str; 2] = ["demarc.yaml", "estate.yaml"];

/// The nearest directory, `start` or one of its parents, that holds an estate root file
/// ([`ROOT_FILES`]).
pub fn find_estate_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| {
            ROOT_FILES
                .iter()
                .any(|f| std::fs::symlink_metadata(d.join(f)).is_ok())
        })
        .map(Path::to_path_buf)
}

/// Loads an estate from a `.yaml`/`.yml`/`.json` file, or from a directory that holds a root
/// file ([`ROOT_FILES`]): the root file first, then every other estate file below it, in name
/// order (see [`estate_files`] for what is skipped). Adds the inventory files it names and
/// those in `options`. Repeated strings are interned into `interner`. Does not validate
/// references; see [`crate::validate`]. Files that were skipped are in [`Estate::notes`].
pub fn load_path(
    path: &Path,
    options: &LoadOptions,
    interner: &mut Interner,
) -> Result<Estate, Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        // A single file; `read_text` refuses it if it is not a regular file.
        let text = read_text(path).map_err(Diagnostics::from)?;
        return load_sources_with(vec![(path.to_path_buf(), text)], options, interner);
    }
    let root = root_file(path)?;
    let root_text = read_text(&root).map_err(Diagnostics::from)?;
    // The root is parsed first: its `settings.catalog` names directories to leave out.
    let root_doc = parse_all(vec![(root.clone(), root_text)], 0, interner)
        .pop()
        .expect("one result per file");
    let overlays: Vec<PathBuf> = match &root_doc {
        Ok(d) => d
            .settings
            .iter()
            .flat_map(|s| &s.catalog)
            .map(|c| path.join(&c.value))
            .collect(),
        Err(_) => Vec::new(),
    };
    let found = estate_files(path, &root, &overlays)?;
    // The newest ingested snapshot is an inventory source like any other, after those the
    // estate and the caller name.
    let with_snapshot;
    let options = match latest_snapshot(path) {
        Some(s) if !options.no_snapshot => {
            let mut o = options.clone();
            o.inventory.push(s);
            with_snapshot = o;
            &with_snapshot
        }
        _ => options,
    };
    let mut sources = Vec::with_capacity(found.files.len());
    let mut errors = Vec::new();
    for f in &found.files {
        match read_text(f) {
            Ok(text) => sources.push((f.clone(), text)),
            Err(e) => errors.push(e),
        }
    }
    if let Err(e) = &root_doc {
        errors.splice(0..0, e.iter().cloned());
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    let mut files = vec![root];
    files.extend(sources.iter().map(|(p, _)| p.clone()));
    let mut results = vec![root_doc];
    results.extend(parse_all(sources, 1, interner));
    let mut estate = finish(files, results, options, interner)?;
    estate.notes = found.notes;
    Ok(estate)
}

/// The root file of an estate directory, or an error that says how to make one.
fn root_file(dir: &Path) -> Result<PathBuf, Diagnostics> {
    let present: Vec<PathBuf> = ROOT_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    match present.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Diagnostic::new(
            Some(place0(dir)),
            format!(
                "not an estate directory: it has no `{}` or `{}`",
                ROOT_FILES[1], ROOT_FILES[0]
            ),
        )
        .with_help(format!(
            "an estate directory starts with a root file that sets `version`, `estate` and `customer`: \
             rename the estate's main file to `estate.yaml`, pass that file itself \
             (`-e {}/FILE.yaml`), or run `demarc init {}` to scaffold one",
            dir.display(),
            dir.display()
        ))
        .into()),
        _ => Err(Diagnostic::new(
            Some(place0(dir)),
            format!(
                "two estate root files: `{}` and `{}`",
                ROOT_FILES[0], ROOT_FILES[1]
            ),
        )
        .with_help("keep one root file and rename the other (any other name is read as part of the estate)")
        .into()),
    }
}

/// The files of an estate directory besides its root, and what was left out on purpose.
#[derive(Debug, Clone, Default)]
pub struct EstateFiles {
    /// Estate files to read, in path order.
    pub files: Vec<PathBuf>,
    /// What was skipped and why, for the user (`note: …` on stderr).
    pub notes: Vec<String>,
}

/// Whether a file in an estate tree is never an estate file: container and CI configuration
/// (`docker-compose*.yml`, `compose.yaml`) and JSON Schemas (`*.schema.json`). Hidden files and
/// directories (`.github/`, `.git/`) are skipped by the walk itself.
pub fn never_estate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("docker-compose")
        || lower == "compose.yaml"
        || lower == "compose.yml"
        || lower.ends_with(".schema.json")
}

/// The estate files below `dir` other than `root`: `.yaml`, `.yml` and `.json` files in every
/// subdirectory, following symbolic links to directories (each directory is read once, so a
/// link loop ends). Skipped: hidden entries (`.github/`), files that are never estate files
/// ([`never_estate`]), and the catalog overlay directories in `overlays` (with a note).
pub fn estate_files(
    dir: &Path,
    root: &Path,
    overlays: &[PathBuf],
) -> Result<EstateFiles, Diagnostics> {
    let mut out = EstateFiles::default();
    let overlays: Vec<PathBuf> = overlays
        .iter()
        .map(|o| std::fs::canonicalize(o).unwrap_or_else(|_| o.clone()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut errors = Vec::new();
    walk(dir, root, &overlays, &mut seen, &mut out, &mut errors);
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    out.files.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    root: &Path,
    overlays: &[PathBuf],
    seen: &mut std::collections::HashSet<PathBuf>,
    out: &mut EstateFiles,
    errors: &mut Vec<Diagnostic>,
) {
    let real = match std::fs::canonicalize(dir) {
        Ok(r) => r,
        Err(e) => return errors.push(io_diag(dir, &e)),
    };
    if overlays.contains(&real) {
        out.notes.push(format!(
            "{}: skipped, a catalog overlay directory named in `settings.catalog` (read as catalog data, not as estate files)",
            dir.display()
        ));
        return;
    }
    if !seen.insert(real) {
        // Reached again through a symbolic link: read once.
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return errors.push(io_diag(dir, &e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return errors.push(io_diag(dir, &e)),
        };
        let p = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || p == root {
            continue;
        }
        // `metadata` follows symbolic links: a linked directory is walked, a linked file read.
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                errors.push(
                    Diagnostic::new(Some(place0(&p)), format!("cannot read: {e}")).with_help(
                        "a broken symbolic link or an unreadable entry: fix or remove it",
                    ),
                );
                continue;
            }
        };
        if meta.is_dir() {
            walk(&p, root, overlays, seen, out, errors);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            if never_estate(&name) {
                continue;
            }
            out.files.push(p);
        }
    }
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
    let results = parse_all(sources, 0, interner);
    finish(files, results, options, interner)
}

/// Merges parsed files (`results[i]` is `files[i]`) and adds the inventory files.
fn finish(
    files: Vec<PathBuf>,
    results: Vec<Result<EstateDoc, Vec<Diagnostic>>>,
    options: &LoadOptions,
    interner: &mut Interner,
) -> Result<Estate, Diagnostics> {
    let mut docs = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(d) => docs.push(d),
            Err(mut e) => errors.append(&mut e),
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
        if let (Some(root), Some(_)) = (&options.confine_to, named_at)
            && !inside(root, &path)
        {
            errors.push(
                Diagnostic::new(
                    place_named.clone(),
                    format!(
                        "inventory file `{}` is outside the estate",
                        path.strip_prefix(root).unwrap_or(&path).display()
                    ),
                )
                .with_help("name inventory files by a path inside the estate's directory, and upload them with it"),
            );
            continue;
        }
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

/// Whether `path` (which need not exist) stays inside `root` once symbolic links and `..` are
/// resolved.
pub fn inside(root: &Path, path: &Path) -> bool {
    let Ok(root) = std::fs::canonicalize(root) else {
        return false;
    };
    match std::fs::canonicalize(path) {
        Ok(p) => p.starts_with(&root),
        // A file that does not exist is reported by the reader; judge its path as written.
        Err(_) => {
            let mut out = PathBuf::new();
            for c in path.components() {
                match c {
                    std::path::Component::ParentDir => {
                        if !out.pop() {
                            return false;
                        }
                    }
                    std::path::Component::CurDir => {}
                    other => out.push(other),
                }
            }
            std::fs::canonicalize(out.parent().unwrap_or(Path::new("/")))
                .map(|p| p.starts_with(&root))
                .unwrap_or(false)
        }
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
            "not UTF-8 text: the first byte that is not UTF-8 is here".to_string(),
        )
        .with_help("save the file as UTF-8 (most editors offer this under \"Save with encoding\")")
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
    first: u32,
    interner: &mut Interner,
) -> Vec<Result<EstateDoc, Vec<Diagnostic>>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len());
    if workers <= 1 {
        return interner.scoped(|| {
            sources
                .into_iter()
                .enumerate()
                .map(|(i, (path, text))| parse_doc(first + i as u32, &path, text))
                .collect()
        });
    }
    let base = interner.clone();
    let queue = std::sync::Mutex::new(sources.into_iter().enumerate());
    let mut results: Vec<(usize, Result<EstateDoc, Vec<Diagnostic>>)> = std::thread::scope(|s| {
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
                            out.push((i, parse_doc(first + i as u32, &path, text)));
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

fn parse_doc(file: u32, path: &Path, mut text: String) -> Result<EstateDoc, Vec<Diagnostic>> {
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
    let at = |line: u32, column: u32| Place {
        file: path.to_path_buf(),
        line,
        column,
    };
    crate::input::take_deferred();
    let parsed = with_file(file, || {
        serde_saphyr::from_str_with_options::<EstateDoc>(text, options)
    });
    // Type errors of dates and `version` were collected, not raised: report them all.
    let mut errors: Vec<Diagnostic> = crate::input::take_deferred()
        .into_iter()
        .map(|(line, column, m)| {
            let help = if m.starts_with("`version`") {
                "write `version: 1` (this demarc reads format version 1)"
            } else {
                "write the date as YYYY-MM-DD, e.g. 2026-11-23"
            };
            Diagnostic::new(Some(at(line, column)), m).with_help(help)
        })
        .collect();
    match parsed {
        Ok(doc) if errors.is_empty() => Ok(doc),
        Ok(_) => Err(errors),
        Err(e) => {
            if let Some(d) = not_an_estate_file(path, text) {
                return Err(vec![d]);
            }
            let place = e.location().map(|l| at(l.line() as u32, l.column() as u32));
            let raw = e.without_snippet().to_string();
            let (message, help) = user_words(&strip_position(&raw));
            errors.push(
                Diagnostic::new(place.or_else(|| Some(place0(path))), message).with_help(help),
            );
            errors.sort_by_key(|d| d.place.as_ref().map(|p| (p.line, p.column)));
            Err(errors)
        }
    }
}

/// The top-level keys of an estate file.
const ESTATE_KEYS: [&str; 15] = [
    "version",
    "estate",
    "customer",
    "settings",
    "offering",
    "parties",
    "services",
    "contracts",
    "assignments",
    "overrides",
    "assets",
    "evidence",
    "reviews",
    "incidents",
    "inventory",
];

/// A file that failed to parse because it is something else (a Kubernetes manifest, a CI
/// workflow): none of its top-level keys is an estate key, nor a misspelling of one.
fn not_an_estate_file(path: &Path, text: &str) -> Option<Diagnostic> {
    let keys = top_level_keys(text)?;
    let foreign = |k: &str| !ESTATE_KEYS.contains(&k) && crate::suggest(k, ESTATE_KEYS).is_none();
    if keys.is_empty() || !keys.iter().all(|k| foreign(k)) {
        return None;
    }
    Some(
        Diagnostic::new(
            Some(place0(path)),
            format!(
                "not an estate file: its top-level key `{}` is not an estate key",
                keys[0].chars().take(60).collect::<String>()
            ),
        )
        .with_help(format!(
            "an estate file's top-level keys are {}. If this file is not part of the estate, \
             move it out of the estate directory or rename it to start with `.` (hidden files \
             are not read); to read one estate file alone, pass it with `-e FILE`",
            ESTATE_KEYS.join(", ")
        )),
    )
}

/// The keys of a top-level mapping, in order; `None` when the document is not a mapping or is
/// not YAML at all.
fn top_level_keys(text: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_saphyr::from_str(text).ok()?;
    let map = value.as_object()?;
    // serde_json's map is sorted; find the first key in the text for the message.
    let mut keys: Vec<(usize, String)> = map
        .keys()
        .map(|k| (text.find(k.as_str()).unwrap_or(usize::MAX), k.clone()))
        .collect();
    keys.sort();
    Some(keys.into_iter().map(|(_, k)| k).collect())
}

/// serde and serde-saphyr's words for a parse error, in the user's words, with a fix.
fn user_words(message: &str) -> (String, String) {
    let general = "fix the YAML at this position; `demarc schema` prints the format and \
                   docs/estate-format.md explains every field"
        .to_string();
    // serde-saphyr's advice here is for programmers (an `Options` setting); say it for users.
    if let Some((m, _)) = message.split_once(", set DuplicateKeyPolicy") {
        return (
            m.to_string(),
            "a key may appear once in a mapping: remove the repeated key or merge the two".into(),
        );
    }
    if message.starts_with("multiple YAML documents") {
        return (
            "this file holds several YAML documents (separated by `---`)".into(),
            "an estate file is one document: remove the `---` lines, or put each document in a \
             file of its own in the estate directory"
                .into(),
        );
    }
    if message.contains("budget breached") || message.contains("Budget") {
        return (
            "this file is too deeply nested or expands too many aliases (`*name`) to read safely"
                .into(),
            "write the values out instead of repeating large anchored blocks, or split the file"
                .into(),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, rest)) = rest.split_once('`')
    {
        let expected: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, e)| e)
            .unwrap_or("")
            .split([',', ' '])
            .map(|w| w.trim_matches(|c: char| c == '`' || c.is_whitespace()))
            .filter(|w| !w.is_empty() && !matches!(*w, "one" | "of" | "or"))
            .collect();
        let help = match crate::suggest(value, expected.iter().copied()) {
            Some(s) => format!(
                "did you mean `{s}`? (valid values: {})",
                expected.join(", ")
            ),
            None => format!("valid values: {}", expected.join(", ")),
        };
        return (format!("unknown value `{value}`"), help);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (
            format!("expected {} here, found {found}", plain(expected)),
            general,
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (
            format!("expected {} here, found {found}", plain(expected)),
            general,
        );
    }
    if let Some(hint) = unknown_field_hint(message) {
        return (message.to_string(), hint);
    }
    let message = message
        .replace(
            "expected mapping start",
            "expected a mapping (`key: value` lines) here",
        )
        .replace(
            "expected sequence start",
            "expected a list (`- item` lines) here",
        )
        .replace("expected string scalar", "expected a text value")
        .replace("invalid u32", "expected a whole number")
        .replace("input is out of range", "a value is out of range");
    (message, general)
}

/// serde's names of types in words.
fn plain(expected: &str) -> String {
    match expected {
        "u32" | "u64" | "usize" | "i64" => "a whole number".into(),
        "a string" | "string" | "a borrowed string" => "a text value".into(),
        e if e.starts_with("struct ") || e.starts_with("a map") || e == "map" => {
            "a mapping (`key: value` lines)".into()
        }
        e if e.starts_with("a sequence") || e == "sequence" => "a list (`- item` lines)".into(),
        e => e.to_string(),
    }
}

/// For serde's "unknown field `x`, expected one of a, b" (or "expected `a` or `b`"), the
/// nearest valid field name, so a typo gets a one-word fix. The catalog's loader uses it too.
pub fn unknown_field_hint(message: &str) -> Option<String> {
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

/// Removes serde-saphyr's trailing "at line X column Y" (we print `file:line:col` instead);
/// a position inside a parenthesis ("(defined at line 3 column 5)", an alias's anchor) is
/// kept and worded as a line, so the message is never cut mid-phrase.
fn strip_position(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let mut out = first.to_string();
    if let Some(i) = out.rfind(" at line ")
        && !out[i..].contains(')')
    {
        out.truncate(i);
    }
    out
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
        if let Some(o) = doc.offering {
            if let Some(old) = &out.offering {
                errors.push(
                    Diagnostic::new(Some(place(o.loc)), "`offering` is given in two files")
                        .with_help(format!(
                            "keep one `offering` block (the other is at {})",
                            fmt_place(&place(old.loc))
                        )),
                );
            } else {
                out.offering = Some(o);
            }
        }
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
        out.incidents.extend(doc.incidents);
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
