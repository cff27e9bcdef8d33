//! The API's edits (each a new version made by [`crate::edits`]), ingests of inventory and
//! findings, and the reads that follow a history: reviews, findings, drift, the diff of two
//! versions and the organization's audit log.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use demarc_api as api;
use demarc_posture::{self as posture, Attributor, CheckTable, Fact, Finding, GroupBy, Summary};
use demarc_store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{self, EstateAccess};
use crate::api::{At, base_of, json_body, opened, store_version, today, version_v1};
use crate::auth::Principal;
use crate::edits::{self, Edit, list, object, unprocessable};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, materialize};

pub fn routes() -> Router<AppState> {
    let e = "/api/v1/orgs/{org}/estates/{estate}";
    Router::new()
        .route(&format!("{e}/assignments"), post(assign))
        .route(&format!("{e}/acceptances"), post(accept))
        .route(&format!("{e}/evidence"), post(evidence))
        .route(&format!("{e}/reviews"), post(sign_off).get(reviews))
        .route(
            &format!("{e}/incidents"),
            post(record_incident).get(crate::api_reads::incidents),
        )
        .route(&format!("{e}/contracts/{{id}}/end"), post(end_contract))
        .route(&format!("{e}/inventory"), post(ingest_inventory))
        .route(
            &format!("{e}/findings"),
            post(ingest_findings).get(findings),
        )
        .route(&format!("{e}/drift"), get(drift))
        .route(&format!("{e}/diff"), get(diff))
        .route("/api/v1/orgs/{org}/audit-log", get(audit_log))
}

// ---- shared pieces ----

/// The files of `base`, which must be the head: a stale base is refused before any work.
async fn base_files(
    state: &AppState,
    a: &EstateAccess,
    base: i64,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    if base != a.estate.head {
        return Err(StoreError::Conflict {
            expected: base,
            head: a.estate.head,
        }
        .into());
    }
    if base == 0 {
        return Err(
            ApiError::not_found(format!("estate `{}` has no version yet", a.estate.slug))
                .help("upload the estate's files first: POST …/versions"),
        );
    }
    Ok(state.store.version_files(&a.estate.id, base).await?)
}

/// Stores `files` as the next version and answers 201 with what changed.
#[allow(clippy::too_many_arguments)]
async fn commit(
    state: &AppState,
    p: &Principal,
    a: &EstateAccess,
    base: i64,
    kind: &str,
    message: String,
    before: &[(String, Vec<u8>)],
    after: Vec<(String, Vec<u8>)>,
    summary: Option<Value>,
) -> ApiResult<Response> {
    let changed = edits::changed_paths(before, &after);
    let v = store_version(state, a, base, &p.user.email, kind, message, after).await?;
    let tag = HeaderValue::from_str(&format!("\"v{}\"", v.number)).map_err(ApiError::internal)?;
    let mut resp = (
        StatusCode::CREATED,
        Json(api::EditV1 {
            version: version_v1(v),
            changed,
            summary,
        }),
    )
        .into_response();
    resp.headers_mut().insert(header::ETAG, tag);
    Ok(resp)
}

/// Applies a file edit to the head and stores it.
async fn edit(
    state: &AppState,
    p: &Principal,
    a: &EstateAccess,
    base: i64,
    e: Edit,
    message: String,
) -> ApiResult<Response> {
    let files = base_files(state, a, base).await?;
    let after = edits::apply(&files, &e, today())?;
    commit(state, p, a, base, e.kind(), message, &files, after, None).await
}

fn message_or(m: Option<String>, generated: impl FnOnce() -> String) -> String {
    m.filter(|m| !m.trim().is_empty()).unwrap_or_else(generated)
}

fn required(field: &str, value: &str, fix: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        Err(ApiError::bad_request(format!("`{field}` is empty")).help(fix.to_string()))
    } else {
        Ok(())
    }
}

type EstatePath = Path<(String, String)>;

// ---- edits ----

