//! Every operation of the OpenAPI table, called as every kind of caller, on both databases:
//! each answers the status its access rule says, 2xx answers validate against the documented
//! schema, errors against the error schema, and no caller reads or changes another tenant's
//! estate. The OpenAPI document itself is 3.1 and every reference in it resolves.

use demarc_server::openapi::{Access, OPS, Op};
use demarc_server::testing::{PASSWORD, TestServer, servers};
use demarc_store::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const AS_OF: &str = "2026-11-23";

/// A caller: how it authenticates and what it is.
#[derive(Clone)]
struct Caller {
    name: &'static str,
    client: reqwest::Client,
    csrf: Option<String>,
    bearer: Option<String>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Anonymous,
    Super,
    Role(Role),
    /// A client viewer asking about an estate it was not granted.
    ForeignClient,
    /// An admin of another organization.
    OtherTenant,
    /// An editor's token with only the read scope.
    ReadToken,
}

async fn session(s: &TestServer, email: &str, password: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}: {email}", s.label);
    let me: Value = r.json().await.unwrap();
    (c, me["csrf"].as_str().unwrap().into())
}

async fn callers(s: &TestServer) -> Vec<(Caller, &'static str)> {
    let store = &s.state.store;
    // Another tenant with its own admin, and a server administrator.
    let other = store
        .create_org("other", "Other MSSP", "test")
        .await
        .unwrap();
    let oa = store
        .create_user(
            "admin@other.example",
            "Other admin",
            PASSWORD,
            false,
            "test",
        )
        .await
        .unwrap();
    store
        .grant(&oa.id, &other.id, None, Role::Admin, "test")
        .await
        .unwrap();
    store
        .create_user("root@demarc.example", "Root", PASSWORD, true, "test")
        .await
        .unwrap();
    let editor = store
        .user_by_email("editor@demo.example")
        .await
        .unwrap()
        .unwrap();
    let (_, read_token) = store
        .create_token(&editor, "ro", &["read".into()], 3600)
        .await
        .unwrap();
    let mut out = Vec::new();
    let plain = reqwest::Client::new();
    out.push((
        Caller {
            name: "anonymous",
            client: plain.clone(),
            csrf: None,
            bearer: None,
            kind: Kind::Anonymous,
        },
        "acme",
    ));
    out.push((
        Caller {
            name: "read-only token",
            client: plain,
            csrf: None,
            bearer: Some(read_token),
            kind: Kind::ReadToken,
        },
        "acme",
    ));
    for (email, kind, estate) in [
        ("root@demarc.example", Kind::Super, "acme"),
        ("admin@demo.example", Kind::Role(Role::Admin), "acme"),
        ("editor@demo.example", Kind::Role(Role::Editor), "acme"),
        ("auditor@demo.example", Kind::Role(Role::Auditor), "acme"),
        (
            "client@demo.example",
            Kind::Role(Role::ClientViewer),
            "acme",
        ),
        ("client@demo.example", Kind::ForeignClient, "startup-saas"),
        ("admin@other.example", Kind::OtherTenant, "acme"),
    ] {
        let (client, csrf) = session(s, email, PASSWORD).await;
        out.push((
            Caller {
                name: email,
                client,
                csrf: Some(csrf),
                bearer: None,
                kind,
            },
            estate,
        ));
    }
    out
}

/// The status an operation must answer for a caller.
fn expected(op: &Op, kind: Kind) -> Vec<u16> {
    // Outside an estate's routes, a client viewer of another estate is a client viewer.
    let kind = match kind {
        Kind::ForeignClient if !op.path.contains("{estate}") => Kind::Role(Role::ClientViewer),
        k => k,
    };
    let ok = vec![op.status, 200];
    let denied_in_tenant = vec![403];
    match (op.access, kind) {
        (Access::Public, _) => ok,
        (_, Kind::Anonymous) => vec![401],
        (Access::Signed, _) => ok,
        (Access::Super, Kind::Super) => ok,
        (Access::Super, _) => vec![403],
        (_, Kind::Super) => ok,
        (_, Kind::OtherTenant | Kind::ForeignClient) => vec![404],
        (Access::Read, _) => ok,
        (Access::Edit, Kind::Role(r)) if r.can_edit() => ok,
        (Access::SignOff, Kind::Role(r)) if r.can_sign_off() => ok,
        (Access::Audit, Kind::Role(r)) if r.can_audit() => ok,
        (Access::OrgAdmin, Kind::Role(Role::Admin)) => ok,
        _ => denied_in_tenant,
    }
}

