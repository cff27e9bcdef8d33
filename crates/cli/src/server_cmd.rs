//! `demarc serve`, `demarc admin …` and `demarc push`: wiring only; the server is
//! `demarc-server`, the database `demarc-store`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use demarc_store::{LogCheck, Role, Store};

use crate::InputError;

/// Where the server's database is: `--db`, else `DEMARC_DB`, else `sqlite://demarc.db`.
#[derive(Args, Clone)]
pub(crate) struct DbArg {
    /// The database: `sqlite://FILE` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DEMARC_DB",
        default_value = "sqlite://demarc.db",
        value_name = "URL"
    )]
    pub db: String,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DbArg,
    /// Load the example estates and demo users (password from DEMARC_DEMO_PASSWORD, else a
    /// random one printed at start).
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies Secure: set when users reach the server over TLS (behind a proxy).
    #[arg(long)]
    pub secure_cookies: bool,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a user. The password is read from standard input (one line) or DEMARC_PASSWORD,
    /// never from the command line.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// A server administrator: creates organizations and reads every one.
        #[arg(long)]
        superadmin: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// Create an organization (an MSSP workspace or a company).
    CreateOrg {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Create an estate (one client environment) in an organization.
    CreateEstate {
        /// ORG/ESTATE
        #[arg(value_name = "ORG/ESTATE")]
        estate: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Give a user a role on an organization, or on one estate (`--estate`).
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        org: String,
        /// Limit the role to this estate of the organization (required for client-viewer).
        #[arg(long)]
        estate: Option<String>,
        /// admin, editor, auditor or client-viewer.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Create an API token for a user; it is printed once and stored hashed.
    CreateToken {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// read, write or admin (repeat for several).
        #[arg(long = "scope", default_values_t = vec!["read".to_string()])]
        scopes: Vec<String>,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// Check the audit log's hash chain; exits 1 and names the first broken entry if it is not
    /// intact.
    VerifyLog {
        #[command(flatten)]
        db: DbArg,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, InputError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| InputError(format!("error: cannot start the async runtime: {e}")))
}

pub(crate) fn serve(a: ServeArgs) -> Result<u8, InputError> {
    let config = demarc_server::Config {
        listen: a.listen,
        db: a.db.db,
        secure_cookies: a.secure_cookies,
        demo: a.demo,
    };
    runtime()?
        .block_on(demarc_server::serve(config))
        .map_err(|e| InputError(format!("error: {e}")))?;
    Ok(0)
}

async fn open(db: &DbArg) -> Result<Store, InputError> {
    Store::connect(&db.db).await.map_err(|e| {
        InputError(format!(
            "error: cannot open the database {}: {e}\n  help: pass --db sqlite://FILE or --db postgres://USER@HOST/DB (or set DEMARC_DB)",
            demarc_server::redact(&db.db)
        ))
    })
}

fn store_err(e: demarc_store::StoreError) -> InputError {
    InputError(format!("error: {e}"))
}

fn read_password() -> Result<String, InputError> {
    if let Ok(p) = std::env::var("DEMARC_PASSWORD") {
        return Ok(p);
    }
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .map_err(|e| {
            InputError(format!(
                "error: cannot read the password from standard input: {e}"
            ))
        })?;
    let p = s.lines().next().unwrap_or("").to_string();
    if p.is_empty() {
        return Err(InputError(
            "error: no password given\n  help: pipe it on standard input (`printf '%s\\n' \"$PW\" | demarc admin create-user …`) or set DEMARC_PASSWORD".into(),
        ));
    }
    Ok(p)
}

fn split_estate(s: &str) -> Result<(&str, &str), InputError> {
    s.split_once('/')
        .filter(|(o, e)| !o.is_empty() && !e.is_empty())
        .ok_or_else(|| {
            InputError(format!(
                "error: `{s}` is not ORG/ESTATE\n  help: e.g. `demo/acme`"
            ))
        })
}

const ACTOR: &str = "cli-admin";

pub(crate) fn admin(cmd: AdminCommand) -> Result<u8, InputError> {
    runtime()?.block_on(async move {
        match cmd {
            AdminCommand::CreateUser {
                email,
                name,
                superadmin,
                db,
            } => {
                let password = read_password()?;
                let s = open(&db).await?;
                let name = name.unwrap_or_else(|| email.clone());
                let u = s
                    .create_user(&email, &name, &password, superadmin, ACTOR)
                    .await
                    .map_err(store_err)?;
                println!("created user {}{}", u.email, if superadmin { " (server administrator)" } else { "" });
                Ok(0)
            }
            AdminCommand::CreateOrg { slug, name, db } => {
                let s = open(&db).await?;
                let o = s
                    .create_org(&slug, name.as_deref().unwrap_or(&slug), ACTOR)
                    .await
                    .map_err(store_err)?;
                println!("created organization {}", o.slug);
                Ok(0)
            }
            AdminCommand::CreateEstate { estate, name, db } => {
                let (org, slug) = split_estate(&estate)?;
                let s = open(&db).await?;
                let o = s
                    .org_by_slug(org)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| InputError(format!("error: no organization `{org}`\n  help: create it with `demarc admin create-org --slug {org}`")))?;
                s.create_estate(&o.id, slug, name.as_deref().unwrap_or(slug), ACTOR)
                    .await
                    .map_err(store_err)?;
                println!("created estate {org}/{slug}; upload it with `demarc push DIR --server URL --estate {org}/{slug}`");
                Ok(0)
            }
            AdminCommand::Grant {
                email,
                org,
                estate,
                role,
                db,
            } => {
                let role = Role::parse(&role).ok_or_else(|| {
                    InputError(format!("error: `{role}` is not a role\n  help: use admin, editor, auditor or client-viewer"))
                })?;
                let s = open(&db).await?;
                let u = s
                    .user_by_email(&email)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| InputError(format!("error: no user `{email}`\n  help: create it with `demarc admin create-user --email {email}`")))?;
                let o = s
                    .org_by_slug(&org)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| InputError(format!("error: no organization `{org}`")))?;
                let estate_id = match &estate {
                    Some(e) => Some(
                        s.estate(&o.id, e)
                            .await
                            .map_err(store_err)?
                            .ok_or_else(|| InputError(format!("error: no estate `{org}/{e}`")))?
                            .id,
                    ),
                    None => None,
                };
                s.grant(&u.id, &o.id, estate_id.as_deref(), role, ACTOR)
                    .await
                    .map_err(store_err)?;
                println!(
                    "{email} is {} of {org}{}",
                    role.as_str(),
                    estate.map(|e| format!("/{e}")).unwrap_or_default()
                );
                Ok(0)
            }
            AdminCommand::CreateToken {
                email,
                name,
                scopes,
                days,
                db,
            } => {
                if !(1..=3650).contains(&days) {
                    return Err(InputError("error: --days must be 1 to 3650".into()));
                }
                let s = open(&db).await?;
                let u = s
                    .user_by_email(&email)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| InputError(format!("error: no user `{email}`")))?;
                let (row, secret) = s
                    .create_token(&u, &name, &scopes, days * 86_400)
                    .await
                    .map_err(store_err)?;
                eprintln!(
                    "token {} for {email} ({}), expires in {days} days; it is shown only now:",
                    row.id,
                    row.scopes.join(" ")
                );
                println!("{secret}");
                Ok(0)
            }
            AdminCommand::VerifyLog { db } => {
                let s = open(&db).await?;
                match s.verify_log().await.map_err(store_err)? {
                    LogCheck::Intact { entries, head } => {
                        println!("audit log intact: {entries} entries, head {head}");
                        Ok(0)
                    }
                    LogCheck::Broken { seq, why } => {
                        println!("audit log broken at entry {seq}: {why}");
                        Ok(crate::EXIT_GAPS)
                    }
                }
            }
        }
    })
}

