//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. Operations are
//! built with utoipa from [`OPS`], the one table of the API's routes (method, path, query
//! parameters, body and answer types, who may call it); the schemas are the api crate's types
//! (schemars JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Tests walk [`OPS`] and call
//! every operation as every role, validating each answer against its schema, so the document
//! and the implementation cannot drift apart.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApiBuilder, PathItem, PathsBuilder, Ref, Required,
};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (answers only about what that user may see).
    Signed,
    /// Anyone with a role on the estate (client viewers of that estate included).
    Read,
    /// Editors and admins of the estate.
    Edit,
    /// Auditors and admins.
    SignOff,
    /// Admins and auditors of the organization.
    Audit,
    /// Admins of the organization.
    OrgAdmin,
    /// Server administrators.
    Super,
}

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    /// `(name, type, required, description)`; type is `string`, `integer`, `boolean`, `date`.
    pub query: &'static [(&'static str, &'static str, bool, &'static str)],
    /// The request body's schema name.
    pub body: Option<&'static str>,
    /// The answer's schema name; `binary` for a file download, `none` for 204.
    pub answer: &'static str,
    pub status: u16,
    pub access: Access,
}

const AT: [(&str, &str, bool, &str); 2] = [
    (
        "version",
        "integer",
        false,
        "the version to answer from (default: the newest)",
    ),
    (
        "as_of",
        "date",
        false,
        "the day to resolve on, YYYY-MM-DD (default: today, UTC)",
    ),
];

const fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    answer: &'static str,
    access: Access,
) -> Op {
    Op {
        method,
        path,
        id,
        summary,
        query: &[],
        body: None,
        answer,
        status: 200,
        access,
    }
}

const E: &str = "/api/v1/orgs/{org}/estates/{estate}";

macro_rules! estate_path {
    ($tail:literal) => {
        concat!("/api/v1/orgs/{org}/estates/{estate}", $tail)
    };
}

