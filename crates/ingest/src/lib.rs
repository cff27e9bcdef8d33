//! Inventory ingest: read what discovery tools exported, keep it with the estate as dated
//! snapshots, and compare and check it.
//!
//! - [`read`]: the format is detected from the content (never the file name) and the file is
//!   streamed; memory holds one resource at a time.
//! - [`map`]: each record becomes a [`ResourceV1`] (stable id, type, account, region, tags,
//!   raw configuration); its catalog service comes from the catalog's `resource_types` only.
//! - [`ingest`] writes a snapshot into `DIR/.demarc/inventory/`: `<stamp>-<n>.jsonl` in the
//!   estate's JSON Lines inventory format (the estate loader picks the newest one up), a
//!   `.resources.jsonl` sidecar with every resource and its raw configuration (policy
//!   checks, drift), and a `.manifest.json` ([`IngestV1`]). All three are written to temporary
//!   files and renamed into place only when every input was read: an error leaves nothing.
//! - [`drift`]: facts for the engine's drift check (DM021–DM025).
//! - [`policy`]: Rego rules (built in and the user's) evaluated with regorus over
//!   [`InventoryV1`].
//!
//! The library never reads the clock: the caller passes the date and the snapshot's stamp.

pub mod drift;
pub mod map;
pub mod policy;
pub mod read;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::NaiveDate;
pub use demarc_api::{IngestFileV1, IngestV1, InventoryV1, PolicyResultV1, ResourceV1};
use demarc_catalog::Catalog;
use demarc_model::Estate;
use serde_json::{Map, Value};

pub use read::ReadError;

/// How to run an ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The date of the snapshot: every resource is seen on it.
    pub as_of: NaiveDate,
    /// The snapshot's name stem, a UTC timestamp such as `2026-11-23T101500Z`.
    pub stamp: String,
    /// The Cloud Custodian resource type (`aws.s3`) when no `metadata.json` is beside a
    /// `resources.json`.
    pub custodian_type: Option<String>,
}

/// An ingest that failed: nothing was written.
#[derive(Debug, Clone)]
pub struct IngestError {
    pub file: Option<PathBuf>,
    pub error: ReadError,
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}", p.display(), self.error),
            None => write!(f, "{}", self.error),
        }
    }
}

fn fail(file: Option<&Path>, m: impl Into<String>) -> IngestError {
    IngestError {
        file: file.map(Path::to_path_buf),
        error: ReadError {
            message: m.into(),
            offset: None,
            path: None,
        },
    }
}

/// Progress of an ingest, for a progress bar: the file, its bytes read so far and its size,
/// and the resources read so far in all files.
pub trait Progress {
    fn file(&self, path: &Path, size: u64);
    fn advance(&self, bytes: u64, items: u64);
}

/// No progress reporting.
pub struct Quiet;
impl Progress for Quiet {
    fn file(&self, _: &Path, _: u64) {}
    fn advance(&self, _: u64, _: u64) {}
}

/// What a declared asset offers a discovered resource that matches it.
struct Declared {
    id: String,
    service: String,
    external_id: Option<String>,
    account: Option<String>,
    region: Option<String>,
    tags: BTreeMap<String, String>,
    first_seen: bool,
    last_seen: bool,
}

/// The Cloud Custodian resource type from a `metadata.json` beside `path`.
fn custodian_type_beside(path: &Path) -> Option<String> {
    let meta = path.parent()?.join("metadata.json");
    let text = std::fs::read_to_string(meta).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.pointer("/policy/resource")
        .and_then(Value::as_str)
        .map(|t| {
            if t.contains('.') {
                t.to_string()
            } else {
                format!("aws.{t}")
            }
        })
}

/// The snapshot name for `stamp` in `dir`: `<stamp>-<n>` with `n` one more than any
/// snapshot of the same stamp.
fn snapshot_name(dir: &Path, stamp: &str) -> String {
    let n = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.starts_with(stamp) && n.ends_with(".manifest.json"))
                })
                .count()
        })
        .unwrap_or(0);
    format!("{stamp}-{:03}", n + 1)
}

/// The sidecar of a snapshot `X.jsonl`: `X.resources.jsonl`.
pub fn sidecar(snapshot: &Path) -> PathBuf {
    snapshot.with_extension("resources.jsonl")
}

