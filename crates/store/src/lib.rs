//! demarc's database. Organizations hold estates; users hold roles on an organization or on one
//! estate; an estate is a sequence of immutable versions (each a set of files, stored once per
//! distinct content); sessions and API tokens are stored hashed; every change is appended to an
//! audit log whose entries are chained by SHA-256 over canonical JSON.
//!
//! One schema and one set of queries serve SQLite (the default, embedded) and PostgreSQL
//! (several server processes side by side) through sqlx's `Any` driver. Nothing lives only in
//! one process: what a process keeps in memory is a cache of what is here.
//!
//! Concurrency: a new version names the version it was made from; the estate's head moves
//! with a compare-and-set (`UPDATE … WHERE head = expected`), so a stale write is refused with
//! [`StoreError::Conflict`] and never merged. Appends to the audit log take the single-row
//! `audit_head` lock (`FOR UPDATE` on PostgreSQL, the write lock on SQLite), always after any
//! estate row, so writers cannot deadlock. A version, its files, the head move and the audit
//! entry commit in one transaction: a crash leaves all or nothing.

mod audit;
mod canonical;
mod secrets;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

pub use audit::{AuditEntry, LogCheck};
pub use canonical::canonical_json;
pub use secrets::{eq_ct, hash_password, verify_password};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A write was made from a version that is no longer the head.
    #[error("the estate is at version {head}, not {expected}: reload and apply the change again")]
    Conflict { expected: i64, head: i64 },
    /// A name that must be unique is taken.
    #[error("{0} already exists")]
    Exists(String),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The input cannot be stored as given.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The files of a version: (relative path, content), in path order.