fn url_of(op: &Op, estate: &str, unique: usize) -> String {
    let mut path = op
        .path
        .replace("{org}", "demo")
        .replace("{estate}", estate)
        .replace("{n}", "1")
        .replace("{scenario}", "public-bucket")
        .replace("{kind}", "oscal-component")
        .replace("{id}", "shieldco-msa");
    // The server dates an ingested findings snapshot with the day of the upload, so the
    // findings read asks about today; everything else about the fixed day.
    let today = chrono::Utc::now().date_naive().to_string();
    let as_of = if op.path.ends_with("/findings") {
        today.as_str()
    } else {
        AS_OF
    };
    let mut q: Vec<String> = vec![];
    for (name, _, required, _) in op.query {
        let v = match *name {
            "as_of" => as_of,
            "asset" => "app-server-01",
            "control" => "os-patching",
            "duty" => "patch",
            "party" => "shieldco",
            _ if !required => continue,
            other => panic!(
                "no test value for required parameter `{other}` of {}",
                op.id
            ),
        };
        q.push(format!("{name}={v}"));
    }
    let _ = unique;
    if !q.is_empty() {
        path.push('?');
        path.push_str(&q.join("&"));
    }
    path
}

/// A valid body for each operation that takes one.
async fn body_of(s: &TestServer, op: &Op, estate: &str, unique: usize) -> Value {
    match op.id {
        "login" => json!({"email": "auditor@demo.example", "password": PASSWORD}),
        "create_org" => json!({"slug": format!("org-{unique}"), "name": "New"}),
        "create_estate" => json!({"slug": format!("estate-{unique}"), "name": "New"}),
        "upload" => {
            // The estate's current files with one comment more, made from its head.
            let org = s.state.store.org_by_slug("demo").await.unwrap().unwrap();
            let e = s
                .state
                .store
                .estate(&org.id, estate)
                .await
                .unwrap()
                .unwrap();
            let mut files = serde_json::Map::new();
            for (p, c) in s.state.store.version_files(&e.id, e.head).await.unwrap() {
                let mut t = String::from_utf8(c).unwrap();
                if p == "estate.yaml" {
                    t.push_str(&format!("\n# change {unique}\n"));
                }
                files.insert(p, json!(t));
            }
            json!({"base": e.head, "message": format!("change {unique}"), "files": files})
        }
        id => {
            let org = s.state.store.org_by_slug("demo").await.unwrap().unwrap();
            let head = s
                .state
                .store
                .estate(&org.id, estate)
                .await
                .unwrap()
                .unwrap()
                .head;
            let today = chrono::Utc::now().date_naive();
            match id {
                "assign" => {
                    json!({"base": head, "asset": "app-server-01", "controls": ["backup"], "duties": ["configure"], "to": "acme/platform"})
                }
                "accept" => {
                    json!({"base": head, "gap": "DM003:*", "reason": "split agreed on the phone, writing it up", "expires": today + chrono::Days::new(30)})
                }
                "add_evidence" => {
                    json!({"base": head, "control": "backup", "asset": "app-server-01", "ref": "https://evidence.example/backup-test", "collected": today})
                }
                "sign_off" => json!({"base": head, "notes": "quarterly review"}),
                "end_contract" => json!({"base": head, "date": today + chrono::Days::new(400)}),
                "ingest_inventory" => {
                    json!({"base": head, "name": "found.jsonl", "content": format!("{{\"id\": \"found-{unique}\", \"service\": \"aws:s3\", \"env\": \"prod\"}}\n")})
                }
                "ingest_findings" => {
                    json!({"base": head, "name": "prowler.ocsf.json", "content": include_str!("../../cli/tests/fixtures/findings/acme-prowler.ocsf.json")})
                }
                "record_incident" => {
                    json!({"base": head, "id": format!("INC-T-{unique}"), "date": today, "assets": ["app-server-01"], "summary": "patch missed", "control": "os-patching", "duty": "patch", "detected": format!("{today}T08:00"), "responded": format!("{today}T09:30")})
                }
                other => panic!("no test body for {other}: add one here"),
            }
        }
    }
}