/// Every operation of `/api/v1`.
pub const OPS: &[Op] = &[
    Op {
        body: Some("Login"),
        ..op(
            "post",
            "/api/v1/session",
            "login",
            "Sign in; sets the session cookie and returns the CSRF token",
            "Me",
            Access::Public,
        )
    },
    op(
        "get",
        "/api/v1/session",
        "me",
        "Who the caller is",
        "Me",
        Access::Signed,
    ),
    Op {
        status: 204,
        ..op(
            "delete",
            "/api/v1/session",
            "logout",
            "Sign out",
            "none",
            Access::Signed,
        )
    },
    op(
        "get",
        "/api/v1/orgs",
        "list_orgs",
        "The organizations the caller belongs to",
        "OrgList",
        Access::Signed,
    ),
    Op {
        body: Some("NewOrg"),
        status: 201,
        ..op(
            "post",
            "/api/v1/orgs",
            "create_org",
            "Create an organization",
            "Org",
            Access::Super,
        )
    },
    op(
        "get",
        "/api/v1/orgs/{org}/estates",
        "list_estates",
        "The organization's estates the caller may read",
        "EstateList",
        Access::Read,
    ),
    Op {
        body: Some("NewEstate"),
        status: 201,
        ..op(
            "post",
            "/api/v1/orgs/{org}/estates",
            "create_estate",
            "Create an estate",
            "Estate",
            Access::OrgAdmin,
        )
    },
    op(
        "get",
        E,
        "get_estate",
        "An estate, with its head version as the ETag",
        "Estate",
        Access::Read,
    ),
    Op {
        query: &[
            ("page", "integer", false, "page, from 1"),
            ("per_page", "integer", false, "1 to 1000, default 100"),
        ],
        ..op(
            "get",
            estate_path!("/versions"),
            "list_versions",
            "The estate's versions, newest first",
            "VersionPage",
            Access::Read,
        )
    },
    Op {
        body: Some("Upload"),
        status: 201,
        ..op(
            "post",
            estate_path!("/versions"),
            "upload",
            "Upload every file of the estate as a new version (409 when `base` is stale, 422 when it does not load)",
            "Version",
            Access::Edit,
        )
    },
    op(
        "get",
        estate_path!("/versions/{n}"),
        "get_version",
        "One version",
        "Version",
        Access::Read,
    ),
    op(
        "get",
        estate_path!("/versions/{n}/files"),
        "version_files",
        "Every file of a version, to round-trip into git",
        "Files",
        Access::Read,
    ),
    Op {
        query: &[
            AT[0],
            AT[1],
            ("page", "integer", false, "page, from 1"),
            ("per_page", "integer", false, "1 to 1000, default 100"),
            ("service", "string", false, "assets of this service"),
            ("env", "string", false, "assets in this environment"),
            (
                "party",
                "string",
                false,
                "cells where this party is responsible",
            ),
            ("control", "string", false, "one control"),
            ("duty", "string", false, "one duty"),
            ("asset", "string", false, "one asset"),
            ("problems", "boolean", false, "only cells with a problem"),
        ],
        ..op(
            "get",
            estate_path!("/matrix"),
            "matrix",
            "A page of the responsibility matrix",
            "MatrixPage",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            ("asset", "string", true, "asset id"),
            ("control", "string", true, "control id"),
            (
                "duty",
                "string",
                true,
                "configure, patch, monitor, respond or audit",
            ),
        ],
        ..op(
            "get",
            estate_path!("/explain"),
            "explain",
            "One cell with its basis chain",
            "Cell",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "severity",
                "string",
                false,
                "keep these severities, comma-separated",
            ),
            (
                "code",
                "string",
                false,
                "keep these gap codes, comma-separated",
            ),
        ],
        ..op(
            "get",
            estate_path!("/gaps"),
            "gaps",
            "What is missing: the gaps `demarc check` reports",
            "Check",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            ("asset", "string", true, "asset id"),
            ("duty", "string", true, "the duty"),
            ("control", "string", false, "one control"),
        ],
        ..op(
            "get",
            estate_path!("/who"),
            "who",
            "Who does a duty on an asset",
            "Cells",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            ("asset", "string", true, "asset id"),
            (
                "control",
                "string",
                false,
                "the control (without: the asset's call sheet)",
            ),
            ("duty", "string", false, "the duty"),
        ],
        ..op(
            "get",
            estate_path!("/triage"),
            "triage",
            "Who to call about a control on an asset (or the asset's call sheet)",
            "TriageOrCallSheet",
            Access::Read,
        )
    },
    op(
        "get",
        estate_path!("/drills"),
        "drills",
        "The built-in incident drill scenarios",
        "DrillList",
        Access::Read,
    ),
    Op {
        query: &AT,
        ..op(
            "get",
            estate_path!("/drills/{scenario}"),
            "drill",
            "Run a drill scenario on the estate",
            "Drill",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "framework",
                "string",
                false,
                "framework id (default: the estate's first)",
            ),
            (
                "baseline",
                "string",
                false,
                "baseline of SP 800-53 or FedRAMP",
            ),
            ("env", "string", false, "one environment"),
            ("data", "string", false, "one data class"),
        ],
        ..op(
            "get",
            estate_path!("/compliance"),
            "compliance",
            "Inherited, shared and owned per framework requirement",
            "Compliance",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "within",
                "integer",
                false,
                "days ahead that count as expiring",
            ),
        ],
        ..op(
            "get",
            estate_path!("/evidence"),
            "evidence",
            "The evidence register",
            "EvidenceRegister",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "baseline",
                "string",
                false,
                "FedRAMP baseline for oscal-ssp and crm",
            ),
        ],
        ..op(
            "get",
            estate_path!("/exports/{kind}"),
            "export",
            "Download an export: oscal-ssp, oscal-component, oscal-mapping, crm, xlsx, fedramp-cpo, fedramp-sdr",
            "binary",
            Access::Read,
        )
    },
    // Edits: each makes a new version (409 on a stale base, 422 when the estate would not load).
    Op {
        body: Some("AssignRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/assignments"),
            "assign",
            "Name an owner for duties (appended to server/assignments.yaml)",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        body: Some("AcceptRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/acceptances"),
            "accept",
            "Accept a gap until a date (appended to server/accepted.yaml)",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        body: Some("EvidenceRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/evidence"),
            "add_evidence",
            "Record evidence (appended to server/evidence.yaml)",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        body: Some("SignOffRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/reviews"),
            "sign_off",
            "Sign off a review of the model, with the incidents it closes",
            "Edit",
            Access::SignOff,
        )
    },
    Op {
        body: Some("EndContractRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/contracts/{id}/end"),
            "end_contract",
            "End a contract on a date (its `expires:` in the file that defines it)",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        body: Some("IngestRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/inventory"),
            "ingest_inventory",
            "Ingest an inventory export as the version's snapshot",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        body: Some("IngestRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/findings"),
            "ingest_findings",
            "Ingest scanner findings (Prowler OCSF, ASFF, SARIF) as the version's snapshot",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        query: &AT,
        ..op(
            "get",
            estate_path!("/reviews"),
            "reviews",
            "Reviews, the next one due, and the review gaps",
            "Reviews",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "by",
                "string",
                false,
                "party (default), control, asset or severity",
            ),
            (
                "all",
                "boolean",
                false,
                "also passed, suppressed and resolved findings",
            ),
            (
                "limit",
                "integer",
                false,
                "at most this many, most urgent first (default 1000)",
            ),
        ],
        ..op(
            "get",
            estate_path!("/findings"),
            "findings",
            "Findings attributed to the party that must fix them",
            "Findings",
            Access::Read,
        )
    },
    Op {
        query: &AT,
        ..op(
            "get",
            estate_path!("/drift"),
            "drift",
            "Drift between the estate and its inventory snapshot",
            "Drift",
            Access::Read,
        )
    },
    Op {
        query: &[
            (
                "from",
                "integer",
                false,
                "the older version (default: the one before `to`)",
            ),
            (
                "to",
                "integer",
                false,
                "the newer version (default: the head)",
            ),
            ("as_of", "date", false, "the day both are resolved on"),
            ("limit", "integer", false, "at most this many changed cells"),
        ],
        ..op(
            "get",
            estate_path!("/diff"),
            "diff",
            "What changed between two versions: cells, gaps, requirements",
            "Diff",
            Access::Read,
        )
    },
    Op {
        query: &[
            (
                "after",
                "integer",
                false,
                "entries after this sequence number",
            ),
            ("limit", "integer", false, "at most this many"),
        ],
        ..op(
            "get",
            "/api/v1/orgs/{org}/audit-log",
            "audit_log",
            "The organization's audit log entries, each chained by hash to the one before",
            "AuditLog",
            Access::Audit,
        )
    },
    Op {
        body: Some("IncidentRequest"),
        status: 201,
        ..op(
            "post",
            estate_path!("/incidents"),
            "record_incident",
            "Record an incident against the map (appended to server/incidents.yaml); its post-incident review stays open until signed off",
            "Edit",
            Access::Edit,
        )
    },
    Op {
        query: &AT,
        ..op(
            "get",
            estate_path!("/incidents"),
            "incidents",
            "Incidents with who held the failed duty on the day, times against the SLA, and review status",
            "Incidents",
            Access::Read,
        )
    },
    Op {
        query: &[
            AT[0],
            AT[1],
            (
                "party",
                "string",
                true,
                "the party the schedule is with (or party/team)",
            ),
            (
                "compare",
                "string",
                false,
                "a contract of that party: what its clauses leave out",
            ),
            (
                "diff_from",
                "integer",
                false,
                "an earlier version: what changed in the schedule",
            ),
            ("format", "string", false, "json (default), html or md"),
        ],
        ..op(
            "get",
            estate_path!("/annex"),
            "annex",
            "The responsibility annex for a contract with a party, drafted from the model",
            "Annex",
            Access::Read,
        )
    },
];