/// The manifest of a snapshot `X.jsonl`: `X.manifest.json`.
pub fn manifest(snapshot: &Path) -> PathBuf {
    snapshot.with_extension("manifest.json")
}

/// Reads `files` and writes a new snapshot of the estate directory `estate_dir`. `estate` is
/// the estate as declared (loaded without snapshots): a resource whose id or stable id equals
/// a declared asset's `id` or `external_id` becomes that asset.
pub fn ingest(
    estate_dir: &Path,
    files: &[PathBuf],
    estate: Option<&Estate>,
    catalog: &Catalog,
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestV1, IngestError> {
    let types = map::TypeIndex::new(catalog);
    let dir = estate_dir.join(demarc_model::SNAPSHOT_DIR);
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(None, format!("cannot create {}: {e}", dir.display())))?;

    // Declared assets by id and by external id.
    let mut declared: HashMap<String, usize> = HashMap::new();
    let mut decl: Vec<Declared> = Vec::new();
    if let Some(e) = estate {
        for a in &e.assets {
            if e.source(a.id.loc).is_some_and(|s| s.kind.is_inventory()) {
                continue;
            }
            let i = decl.len();
            decl.push(Declared {
                id: a.id.value.clone(),
                service: a.service.value.to_string(),
                external_id: a.external_id.clone(),
                account: a.account.as_ref().map(|x| x.to_string()),
                region: a.region.as_ref().map(|x| x.to_string()),
                tags: a
                    .tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                first_seen: a.first_seen.is_some(),
                last_seen: a.last_seen.is_some(),
            });
            declared.insert(a.id.value.clone(), i);
            if let Some(x) = &a.external_id {
                declared.entry(x.clone()).or_insert(i);
            }
        }
    }
    // First sightings carried over from the previous snapshot.
    let mut first_seen: HashMap<String, String> = HashMap::new();
    if let Some(prev) = demarc_model::latest_snapshot(estate_dir) {
        for_each_line(&prev, |v| {
            if let (Some(id), Some(f)) = (
                v.get("id").and_then(Value::as_str),
                v.get("first_seen").and_then(Value::as_str),
            ) {
                first_seen.insert(id.to_string(), f.to_string());
            }
        })
        .map_err(|e| fail(Some(&prev), e))?;
    }

    let tmp = |suffix: &str| {
        tempfile::Builder::new()
            .prefix(".ingest-")
            .suffix(suffix)
            .tempfile_in(&dir)
            .map_err(|e| fail(None, format!("cannot write in {}: {e}", dir.display())))
    };
    let rows_file = tmp(".jsonl")?;
    let side_file = tmp(".resources.jsonl")?;
    let mut rows = BufWriter::new(rows_file.as_file());
    let mut side = BufWriter::new(side_file.as_file());
    let as_of = options.as_of.to_string();
    let mut summary = IngestV1 {
        schema: "demarc.ingest/v1".into(),
        snapshot: String::new(),
        as_of: as_of.clone(),
        files: Vec::new(),
        assets: 0,
        unmapped: BTreeMap::new(),
        matched_declared: 0,
        duplicates: 0,
        without_id: BTreeMap::new(),
    };
    let mut seen_resources: HashSet<String> = HashSet::new();
    let mut seen_assets: HashSet<String> = HashSet::new();
    let mut total_items = 0u64;

    for path in files {
        let meta = std::fs::metadata(path).map_err(|e| fail(Some(path), e.to_string()))?;
        if !meta.is_file() {
            return Err(fail(Some(path), "not a regular file"));
        }
        let file = std::fs::File::open(path).map_err(|e| fail(Some(path), e.to_string()))?;
        progress.file(path, meta.len());
        let custodian = options
            .custodian_type
            .clone()
            .or_else(|| custodian_type_beside(path));
        let raw = Rc::new(Cell::new(0u64));
        let pos = Rc::new(Cell::new(0u64));
        let (reader, shape) =
            read::open(Box::new(file), raw.clone(), pos.clone()).map_err(|e| IngestError {
                file: Some(path.clone()),
                error: e,
            })?;
        let mut formats: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut count = 0u64;
        let mut write_err: Option<String> = None;
        let mut sink = |item: read::Item| -> Result<(), String> {
            for mut r in map::resources(item, custodian.as_deref())? {
                *formats.entry(source_name(&r.source)).or_default() += 1;
                count += 1;
                total_items += 1;
                if total_items.is_multiple_of(1024) {
                    progress.advance(raw.get(), total_items);
                }
                if r.id.is_empty() {
                    *summary
                        .without_id
                        .entry(format!("{}:{}", r.format, type_label(&r.resource_type)))
                        .or_default() += 1;
                    continue;
                }
                if !seen_resources.insert(r.id.clone()) {
                    summary.duplicates += 1;
                    continue;
                }
                if r.service.is_none() {
                    r.service = types
                        .service(&r.format, &r.resource_type)
                        .map(str::to_string);
                }
                let matched = declared
                    .get(&r.id)
                    .or_else(|| r.external_id.as_ref().and_then(|x| declared.get(x)))
                    .map(|&i| &decl[i]);
                r.asset = matched
                    .map(|d| d.id.clone())
                    .unwrap_or_else(|| asset_id(&r.id));
                if r.service.is_none() && matched.is_none() {
                    *summary
                        .unmapped
                        .entry(format!("{}:{}", r.format, type_label(&r.resource_type)))
                        .or_default() += 1;
                }
                let res = (|| -> std::io::Result<()> {
                    serde_json::to_writer(&mut side, &r)?;
                    side.write_all(b"\n")?;
                    if (r.service.is_some() || matched.is_some())
                        && seen_assets.insert(r.asset.clone())
                    {
                        let first = first_seen
                            .get(&r.asset)
                            .cloned()
                            .unwrap_or_else(|| as_of.clone());
                        let row = asset_row(&r, matched, &first, &as_of);
                        serde_json::to_writer(&mut rows, &row)?;
                        rows.write_all(b"\n")?;
                        summary.assets += 1;
                        if matched.is_some() {
                            summary.matched_declared += 1;
                        }
                    }
                    Ok(())
                })();
                if let Err(e) = res {
                    write_err = Some(format!("cannot write the snapshot: {e}"));
                    return Err(write_err.clone().unwrap_or_default());
                }
            }
            Ok(())
        };
        let whole = meta.len() <= read::WHOLE_MAX;
        read::walk(reader, shape, pos.clone(), &mut sink, whole).map_err(|e| IngestError {
            file: Some(path.clone()),
            error: e,
        })?;
        if let Some(e) = write_err {
            return Err(fail(Some(path), e));
        }
        let format = if formats.is_empty() {
            if shape == read::Shape::Csv {
                map::CSV
            } else {
                "empty"
            }
            .to_string()
        } else {
            formats.keys().copied().collect::<Vec<_>>().join("+")
        };
        progress.advance(raw.get(), total_items);
        summary.files.push(IngestFileV1 {
            path: path.display().to_string(),
            format,
            bytes: raw.get(),
            resources: count,
        });
    }
    rows.flush().map_err(|e| fail(None, e.to_string()))?;
    side.flush().map_err(|e| fail(None, e.to_string()))?;
    drop(rows);
    drop(side);

    let name = snapshot_name(&dir, &options.stamp);
    let snapshot = dir.join(format!("{name}.jsonl"));
    summary.snapshot = format!("{}/{name}.jsonl", demarc_model::SNAPSHOT_DIR);
    let mut man = tmp(".manifest.json")?;
    serde_json::to_writer_pretty(man.as_file_mut(), &summary)
        .map_err(|e| fail(None, e.to_string()))?;
    for f in [rows_file.as_file(), side_file.as_file(), man.as_file()] {
        f.sync_all().map_err(|e| fail(None, e.to_string()))?;
    }
    // The sidecar and manifest first: the snapshot itself appears last, complete with them.
    side_file
        .persist(sidecar(&snapshot))
        .map_err(|e| fail(None, e.error.to_string()))?;
    man.persist(manifest(&snapshot))
        .map_err(|e| fail(None, e.error.to_string()))?;
    rows_file
        .persist(&snapshot)
        .map_err(|e| fail(None, e.error.to_string()))?;
    Ok(summary)
}