async fn assign(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::AssignRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    required("to", &r.to, "name the owner: a party key or `party/team`")?;
    let mut assets = r.assets.clone();
    assets.extend(r.asset.clone());
    if assets.is_empty() && r.service.is_none() {
        return Err(ApiError::bad_request(
            "say which assets: give `asset`, `assets` or `service`",
        )
        .help("an assignment for every asset is written in the estate's own files, not through this endpoint"));
    }
    let scope = object(vec![
        ("service", r.service.clone().map(Value::from)),
        ("assets", list(&assets)),
    ]);
    let duties: Vec<&str> = r.duties.iter().map(|d| d.as_str()).collect();
    let item = object(vec![
        ("scope", Some(scope)),
        ("controls", list(&r.controls)),
        ("duties", (!duties.is_empty()).then(|| json!(duties))),
        ("to", Some(Value::from(r.to.clone()))),
        ("note", r.note.clone().map(Value::from)),
    ]);
    let message = message_or(r.message, || {
        let what = if r.controls.is_empty() {
            "every control".to_string()
        } else {
            r.controls.join(", ")
        };
        let duty = if duties.is_empty() {
            String::new()
        } else {
            format!(" ({})", duties.join(", "))
        };
        let on = if assets.is_empty() {
            r.service.clone().unwrap_or_default()
        } else {
            assets.join(", ")
        };
        format!("assign {what}{duty} on {on} to {}", r.to)
    });
    edit(&state, &p, &a, base, Edit::Assign(item), message).await
}

async fn accept(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::AcceptRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    required(
        "gap",
        &r.gap,
        "give a gap key from GET …/gaps, e.g. `DM003:waf`",
    )?;
    required("reason", &r.reason, "say why the risk is accepted")?;
    if r.expires <= today() {
        return Err(unprocessable(format!(
            "`expires` {} is not after today ({})",
            r.expires,
            today()
        ))
        .help("acceptances end: give the day the gap counts again, in the future"));
    }
    if !r.gap.contains('*') && base == a.estate.head {
        let (_, o) = opened(&state, &a, &At::default()).await?;
        let keys: Vec<String> = tokio::task::spawn_blocking(move || {
            o.analysis().gaps.iter().map(|g| g.key.clone()).collect()
        })
        .await
        .map_err(ApiError::internal)?;
        if !keys.contains(&r.gap) {
            let code = r.gap.split(':').next().unwrap_or("");
            let near: Vec<&str> = keys
                .iter()
                .filter(|k| k.split(':').next() == Some(code))
                .take(5)
                .map(String::as_str)
                .collect();
            let mut e = unprocessable(format!(
                "`{}` is not the key of a gap of version {}",
                r.gap, a.estate.head
            ));
            e = e.help(if near.is_empty() {
                "GET …/gaps lists the keys; a pattern with `*` (`DM010:*`) accepts gaps that do not exist yet".to_string()
            } else {
                format!("gaps with that code: {}", near.join(", "))
            });
            return Err(e);
        }
    }
    let item = object(vec![
        ("gap", Some(Value::from(r.gap.clone()))),
        ("reason", Some(Value::from(r.reason.clone()))),
        (
            "approved_by",
            Some(Value::from(
                r.approved_by
                    .clone()
                    .filter(|x| !x.trim().is_empty())
                    .unwrap_or_else(|| p.user.email.clone()),
            )),
        ),
        ("expires", Some(Value::from(r.expires.to_string()))),
    ]);
    let message = message_or(r.message, || {
        format!("accept {} until {}: {}", r.gap, r.expires, r.reason)
    });
    edit(&state, &p, &a, base, Edit::Accept(item), message).await
}