pub type Files = Vec<(String, Vec<u8>)>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A role on an organization (all its estates) or on one estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads only the estates granted to it, never the organization's other estates.
    ClientViewer,
    /// Reads everything in scope and signs off reviews.
    Auditor,
    /// Reads and changes estates.
    Editor,
    /// Everything, including members and estates.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Auditor, Role::ClientViewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Auditor => "auditor",
            Role::ClientViewer => "client-viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// May change estate content (upload, assign, accept, evidence, contracts, ingest).
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Admin | Role::Editor)
    }

    /// May sign off reviews.
    pub fn can_sign_off(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// May read the audit log and the organization's members.
    pub fn can_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Org {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub superadmin: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EstateRow {
    pub id: String,
    pub org_id: String,
    pub slug: String,
    pub name: String,
    /// The newest version; 0 before the first upload.
    pub head: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Membership {
    pub user_id: String,
    pub org_id: String,
    /// `None`: the role holds on the whole organization.
    pub estate_id: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionRow {
    pub estate_id: String,
    pub number: i64,
    pub author: String,
    pub created_at: String,
    pub message: String,
    /// What made it: `upload`, `push`, `assign`, `accept`, `evidence`, `sign-off`,
    /// `end-contract`, `ingest-inventory`, `ingest-findings`, `demo`.
    pub kind: String,
    /// SHA-256 over the version's paths and contents, in path order.
    pub digest: String,
}

/// A version to store: what changed, who did it and every file of the estate.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub author: String,
    pub message: String,
    pub kind: String,
    /// Every file of the estate, by relative path (`/` separators, no `..`).
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// `read`, `write`, `admin`.
    pub scopes: Vec<String>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// How a login attempt ended. Unknown user and wrong password are one outcome, so the answer
/// never tells which accounts exist.
#[derive(Debug, Clone)]
pub enum Login {
    Ok(User),
    Invalid,
    /// Too many failures: refused until this time (seconds since the epoch), even with the
    /// right password.
    Locked(i64),
}

/// Failed logins before an account is locked, and for how long.
pub const LOCKOUT_AFTER: i64 = 5;
pub const LOCKOUT_SECS: i64 = 15 * 60;

/// The largest file and the largest version the store accepts.
pub const MAX_FILE_BYTES: usize = 32 << 20;
pub const MAX_VERSION_BYTES: usize = 256 << 20;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS orgs (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL, superadmin BIGINT NOT NULL DEFAULT 0, failed_logins BIGINT NOT NULL DEFAULT 0, locked_until BIGINT NOT NULL DEFAULT 0, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS estates (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), slug TEXT NOT NULL, name TEXT NOT NULL, head BIGINT NOT NULL DEFAULT 0, created_at TEXT NOT NULL, UNIQUE (org_id, slug))",
    "CREATE TABLE IF NOT EXISTS memberships (user_id TEXT NOT NULL REFERENCES users(id), org_id TEXT NOT NULL REFERENCES orgs(id), estate_id TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, PRIMARY KEY (user_id, org_id, estate_id))",
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, encoding TEXT NOT NULL, content TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS versions (estate_id TEXT NOT NULL REFERENCES estates(id), number BIGINT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL, message TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (estate_id, number))",
    "CREATE TABLE IF NOT EXISTS version_files (estate_id TEXT NOT NULL, number BIGINT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES blobs(sha256), PRIMARY KEY (estate_id, number, path))",
    "CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), csrf TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL, revoked BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS audit_log (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, org_id TEXT NOT NULL, estate_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_log_org ON audit_log (org_id, seq)",
    "CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_id)",
];

/// The hash before the first audit entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; taking this before a write transaction makes writers of this
    /// process wait their turn instead of failing with `database is locked` when a read
    /// transaction upgrades. PostgreSQL needs no such lock (row locks do the work).
    write_lock: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn now_text() -> String {
    now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A new random id: 16 bytes, hex.
pub fn new_id() -> String {
    hex(&secrets::random::<16>())
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Whether `p` is a path a version may hold: relative, `/`-separated, no empty, `.` or `..`
/// part, no backslash or NUL, at most 512 bytes.
pub fn valid_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 512
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains('\0')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

impl Store {
    /// Opens (creating and migrating) the database at `url`: `sqlite://FILE` (created if
    /// missing), `sqlite::memory:` (one connection) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("memory") || url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL `{url}`: use sqlite://FILE or postgres://USER@HOST/DB"
            )));
        };
        let mut options = AnyPoolOptions::new();
        if backend == Backend::Sqlite {
            options = options
                .max_connections(if url.contains("memory") { 1 } else { 8 })
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                });
        } else {
            options = options.max_connections(16);
        }
        let pool = options.connect(&url).await?;
        let store = Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<()> {
        for stmt in SCHEMA {
            // Two processes starting on one new PostgreSQL database race to create the tables;
            // `IF NOT EXISTS` can still fail on the catalog's unique index for the loser.
            // Waiting a moment and trying again finds the table made.
            let mut tries = 0;
            loop {
                match sqlx::query(*stmt).execute(&self.pool).await {
                    Ok(_) => break,
                    Err(_) if tries < 5 => {
                        tries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let insert =
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING";
        sqlx::query(insert)
            .bind(GENESIS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin_write(
        &self,
    ) -> Result<(
        Option<tokio::sync::OwnedMutexGuard<()>>,
        Transaction<'static, Any>,
    )> {
        let guard = match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await?;
        Ok((guard, tx))
    }

    /// Appends to the audit log inside `tx` (the caller commits).
    async fn audit_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        actor: &str,
        org_id: &str,
        estate_id: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<AuditEntry> {
        let lock = match self.backend {
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        };
        let row = sqlx::query(lock).fetch_one(&mut **tx).await?;
        let seq: i64 = row.try_get(0)?;
        let prev: String = row.try_get(1)?;
        let entry = AuditEntry::new(
            seq + 1,
            now_text(),
            actor,
            org_id,
            estate_id,
            action,
            detail,
            prev,
        );
        sqlx::query("INSERT INTO audit_log (seq, at, actor, org_id, estate_id, action, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(entry.seq)
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.org_id)
            .bind(&entry.estate_id)
            .bind(&entry.action)
            .bind(canonical_json(&entry.detail))
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(entry.seq)
            .bind(&entry.hash)
            .execute(&mut **tx)
            .await?;
        Ok(entry)
    }

    /// Records an event that changes nothing else (a login, a refused login, an export).
    pub async fn audit(
        &self,
        actor: &str,
        org_id: &str,
        estate_id: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<AuditEntry> {
        let (_g, mut tx) = self.begin_write().await?;
        let e = self
            .audit_in(&mut tx, actor, org_id, estate_id, action, detail)
            .await?;
        tx.commit().await?;
        Ok(e)
    }

    // ---- organizations ----

    pub async fn create_org(&self, slug: &str, name: &str, actor: &str) -> Result<Org> {
        check_slug(slug)?;
        let (_g, mut tx) = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Exists(format!("organization `{slug}`")));
        }
        let org = Org {
            id: new_id(),
            slug: slug.into(),
            name: name.into(),
            created_at: now_text(),
        };
        sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(&org.created_at)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            actor,
            &org.id,
            "",
            "org.create",
            serde_json::json!({"slug": slug, "name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| org_of(&r)).transpose()
    }

    pub async fn org_by_id(&self, id: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM orgs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| org_of(&r)).transpose()
    }

    pub async fn orgs(&self) -> Result<Vec<Org>> {
        let rows = sqlx::query("SELECT id, slug, name, created_at FROM orgs ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org_of).collect()
    }

    // ---- users ----

    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password: &str,
        superadmin: bool,
        actor: &str,
    ) -> Result<User> {
        let email = email.trim().to_ascii_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(StoreError::Invalid(format!(
                "`{email}` is not an email address"
            )));
        }
        if password.chars().count() < 12 {
            return Err(StoreError::Invalid(
                "the password must have at least 12 characters".into(),
            ));
        }
        let hash = hash_password(password)?;
        let (_g, mut tx) = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Exists(format!("user `{email}`")));
        }
        let user = User {
            id: new_id(),
            email: email.clone(),
            name: name.into(),
            superadmin,
            created_at: now_text(),
        };
        sqlx::query("INSERT INTO users (id, email, name, password_hash, superadmin, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&hash)
            .bind(superadmin as i64)
            .bind(&user.created_at)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            actor,
            "",
            "",
            "user.create",
            serde_json::json!({"email": email, "superadmin": superadmin}),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT id, email, name, superadmin, created_at FROM users WHERE email = $1",
        )
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| user_of(&r)).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let row =
            sqlx::query("SELECT id, email, name, superadmin, created_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| user_of(&r)).transpose()
    }

    /// Checks a password, counting failures per account: after [`LOCKOUT_AFTER`] failures the
    /// account is locked for [`LOCKOUT_SECS`]. An unknown email costs one hash too, so timing
    /// does not tell which accounts exist.
    pub async fn login(&self, email: &str, password: &str) -> Result<Login> {
        let email = email.trim().to_ascii_lowercase();
        let row = sqlx::query(
            "SELECT id, email, name, superadmin, created_at, password_hash, failed_logins, locked_until FROM users WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let _ = verify_password(password, secrets::DUMMY_HASH);
            return Ok(Login::Invalid);
        };
        let user = user_at(&row, 0)?;
        let id = user.id.clone();
        let hash: String = row.try_get(5)?;
        let locked_until: i64 = row.try_get(7)?;
        let t = now().timestamp();
        // The hash is checked before the write lock is taken: Argon2 costs tens of
        // milliseconds, and on SQLite every writer of the process would wait for it.
        let ok = verify_password(password, &hash);
        if locked_until > t {
            return Ok(Login::Locked(locked_until));
        }
        let (_g, mut tx) = self.begin_write().await?;
        if ok {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            self.audit_in(&mut tx, &email, "", "", "login", serde_json::json!({}))
                .await?;
            tx.commit().await?;
            return Ok(Login::Ok(user));
        }
        // Counted in the database, inside the write transaction: two wrong passwords at the
        // same moment (on two processes) count twice, not once from the same stale read.
        let failed: i64 = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let lock = if failed >= LOCKOUT_AFTER {
            t + LOCKOUT_SECS
        } else {
            0
        };
        if lock > 0 {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                .bind(lock)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        self.audit_in(
            &mut tx,
            &email,
            "",
            "",
            if lock > 0 {
                "login.locked"
            } else {
                "login.failed"
            },
            serde_json::json!({"failures": failed}),
        )
        .await?;
        tx.commit().await?;
        Ok(if lock > 0 {
            Login::Locked(lock)
        } else {
            Login::Invalid
        })
    }

    // ---- memberships ----

    /// Gives `user` `role` on the organization, or on one of its estates.
    pub async fn grant(
        &self,
        user_id: &str,
        org_id: &str,
        estate_id: Option<&str>,
        role: Role,
        actor: &str,
    ) -> Result<()> {
        if estate_id.is_none() && role == Role::ClientViewer {
            return Err(StoreError::Invalid(
                "a client viewer reads only the estates granted to it: name the estate".into(),
            ));
        }
        let (_g, mut tx) = self.begin_write().await?;
        if let Some(e) = estate_id {
            let ok = sqlx::query("SELECT id FROM estates WHERE id = $1 AND org_id = $2")
                .bind(e)
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?;
            if ok.is_none() {
                return Err(StoreError::NotFound(format!(
                    "estate {e} in the organization"
                )));
            }
        }
        let e = estate_id.unwrap_or("");
        sqlx::query(
            "DELETE FROM memberships WHERE user_id = $1 AND org_id = $2 AND estate_id = $3",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(e)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO memberships (user_id, org_id, estate_id, role) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(e)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            org_id,
            e,
            "member.grant",
            serde_json::json!({"user": user_id, "role": role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT user_id, org_id, estate_id, role FROM memberships WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(membership_of).collect()
    }

    pub async fn members_of_org(&self, org_id: &str) -> Result<Vec<(User, Membership)>> {
        let rows = sqlx::query(
            "SELECT m.user_id, m.org_id, m.estate_id, m.role, u.id, u.email, u.name, u.superadmin, u.created_at \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email, m.estate_id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let m = membership_of(r)?;
                let u = user_at(r, 4)?;
                Ok((u, m))
            })
            .collect()
    }

    /// The role `user` holds on the organization as a whole (superadmins: admin).
    pub async fn org_role(&self, user: &User, org_id: &str) -> Result<Option<Role>> {
        if user.superadmin {
            return Ok(Some(Role::Admin));
        }
        Ok(self
            .memberships(&user.id)
            .await?
            .into_iter()
            .filter(|m| m.org_id == org_id && m.estate_id.is_none())
            .map(|m| m.role)
            .max())
    }

    /// The role `user` holds on an estate: the higher of an organization-wide role and a role
    /// on that estate. A client viewer's role never spreads to other estates.
    pub async fn estate_role(&self, user: &User, estate: &EstateRow) -> Result<Option<Role>> {
        if user.superadmin {
            return Ok(Some(Role::Admin));
        }
        Ok(self
            .memberships(&user.id)
            .await?
            .into_iter()
            .filter(|m| {
                m.org_id == estate.org_id
                    && match &m.estate_id {
                        None => m.role != Role::ClientViewer,
                        Some(e) => *e == estate.id,
                    }
            })
            .map(|m| m.role)
            .max())
    }

    // ---- estates ----

    pub async fn create_estate(
        &self,
        org_id: &str,
        slug: &str,
        name: &str,
        actor: &str,
    ) -> Result<EstateRow> {
        check_slug(slug)?;
        let (_g, mut tx) = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM estates WHERE org_id = $1 AND slug = $2")
            .bind(org_id)
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Exists(format!("estate `{slug}`")));
        }
        let e = EstateRow {
            id: new_id(),
            org_id: org_id.into(),
            slug: slug.into(),
            name: name.into(),
            head: 0,
            created_at: now_text(),
        };
        sqlx::query("INSERT INTO estates (id, org_id, slug, name, head, created_at) VALUES ($1, $2, $3, $4, 0, $5)")
            .bind(&e.id)
            .bind(&e.org_id)
            .bind(&e.slug)
            .bind(&e.name)
            .bind(&e.created_at)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            actor,
            org_id,
            &e.id,
            "estate.create",
            serde_json::json!({"slug": slug, "name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    pub async fn estates_of_org(&self, org_id: &str) -> Result<Vec<EstateRow>> {
        let rows = sqlx::query("SELECT id, org_id, slug, name, head, created_at FROM estates WHERE org_id = $1 ORDER BY slug")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(estate_of).collect()
    }

    pub async fn estate(&self, org_id: &str, slug: &str) -> Result<Option<EstateRow>> {
        let row = sqlx::query("SELECT id, org_id, slug, name, head, created_at FROM estates WHERE org_id = $1 AND slug = $2")
            .bind(org_id)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| estate_of(&r)).transpose()
    }

    pub async fn estate_by_id(&self, id: &str) -> Result<Option<EstateRow>> {
        let row = sqlx::query(
            "SELECT id, org_id, slug, name, head, created_at FROM estates WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| estate_of(&r)).transpose()
    }

    // ---- versions ----

    /// Stores a new version made from version `base` (0: the estate has none yet). Refused
    /// with [`StoreError::Conflict`] when `base` is no longer the head.
    pub async fn create_version(
        &self,
        estate: &EstateRow,
        base: i64,
        v: NewVersion,
    ) -> Result<VersionRow> {
        let mut files = v.files;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut total = 0usize;
        for w in files.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(StoreError::Invalid(format!(
                    "file `{}` given twice",
                    w[0].0
                )));
            }
        }
        for (p, c) in &files {
            if !valid_path(p) {
                return Err(StoreError::Invalid(format!(
                    "`{p}` is not a relative path inside the estate"
                )));
            }
            if c.len() > MAX_FILE_BYTES {
                return Err(StoreError::Invalid(format!(
                    "`{p}` is larger than {} MiB",
                    MAX_FILE_BYTES >> 20
                )));
            }
            total += c.len();
        }
        if total > MAX_VERSION_BYTES {
            return Err(StoreError::Invalid(format!(
                "the version is larger than {} MiB",
                MAX_VERSION_BYTES >> 20
            )));
        }
        let digest = version_digest(&files);
        let (_g, mut tx) = self.begin_write().await?;
        let moved = sqlx::query("UPDATE estates SET head = $1 WHERE id = $2 AND head = $3")
            .bind(base + 1)
            .bind(&estate.id)
            .bind(base)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() != 1 {
            let head: i64 = sqlx::query("SELECT head FROM estates WHERE id = $1")
                .bind(&estate.id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("estate `{}`", estate.slug)))?
                .try_get(0)?;
            return Err(StoreError::Conflict {
                expected: base,
                head,
            });
        }
        let row = VersionRow {
            estate_id: estate.id.clone(),
            number: base + 1,
            author: v.author,
            created_at: now_text(),
            message: v.message,
            kind: v.kind,
            digest,
        };
        sqlx::query("INSERT INTO versions (estate_id, number, author, created_at, message, kind, digest) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&row.estate_id)
            .bind(row.number)
            .bind(&row.author)
            .bind(&row.created_at)
            .bind(&row.message)
            .bind(&row.kind)
            .bind(&row.digest)
            .execute(&mut *tx)
            .await?;
        for (path, content) in &files {
            let sha = sha256_hex(content);
            let (encoding, text) = encode(content);
            sqlx::query("INSERT INTO blobs (sha256, encoding, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
                .bind(&sha)
                .bind(encoding)
                .bind(text)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO version_files (estate_id, number, path, sha256) VALUES ($1, $2, $3, $4)")
                .bind(&row.estate_id)
                .bind(row.number)
                .bind(path)
                .bind(&sha)
                .execute(&mut *tx)
                .await?;
        }
        self.audit_in(
            &mut tx,
            &row.author,
            &estate.org_id,
            &estate.id,
            "version.create",
            serde_json::json!({
                "estate": estate.slug,
                "version": row.number,
                "kind": row.kind,
                "message": row.message,
                "digest": row.digest,
                "files": files.len(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The estate's versions, newest first.
    pub async fn versions(
        &self,
        estate_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<VersionRow>> {
        let rows = sqlx::query("SELECT estate_id, number, author, created_at, message, kind, digest FROM versions WHERE estate_id = $1 ORDER BY number DESC LIMIT $2 OFFSET $3")
            .bind(estate_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(version_of).collect()
    }

    pub async fn version(&self, estate_id: &str, number: i64) -> Result<Option<VersionRow>> {
        let row = sqlx::query("SELECT estate_id, number, author, created_at, message, kind, digest FROM versions WHERE estate_id = $1 AND number = $2")
            .bind(estate_id)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| version_of(&r)).transpose()
    }

    /// Every file of a version, in path order.
    pub async fn version_files(
        &self,
        estate_id: &str,
        number: i64,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = sqlx::query("SELECT f.path, b.encoding, b.content FROM version_files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.estate_id = $1 AND f.number = $2 ORDER BY f.path")
            .bind(estate_id)
            .bind(number)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let path: String = r.try_get(0)?;
                let enc: String = r.try_get(1)?;
                let text: String = r.try_get(2)?;
                Ok((path, decode(&enc, text)?))
            })
            .collect()
    }

    // ---- sessions ----

    /// A new session for `user`, valid for `ttl_secs`: returns the cookie value (kept only
    /// hashed here) and the session's CSRF token.
    pub async fn create_session(&self, user: &User, ttl_secs: i64) -> Result<(String, String)> {
        let token = secrets::token();
        let csrf = secrets::token();
        let t = now().timestamp();
        sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(token.as_bytes()))
            .bind(&user.id)
            .bind(&csrf)
            .bind(t)
            .bind(t + ttl_secs)
            .execute(&self.pool)
            .await?;
        Ok((token, csrf))
    }

    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT s.csrf, s.expires_at, u.id, u.email, u.name, u.superadmin, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1")
            .bind(sha256_hex(token.as_bytes()))
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let expires_at: i64 = r.try_get(1)?;
        if expires_at <= now().timestamp() {
            return Ok(None);
        }
        Ok(Some(Session {
            csrf: r.try_get(0)?,
            expires_at,
            user: user_at(&r, 2)?,
        }))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256_hex(token.as_bytes()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- API tokens ----

    /// A new API token; the secret (`dmk_ID_SECRET`) is returned once and stored hashed.
    pub async fn create_token(
        &self,
        user: &User,
        name: &str,
        scopes: &[String],
        ttl_secs: i64,
    ) -> Result<(TokenRow, String)> {
        for s in scopes {
            if !matches!(s.as_str(), "read" | "write" | "admin") {
                return Err(StoreError::Invalid(format!(
                    "unknown scope `{s}`: use read, write or admin"
                )));
            }
        }
        if scopes.is_empty() {
            return Err(StoreError::Invalid(
                "a token needs at least one scope (read, write, admin)".into(),
            ));
        }
        let id = hex(&secrets::random::<8>());
        let secret = secrets::token();
        let t = now().timestamp();
        let row = TokenRow {
            id: id.clone(),
            user_id: user.id.clone(),
            name: name.into(),
            scopes: scopes.to_vec(),
            expires_at: t + ttl_secs,
            created_at: t,
        };
        let (_g, mut tx) = self.begin_write().await?;
        sqlx::query("INSERT INTO tokens (id, user_id, name, secret_hash, scopes, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&row.id)
            .bind(&row.user_id)
            .bind(&row.name)
            .bind(sha256_hex(secret.as_bytes()))
            .bind(row.scopes.join(" "))
            .bind(row.expires_at)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &user.email,
            "",
            "",
            "token.create",
            serde_json::json!({"token": id, "name": name, "scopes": scopes, "expires_at": row.expires_at}),
        )
        .await?;
        tx.commit().await?;
        Ok((row, format!("dmk_{id}_{secret}")))
    }

    /// The token and its user for a presented `dmk_…` value, if it is known, unrevoked and
    /// unexpired. The secret is compared by hash.
    pub async fn token(&self, presented: &str) -> Result<Option<(TokenRow, User)>> {
        let Some(rest) = presented.strip_prefix("dmk_") else {
            return Ok(None);
        };
        let Some((id, secret)) = rest.split_once('_') else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT t.id, t.user_id, t.name, t.secret_hash, t.scopes, t.expires_at, t.created_at, t.revoked, u.id, u.email, u.name, u.superadmin, u.created_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let stored: String = r.try_get(3)?;
        let given = sha256_hex(secret.as_bytes());
        if !secrets::eq_ct(stored.as_bytes(), given.as_bytes()) {
            return Ok(None);
        }
        let expires_at: i64 = r.try_get(5)?;
        if r.try_get::<i64, _>(7)? != 0 || expires_at <= now().timestamp() {
            return Ok(None);
        }
        let scopes: String = r.try_get(4)?;
        let token = TokenRow {
            id: r.try_get(0)?,
            user_id: r.try_get(1)?,
            name: r.try_get(2)?,
            scopes: scopes.split(' ').map(String::from).collect(),
            expires_at,
            created_at: r.try_get(6)?,
        };
        let user = user_at(&r, 8)?;
        Ok(Some((token, user)))
    }

    // ---- audit log ----

    /// Entries of the audit log after `after` (sequence number), oldest first, at most
    /// `limit`; only those of `org_id` when given.
    pub async fn audit_log(
        &self,
        org_id: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = match org_id {
            Some(o) => sqlx::query("SELECT seq, at, actor, org_id, estate_id, action, detail, prev_hash, hash FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                .bind(o)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query("SELECT seq, at, actor, org_id, estate_id, action, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(audit::entry_of).collect()
    }

    /// Walks the whole audit log and checks every link of the chain.
    pub async fn verify_log(&self) -> Result<LogCheck> {
        let mut check = audit::Checker::new();
        let mut after = 0;
        loop {
            let batch = self.audit_log(None, after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in &batch {
                if let Some(broken) = check.next(e) {
                    return Ok(broken);
                }
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(check.finish(head.try_get(0)?, head.try_get(1)?))
    }

    /// Runs one statement; for tests that tamper with the log on purpose.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

fn check_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "`{slug}` is not a valid name: use 1-64 lowercase letters, digits and `-`"
        )))
    }
}

/// SHA-256 over each path, a NUL, the content's SHA-256 and a newline, in path order (`files`
/// sorted by path).
pub fn version_digest(files: &[(String, Vec<u8>)]) -> String {
    let mut h = Sha256::new();
    for (p, c) in files {
        h.update(p.as_bytes());
        h.update([0]);
        h.update(sha256_hex(c).as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// Text stays text (PostgreSQL `TEXT` holds no NUL, so text with one is stored as binary);
/// anything else is stored base64.
fn encode(content: &[u8]) -> (&'static str, String) {
    use base64::Engine;
    match std::str::from_utf8(content) {
        Ok(s) if !s.contains('\0') => ("utf8", s.to_string()),
        _ => (
            "base64",
            base64::engine::general_purpose::STANDARD.encode(content),
        ),
    }
}

fn decode(encoding: &str, text: String) -> Result<Vec<u8>> {
    use base64::Engine;
    match encoding {
        "utf8" => Ok(text.into_bytes()),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| StoreError::Invalid(format!("a stored file is corrupt: {e}"))),
        other => Err(StoreError::Invalid(format!(
            "a stored file has an unknown encoding `{other}`"
        ))),
    }
}

fn org_of(r: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: r.try_get(0)?,
        slug: r.try_get(1)?,
        name: r.try_get(2)?,
        created_at: r.try_get(3)?,
    })
}

fn user_of(r: &AnyRow) -> Result<User> {
    user_at(r, 0)
}

/// A user from the five columns `id, email, name, superadmin, created_at` starting at `at`.
fn user_at(r: &AnyRow, at: usize) -> Result<User> {
    Ok(User {
        id: r.try_get(at)?,
        email: r.try_get(at + 1)?,
        name: r.try_get(at + 2)?,
        superadmin: r.try_get::<i64, _>(at + 3)? != 0,
        created_at: r.try_get(at + 4)?,
    })
}

fn estate_of(r: &AnyRow) -> Result<EstateRow> {
    Ok(EstateRow {
        id: r.try_get(0)?,
        org_id: r.try_get(1)?,
        slug: r.try_get(2)?,
        name: r.try_get(3)?,
        head: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

fn membership_of(r: &AnyRow) -> Result<Membership> {
    let estate: String = r.try_get(2)?;
    let role: String = r.try_get(3)?;
    Ok(Membership {
        user_id: r.try_get(0)?,
        org_id: r.try_get(1)?,
        estate_id: (!estate.is_empty()).then_some(estate),
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Invalid(format!("unknown role `{role}` in the database")))?,
    })
}

fn version_of(r: &AnyRow) -> Result<VersionRow> {
    Ok(VersionRow {
        estate_id: r.try_get(0)?,
        number: r.try_get(1)?,
        author: r.try_get(2)?,
        created_at: r.try_get(3)?,
        message: r.try_get(4)?,
        kind: r.try_get(5)?,
        digest: r.try_get(6)?,
    })
}

/// Databases for tests: a fresh SQLite file, and a fresh schema on the PostgreSQL at
/// `DEMARC_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`) when one answers.
/// Tests run the same assertions on each, so both backends stay equal.
#[doc(hidden)]
pub mod testing {
    use super::*;

    pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// A PostgreSQL URL with a new empty schema as its search path, or `None` (with a note on
    /// stderr) when no PostgreSQL answers.
    pub async fn postgres_url() -> Option<String> {
        let base = std::env::var("DEMARC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_PG.into());
        sqlx::any::install_default_drivers();
        let pool = match AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect(&base)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "note: PostgreSQL at {base} is not reachable ({e}); the PostgreSQL half of this test is skipped"
                );
                return None;
            }
        };
        let schema = format!("t_{}", new_id());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .ok()?;
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
    }

    /// `(label, url)` for every backend available: SQLite in `dir`, then PostgreSQL.
    pub async fn urls(dir: &std::path::Path) -> Vec<(&'static str, String)> {
        let mut out = vec![(
            "sqlite",
            format!("sqlite://{}", dir.join("demarc.db").display()),
        )];
        if let Some(pg) = postgres_url().await {
            out.push(("postgres", pg));
        }
        out
    }
}