#[derive(Args)]
pub(crate) struct PushArgs {
    /// The estate directory to upload (every file in it, and the snapshots under .demarc/).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The server, e.g. https://demarc.example.com
    #[arg(long, env = "DEMARC_SERVER", value_name = "URL")]
    pub server: String,
    /// ORG/ESTATE on the server.
    #[arg(long, value_name = "ORG/ESTATE")]
    pub estate: String,
    /// An API token with the write scope (`demarc admin create-token --scope write`).
    #[arg(long, env = "DEMARC_TOKEN", hide_env_values = true)]
    pub token: String,
    /// What changed (default: the git commit message is not read; say it).
    #[arg(long, short = 'm', default_value = "pushed from the CLI")]
    pub message: String,
}

/// The files `push` uploads: every regular file under `dir`, skipping hidden entries other
/// than the `.demarc/` snapshots (`.git/` and editor files stay home).
pub(crate) fn push_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, InputError> {
    fn walk(
        root: &Path,
        d: &Path,
        top: bool,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<(), InputError> {
        let rd =
            std::fs::read_dir(d).map_err(|e| InputError(format!("error: {}: {e}", d.display())))?;
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if name.starts_with('.') && !(top && name == ".demarc") {
                continue;
            }
            let meta = std::fs::metadata(&p)
                .map_err(|e| InputError(format!("error: {}: {e}", p.display())))?;
            if meta.is_dir() {
                walk(root, &p, false, out)?;
            } else if meta.is_file() {
                if meta.len() > demarc_store::MAX_FILE_BYTES as u64 {
                    return Err(InputError(format!(
                        "error: {}: larger than {} MiB, which the server refuses\n  help: keep large files out of the estate directory",
                        p.display(),
                        demarc_store::MAX_FILE_BYTES >> 20
                    )));
                }
                let rel = p
                    .strip_prefix(root)
                    .map_err(|e| InputError(e.to_string()))?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&p)
                    .map_err(|e| InputError(format!("error: {}: {e}", p.display())))?;
                out.push((rel, bytes));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, true, &mut out)?;
    if !out
        .iter()
        .any(|(p, _)| demarc_model::ROOT_FILES.contains(&p.as_str()))
    {
        return Err(InputError(format!(
            "error: {} holds no estate.yaml or demarc.yaml\n  help: push the estate's directory",
            dir.display()
        )));
    }
    Ok(out)
}

pub(crate) fn push(a: PushArgs) -> Result<u8, InputError> {
    let (org, estate) = split_estate(&a.estate)?;
    let files = push_files(&a.dir)?;
    let base_url = a.server.trim_end_matches('/');
    let url = format!("{base_url}/api/v1/orgs/{org}/estates/{estate}");
    runtime()?.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| InputError(format!("error: {e}")))?;
        let auth = format!("Bearer {}", a.token);
        let fail = |what: &str, e: reqwest::Error| InputError(format!("error: {what} {url}: {e}"));
        let r = client
            .get(&url)
            .header("authorization", &auth)
            .send()
            .await
            .map_err(|e| fail("cannot reach", e))?;
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(server_error(status, &body));
        }
        let head = body["head"].as_i64().unwrap_or(0);
        let upload = demarc_api::UploadV1 {
            base: head,
            message: a.message.clone(),
            files: files
                .into_iter()
                .map(|(p, c)| (p, demarc_server::api::file_v1(c)))
                .collect(),
        };
        let r = client
            .post(format!("{url}/versions"))
            .header("authorization", &auth)
            .header("x-demarc-client", "push")
            .json(&upload)
            .send()
            .await
            .map_err(|e| fail("cannot upload to", e))?;
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(server_error(status, &body));
        }
        println!(
            "pushed {} as version {} of {org}/{estate}",
            a.dir.display(),
            body["number"]
        );
        Ok(0)
    })
}

fn server_error(status: reqwest::StatusCode, body: &serde_json::Value) -> InputError {
    let e = &body["error"];
    let mut msg = format!(
        "error: the server answered {status}: {}",
        e["message"].as_str().unwrap_or("(no message)")
    );
    for d in e["diagnostics"].as_array().into_iter().flatten() {
        msg.push_str(&format!("\n{}", d.as_str().unwrap_or("")));
    }
    if let Some(h) = e["help"].as_str() {
        msg.push_str(&format!("\n  help: {h}"));
    }
    InputError(msg)
}