/// An estate asset id for a resource's stable id: asset ids use letters, digits and
/// `-_.:@+` only, so `/` becomes `:`, an index `[0]` or `["k"]` becomes `.0` or `.k`, and any
/// other character `_`. The stable id itself is kept as `external_id` and in the sidecar.
pub fn asset_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | ':' | '@' | '+' => out.push(c),
            '/' => out.push(':'),
            '[' => out.push('.'),
            ']' | '"' => {}
            _ => out.push('_'),
        }
    }
    out.trim_start_matches(':').to_string()
}

/// A type name for counting (`(no type)` when the source gives none).
fn type_label(t: &str) -> &str {
    if t.is_empty() { "(no type)" } else { t }
}

fn source_name(s: &str) -> &'static str {
    match s {
        map::TERRAFORM_PLAN => map::TERRAFORM_PLAN,
        map::TERRAFORM_STATE => map::TERRAFORM_STATE,
        map::AWS_CONFIG => map::AWS_CONFIG,
        map::AZURE_GRAPH => map::AZURE_GRAPH,
        map::CLOUD_ASSET => map::CLOUD_ASSET,
        map::KUBERNETES => map::KUBERNETES,
        map::CUSTODIAN => map::CUSTODIAN,
        map::CSV => map::CSV,
        _ => map::JSONL,
    }
}

