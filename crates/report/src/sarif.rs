//! `check --format sarif`: SARIF 2.1.0 for code-scanning tools. One rule per gap code, one
//! result per gap, located at the estate file and line that causes it (the first `file:line`
//! of its basis, else where its first asset is defined), with the gap's stable key as the
//! partial fingerprint so a gap keeps its identity across runs.

use std::path::Path;

use demarc_engine::{Analysis, Gap, Resolution, Severity, codes};
use serde_json::{Value, json};

/// The `uriBaseId` every estate location is relative to: the directory demarc ran in.
pub const SRCROOT: &str = "%SRCROOT%";

/// SARIF level of a severity: critical and high are errors, medium a warning, the rest notes.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Percent-encodes what a URI path may not hold (RFC 3986 unreserved characters and `/` stay).
fn encode(path: &str) -> String {
    let mut o = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                o.push(b as char)
            }
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

/// An artifact location: relative to `base` (with `uriBaseId`) when the file is below it or
/// given relative, else an absolute `file://` URI.
fn artifact(file: &Path, base: &Path) -> Value {
    let rel = if file.is_absolute() {
        file.strip_prefix(base).ok().map(Path::to_path_buf)
    } else {
        Some(
            file.components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect(),
        )
    };
    match rel {
        Some(r) => {
            let s: Vec<String> = r
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            json!({"uri": encode(&s.join("/")), "uriBaseId": SRCROOT})
        }
        None => {
            json!({"uri": format!("file://{}", encode(&file.to_string_lossy().replace('\\', "/")))})
        }
    }
}

/// `file:line` places in a gap's basis that name one of the estate's files.
fn basis_places<'a>(
    gap: &'a Gap,
    files: &'a [&'a Path],
) -> impl Iterator<Item = (&'a Path, u32)> + 'a {
    gap.basis.iter().filter_map(move |b| {
        files.iter().find_map(|f| {
            let name = f.to_string_lossy();
            let at = b.find(&format!("{name}:"))?;
            let rest = &b[at + name.len() + 1..];
            let line: u32 = rest
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()?;
            Some((*f, line))
        })
    })
}

fn physical(file: &Path, line: u32, base: &Path) -> Value {
    let mut p = json!({"artifactLocation": artifact(file, base)});
    if line > 0 {
        p["region"] = json!({"startLine": line});
    }
    json!({"physicalLocation": p})
}

/// The SARIF log of a check. `base` is the directory relative paths are taken from (the
/// working directory); it becomes `%SRCROOT%` in `originalUriBaseIds`.
pub fn sarif(res: &Resolution, analysis: &Analysis, base: &Path) -> Value {
    let estate = res.estate();
    let files: Vec<&Path> = estate.files().collect();
    let mut infos = codes::all();
    for g in &analysis.gaps {
        if !infos.iter().any(|c| c.code == g.code) {
            infos.push(demarc_engine::CodeInfo {
                code: g.code,
                name: g.kind,
                severity: "",
                summary: "",
            });
        }
    }
    let rules: Vec<Value> = infos
        .iter()
        .map(|c| {
            let summary = if c.summary.is_empty() { c.name } else { c.summary };
            json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": {"text": summary},
                "fullDescription": {"text": format!("{summary} Severity: {}.", if c.severity.is_empty() { "as reported" } else { c.severity })},
                "help": {
                    "text": format!("{} ({}): {summary} See docs/gaps.md in the demarc documentation.", c.code, c.name),
                    "markdown": format!("**{}** `{}`: {summary}\n\nSeverity: {}. See `docs/gaps.md` in the demarc documentation.", c.code, c.name, if c.severity.is_empty() { "as reported" } else { c.severity }),
                },
                "properties": {"tags": ["security", "shared-responsibility"]},
            })
        })
        .collect();
    let results: Vec<Value> = analysis
        .gaps
        .iter()
        .map(|g| {
            let mut places: Vec<(&Path, u32)> = basis_places(g, &files).collect();
            places.dedup();
            if places.is_empty()
                && let Some(p) = g
                    .assets
                    .first()
                    .and_then(|a| res.find_asset(a).ok())
                    .and_then(|i| estate.try_place(res.asset(i).id.loc))
            {
                places.push((files.iter().copied().find(|f| *f == p.file.as_path()).unwrap_or(files[0]), p.line));
            }
            // An estate-wide gap (a stale review): the estate's root file, its first line.
            if places.is_empty()
                && let Some(f) = files
                    .iter()
                    .find(|f| {
                        f.file_name()
                            .is_some_and(|n| n == "estate.yaml" || n == "demarc.yaml")
                    })
                    .or(files.first())
            {
                places.push((f, 1));
            }
            let rule_index = infos.iter().position(|c| c.code == g.code).unwrap_or(0);
            let mut text = format!("{} Fix: {}", g.title, g.fix);
            if g.asset_count > 0 {
                text.push_str(&format!(
                    " Assets ({}): {}{}",
                    g.asset_count,
                    g.assets.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
                    if g.asset_count > 10 { ", …" } else { "" }
                ));
            }
            let mut r = json!({
                "ruleId": g.code,
                "ruleIndex": rule_index,
                "level": level(g.severity),
                "message": {"text": text},
                "locations": places.iter().take(1).map(|(f, l)| physical(f, *l, base)).collect::<Vec<_>>(),
                "partialFingerprints": {"demarcGapKey/v1": g.key},
                "properties": {
                    "severity": g.severity.as_str(),
                    "kind": g.kind,
                    "key": g.key,
                    "assets": g.assets,
                    "assetCount": g.asset_count,
                    "basis": g.basis,
                },
            });
            if places.len() > 1 {
                r["relatedLocations"] = Value::Array(
                    places
                        .iter()
                        .skip(1)
                        .take(20)
                        .enumerate()
                        .map(|(n, (f, l))| {
                            let mut v = physical(f, *l, base);
                            v["id"] = json!(n + 1);
                            v
                        })
                        .collect(),
                );
            }
            r
        })
        .collect();
    let base_uri = {
        let s = encode(&base.to_string_lossy().replace('\\', "/"));
        let s = if s.starts_with('/') {
            s
        } else {
            format!("/{s}")
        };
        if s.ends_with('/') {
            format!("file://{s}")
        } else {
            format!("file://{s}/")
        }
    };
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "demarc",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/demarc/demarc",
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": base_uri}},
            "properties": {
                "estate": estate.name,
                "asOf": res.as_of().to_string(),
                "accountable": res.accountable(),
            },
            "results": results,
        }],
    })
}
