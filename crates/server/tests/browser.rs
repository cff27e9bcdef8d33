//! The web UI in a real browser: starts a seeded server (SQLite) and runs
//! `tests/browser/ui.spec.mjs` with node and playwright-core against it, driving Chromium.
//!
//! Needs `node`, `tests/browser/node_modules` (`(cd crates/server/tests/browser && npm ci)`)
//! and Chromium at `/usr/bin/chromium` (or `DEMARC_CHROMIUM`); without them the test prints a
//! note and passes. Screenshots go to `DEMARC_SCREENSHOTS`, default
//! `$CARGO_TARGET_TMPDIR/ui-screenshots`.

use std::path::{Path, PathBuf};
use std::process::Command;

use demarc_server::testing::{PASSWORD, start_on};

fn missing() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if Command::new("node").arg("--version").output().is_err() {
        return Some("`node` is not installed".into());
    }
    if !dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some(format!(
            "playwright-core is not installed: (cd {} && npm ci)",
            dir.display()
        ));
    }
    let chromium = std::env::var("DEMARC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).is_file() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install -y chromium)"
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_works_in_chromium() {
    if let Some(why) = missing() {
        eprintln!("note: skipping the browser test: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("demarc.db").display());
    let server = start_on("sqlite", &url, Some(dir)).await;
    let shots = std::env::var_os("DEMARC_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots"));
    let base = server.url("");
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    // node runs for a while; the server keeps answering on the runtime's other thread.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("ui.spec.mjs")
            .arg(&base)
            .current_dir(&script_dir)
            .env("DEMARC_PASSWORD", PASSWORD)
            .env("DEMARC_SCREENSHOTS", &shots)
            .output()
    })
    .await
    .expect("join")
    .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("ok: the UI works in Chromium"), "{stdout}");
    for line in stdout
        .lines()
        .filter_map(|l| l.strip_prefix("screenshot: "))
    {
        assert!(
            Path::new(line).is_file(),
            "screenshot {line} was not written"
        );
    }
}
