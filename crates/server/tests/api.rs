//! The REST API on both databases: sign-in, tenancy, versions, conflicts, invalid uploads,
//! and the estate answers against what the engine computes.

use demarc_server::testing::{PASSWORD, TestServer, servers};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login(s: &TestServer, email: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}: login {email}", s.label);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let me: Value = r.json().await.unwrap();
    (c, me["csrf"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn sign_in_read_the_matrix_and_explain_a_cell() {
    for s in servers().await {
        let (c, _) = login(&s, "auditor@demo.example").await;
        let estates: Value = c
            .get(s.url("/api/v1/orgs/demo/estates"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let slugs: Vec<&str> = estates
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["slug"].as_str().unwrap())
            .collect();
        assert_eq!(
            slugs,
            ["acme", "health-serverless", "startup-saas"],
            "{}",
            s.label
        );
        let m: Value = c
            .get(s.url(
                "/api/v1/orgs/demo/estates/acme/matrix?per_page=5&duty=patch&as_of=2026-11-23",
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(m["cells"].as_array().unwrap().len(), 5, "{}: {m}", s.label);
        assert!(m["total"].as_u64().unwrap() > 5);
        assert!(
            m["cells"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["duty"] == "patch")
        );
        let cell = &m["cells"][0];
        let e: Value = c
            .get(s.url(&format!(
                "/api/v1/orgs/demo/estates/acme/explain?asset={}&control={}&duty=patch&as_of=2026-11-23",
                cell["asset"].as_str().unwrap(),
                cell["control"].as_str().unwrap()
            )))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(&e, cell, "{}: explain answers the matrix's cell", s.label);
        let r = c
            .get(s.url("/api/v1/orgs/demo/estates/acme/explain?asset=nope&control=x&duty=patch"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains("nope"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_client_viewer_cannot_reach_another_clients_estate() {
    for s in servers().await {
        let (c, _) = login(&s, "client@demo.example").await;
        let estates: Value = c
            .get(s.url("/api/v1/orgs/demo/estates"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            estates.as_array().unwrap().len(),
            1,
            "{}: {estates}",
            s.label
        );
        for path in ["", "/matrix", "/gaps", "/versions", "/versions/1/files"] {
            let r = c
                .get(s.url(&format!("/api/v1/orgs/demo/estates/startup-saas{path}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}: {path}", s.label);
            let r = c
                .get(s.url(&format!("/api/v1/orgs/demo/estates/no-such-estate{path}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}: {path}", s.label);
        }
        let r = c
            .get(s.url("/api/v1/orgs/demo/estates/acme/gaps?as_of=2026-11-23"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn uploads_make_versions_and_refuse_stale_bases_invalid_yaml_and_missing_csrf() {
    for s in servers().await {
        let (c, csrf) = login(&s, "editor@demo.example").await;
        let base = "/api/v1/orgs/demo/estates/startup-saas";
        let files: Value = c
            .get(s.url(&format!("{base}/versions/1/files")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut files = files["files"].clone();
        // Without the CSRF token a cookie-authenticated write is refused.
        let r = c
            .post(s.url(&format!("{base}/versions")))
            .json(&json!({"base": 1, "message": "m", "files": files}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", s.label);
        // Broken YAML: 422 with file:line:column, and no version.
        let good = files["estate.yaml"].as_str().unwrap().to_string();
        files["estate.yaml"] = json!(format!("{good}\nparties: [unclosed\n"));
        let r = c
            .post(s.url(&format!("{base}/versions")))
            .header("x-csrf-token", &csrf)
            .json(&json!({"base": 1, "message": "broken", "files": files}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.label);
        let body: Value = r.json().await.unwrap();
        let d = body["error"]["diagnostics"][0].as_str().unwrap();
        assert!(d.starts_with("estate.yaml:"), "{}: {d}", s.label);
        assert!(!d.contains("/tmp/"), "{d}");
        let e: Value = c
            .get(s.url(base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(e["head"], 1, "{}: nothing stored", s.label);
        // A good change lands as version 2; the same base again is a conflict.
        files["estate.yaml"] = json!(format!("{good}\n# reviewed\n"));
        let body = json!({"base": 1, "message": "a comment", "files": files});
        let r = c
            .post(s.url(&format!("{base}/versions")))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", s.label);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["number"].as_i64(), v["author"].as_str()),
            (Some(2), Some("editor@demo.example"))
        );
        let r = c
            .post(s.url(&format!("{base}/versions")))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{}", s.label);
        let round: Value = c
            .get(s.url(&format!("{base}/versions/2/files")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            round["files"], files,
            "{}: the YAML comes back as sent",
            s.label
        );
        // An auditor reads but cannot upload.
        let (a, acsrf) = login(&s, "auditor@demo.example").await;
        let r = a
            .post(s.url(&format!("{base}/versions")))
            .header("x-csrf-token", &acsrf)
            .json(&json!({"base": 2, "message": "m", "files": files}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", s.label);
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_errors_are_json() {
    let s = servers().await.remove(0);
    let r = reqwest::get(s.url("/api/v1/orgs")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let h = r.headers().clone();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    // Wrong password and unknown user answer alike.
    let c = reqwest::Client::new();
    let a = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": "admin@demo.example", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    let b = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": "ghost@demo.example", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), b.status());
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a, b);
    // Truncated JSON is a 400 naming the line and column.
    let r = c
        .post(s.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body("{\"email\": \"x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{body}"
    );
}

#[tokio::test]
async fn large_estates_upload_and_bodies_over_the_limit_get_a_json_413() {
    let s = servers().await.remove(0);
    let (c, csrf) = login(&s, "editor@demo.example").await;
    let base = "/api/v1/orgs/demo/estates/startup-saas";
    let files: Value = c
        .get(s.url(&format!("{base}/versions/1/files")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut files = files["files"].clone();
    // 8 MiB of comments: far above axum's 2 MiB default, well under the server's limit.
    files["notes.yaml"] =
        json!("# a long comment line that pads the estate to a realistic size\n".repeat(130_000));
    let r = c
        .post(s.url(&format!("{base}/versions")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"base": 1, "message": "big", "files": files}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let huge = "x".repeat(demarc_server::MAX_BODY_BYTES + 1);
    let r = c
        .post(s.url(&format!("{base}/versions")))
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");
}

#[tokio::test]
async fn a_handler_that_panics_answers_500_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        demarc_store::Store::connect(&format!("sqlite://{}", dir.path().join("p.db").display()))
            .await
            .unwrap();
    let state = demarc_server::AppState::new(store, false);
    let extra = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            let v: Vec<u8> = Vec::new();
            // An index out of bounds, as a bug in a handler would.
            v[usize::from(std::hint::black_box(3u8))].to_string()
        }),
    );
    let app = demarc_server::app_with(state, extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    for _ in 0..3 {
        let r = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            !body.to_string().contains("index out of bounds"),
            "no internals leak: {body}"
        );
    }
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn gaps_filter_by_severity_and_code() {
    let s = servers().await.remove(0);
    let (c, _) = login(&s, "auditor@demo.example").await;
    let base = "/api/v1/orgs/demo/estates/acme/gaps?as_of=2026-11-23";
    let all: Value = c
        .get(s.url(base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = all["gaps"].as_array().unwrap().clone();
    for (q, keep) in [
        (
            "&severity=critical",
            Box::new(|g: &Value| g["severity"] == "critical") as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "&code=DM001,DM019",
            Box::new(|g: &Value| g["code"] == "DM001" || g["code"] == "DM019"),
        ),
        (
            "&severity=high&code=DM004",
            Box::new(|g: &Value| g["severity"] == "high" && g["code"] == "DM004"),
        ),
    ] {
        let got: Value = c
            .get(s.url(&format!("{base}{q}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let want: Vec<Value> = all.iter().filter(|g| keep(g)).cloned().collect();
        assert!(!want.is_empty(), "{q}: acme has such gaps");
        assert_eq!(got["gaps"], Value::Array(want), "{q}");
        assert_eq!(
            got["summary"]["gaps"].as_u64().unwrap() as usize,
            all.len(),
            "the summary counts every gap"
        );
    }
    let r = c
        .get(s.url(&format!("{base}&severity=urgent")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_upload_cannot_make_the_server_read_its_own_files() {
    let s = servers().await.remove(0);
    let (c, csrf) = login(&s, "editor@demo.example").await;
    let base = "/api/v1/orgs/demo/estates/startup-saas";
    let files: Value = c
        .get(s.url(&format!("{base}/versions/1/files")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let good = files["files"]["estate.yaml"].as_str().unwrap().to_string();
    for (file, text, what) in [
        (
            "hostile.yaml",
            "inventory: [/etc/passwd]\n".to_string(),
            "inventory file `/etc/passwd` is outside the estate",
        ),
        (
            "hostile.yaml",
            "inventory: [../../../../../../etc/hostname]\n".to_string(),
            "is outside the estate",
        ),
        // The root file's own settings, with an overlay directory outside the estate.
        (
            "estate.yaml",
            good.replacen("settings:\n", "settings:\n  catalog: [/etc]\n", 1),
            "catalog overlay directory `/etc` is outside the estate",
        ),
    ] {
        let extra = text.clone();
        let mut files = files["files"].clone();
        files[file] = json!(text);
        let r = c
            .post(s.url(&format!("{base}/versions")))
            .header("x-csrf-token", &csrf)
            .json(&json!({"base": 1, "message": "hostile", "files": files}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
        let body: Value = r.json().await.unwrap();
        let all = body["error"]["diagnostics"].to_string();
        assert!(all.contains(what), "{extra}: {all}");
        assert!(!all.contains("root:"), "nothing of the file leaks: {all}");
    }
}