/// The schema names used in [`OPS`] and the JSON Schema of each.
fn schemas() -> BTreeMap<&'static str, Value> {
    fn s<T: JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    fn list<T: JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(Vec<T>)).unwrap_or_default()
    }
    use demarc_api as api;
    let mut m = BTreeMap::new();
    m.insert("Login", s::<api::LoginV1>());
    m.insert("Me", s::<api::MeV1>());
    m.insert("Org", s::<api::OrgV1>());
    m.insert("OrgList", list::<api::OrgV1>());
    m.insert("NewOrg", s::<api::NewOrgV1>());
    m.insert("Estate", s::<api::EstateV1>());
    m.insert("EstateList", list::<api::EstateV1>());
    m.insert("NewEstate", s::<api::NewEstateV1>());
    m.insert("Version", s::<api::VersionV1>());
    m.insert("VersionPage", s::<api::PageV1<api::VersionV1>>());
    m.insert("Upload", s::<api::UploadV1>());
    m.insert("Files", s::<api::FilesV1>());
    m.insert("MatrixPage", s::<api::MatrixPageV1>());
    m.insert("Cell", s::<api::CellV1>());
    m.insert("Cells", s::<api::CellsV1>());
    m.insert("Check", s::<api::CheckV1>());
    m.insert(
        "TriageOrCallSheet",
        one_of(vec![s::<api::TriageV1>(), s::<api::CallSheetV1>()]),
    );
    m.insert("DrillList", list::<api::DrillScenarioRefV1>());
    m.insert("Drill", s::<api::DrillV1>());
    m.insert("Compliance", s::<api::ComplianceV1>());
    m.insert("EvidenceRegister", s::<api::EvidenceRegisterV1>());
    m.insert("Error", s::<api::ErrorV1>());
    m.insert("AssignRequest", s::<api::AssignRequestV1>());
    m.insert("AcceptRequest", s::<api::AcceptRequestV1>());
    m.insert("EvidenceRequest", s::<api::EvidenceRequestV1>());
    m.insert("SignOffRequest", s::<api::SignOffRequestV1>());
    m.insert("EndContractRequest", s::<api::EndContractRequestV1>());
    m.insert("IngestRequest", s::<api::IngestRequestV1>());
    m.insert("Edit", s::<api::EditV1>());
    m.insert("Reviews", s::<api::ReviewsV1>());
    m.insert("Findings", s::<api::FindingsV1>());
    m.insert("Drift", s::<api::DriftV1>());
    m.insert("Diff", s::<api::DiffV1>());
    m.insert("AuditLog", list::<api::AuditEntryV1>());
    m.insert("IncidentRequest", s::<api::IncidentRequestV1>());
    m.insert("Incidents", s::<api::IncidentsV1>());
    m.insert("Annex", s::<api::AnnexV1>());
    m
}