/// The estate inventory row of a resource. For a declared asset, only what the declaration
/// leaves open or agrees with is written, so the snapshot merges with it cleanly.
fn asset_row(r: &ResourceV1, matched: Option<&Declared>, first: &str, as_of: &str) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(r.asset.clone()));
    let agree = |mine: &Option<String>, theirs: Option<&Option<String>>| match (mine, theirs) {
        (Some(x), Some(Some(y))) => x == y,
        _ => mine.is_some(),
    };
    match matched {
        None => {
            m.insert(
                "service".into(),
                Value::String(r.service.clone().unwrap_or_default()),
            );
        }
        Some(d) => {
            m.insert("service".into(), Value::String(d.service.clone()));
        }
    }
    // The stable id is the external id when the source has none of its own.
    let external = r.external_id.clone().or_else(|| Some(r.id.clone()));
    if agree(&external, matched.map(|d| &d.external_id)) {
        m.insert("external_id".into(), external.into());
    }
    if agree(&r.account, matched.map(|d| &d.account)) {
        m.insert("account".into(), r.account.clone().into());
    }
    if agree(&r.region, matched.map(|d| &d.region)) {
        m.insert("region".into(), r.region.clone().into());
    }
    let tags: Map<String, Value> = r
        .tags
        .iter()
        .filter(|(k, v)| matched.is_none_or(|d| d.tags.get(*k).is_none_or(|x| x == *v)))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !tags.is_empty() {
        m.insert("tags".into(), Value::Object(tags));
    }
    if matched.is_none_or(|d| !d.first_seen) {
        m.insert("first_seen".into(), Value::String(first.to_string()));
    }
    if matched.is_none_or(|d| !d.last_seen) {
        m.insert("last_seen".into(), Value::String(as_of.to_string()));
    }
    Value::Object(m)
}

/// Calls `f` with every JSON line of a file (blank lines skipped).
pub fn for_each_line(path: &Path, mut f: impl FnMut(Value)) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = std::io::BufReader::new(file);
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(&line)
            .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        f(v);
    }
    Ok(())
}

/// The Rego input of the newest snapshot of `estate_dir`: every resource of its sidecar.
pub fn inventory(estate_dir: &Path) -> Result<InventoryV1, String> {
    let Some(snap) = demarc_model::latest_snapshot(estate_dir) else {
        return Err(format!(
            "{} has no inventory snapshot: run `demarc ingest inventory FILE... --estate {}` first",
            estate_dir.display(),
            estate_dir.display()
        ));
    };
    let mut resources = Vec::new();
    let side = sidecar(&snap);
    let mut bad = None;
    for_each_line(&side, |v| match serde_json::from_value::<ResourceV1>(v) {
        Ok(r) => resources.push(r),
        Err(e) => {
            bad.get_or_insert(e.to_string());
        }
    })?;
    if let Some(e) = bad {
        return Err(format!("{}: {e}", side.display()));
    }
    let as_of = std::fs::read_to_string(manifest(&snap))
        .ok()
        .and_then(|t| serde_json::from_str::<IngestV1>(&t).ok())
        .map(|m| m.as_of)
        .unwrap_or_default();
    Ok(InventoryV1 {
        schema: "demarc.inventory/v1".into(),
        snapshot: snap
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        as_of,
        resources,
    })
}
