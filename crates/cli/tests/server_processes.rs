//! Several `demarc serve` processes on one PostgreSQL work side by side: a session made on one
//! is good on the other, concurrent writers through both get distinct versions or a 409, and
//! the audit chain stays intact. A server killed with SIGKILL in the middle of uploads leaves
//! only whole versions. Skipped with a note when no PostgreSQL answers.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, demo: bool) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_demarc"));
    cmd.args([
        "serve",
        "--db",
        db,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd
        .env("DEMARC_DEMO_PASSWORD", "processes test password")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for l in std::io::BufReader::new(stderr).lines() {
        let l = l.unwrap();
        if l.contains("listening on") {
            break;
        }
    }
    Server { child, port }
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

async fn upload_body(c: &reqwest::Client, port: u16, tag: &str) -> Value {
    let e: Value = c
        .get(url(port, "/api/v1/orgs/demo/estates/startup-saas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let head = e["head"].as_i64().unwrap();
    let files: Value = c
        .get(url(
            port,
            &format!("/api/v1/orgs/demo/estates/startup-saas/versions/{head}/files"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut files = files["files"].clone();
    let t = files["estate.yaml"].as_str().unwrap().to_string();
    files["estate.yaml"] = json!(format!("{t}# {tag}\n"));
    json!({"base": head, "message": tag, "files": files})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_share_sessions_versions_and_the_audit_chain() {
    let Some(db) = demarc_store::testing::postgres_url().await else {
        return;
    };
    let a = start(&db, true);
    let b = start(&db, false);
    // Sign in on A, use the cookie on B.
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let me: Value = c
        .post(url(a.port, "/api/v1/session"))
        .json(&json!({"email": "editor@demo.example", "password": "processes test password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf"].as_str().unwrap().to_string();
    let r = c.get(url(b.port, "/api/v1/session")).send().await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "a session made on one process is good on the other"
    );
    // Writers through both processes at once: each retries on 409 from the head it sees.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = c.clone();
        let csrf = csrf.clone();
        let port = if i % 2 == 0 { a.port } else { b.port };
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            let out = loop {
                let body = upload_body(&c, port, &format!("writer {i}")).await;
                let r = c
                    .post(url(port, "/api/v1/orgs/demo/estates/startup-saas/versions"))
                    .header("x-csrf-token", &csrf)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
                    201 => break r.json::<Value>().await.unwrap()["number"].as_i64().unwrap(),
                    409 => conflicts += 1,
                    s => panic!("writer {i}: {s}: {}", r.text().await.unwrap()),
                }
            };
            (out, conflicts)
        }));
    }
    let mut numbers = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        let (n, c) = t.await.unwrap();
        numbers.push(n);
        conflicts += c;
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (2..=13).collect::<Vec<i64>>(),
        "every writer got its own version"
    );
    eprintln!(
        "12 concurrent writers over two processes: {conflicts} stale writes refused with 409 and retried"
    );
    // Each version holds exactly its writer's change on top of the one before.
    let versions: Value = c
        .get(url(
            b.port,
            "/api/v1/orgs/demo/estates/startup-saas/versions?per_page=20",
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["total"], 13);
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["admin", "verify-log", "--db", &db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_during_uploads_leaves_only_whole_versions() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let big = "# padding so the upload takes a while to store\n".repeat(200_000);
    for round in 0..3 {
        let s = start(&db, true);
        let port = s.port;
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let me: Value = c
            .post(url(port, "/api/v1/session"))
            .json(&json!({"email": "editor@demo.example", "password": "processes test password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let csrf = me["csrf"].as_str().unwrap().to_string();
        let mut body = upload_body(&c, port, &format!("round {round}")).await;
        body["files"]["padding.yaml"] = json!(format!("{big}# {round}\n"));
        let req = c
            .post(url(port, "/api/v1/orgs/demo/estates/startup-saas/versions"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send();
        let pending = tokio::spawn(req);
        tokio::time::sleep(std::time::Duration::from_millis(150 + 200 * round)).await;
        let mut s = s;
        // SIGKILL: no destructor, no graceful shutdown.
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        let _ = pending.await;
    }
    // Every stored version is whole: its files hash to the digest recorded with it.
    let store = demarc_store::Store::connect(&db).await.unwrap();
    let org = store.org_by_slug("demo").await.unwrap().unwrap();
    let e = store
        .estate(&org.id, "startup-saas")
        .await
        .unwrap()
        .unwrap();
    let versions = store.versions(&e.id, 100, 0).await.unwrap();
    assert_eq!(
        versions.len() as i64,
        e.head,
        "the head names the newest whole version"
    );
    for v in versions {
        let files = store.version_files(&e.id, v.number).await.unwrap();
        assert_eq!(
            demarc_store::version_digest(&files),
            v.digest,
            "version {} is whole",
            v.number
        );
    }
    assert!(matches!(
        store.verify_log().await.unwrap(),
        demarc_store::LogCheck::Intact { .. }
    ));
}