async fn evidence(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::EvidenceRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    required(
        "control",
        &r.control,
        "name the control the evidence proves",
    )?;
    required("ref", &r.reference, "give a link to the proof")?;
    if r.kind.as_deref() == Some("file") {
        return Err(unprocessable("evidence of `kind: file` needs the file in the estate")
            .help("upload the estate with the file and its `evidence:` item, or record a link (`kind: link`)"));
    }
    let collected = r.collected.unwrap_or_else(today);
    let item = object(vec![
        ("control", Some(Value::from(r.control.clone()))),
        ("asset", r.asset.clone().map(Value::from)),
        ("ref", Some(Value::from(r.reference.clone()))),
        ("collected", Some(Value::from(collected.to_string()))),
        ("valid_for", r.valid_for.clone().map(Value::from)),
        ("kind", r.kind.clone().map(Value::from)),
        ("provided_by", r.provided_by.clone().map(Value::from)),
        ("requirements", list(&r.requirements)),
    ]);
    let message = message_or(r.message, || {
        format!(
            "evidence for {}{} collected {collected}",
            r.control,
            r.asset
                .as_deref()
                .map(|x| format!(" on {x}"))
                .unwrap_or_default()
        )
    });
    edit(&state, &p, &a, base, Edit::Evidence(item), message).await
}

async fn sign_off(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_sign_off(&p)?;
    let r: api::SignOffRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    let date = r.date.unwrap_or_else(today);
    let item = object(vec![
        ("date", Some(Value::from(date.to_string()))),
        // The signer is who is signed in, never a name the client chose.
        ("by", Some(Value::from(p.user.email.clone()))),
        ("notes", r.notes.clone().map(Value::from)),
        ("incidents", list(&r.incidents)),
    ]);
    let message = message_or(r.message, || {
        format!("review signed off by {} on {date}", p.user.email)
    });
    edit(&state, &p, &a, base, Edit::Review(item), message).await
}

/// Records an incident; the engine then resolves who held the failed duty on its date and
/// keeps its post-incident review open (DM019) until a review signs it off.
async fn record_incident(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::IncidentRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    required(
        "id",
        &r.id,
        "give the incident a unique id, e.g. `INC-2026-012`",
    )?;
    required("summary", &r.summary, "say what happened")?;
    required("control", &r.control, "name the control whose duty failed")?;
    if r.assets.is_empty() {
        return Err(ApiError::bad_request("`assets` is empty").help("name the assets it hit"));
    }
    let item = object(vec![
        ("id", Some(Value::from(r.id.clone()))),
        ("date", Some(Value::from(r.date.to_string()))),
        ("assets", list(&r.assets)),
        ("summary", Some(Value::from(r.summary.clone()))),
        ("control", Some(Value::from(r.control.clone()))),
        ("duty", Some(Value::from(r.duty.as_str()))),
        ("started", r.started.clone().map(Value::from)),
        ("detected", r.detected.clone().map(Value::from)),
        ("responded", r.responded.clone().map(Value::from)),
        ("changes", list(&r.changes)),
    ]);
    let message = message_or(r.message, || {
        format!("incident {} recorded: {}", r.id, r.summary)
    });
    edit(&state, &p, &a, base, Edit::Incident(item), message).await
}

async fn end_contract(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::EndContractRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    if base == a.estate.head {
        let (_, o) = opened(&state, &a, &At::default()).await?;
        let ids: Vec<&str> = o
            .res()
            .estate()
            .contracts
            .iter()
            .map(|c| c.id.value.as_str())
            .collect();
        if !ids.contains(&id.as_str()) {
            return Err(ApiError::not_found(format!(
                "estate `{}` has no contract `{id}`",
                a.estate.slug
            ))
            .help(if ids.is_empty() {
                "the estate has no contracts".to_string()
            } else {
                format!("its contracts: {}", ids.join(", "))
            }));
        }
    }
    let message = message_or(r.message, || format!("end contract {id} on {}", r.date));
    edit(
        &state,
        &p,
        &a,
        base,
        Edit::EndContract { id, date: r.date },
        message,
    )
    .await
}

// ---- ingests ----

