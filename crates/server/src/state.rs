//! What every request shares: the store, and a cache of resolved estate versions.
//!
//! A version is immutable, so its resolution on a given day never changes: the cache is keyed by
//! (estate, version, as-of date) and is only a cache. Another process resolves the same version
//! to the same result from the same files, which is what lets several servers share one
//! database.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use demarc_engine::{AnalyseOptions, Analysis, Prepared, Resolution};
use demarc_store::Store;

use axum::response::IntoResponse;

use crate::error::{ApiError, ApiResult};

/// A resolved version, with the directory its files were written to (exports and evidence
/// checks read files from it).
pub struct Opened {
    pub resolution: Arc<Resolution>,
    pub dir: tempfile::TempDir,
    pub notes: Vec<String>,
    /// The gap analysis, made on first use: the version and the day are fixed, so it is too.
    /// Pages that show gaps (dashboard, Gaps, Reviews, Findings) share it.
    analysis: OnceLock<Arc<Analysis>>,
    /// The version's findings snapshot summarised by party, read on first use (the
    /// snapshot is one of the version's files, so it cannot change either).
    findings: OnceLock<Result<Option<Arc<crate::ui::findings::ByParty>>, String>>,
}

impl Opened {
    pub fn res(&self) -> &Arc<Resolution> {
        &self.resolution
    }

    /// The gap analysis with default options. The first call computes it: call it off the
    /// async threads.
    pub fn analysis(&self) -> Arc<Analysis> {
        self.analysis
            .get_or_init(|| Arc::new(self.resolution.gaps(AnalyseOptions::default())))
            .clone()
    }

    /// The findings snapshot dated on or before the as-of day, by party; `None` without
    /// one, an error for a damaged one. The first call reads the snapshot: call it off the
    /// async threads.
    pub fn findings_by_party(&self) -> Result<Option<Arc<crate::ui::findings::ByParty>>, String> {
        self.findings
            .get_or_init(|| {
                crate::ui::findings::by_party(&self.resolution, self.dir.path())
                    .map(|o| o.map(Arc::new))
            })
            .clone()
    }

    /// `value` as JSON with the version's directory cut from every string, so file locations
    /// read `assignments.yaml:21` (relative to the estate, as the user keeps it in git) and no
    /// server path leaks.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> ApiResult<axum::Json<serde_json::Value>> {
        let mut v = serde_json::to_value(value).map_err(ApiError::internal)?;
        let prefix = format!("{}/", self.dir.path().display());
        strip_strings(&mut v, &prefix);
        Ok(axum::Json(v))
    }

    /// The version's directory cut from a text (an HTML page, a message).
    pub fn relative_text(&self, text: &str) -> String {
        strip_root(text, self.dir.path())
    }
}

fn strip_strings(v: &mut serde_json::Value, prefix: &str) {
    match v {
        serde_json::Value::String(s) if s.contains(prefix) => *s = s.replace(prefix, ""),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| strip_strings(x, prefix)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|x| strip_strings(x, prefix)),
        _ => {}
    }
}

type Key = (String, i64, NaiveDate);

/// A least-recently-inserted cache of resolutions, bounded by the assets they hold (a
/// resolution's memory grows with its assets: a 100k-asset estate is a few hundred MiB), so
/// many small estates or a few large ones fit, never without limit.
struct Cache {
    max_assets: usize,
    assets: usize,
    map: HashMap<Key, Arc<Opened>>,
    order: VecDeque<Key>,
}

/// Assets the resolution cache holds at most (the newest entry is always kept).
const CACHE_ASSETS: usize = 400_000;
/// Resolutions kept at most (each keeps its version's files in a temporary directory).
const CACHE_ENTRIES: usize = 64;

impl Cache {
    fn get(&self, k: &Key) -> Option<Arc<Opened>> {
        self.map.get(k).cloned()
    }

    fn weight(v: &Opened) -> usize {
        v.resolution.assets().len().max(1)
    }

