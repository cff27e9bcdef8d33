//! Reading an estate from one YAML file or a directory of them, and merging the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Estate;
use crate::diag::{Diagnostic, Diagnostics, Place};
use crate::span::{Loc, Sp, with_file};
use crate::types::{EstateDoc, Settings};

/// Files larger than this are refused before parsing: an estate is hand-written text, and a
/// multi-gigabyte file is a mistake (or an attack) that should not exhaust memory.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Loads an estate from a `.yaml`/`.yml` file or from every such file in a directory
/// (recursively, in name order). Does not validate references; see [`crate::validate`].
pub fn load_path(path: &Path) -> Result<Estate, Diagnostics> {
    let files = collect_files(path)?;
    let mut sources = Vec::with_capacity(files.len());
    for f in &files {
        let meta = std::fs::metadata(f).map_err(|e| io_error(f, &e))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(Diagnostic::new(
                Some(place0(f)),
                format!(
                    "file is {} bytes; the limit is {MAX_FILE_BYTES}",
                    meta.len()
                ),
            )
            .with_help("split the estate across several files in a directory")
            .into());
        }
        let bytes = std::fs::read(f).map_err(|e| io_error(f, &e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Diagnostic::new(
                Some(place0(f)),
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
            .with_help("save the file as UTF-8")
        })?;
        sources.push((f.clone(), text));
    }
    load_sources(sources)
}

/// Loads an estate from in-memory `(name, text)` pairs; the names are used in error messages.
pub fn load_sources(sources: Vec<(PathBuf, String)>) -> Result<Estate, Diagnostics> {
    let files: Vec<PathBuf> = sources.iter().map(|(p, _)| p.clone()).collect();
    let results = parse_all(sources);
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
    merge(files, docs)
}

/// Parses every file, several at a time: YAML parsing is most of the cost of a big estate,
/// and the files of a directory are independent until they are merged. Results keep the
/// files' order, and each file's text is dropped as soon as it is parsed.
fn parse_all(sources: Vec<(PathBuf, String)>) -> Vec<Result<EstateDoc, Diagnostic>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len());
    if workers <= 1 {
        return sources
            .into_iter()
            .enumerate()
            .map(|(i, (path, text))| parse_doc(i as u32, &path, &text))
            .collect();
    }
    let queue = std::sync::Mutex::new(sources.into_iter().enumerate());
    let mut results: Vec<(usize, Result<EstateDoc, Diagnostic>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        // A poisoned lock means another worker panicked; stop taking work.
                        let next = match queue.lock() {
                            Ok(mut q) => q.next(),
                            Err(_) => None,
                        };
                        let Some((i, (path, text))) = next else { break };
                        out.push((i, parse_doc(i as u32, &path, &text)));
                    }
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
    results.into_iter().map(|(_, r)| r).collect()
}

fn parse_doc(file: u32, path: &Path, text: &str) -> Result<EstateDoc, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(EstateDoc::default());
    }
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
        crate::intern::interning(|| serde_saphyr::from_str_with_options::<EstateDoc>(text, options))
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
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out).map_err(|e| io_error(path, &e))?;
    out.sort();
    if out.is_empty() {
        return Err(Diagnostic::new(
            Some(place0(path)),
            "no .yaml or .yml files in this directory",
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
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostics {
    Diagnostic::new(Some(place0(path)), format!("cannot read: {e}"))
        .with_help("check the path and its permissions")
        .into()
}

fn place0(path: &Path) -> Place {
    Place {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
    }
}

/// Merges parsed files: scalars must be given once (or agree), maps merge by key (a key given
/// twice is an error), lists are appended.
fn merge(files: Vec<PathBuf>, docs: Vec<EstateDoc>) -> Result<Estate, Diagnostics> {
    let mut errors = Vec::new();
    let place = |loc: Loc| Place {
        file: files[loc.file as usize].clone(),
        line: loc.line,
        column: loc.column,
    };
    let mut version: Option<Sp<u32>> = None;
    let mut name: Option<Sp<String>> = None;
    let mut customer: Option<Sp<String>> = None;
    let mut settings: Option<Sp<Settings>> = None;
    let mut out = Estate {
        files: files.clone(),
        ..Estate::default()
    };
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
        out.assets.extend(doc.assets);
        out.evidence.extend(doc.evidence);
        out.reviews.extend(doc.reviews);
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
            Diagnostic::new(Some(place0(&files[0])), "missing `version`")
                .with_help("add `version: 1` at the top of the estate"),
        ),
    }
    match name {
        Some(n) => out.name = n.value,
        None => errors.push(
            Diagnostic::new(Some(place0(&files[0])), "missing `estate`")
                .with_help("name the estate, e.g. `estate: acme-retail`"),
        ),
    }
    match customer {
        Some(c) => out.customer = c,
        None => errors.push(
            Diagnostic::new(Some(place0(&files[0])), "missing `customer`").with_help(
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
    format!("{}:{}:{}", p.file.display(), p.line, p.column)
}