/// A file name for the uploaded export: its base name only, so nothing escapes the scratch
/// directory; the format picks an extension the readers recognise when no name is given.
fn upload_name(r: &api::IngestRequestV1, default_stem: &str) -> ApiResult<String> {
    let name = match &r.name {
        Some(n) => FsPath::new(n)
            .file_name()
            .and_then(|x| x.to_str())
            .filter(|x| !x.starts_with('.'))
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::bad_request(format!("`name` `{n}` is not a file name"))
                    .help("give the export's file name, e.g. `terraform.tfstate`")
            })?,
        None => {
            let ext = match r.format.as_deref() {
                None | Some("json") => "json",
                Some("jsonl") | Some("ndjson") => "jsonl",
                Some("csv") => "csv",
                Some(f) => {
                    return Err(ApiError::bad_request(format!("`format` `{f}` is not known"))
                        .help("use `json` (any JSON export, detected from the content), `jsonl` or `csv`, or give `name`"));
                }
            };
            format!("{default_stem}.{ext}")
        }
    };
    Ok(name)
}

/// Every file under `sub` of `dir`, as estate paths.
fn read_tree(dir: &FsPath, sub: &str) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let root = dir.join(sub);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(out);
    };
    for e in entries {
        let e = e.map_err(ApiError::internal)?;
        let name = e.file_name().to_string_lossy().to_string();
        // Files still being written have hidden names; a finished ingest leaves none.
        if name.starts_with('.') || !e.file_type().map_err(ApiError::internal)?.is_file() {
            continue;
        }
        out.push((
            format!("{sub}/{name}"),
            std::fs::read(e.path()).map_err(ApiError::internal)?,
        ));
    }
    Ok(out)
}

/// `files` with everything under `sub` replaced by `fresh`.
fn replace_tree(
    files: &[(String, Vec<u8>)],
    sub: &str,
    fresh: Vec<(String, Vec<u8>)>,
) -> Vec<(String, Vec<u8>)> {
    let prefix = format!("{sub}/");
    let mut out: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| !p.starts_with(&prefix))
        .cloned()
        .collect();
    out.extend(fresh);
    out
}

async fn ingest_inventory(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::IngestRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    let name = upload_name(&r, "inventory")?;
    let files = base_files(&state, &a, base).await?;
    let input = files.clone();
    let custodian_type = r.custodian_type.clone();
    let content = r.content.clone();
    let upload = name.clone();
    let (after, summary) = tokio::task::spawn_blocking(move || {
        let dir = materialize(&input)?;
        let scratch = tempfile::tempdir().map_err(ApiError::internal)?;
        let export = scratch.path().join(&upload);
        std::fs::write(&export, content).map_err(ApiError::internal)?;
        // The estate as declared, without earlier snapshots: what discovery is matched
        // against, as `demarc ingest inventory` does.
        let root = dir.path();
        let (declared, catalog) = crate::state::load_confined(root, true)?;
        let as_of = today();
        let stamp = format!(
            "{}T{}Z",
            as_of.format("%Y-%m-%d"),
            chrono::Utc::now().format("%H%M%S")
        );
        let summary = demarc_ingest::ingest(
            root,
            &[export],
            Some(&declared),
            &catalog,
            &demarc_ingest::IngestOptions {
                as_of,
                stamp,
                custodian_type,
            },
            &demarc_ingest::Quiet,
        )
        .map_err(|e| {
            let text = e.to_string().replace(&format!("{}/", scratch.path().display()), "");
            unprocessable(format!("the export does not ingest: {text}"))
                .help("nothing was stored; fix the export (or give `format`/`name` so its kind is recognised) and send it again")
        })?;
        let fresh = read_tree(root, demarc_model::SNAPSHOT_DIR)?;
        let mut v = serde_json::to_value(&summary).map_err(ApiError::internal)?;
        // Paths in the summary are the server's scratch directories; show estate paths.
        strip_paths(&mut v, &[root, scratch.path()]);
        Ok::<_, ApiError>((replace_tree(&input, demarc_model::SNAPSHOT_DIR, fresh), v))
    })
    .await
    .map_err(ApiError::internal)??;
    let message = message_or(r.message, || format!("ingest inventory from {name}"));
    commit(
        &state,
        &p,
        &a,
        base,
        "ingest-inventory",
        message,
        &files,
        after,
        Some(summary),
    )
    .await
}