    fn put(&mut self, k: Key, v: Arc<Opened>) {
        let w = Cache::weight(&v);
        match self.map.insert(k.clone(), v) {
            Some(old) => self.assets -= Cache::weight(&old),
            None => self.order.push_back(k),
        }
        self.assets += w;
        while (self.assets > self.max_assets || self.order.len() > CACHE_ENTRIES)
            && self.order.len() > 1
        {
            if let Some(old) = self.order.pop_front()
                && let Some(v) = self.map.remove(&old)
            {
                self.assets -= Cache::weight(&v);
            }
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    cache: Arc<Mutex<Cache>>,
    /// One load per key at a time: concurrent first requests for a version wait for one
    /// resolution instead of each making its own.
    loading: Arc<tokio::sync::Mutex<()>>,
    /// Cookies carry `Secure` (the server is behind TLS).
    pub secure_cookies: bool,
    pub login_limiter: Arc<crate::auth::LoginLimiter>,
    /// Answers that cost more than a lookup (a compliance rollup, the gap analysis) by
    /// (estate, version, as-of, question): a version never changes, so neither do they.
    answers: Arc<Mutex<Answers>>,
    /// Who a credential belongs to, and what a user may see of an estate, for [`LOOKUP_TTL`]:
    /// the hot path of a read then asks the database nothing. A revoked token, a removed role
    /// or another process's new version is seen at most that long later; this process's own
    /// writes and sign-outs clear them at once.
    pub lookups: Arc<Lookups>,
}

/// How long a credential or access lookup is reused.
pub const LOOKUP_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// (user id, organization slug, estate slug).
type EstateKey = (String, String, String);
/// A value and when it was looked up.
type Timed<T> = (std::time::Instant, T);

/// Short-lived lookups; see [`AppState::lookups`].
#[derive(Default)]
pub struct Lookups {
    principals: Mutex<HashMap<String, Timed<Option<crate::auth::Principal>>>>,
    estates: Mutex<HashMap<EstateKey, Timed<crate::access::EstateAccess>>>,
}

/// Entries kept before a map is cleared (a flood of distinct credentials cannot grow it).
const LOOKUPS_MAX: usize = 10_000;

impl Lookups {
    pub fn principal(&self, credential: &str) -> Option<Option<crate::auth::Principal>> {
        let m = self.principals.lock().expect("lookups lock");
        m.get(credential)
            .filter(|(t, _)| t.elapsed() < LOOKUP_TTL)
            .map(|(_, p)| p.clone())
    }

    pub fn put_principal(&self, credential: &str, p: Option<crate::auth::Principal>) {
        let mut m = self.principals.lock().expect("lookups lock");
        if m.len() >= LOOKUPS_MAX {
            m.clear();
        }
        m.insert(credential.to_string(), (std::time::Instant::now(), p));
    }

    pub fn forget_principal(&self, credential: &str) {
        self.principals
            .lock()
            .expect("lookups lock")
            .remove(credential);
    }

    pub fn estate(
        &self,
        user: &str,
        org: &str,
        estate: &str,
    ) -> Option<crate::access::EstateAccess> {
        let m = self.estates.lock().expect("lookups lock");
        m.get(&(user.to_string(), org.to_string(), estate.to_string()))
            .filter(|(t, _)| t.elapsed() < LOOKUP_TTL)
            .map(|(_, a)| a.clone())
    }

    pub fn put_estate(&self, user: &str, org: &str, estate: &str, a: crate::access::EstateAccess) {
        let mut m = self.estates.lock().expect("lookups lock");
        if m.len() >= LOOKUPS_MAX {
            m.clear();
        }
        m.insert(
            (user.to_string(), org.to_string(), estate.to_string()),
            (std::time::Instant::now(), a),
        );
    }

    /// After a write: the estate's head moved.
    pub fn forget_estates(&self) {
        self.estates.lock().expect("lookups lock").clear();
    }
}

/// A bounded map of computed answers; the oldest entry goes first.
#[derive(Default)]
struct Answers {
    map: HashMap<String, axum::body::Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

/// Bytes of computed answers kept at most (the newest is always kept).
const ANSWER_BYTES: usize = 256 << 20;

impl AppState {
    pub fn new(store: Store, secure_cookies: bool) -> AppState {
        AppState {
            store,
            cache: Arc::new(Mutex::new(Cache {
                max_assets: CACHE_ASSETS,
                assets: 0,
                map: HashMap::new(),
                order: VecDeque::new(),
            })),
            loading: Arc::new(tokio::sync::Mutex::new(())),
            secure_cookies,
            login_limiter: Arc::new(crate::auth::LoginLimiter::default()),
            answers: Arc::new(Mutex::new(Answers::default())),
            lookups: Arc::new(Lookups::default()),
        }
    }

    /// A computed JSON answer from the cache, or `compute` run on a blocking thread, written
    /// once and kept as bytes (a large answer is then served without serializing it again).
    /// `key` must name everything the answer depends on (estate id, version, as-of, query).
    pub async fn answer<F>(&self, key: String, compute: F) -> ApiResult<axum::response::Response>
    where
        F: FnOnce() -> ApiResult<serde_json::Value> + Send + 'static,
    {
        let cached = self
            .answers
            .lock()
            .expect("answers lock")
            .map
            .get(&key)
            .cloned();
        let v = match cached {
            Some(v) => v,
            None => self.compute_answer(key, compute).await?,
        };
        Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], v).into_response())
    }

