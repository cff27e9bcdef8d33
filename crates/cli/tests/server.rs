//! The server answers what the CLI prints: for the acme example, each read endpoint's JSON
//! equals the JSON of the matching `demarc … --format json` run on the same files and date.
//! And `demarc serve`, `demarc admin` and `demarc push` work end to end.

use std::path::Path;
use std::process::{Command, Stdio};

use demarc_server::testing::{PASSWORD, start_on};
use serde_json::{Value, json};

const AS_OF: &str = "2026-11-23";

fn acme() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .display()
        .to_string()
}

fn cli_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(args)
        .args(["--as-of", AS_OF, "--format", "json"])
        .env_remove("DEMARC_ESTATE")
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Where two JSON values first differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (l, r) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(l, r, format!("{at}/{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| first_difference(l, r, format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{at}: server {a} vs CLI {b}")),
    }
}

#[tokio::test]
async fn every_read_endpoint_answers_what_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    let s = start_on("sqlite", &url, None).await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": "auditor@demo.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let get = async |path: &str| -> Value {
        let r = c
            .get(s.url(&format!("/api/v1/orgs/demo/estates/acme{path}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    };
    let acme = acme();
    let pairs: Vec<(String, Vec<&str>)> = vec![
        (format!("/gaps?as_of={AS_OF}"), vec!["check", &acme]),
        (
            format!("/explain?asset=app-server-01&control=os-patching&duty=patch&as_of={AS_OF}"),
            vec![
                "explain",
                "app-server-01",
                "os-patching",
                "patch",
                "-e",
                &acme,
            ],
        ),
        (
            format!("/who?asset=app-server-01&duty=patch&as_of={AS_OF}"),
            vec!["who", "patch", "app-server-01", "-e", &acme],
        ),
        (
            format!("/triage?asset=app-server-01&control=os-patching&as_of={AS_OF}"),
            vec![
                "triage",
                "app-server-01",
                "--control",
                "os-patching",
                "-e",
                &acme,
            ],
        ),
        (
            format!("/triage?asset=app-server-01&as_of={AS_OF}"),
            vec!["triage", "app-server-01", "-e", &acme],
        ),
        (
            format!("/compliance?framework=soc2&as_of={AS_OF}"),
            vec!["compliance", "-F", "soc2", &acme],
        ),
        (
            format!("/compliance?framework=nist-800-53&baseline=low&as_of={AS_OF}"),
            vec![
                "compliance",
                "-F",
                "nist-800-53",
                "--baseline",
                "low",
                &acme,
            ],
        ),
        (format!("/evidence?as_of={AS_OF}"), vec!["evidence", &acme]),
        (
            format!("/incidents?as_of={AS_OF}"),
            vec!["incidents", &acme],
        ),
        (
            format!("/annex?party=shieldco&as_of={AS_OF}"),
            vec!["annex", &acme, "--party", "shieldco"],
        ),
        (
            format!("/annex?party=shieldco&compare=shieldco-msa&as_of={AS_OF}"),
            vec![
                "annex",
                &acme,
                "--party",
                "shieldco",
                "--compare",
                "shieldco-msa",
            ],
        ),
        (
            format!("/drills/public-bucket?as_of={AS_OF}"),
            vec!["drill", "public-bucket", "-e", &acme],
        ),
    ];
    // The CLI names files as the user passed the estate; the server relative to the estate.
    let root = format!("{acme}/");
    for (path, args) in pairs {
        let server = get(&path).await;
        let cli: Value =
            serde_json::from_str(&cli_json(&args).to_string().replace(&root, "")).unwrap();
        if let Some(d) = first_difference(&server, &cli, String::new()) {
            panic!("{path} differs from `demarc {}` at {d}", args.join(" "));
        }
    }
    // Paging through the matrix gives `demarc matrix --rows` cell for cell, unfiltered (pages
    // cut inside an asset) and filtered.
    for (filter, args) in [("", vec![]), ("&duty=patch", vec!["--duty", "patch"])] {
        let mut cli = vec!["matrix", &acme, "--rows"];
        cli.extend(args.iter().copied());
        let want = cli_json(&cli);
        let want = serde_json::from_str::<Value>(&want.to_string().replace(&root, "")).unwrap();
        let mut got = Vec::new();
        for page in 1.. {
            let p = get(&format!(
                "/matrix?as_of={AS_OF}&per_page=997&page={page}{filter}"
            ))
            .await;
            let cells = p["cells"].as_array().unwrap().clone();
            assert_eq!(
                p["total"].as_u64().unwrap() as usize,
                want["cells"].as_array().unwrap().len()
            );
            if cells.is_empty() {
                break;
            }
            got.extend(cells);
        }
        assert_eq!(Value::Array(got), want["cells"], "matrix pages{filter}");
    }
    // Exports download the same bytes the CLI writes.
    let out = dir.path().join("ssp.json");
    let st = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["export", "oscal-ssp", &acme, "--as-of", AS_OF, "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let r = c
        .get(s.url(&format!(
            "/api/v1/orgs/demo/estates/acme/exports/oscal-ssp?as_of={AS_OF}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"acme-v1-ssp.json\""
    );
    let server: Value = r.json().await.unwrap();
    let cli: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        server, cli,
        "the OSCAL SSP download equals `demarc export oscal-ssp`"
    );
}

/// `demarc serve --demo` on a port, `demarc admin` to make a token, `demarc push` a changed
/// estate: a new version whose files round-trip; an invalid estate is refused with the CLI's
/// file:line:column message and exit 2; the audit log verifies.
#[test]
fn serve_admin_and_push_work_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args([
            "serve",
            "--demo",
            "--db",
            &db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("DEMARC_DEMO_PASSWORD", "a demo password")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = server.stderr.take().unwrap();
    let _guard = Kill(server);
    // Wait for "listening".
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    for l in lines.by_ref() {
        if l.unwrap().contains("listening on") {
            break;
        }
    }
    let token = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args([
            "admin",
            "create-token",
            "--email",
            "editor@demo.example",
            "--scope",
            "write",
            "--db",
            &db,
        ])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let estate = dir.path().join("estate");
    std::fs::create_dir(&estate).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/startup-saas/estate.yaml");
    let text = std::fs::read_to_string(src).unwrap();
    std::fs::write(estate.join("estate.yaml"), format!("{text}\n# pushed\n")).unwrap();
    let push = |msg: &str| {
        Command::new(env!("CARGO_BIN_EXE_demarc"))
            .arg("push")
            .arg(&estate)
            .args([
                "--server",
                &format!("http://127.0.0.1:{port}"),
                "--estate",
                "demo/startup-saas",
                "-m",
                msg,
            ])
            .env("DEMARC_TOKEN", &token)
            .output()
            .unwrap()
    };
    let out = push("first push");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("as version 2"));
    // Broken YAML: refused with the file and line, exit 2, nothing stored.
    std::fs::write(estate.join("estate.yaml"), format!("{text}\nparties: [\n")).unwrap();
    let out = push("broken");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("estate.yaml:"), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let files: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/api/v1/orgs/demo/estates/startup-saas/versions/2/files"
            ))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(
        files["files"]["estate.yaml"],
        json!(format!("{text}\n# pushed\n"))
    );
    let head: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/api/v1/orgs/demo/estates/startup-saas"
            ))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(head["head"], 2, "the broken push stored nothing");
    let v = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["admin", "verify-log", "--db", &db])
        .output()
        .unwrap();
    assert!(v.status.success());
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("audit log intact"));
}
