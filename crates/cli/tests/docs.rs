//! The documentation shows what the product does, checked on every test run:
//!
//! - each example in `docs/json-output.md` is the real output of the command in the marker
//!   comment above it (`<!-- example: ARGS -->` for the whole output,
//!   `<!-- example-line N: ARGS -->` for gap N of `check --format ndjson`, pretty-printed);
//! - the code table of `docs/gaps.md` (between `<!-- codes:begin -->` and `<!-- codes:end -->`)
//!   is generated from the engine's check registry.
//!
//! After a deliberate change, `DEMARC_UPDATE_DOCS=1 cargo test -p demarc --test docs`
//! rewrites both; review the diff like code.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn updating() -> bool {
    std::env::var_os("DEMARC_UPDATE_DOCS").is_some()
}

/// Runs demarc from the repository root, as the documentation's commands are written.
fn output(args: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .current_dir(root())
        .env_remove("DEMARC_ESTATE")
        .env("NO_COLOR", "1")
        .args(args.split_whitespace())
        .output()
        .expect("run demarc");
    let code = out.status.code().expect("exited normally");
    assert!(
        code == 0 || code == 1,
        "`demarc {args}` exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The expected block for one marker.
fn expected(marker: &str) -> String {
    if let Some(rest) = marker.strip_prefix("example-line ") {
        let (n, args) = rest.split_once(':').expect("example-line N: ARGS");
        let n: usize = n.trim().parse().expect("line number");
        let out = output(args.trim());
        let line = out
            .lines()
            .nth(n - 1)
            .unwrap_or_else(|| panic!("`demarc {args}` has no line {n}"));
        // Read back through the contract type, so the pretty-printed keys keep their order.
        if args.trim_start().starts_with("compliance") {
            let v: demarc_api::RequirementV1 =
                serde_json::from_str(line).expect("an NDJSON requirement");
            return format!("{}\n", serde_json::to_string_pretty(&v).unwrap());
        }
        let v: demarc_api::GapV1 = serde_json::from_str(line).expect("an NDJSON gap");
        format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
    } else {
        let args = marker.strip_prefix("example:").expect("example: ARGS");
        output(args.trim())
    }
}

#[test]
fn json_output_examples_are_real_output() {
    let path = root().join("docs/json-output.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut lines = text.split_inclusive('\n').peekable();
    let mut checked = 0;
    let mut stale = Vec::new();
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(marker) = line
            .trim()
            .strip_prefix("<!-- ")
            .and_then(|l| l.strip_suffix(" -->"))
            .filter(|m| m.starts_with("example"))
        else {
            continue;
        };
        let fence = lines.next().expect("a ```json block after the marker");
        assert_eq!(fence.trim(), "```json", "after `{marker}`");
        out.push_str(fence);
        let mut block = String::new();
        for l in lines.by_ref() {
            if l.trim_end() == "```" {
                break;
            }
            block.push_str(l);
        }
        let want = expected(marker);
        if block != want {
            stale.push(marker.to_string());
        }
        out.push_str(&want);
        out.push_str("```\n");
        checked += 1;
    }
    assert!(checked >= 4, "found only {checked} examples");
    if updating() {
        std::fs::write(&path, out).unwrap();
    } else {
        assert!(
            stale.is_empty(),
            "docs/json-output.md examples differ from the real output: {stale:#?}\nrun `DEMARC_UPDATE_DOCS=1 cargo test -p demarc --test docs` and review the diff"
        );
    }
}

#[test]
fn gap_code_table_is_generated_from_the_check_registry() {
    let path = root().join("docs/gaps.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = text
        .split_once("<!-- codes:begin -->\n")
        .expect("codes:begin marker");
    let (_, after) = rest
        .split_once("<!-- codes:end -->")
        .expect("codes:end marker");
    let mut table = String::from("| code | kind | in short | severity |\n|---|---|---|---|\n");
    for c in demarc_engine::codes::all() {
        let anchor = format!("{}-{}", c.code.to_lowercase(), c.name);
        table.push_str(&format!(
            "| [{code}](#{anchor}) | `{name}` | {summary} | {severity} |\n",
            code = c.code,
            name = c.name,
            summary = c.summary,
            severity = c.severity,
        ));
    }
    let want = format!("{before}<!-- codes:begin -->\n{table}<!-- codes:end -->{after}");
    if updating() {
        std::fs::write(&path, &want).unwrap();
    } else {
        assert!(
            text == want,
            "docs/gaps.md's code table differs from the check registry; run `DEMARC_UPDATE_DOCS=1 cargo test -p demarc --test docs`"
        );
    }
    // Every code has its own section below the table.
    for c in demarc_engine::codes::all() {
        assert!(
            text.contains(&format!("## {} ", c.code)),
            "docs/gaps.md has no section for {}",
            c.code
        );
    }
}