fn validate(schema_name: &str, body: &Value, what: &str) {
    let schema = demarc_server::openapi::schema(schema_name)
        .unwrap_or_else(|| panic!("no schema {schema_name}"));
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(3)
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: answer does not match {schema_name}: {errors:?}"
    );
}

#[tokio::test]
async fn every_route_answers_every_role_as_documented() {
    for s in servers().await {
        let callers = callers(&s).await;
        let mut unique = 0;
        let mut checked = 0;
        for op in OPS {
            for (c, estate) in &callers {
                // Sign-out would end the session the rest of the test uses; it is checked once
                // at the end.
                if op.id == "logout" {
                    continue;
                }
                unique += 1;
                let url = s.url(&url_of(op, estate, unique));
                let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
                // Signing in sets a cookie; a fresh client keeps the caller's session intact.
                let client = if op.id == "login" {
                    reqwest::Client::new()
                } else {
                    c.client.clone()
                };
                let mut req = client.request(method, &url);
                if let Some(t) = &c.bearer {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                if let Some(t) = &c.csrf {
                    req = req.header("x-csrf-token", t);
                }
                if op.body.is_some() {
                    req = req.json(&body_of(&s, op, estate, unique).await);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let bytes = r.bytes().await.unwrap();
                let want = if c.kind == Kind::ReadToken
                    && op.method != "get"
                    && op.access != Access::Public
                {
                    vec![403]
                } else {
                    expected(op, c.kind)
                };
                let what = format!("{}: {} {} as {}", s.label, op.method, url, c.name);
                assert!(
                    want.contains(&status),
                    "{what}: got {status}, want {want:?}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
                );
                if (200..300).contains(&status) {
                    match op.answer {
                        "none" | "binary" => {}
                        name => validate(name, &serde_json::from_slice(&bytes).unwrap(), &what),
                    }
                } else {
                    validate("Error", &serde_json::from_slice(&bytes).unwrap(), &what);
                }
                checked += 1;
            }
        }
        assert!(checked >= OPS.len() * 8, "{checked}");
        // Signing out ends the session: the same cookie is then refused.
        let (c, csrf) = session(&s, "auditor@demo.example", PASSWORD).await;
        let r = c
            .delete(s.url("/api/v1/session"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = c.get(s.url("/api/v1/session")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{}", s.label);
        // The audit log of all that still chains.
        assert!(matches!(
            s.state.store.verify_log().await.unwrap(),
            demarc_store::LogCheck::Intact { .. }
        ));
    }
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_complete_and_self_contained() {
    let s = servers().await.remove(0);
    let doc: Value = reqwest::get(s.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for op in OPS {
        let o = &doc["paths"][op.path][op.method];
        assert_eq!(
            o["operationId"], op.id,
            "{} {} is documented",
            op.method, op.path
        );
        let declared: Vec<&str> = o["parameters"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        for seg in op.path.split('/').filter(|s| s.starts_with('{')) {
            assert!(
                declared.contains(&seg.trim_matches(|c| c == '{' || c == '}')),
                "{}: {seg}",
                op.id
            );
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "{}", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("external or $defs reference {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    // Every documented path exists on the server (a 404 here would be "no route", which the
    // server answers with its own message).
    let r = reqwest::get(s.url("/api/v1/no-such-route")).await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "no such page or endpoint");
}