fn strip_paths(v: &mut Value, roots: &[&FsPath]) {
    match v {
        Value::String(s) => {
            for r in roots {
                *s = s.replace(&format!("{}/", r.display()), "");
            }
        }
        Value::Array(xs) => xs.iter_mut().for_each(|x| strip_paths(x, roots)),
        Value::Object(m) => m.values_mut().for_each(|x| strip_paths(x, roots)),
        _ => {}
    }
}

/// The names of the findings snapshots among a version's files.
fn findings_snapshots(files: &[(String, Vec<u8>)]) -> Vec<String> {
    let prefix = format!("{}/", posture::snapshot::DIR);
    files
        .iter()
        .filter_map(|(p, _)| p.strip_prefix(&prefix))
        .filter(|n| !n.contains('/'))
        .map(str::to_string)
        .collect()
}

/// First-seen dates demarc gave findings whose tool gives none, from the latest snapshot on
/// or before `as_of` among the version's files, so a finding keeps the day it was first
/// ingested (as the CLI does). A damaged snapshot carries nothing.
fn carried_first_seen(
    files: &[(String, Vec<u8>)],
    as_of: NaiveDate,
) -> std::collections::HashMap<u64, NaiveDate> {
    let names = findings_snapshots(files);
    let Some(date) = posture::snapshot::pick(names.iter().map(String::as_str), as_of) else {
        return Default::default();
    };
    let path = format!(
        "{}/{}",
        posture::snapshot::DIR,
        posture::snapshot::file_name(date)
    );
    files
        .iter()
        .find(|(p, _)| *p == path)
        .and_then(|(_, bytes)| posture::snapshot::first_seen_by_ingest(bytes.as_slice()).ok())
        .unwrap_or_default()
}

/// The built-in Rego rules over the latest inventory snapshot in `dir`, as findings; the
/// snapshot's name. No snapshot is a 422 that says how to make one.
fn policy_findings(
    dir: &std::path::Path,
    res: &demarc_engine::Resolution,
) -> ApiResult<(String, Vec<posture::Finding>)> {
    use demarc_ingest::policy::{Policy, RuleSources};
    let mut policy = Policy::load(&RuleSources {
        builtin: true,
        dir: None,
    })
    .map_err(ApiError::internal)?;
    let rules = policy.rules(res.catalog()).map_err(ApiError::internal)?;
    let input = demarc_ingest::inventory(dir).map_err(|e| {
        unprocessable(format!("policy checks: {e}"))
            .help("ingest an inventory first: POST …/inventory with a Terraform plan or state, AWS Config, Resource Graph or Cloud Asset export")
    })?;
    let results = policy
        .evaluate(&input, &rules)
        .map_err(ApiError::internal)?;
    Ok((
        input.snapshot.clone(),
        demarc_ingest::policy::findings(&input, &results),
    ))
}