    async fn compute_answer<F>(&self, key: String, compute: F) -> ApiResult<axum::body::Bytes>
    where
        F: FnOnce() -> ApiResult<serde_json::Value> + Send + 'static,
    {
        let v: axum::body::Bytes = tokio::task::spawn_blocking(move || {
            compute().and_then(|v| serde_json::to_vec(&v).map_err(ApiError::internal))
        })
        .await
        .map_err(ApiError::internal)??
        .into();
        let mut a = self.answers.lock().expect("answers lock");
        match a.map.insert(key.clone(), v.clone()) {
            Some(old) => a.bytes -= old.len(),
            None => a.order.push_back(key),
        }
        a.bytes += v.len();
        while a.bytes > ANSWER_BYTES && a.order.len() > 1 {
            if let Some(old) = a.order.pop_front()
                && let Some(b) = a.map.remove(&old)
            {
                a.bytes -= b.len();
            }
        }
        Ok(v)
    }

    /// The resolution of `version` of the estate on `as_of`, from the cache or the store.
    pub async fn open(
        &self,
        estate_id: &str,
        version: i64,
        as_of: NaiveDate,
    ) -> ApiResult<Arc<Opened>> {
        let key = (estate_id.to_string(), version, as_of);
        if let Some(hit) = self.cache.lock().expect("cache lock").get(&key) {
            return Ok(hit);
        }
        let _one = self.loading.lock().await;
        if let Some(hit) = self.cache.lock().expect("cache lock").get(&key) {
            return Ok(hit);
        }
        let files = self.store.version_files(estate_id, version).await?;
        let opened = tokio::task::spawn_blocking(move || open_files(&files, as_of))
            .await
            .map_err(ApiError::internal)??;
        let opened = Arc::new(opened);
        self.cache
            .lock()
            .expect("cache lock")
            .put(key, opened.clone());
        Ok(opened)
    }
}

/// Writes files under a fresh directory; refuses paths that would leave it.
pub fn materialize(files: &[(String, Vec<u8>)]) -> ApiResult<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("demarc-estate-")
        .tempdir()
        .map_err(ApiError::internal)?;
    for (p, c) in files {
        if !demarc_store::valid_path(p) {
            return Err(ApiError::bad_request(format!(
                "`{p}` is not a relative path inside the estate"
            )));
        }
        let target = dir.path().join(p);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(ApiError::internal)?;
        }
        std::fs::write(&target, c).map_err(ApiError::internal)?;
    }
    Ok(dir)
}