/// `oneOf` the schemas, their `$defs` merged at the top so references resolve.
fn one_of(schemas: Vec<Value>) -> Value {
    let mut defs = serde_json::Map::new();
    let mut branches = Vec::new();
    for mut s in schemas {
        if let Some(o) = s.as_object_mut() {
            if let Some(Value::Object(d)) = o.remove("$defs") {
                defs.extend(d);
            }
            o.remove("$schema");
        }
        branches.push(s);
    }
    json!({"oneOf": branches, "$defs": defs})
}

/// The JSON Schema of a schema name of [`OPS`], standalone (with its `$defs`), for validating
/// answers in tests.
pub fn schema(name: &str) -> Option<Value> {
    schemas().remove(name)
}

fn param_type(t: &str) -> ObjectBuilder {
    match t {
        "integer" => ObjectBuilder::new().schema_type(Type::Integer),
        "boolean" => ObjectBuilder::new().schema_type(Type::Boolean),
        "date" => ObjectBuilder::new().schema_type(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date),
        )),
        _ => ObjectBuilder::new().schema_type(Type::String),
    }
}

fn method(m: &str) -> HttpMethod {
    match m {
        "post" => HttpMethod::Post,
        "delete" => HttpMethod::Delete,
        "put" => HttpMethod::Put,
        _ => HttpMethod::Get,
    }
}