async fn ingest_findings(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let r: api::IngestRequestV1 = json_body(&body)?;
    let base = base_of(&headers, r.base)?;
    if r.custodian_type.is_some() {
        return Err(ApiError::bad_request(
            "`custodian_type` is for inventory, not findings",
        ));
    }
    let name = match &r.name {
        Some(_) => upload_name(&r, "findings")?,
        None => "findings.json".to_string(),
    };
    if r.content.is_empty() && !r.policy {
        return Err(ApiError::bad_request("`content` is empty").help(
            "send the findings file's text, or `\"policy\": true` to run the policy checks alone",
        ));
    }
    let files = base_files(&state, &a, base).await?;
    let (_, o) = opened(&state, &a, &At::default()).await?;
    let res = o.res().clone();
    let input = files.clone();
    let content = r.content.clone();
    let source = name.clone();
    let policy = r.policy;
    let (after, summary) = tokio::task::spawn_blocking(move || {
        let as_of = today();
        let mut inputs = Vec::new();
        if !content.is_empty() {
            inputs.push((
                source.clone(),
                posture::snapshot::Input::Read(Box::new(content.as_bytes())),
            ));
        }
        if policy {
            // The version's files are materialised in `o.dir`, inventory snapshots included.
            let (snapshot, list) = policy_findings(o.dir.path(), &res)?;
            inputs.push((
                format!("demarc policy (inventory snapshot {snapshot})"),
                posture::snapshot::Input::Findings(posture::SourceFormat::Rego, list),
            ));
        }
        let carried = carried_first_seen(&input, as_of);
        let table = CheckTable::builtin();
        let at = Attributor::new(&res, table, as_of);
        let by = GroupBy::Party;
        let mut summary = Summary::new(by);
        let mut snapshot = Vec::new();
        let sources = posture::snapshot::write(
            &mut snapshot,
            as_of,
            inputs,
            &carried,
            &at,
            &mut summary,
            &mut |_, _| {},
        )
        .map_err(|e| match e {
            posture::snapshot::WriteError::Read { error, .. } => unprocessable(format!("{source}: {error}")).help(
                "nothing was stored; send Prowler OCSF JSON (`--output-formats json-ocsf`), Security Hub ASFF (`get-findings`) or SARIF 2.1.0",
            ),
            posture::snapshot::WriteError::Write(e) => ApiError::internal(e),
        })?;
        let path = format!(
            "{}/{}",
            posture::snapshot::DIR,
            posture::snapshot::file_name(as_of)
        );
        let out = api::FindingsIngestV1 {
            schema: api::FINDINGS_INGEST.into(),
            estate: res.estate().name.clone(),
            as_of,
            snapshot: api::FindingsSnapshotV1 {
                date: as_of,
                file: path.clone(),
                sources: sources.iter().map(Into::into).collect(),
            },
            by: by.as_str().into(),
            summary: (&summary.tally).into(),
            groups: api::groups_of(&at, &summary),
        };
        // One snapshot per day, replacing one of the same date, as the CLI keeps them.
        let mut after: Vec<(String, Vec<u8>)> =
            input.into_iter().filter(|(p, _)| *p != path).collect();
        after.push((path, snapshot));
        Ok::<_, ApiError>((
            after,
            serde_json::to_value(&out).map_err(ApiError::internal)?,
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    let message = message_or(r.message, || format!("ingest findings from {name}"));
    commit(
        &state,
        &p,
        &a,
        base,
        "ingest-findings",
        message,
        &files,
        after,
        Some(summary),
    )
    .await
}

// ---- reads ----

async fn reviews(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(at): Query<At>,
) -> ApiResult<Json<api::ReviewsV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (n, o) = opened(&state, &a, &at).await?;
    let out = tokio::task::spawn_blocking(move || {
        let res = o.res();
        let e = res.estate();
        let cadence = e.settings.review_cadence;
        let last = e.reviews.iter().map(|r| r.date).max();
        let mut reviews: Vec<api::ReviewV1> = e
            .reviews
            .iter()
            .map(|r| api::ReviewV1 {
                date: r.date,
                by: r.by.clone(),
                notes: r.notes.clone(),
                incidents: r.incidents.iter().map(|i| i.value.clone()).collect(),
            })
            .collect();
        reviews.sort_by_key(|r| std::cmp::Reverse(r.date));
        let gaps: Vec<api::GapV1> = res
            .gaps(demarc_engine::AnalyseOptions::default())
            .gaps
            .iter()
            .filter(|g| matches!(g.code, "DM008" | "DM009" | "DM019"))
            .map(api::GapV1::from)
            .collect();
        let mut gaps = gaps;
        relative_gaps(&mut gaps, o.dir.path());
        api::ReviewsV1 {
            version: n,
            as_of: res.as_of(),
            cadence: cadence.to_string(),
            last,
            due: last.map(|d| d + chrono::Days::new(cadence.days().max(0) as u64)),
            overdue: gaps.iter().any(|g| g.code == "DM008"),
            gaps,
            reviews,
        }
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(out))
}

fn relative(root: &FsPath, text: &str) -> String {
    text.replace(&format!("{}/", root.display()), "")
}

/// Gap bases cite `file:line` under the directory a version was written to; clients see
/// paths inside the estate.
fn relative_gaps(gaps: &mut [api::GapV1], root: &FsPath) {
    for g in gaps {
        for b in &mut g.basis {
            *b = relative(root, b);
        }
    }
}

async fn drift(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(at): Query<At>,
) -> ApiResult<Json<api::DriftV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (n, o) = opened(&state, &a, &at).await?;
    let o2 = o.clone();
    let out = tokio::task::spawn_blocking(move || {
        let res = o2.res();
        let facts = demarc_ingest::drift::facts(o2.dir.path(), res.estate())
            .map_err(|e| unprocessable(relative(o2.dir.path(), &e)))?;
        let Some((facts, previous)) = facts else {
            return Err(
                ApiError::not_found(format!("version {n} has no inventory snapshot")).help(
                    "ingest one: POST …/inventory with an export (Terraform state, AWS Config, …)",
                ),
            );
        };
        let snapshot = facts.snapshot.clone();
        let check = demarc_engine::Drift(facts);
        let mut analysis = demarc_engine::analyse_with_checks(
            res,
            demarc_engine::AnalyseOptions::default(),
            &[&check],
        );
        analysis
            .gaps
            .retain(|g| ["DM021", "DM022", "DM023", "DM024", "DM025"].contains(&g.code));
        let mut gaps: Vec<api::GapV1> = analysis.gaps.iter().map(api::GapV1::from).collect();
        relative_gaps(&mut gaps, o2.dir.path());
        Ok(api::DriftV1 {
            schema: "demarc.drift/v1".into(),
            snapshot,
            previous,
            gaps,
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(out))
}

/// Most urgent first, as `demarc findings` lists them: most days overdue, then severity, then
/// earliest due, then file order.
type Urgency = (
    i64,
    posture::Severity,
    std::cmp::Reverse<NaiveDate>,
    std::cmp::Reverse<(u32, u64)>,
);

#[derive(Debug, Deserialize)]
struct FindingsQuery {
    version: Option<i64>,
    as_of: Option<NaiveDate>,
    /// `party` (default), `control`, `asset`, `severity`.
    by: Option<String>,
    /// Also passed, manual, suppressed and resolved findings.
    all: Option<bool>,
    /// At most this many findings, most urgent first (default 1000).
    limit: Option<usize>,
}

async fn findings(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<FindingsQuery>,
) -> ApiResult<Json<api::FindingsV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let by = match q.by.as_deref().unwrap_or("party") {
        "party" => GroupBy::Party,
        "control" => GroupBy::Control,
        "asset" => GroupBy::Asset,
        "severity" => GroupBy::Severity,
        x => {
            return Err(ApiError::bad_request(format!(
                "`by` `{x}` is not party, control, asset or severity"
            )));
        }
    };
    let limit = q.limit.unwrap_or(1000).clamp(1, 100_000);
    let all = q.all == Some(true);
    let (n, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let out = tokio::task::spawn_blocking(move || {
        let res = o.res();
        let as_of = res.as_of();
        let dir: PathBuf = o.dir.path().join(posture::snapshot::DIR);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        let Some(date) = posture::snapshot::pick(names.iter().map(String::as_str), as_of) else {
            return Err(ApiError::not_found(format!(
                "version {n} has no findings snapshot on or before {as_of}"
            ))
            .help("ingest findings: POST …/findings with a Prowler OCSF, ASFF or SARIF file"));
        };
        let name = posture::snapshot::file_name(date);
        let bytes = std::fs::read(dir.join(&name)).map_err(ApiError::internal)?;
        let at = Attributor::new(res, CheckTable::builtin(), as_of);
        let mut summary = Summary::new(by);
        let mut kept: Vec<(Urgency, api::FindingV1)> = Vec::new();
        let map = |f: Finding| {
            let x = at.attribute(&f);
            let fact = Fact::new(by, &at, &f, &x);
            let listed = all || f.status == posture::Status::Open;
            let item = listed.then(|| {
                let urgency = (
                    x.days_overdue,
                    f.severity,
                    std::cmp::Reverse(x.due.unwrap_or(NaiveDate::MAX)),
                    std::cmp::Reverse((f.source, f.record)),
                );
                (urgency, api::FindingV1::new(&at, &f, &x))
            });
            (fact, item)
        };
        let info = posture::snapshot::read(
            bytes.as_slice(),
            posture::ReadOptions::default(),
            &map,
            &mut |(fact, item)| {
                summary.add(&fact);
                if let Some(i) = item {
                    kept.push(i);
                }
                Ok(())
            },
            &mut |_| {},
        )
        .map_err(|e| {
            unprocessable(format!("{}/{name}: {e}", posture::snapshot::DIR))
                .help("the snapshot is damaged; ingest the findings again")
        })?;
        kept.sort_by_key(|k| std::cmp::Reverse(k.0));
        kept.truncate(limit);
        Ok(api::FindingsV1 {
            schema: api::FINDINGS.into(),
            estate: res.estate().name.clone(),
            as_of,
            accountable: res.accountable().to_string(),
            snapshot: api::FindingsSnapshotV1 {
                date,
                file: format!("{}/{name}", posture::snapshot::DIR),
                sources: info.end.sources.iter().map(Into::into).collect(),
            },
            by: by.as_str().into(),
            summary: (&summary.tally).into(),
            groups: api::groups_of(&at, &summary),
            findings: kept.into_iter().map(|k| k.1).collect(),
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
    as_of: Option<NaiveDate>,
    /// At most this many changed cells (default 1000).
    limit: Option<usize>,
}

async fn diff(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<api::DiffV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let to = q.to.unwrap_or(a.estate.head);
    let from = q.from.unwrap_or(to - 1);
    if from < 1 || from > to {
        return Err(
            ApiError::bad_request(format!("cannot compare version {from} with {to}")).help(
                "give `from` ≤ `to`, both versions of the estate; version 1 has nothing before it",
            ),
        );
    }
    let (_, x) = opened(&state, &a, &At::of(Some(from), q.as_of)).await?;
    let (_, y) = opened(&state, &a, &At::of(Some(to), q.as_of)).await?;
    let limit = q.limit.unwrap_or(1000).min(100_000);
    let out = tokio::task::spawn_blocking(move || {
        let lib = demarc_compliance::Library::builtin().ok();
        let mut d = crate::history::diff(&x, &y, from, to, limit, lib);
        relative_gaps(&mut d.gaps_closed, x.dir.path());
        relative_gaps(&mut d.gaps_opened, y.dir.path());
        d
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn audit_log(
    State(state): State<AppState>,
    p: Principal,
    Path(org): Path<String>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<api::AuditEntryV1>>> {
    let (o, role) = access::org(&state, &p, &org).await?;
    if !role.is_some_and(|r| r.can_audit()) && !p.user.superadmin {
        return Err(ApiError::forbidden(format!(
            "the audit log of `{org}` is read by its admins and auditors"
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` is 1 to 1000"));
    }
    let slugs: BTreeMap<String, String> = state
        .store
        .estates_of_org(&o.id)
        .await?
        .into_iter()
        .map(|e| (e.id, e.slug))
        .collect();
    let entries = state
        .store
        .audit_log(Some(&o.id), q.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| api::AuditEntryV1 {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                action: e.action,
                estate: slugs.get(&e.estate_id).cloned(),
                detail: e.detail,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect(),
    ))
}