/// Loads, validates, prepares and resolves an estate from its files, as `demarc check` does
/// from a directory. Load and validation errors answer 422 with the CLI's diagnostics, paths
/// relative to the estate.
pub fn open_files(files: &[(String, Vec<u8>)], as_of: NaiveDate) -> ApiResult<Opened> {
    let dir = materialize(files)?;
    let root = dir.path();
    let invalid = |d: demarc_model::Diagnostics| invalid_estate(root, &d);
    let (estate, catalog) = load_confined(root, false)?;
    let today = chrono::Utc::now().date_naive();
    demarc_model::validate_at(&estate, &*catalog, Some(as_of.max(today))).map_err(invalid)?;
    let notes = estate.notes.iter().map(|n| strip_root(n, root)).collect();
    let prepared = Arc::new(Prepared::new(Arc::new(estate), catalog));
    Ok(Opened {
        resolution: prepared.resolve(as_of),
        dir,
        notes,
        analysis: OnceLock::new(),
        findings: OnceLock::new(),
    })
}

/// Loads the estate in `root` (a version's directory) and composes its catalog, as the CLI
/// does, except that nothing outside `root` is read: inventory files and catalog overlay
/// directories the estate names must be inside it (an upload could otherwise point the server
/// at its own files).
pub fn load_confined(
    root: &Path,
    no_snapshot: bool,
) -> ApiResult<(demarc_model::Estate, Arc<demarc_catalog::Catalog>)> {
    let invalid = |d: demarc_model::Diagnostics| invalid_estate(root, &d);
    let mut interner = demarc_model::Interner::new();
    let estate = demarc_model::load_path(
        root,
        &demarc_model::LoadOptions {
            no_snapshot,
            confine_to: Some(root.to_path_buf()),
            ..Default::default()
        },
        &mut interner,
    )
    .map_err(invalid)?;
    let mut outside = Vec::new();
    for d in &estate.settings.catalog {
        let base = estate
            .source(d.loc)
            .and_then(|f| f.path().parent())
            .unwrap_or(root);
        if !demarc_model::inside(root, &base.join(&d.value)) {
            outside.push(
                demarc_model::Diagnostic::new(
                    estate.try_place(d.loc),
                    format!("catalog overlay directory `{}` is outside the estate", d.value),
                )
                .with_help("keep catalog overlays in a directory inside the estate and upload them with it"),
            );
        }
    }
    if !outside.is_empty() {
        return Err(invalid(demarc_model::Diagnostics(outside)));
    }
    let catalog = demarc_catalog::for_estate(&estate, &[]).map_err(invalid)?;
    Ok((estate, catalog))
}

fn strip_root(text: &str, root: &Path) -> String {
    let prefix = format!("{}/", root.display());
    text.replace(&prefix, "")
}

/// A 422 carrying each diagnostic with paths relative to the estate.
pub fn invalid_estate(root: &Path, d: &demarc_model::Diagnostics) -> ApiError {
    let diagnostics: Vec<String> =
        d.0.iter()
            .map(|x| strip_root(&x.to_string(), root))
            .collect();
    let mut e = ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_estate",
        format!(
            "the estate does not load: {} error{}",
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        ),
    )
    .help("fix the files named in `diagnostics` (file:line:column) and send the version again; nothing was stored");
    e.diagnostics = diagnostics;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> Vec<(String, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        out
    }

    #[test]
    fn a_version_is_analysed_once_and_the_answer_is_the_engines() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let o = open_files(&acme(), day).unwrap();
        let first = o.analysis();
        assert!(
            Arc::ptr_eq(&first, &o.analysis()),
            "the second call reuses the first"
        );
        let fresh = o.res().gaps(AnalyseOptions::default());
        let keys = |a: &Analysis| a.gaps.iter().map(|g| g.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&first), keys(&fresh));
        assert!(!first.gaps.is_empty(), "acme has gaps on this day");
        // acme keeps no findings snapshot: none, and asked again, still none.
        assert!(o.findings_by_party().unwrap().is_none());
        assert!(o.findings_by_party().unwrap().is_none());
    }
}