fn access_text(a: Access) -> &'static str {
    match a {
        Access::Public => "anyone",
        Access::Signed => "any signed-in user",
        Access::Read => "any role on the estate (admin, editor, auditor, client viewer of it)",
        Access::Edit => "editors and admins",
        Access::SignOff => "auditors and admins",
        Access::Audit => "admins and auditors of the organization",
        Access::OrgAdmin => "admins of the organization",
        Access::Super => "server administrators",
    }
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = PathsBuilder::new();
    for o in OPS {
        let mut b = OperationBuilder::new()
            .operation_id(Some(o.id))
            .summary(Some(o.summary))
            .description(Some(format!("Who may call it: {}.", access_text(o.access))))
            .tag(if o.path.contains("/estates/{estate}") {
                "estates"
            } else {
                "workspace"
            });
        for seg in o.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                b = b.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(param_type(if name == "n" {
                            "integer"
                        } else {
                            "string"
                        }))),
                );
            }
        }
        for (name, t, req, desc) in o.query {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(if *req {
                        Required::True
                    } else {
                        Required::False
                    })
                    .description(Some(*desc))
                    .schema(Some(param_type(t))),
            );
        }
        if let Some(body) = o.body {
            b = b.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(body)))
                            .build(),
                    )
                    .build(),
            ));
        }
        let ok = match o.answer {
            "none" => ResponseBuilder::new().description("done").build(),
            "binary" => ResponseBuilder::new()
                .description("the file")
                .content(
                    "application/octet-stream",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .content_media_type("application/octet-stream"),
                        ))
                        .build(),
                )
                .build(),
            name => ResponseBuilder::new()
                .description("the answer")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(name)))
                        .build(),
                )
                .build(),
        };
        let err = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Error")))
                        .build(),
                )
                .build()
        };
        b = b
            .response(o.status.to_string(), ok)
            .response("400", err("bad request: a parameter or the body is wrong"))
            .response("401", err("not signed in"))
            .response(
                "403",
                err("signed in, but the role or token scope does not allow it"),
            )
            .response("404", err("no such resource, or none the caller may see"));
        if o.method == "post" {
            b = b
                .response(
                    "409",
                    err("conflict: the base version is no longer the head, or the name is taken"),
                )
                .response(
                    "422",
                    err("the estate does not load: diagnostics name file, line and column"),
                );
        }
        paths = paths.path(o.path, PathItem::new(method(o.method), b.build()));
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("demarc API")
                .version("1")
                .description(Some("The demarc server's REST API: organizations, estates and their immutable versions, and everything the CLI computes from a version. Authenticate with the session cookie (and `X-CSRF-Token` on writes) or `Authorization: Bearer dmk_…`."))
                .build(),
        )
        .paths(paths.build())
        .build();
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    v["openapi"] = json!("3.1.0");
    // Components: each api type's schema, its `$defs` hoisted beside it and every reference
    // pointed at `#/components/schemas/…`, so the document stands alone.
    let mut components = serde_json::Map::new();
    for (name, mut s) in schemas() {
        if let Some(Value::Object(defs)) = s.as_object_mut().and_then(|o| o.remove("$defs")) {
            for (k, mut d) in defs {
                rewrite_refs(&mut d);
                components.insert(k, d);
            }
        }
        if let Some(o) = s.as_object_mut() {
            o.remove("$schema");
        }
        rewrite_refs(&mut s);
        components.insert(name.to_string(), s);
    }
    v["components"] = json!({
        "schemas": components,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API token from `demarc admin create-token`"},
            "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE}
        }
    });
    v["security"] = json!([{"bearer": []}, {"session": []}]);
    v
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            m.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

pub async fn serve_document() -> axum::Json<Value> {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    axum::Json(DOC.get_or_init(document).clone())
}
