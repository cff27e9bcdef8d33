//! Changes made in the API or the web UI, each written as a new version: the server appends
//! to files it owns under `server/` (one per kind of change), never rewriting the user's own
//! files except where a change must be made in place (ending a contract).
//!
//! Everything here is a pure function from a version's files to the next version's files, so
//! it is tested without a database; the caller validates the result like any upload (an edit
//! that breaks the estate is refused with 422 and nothing is stored).
//!
//! Items are appended as one-line JSON flow mappings: JSON is YAML, so whatever text a user
//! typed (quotes, `#`, colons, newlines) is escaped by `serde_json` and always parses back as
//! written.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};

/// The files a server-made change appends to, by the estate key they hold.
pub const ASSIGNMENTS_FILE: &str = "server/assignments.yaml";
pub const ACCEPTANCES_FILE: &str = "server/acceptances.yaml";
pub const EVIDENCE_FILE: &str = "server/evidence.yaml";
pub const REVIEWS_FILE: &str = "server/reviews.yaml";
pub const INCIDENTS_FILE: &str = "server/incidents.yaml";

/// One change to an estate's files.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Append an `assignments:` item (already shaped as the estate format's JSON).
    Assign(Value),
    /// Append an `accepted:` item.
    Accept(Value),
    /// Append an `evidence:` item.
    Evidence(Value),
    /// Append a `reviews:` item.
    Review(Value),
    /// Append an `incidents:` item.
    Incident(Value),
    /// Set the `expires:` of contract `id` in the file that defines it.
    EndContract { id: String, date: NaiveDate },
}

impl Edit {
    /// The version kind the audit log and the history show.
    pub fn kind(&self) -> &'static str {
        match self {
            Edit::Assign(_) => "assign",
            Edit::Accept(_) => "accept",
            Edit::Evidence(_) => "evidence",
            Edit::Review(_) => "sign-off",
            Edit::Incident(_) => "incident",
            Edit::EndContract { .. } => "end-contract",
        }
    }
}

pub fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

/// The files of the next version: `files` with the edit made. `today` is the server's date
/// (UTC), for the checks that refuse dates in the future.
pub fn apply(
    files: &[(String, Vec<u8>)],
    edit: &Edit,
    today: NaiveDate,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    match edit {
        Edit::Assign(item) => append(files, ASSIGNMENTS_FILE, "assignments", item),
        Edit::Accept(item) => append(files, ACCEPTANCES_FILE, "accepted", item),
        Edit::Evidence(item) => {
            if let Some(d) = item.get("collected").and_then(Value::as_str)
                && d > today.to_string().as_str()
            {
                return Err(unprocessable(format!(
                    "`collected` {d} is in the future (today is {today})"
                ))
                .help("give the day the evidence was collected, or leave it out for today"));
            }
            append(files, EVIDENCE_FILE, "evidence", item)
        }
        Edit::Review(item) => {
            if let Some(d) = item.get("date").and_then(Value::as_str)
                && d > today.to_string().as_str()
            {
                return Err(unprocessable(format!(
                    "`date` {d} is in the future (today is {today})"
                ))
                .help("a review is signed off on or after the day it happened; leave `date` out for today"));
            }
            append(files, REVIEWS_FILE, "reviews", item)
        }
        Edit::Incident(item) => {
            if let Some(d) = item.get("date").and_then(Value::as_str)
                && d > today.to_string().as_str()
            {
                return Err(unprocessable(format!(
                    "`date` {d} is in the future (today is {today})"
                ))
                .help("record an incident on or after the day it happened"));
            }
            append(files, INCIDENTS_FILE, "incidents", item)
        }
        Edit::EndContract { id, date } => end_contract(files, id, *date),
    }
}

/// The paths whose content differs between two file lists (added, changed or removed).
pub fn changed_paths(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    use std::collections::BTreeMap;
    let a: BTreeMap<&str, &[u8]> = before
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let b: BTreeMap<&str, &[u8]> = after
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let mut out: Vec<String> = b
        .iter()
        .filter(|(p, c)| a.get(*p) != Some(*c))
        .map(|(p, _)| p.to_string())
        .collect();
    out.extend(
        a.keys()
            .filter(|p| !b.contains_key(*p))
            .map(|p| p.to_string()),
    );
    out.sort();
    out
}

/// Appends `item` to the `key:` list of the server-owned file `path`, creating the file.
fn append(
    files: &[(String, Vec<u8>)],
    path: &str,
    key: &str,
    item: &Value,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let line = format!(
        "  - {}\n",
        yaml_safe(&serde_json::to_string(item).map_err(ApiError::internal)?)
    );
    let mut out = files.to_vec();
    match out.iter_mut().find(|(p, _)| p == path) {
        Some((_, content)) => {
            let text = std::str::from_utf8(content).map_err(|_| {
                unprocessable(format!("`{path}` is not UTF-8 text")).help(format!(
                    "fix or remove `{path}` with an upload; the server appends `{key}:` items to it"
                ))
            })?;
            let has_key = text.lines().any(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .is_some_and(|r| {
                        let r = r.trim();
                        r.is_empty() || r.starts_with('#')
                    })
            });
            // The file is the server's, but a user may have edited it: only append under a
            // block `key:` that is the last top-level key, which is the shape the server writes.
            let last_top = text
                .lines()
                .rfind(|l| !l.is_empty() && !l.starts_with([' ', '#', '\t', '-']));
            let key_last = last_top.is_some_and(|l| l.starts_with(&format!("{key}:")));
            if !has_key || !key_last {
                return Err(unprocessable(format!(
                    "`{path}` does not end with a `{key}:` list the server can append to"
                ))
                .help(format!(
                    "it was edited by hand: move its items into a file of your own (or restore `{key}:` as its last key) and upload the estate"
                )));
            }
            if !text.is_empty() && !text.ends_with('\n') {
                content.push(b'\n');
            }
            content.extend_from_slice(line.as_bytes());
        }
        None => {
            let head = format!(
                "# Written by the demarc server: one `{key}` item per change made in the API or\n# the web UI. Items are JSON, which is YAML.\n{key}:\n"
            );
            out.push((path.to_string(), format!("{head}{line}").into_bytes()));
        }
    }
    Ok(out)
}

/// JSON text that YAML reads back as the same data: `serde_json` leaves DEL, the C1 controls
/// and U+FFFE/U+FFFF unescaped, which are valid JSON but characters a YAML stream may not
/// hold, so they are written as `\uXXXX` escapes (the same in both).
fn yaml_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        let printable = matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}')
            || ('\u{a0}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}';
        if printable {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{:04x}", c as u32));
        }
    }
    out
}

/// Builds a JSON object from the fields that are set.
pub fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// A non-empty list as JSON, or nothing.
pub fn list(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| json!(items))
}

// ---- ending a contract ----

/// Sets `expires: date` on contract `id`, in place: in the file and list item that define it,
/// replacing an `expires:` the item has or inserting one with the item's indentation. Only
/// block-style items (`- id: x` with one key per line) are edited; anything else is a 422
/// that says to edit the YAML by hand, since rewriting a user's flow mapping safely would
/// need a YAML printer that keeps comments.
fn end_contract(
    files: &[(String, Vec<u8>)],
    id: &str,
    date: NaiveDate,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let mut out = files.to_vec();
    let mut unsupported: Option<String> = None;
    for (path, content) in out.iter_mut() {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) || path.starts_with('.') {
            continue;
        }
        let Ok(text) = std::str::from_utf8(content) else {
            continue;
        };
        match edit_contract_text(text, id, date) {
            Found::Edited(new) => {
                *content = new.into_bytes();
                return Ok(out);
            }
            Found::Unsupported(line) => unsupported = Some(format!("{path}:{line}")),
            Found::No => {}
        }
    }
    Err(match unsupported {
        Some(at) => unprocessable(format!(
            "contract `{id}` at {at} is not written in block style, so the server cannot edit it"
        ))
        .help(format!(
            "edit the YAML: set `expires: {date}` on the contract and upload the estate"
        )),
        None => unprocessable(format!(
            "contract `{id}` is not a block-style item of a top-level `contracts:` list in any YAML file"
        ))
        .help(format!(
            "edit the YAML: set `expires: {date}` on the contract and upload the estate"
        )),
    })
}

#[derive(Debug, PartialEq)]
enum Found {
    Edited(String),
    /// The contract is in this file at this line, in a style the server does not edit.
    Unsupported(usize),
    No,
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn blank_or_comment(l: &str) -> bool {
    let t = l.trim();
    t.is_empty() || t.starts_with('#')
}

/// A scalar as written (`x`, `"x"`, `'x'`), without a trailing comment.
fn scalar(v: &str) -> String {
    let v = v.trim();
    if let Some(r) = v.strip_prefix('"')
        && let Some(end) = r.find('"')
    {
        return r[..end].to_string();
    }
    if let Some(r) = v.strip_prefix('\'')
        && let Some(end) = r.find('\'')
    {
        return r[..end].to_string();
    }
    let v = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    v.trim().to_string()
}

/// `key: value` at the start of `s` (after indentation): the value.
fn key_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.strip_prefix(key)?
        .strip_prefix(':')
        .filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
}

fn edit_contract_text(text: &str, id: &str, date: NaiveDate) -> Found {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let body = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // A flow-style item naming the contract; a block-style one found later still wins.
    let mut unsupported: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = body(lines[i]);
        let at_top = key_value(&l, "contracts").is_some_and(blank_or_comment);
        if !at_top {
            // A flow list (`contracts: [{id: x, …}]`) that names the contract.
            if key_value(&l, "contracts").is_some() && flow_names(&l, id) {
                unsupported.get_or_insert(i + 1);
            }
            i += 1;
            continue;
        }
        // The list's items: lines until the next top-level key.
        let mut j = i + 1;
        let mut dash: Option<usize> = None;
        while j < lines.len() {
            let lj = body(lines[j]);
            if blank_or_comment(&lj) {
                j += 1;
                continue;
            }
            let ind = indent(&lj);
            if ind == 0 && !lj.starts_with('-') {
                break;
            }
            let d = *dash.get_or_insert(ind);
            if ind == d && lj[ind..].starts_with('-') {
                let rest = &lj[ind + 1..];
                let after_dash = rest.len() - rest.trim_start().len();
                let first = rest.trim_start();
                if first.starts_with('{') {
                    if flow_names(first, id) {
                        unsupported.get_or_insert(j + 1);
                    }
                    j += 1;
                    continue;
                }
                // The item runs until the next line at or left of the dash.
                let mut end = j + 1;
                while end < lines.len() {
                    let le = body(lines[end]);
                    if !blank_or_comment(&le) && indent(&le) <= d {
                        break;
                    }
                    end += 1;
                }
                let key_indent = if first.is_empty() {
                    (j + 1..end)
                        .map(|k| body(lines[k]))
                        .find(|x| !blank_or_comment(x))
                        .map(|x| indent(&x))
                        .unwrap_or(d + 2)
                } else {
                    ind + 1 + after_dash
                };
                // The item's own keys: the dash line's and lines at exactly the key indent.
                let mut keys: Vec<(usize, String)> = Vec::new();
                if !first.is_empty() {
                    keys.push((j, first.to_string()));
                }
                for (k, line) in lines.iter().enumerate().take(end).skip(j + 1) {
                    let lk = body(line);
                    if !blank_or_comment(&lk)
                        && indent(&lk) == key_indent
                        && !lk[key_indent..].starts_with('-')
                    {
                        keys.push((k, lk[key_indent..].to_string()));
                    }
                }
                let is_it = keys
                    .iter()
                    .any(|(_, s)| key_value(s, "id").is_some_and(|v| scalar(v) == id));
                if is_it {
                    let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                    if let Some((k, _)) =
                        keys.iter().find(|(_, s)| key_value(s, "expires").is_some())
                    {
                        let lk = body(lines[*k]);
                        let pos = lk.find("expires:").unwrap_or(key_indent);
                        // The old line's comment described the old date; it goes with it.
                        out[*k] = format!("{}expires: {date}{newline}", &lk[..pos]);
                    } else {
                        let (k, _) = keys
                            .iter()
                            .find(|(_, s)| key_value(s, "id").is_some())
                            .cloned()
                            .unwrap_or((j, String::new()));
                        let ending = if lines[k].ends_with('\n') {
                            ""
                        } else {
                            newline
                        };
                        out[k] = format!("{}{ending}", out[k]);
                        out.insert(
                            k + 1,
                            format!("{}expires: {date}{newline}", " ".repeat(key_indent)),
                        );
                    }
                    return Found::Edited(out.concat());
                }
                j = end;
                continue;
            }
            j += 1;
        }
        i = j;
    }
    match unsupported {
        Some(line) => Found::Unsupported(line),
        None => Found::No,
    }
}

/// Whether flow-style text (`{id: x, party: y}`) gives `id` as an `id:` value, bare or
/// quoted, ending at a delimiter (so `c-1` is not found in `c-10`).
fn flow_names(text: &str, id: &str) -> bool {
    ["id", "\"id\"", "'id'"].iter().any(|k| {
        [id.to_string(), format!("\"{id}\""), format!("'{id}'")]
            .iter()
            .any(|v| {
                let pat = format!("{k}: {v}");
                text.match_indices(&pat).any(|(at, _)| {
                    let before = text[..at].chars().next_back();
                    let after = text[at + pat.len()..].chars().next();
                    matches!(before, Some('{' | ',' | ' ') | None)
                        && matches!(after, Some(',' | '}' | ' ' | ']') | None)
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const BLOCK: &str = "\
version: 1
contracts:
  - id: shieldco-msa
    party: shieldco
    effective: 2026-01-01
    expires: 2027-01-01            # inside the warning window
    clauses:
      - id: \"4.1\"
        expires: 2026-12-01
        text: monitoring
  # a comment between items
  - id: dbcare-sow
    party: dbcare
    clauses:
      - {id: \"2.1\", text: backups}
assets: []
";

    #[test]
    fn replaces_an_existing_expires_and_drops_its_stale_comment() {
        let Found::Edited(t) = edit_contract_text(BLOCK, "shieldco-msa", d("2026-12-15")) else {
            panic!("not edited")
        };
        assert_eq!(
            t,
            BLOCK.replace(
                "    expires: 2027-01-01            # inside the warning window\n",
                "    expires: 2026-12-15\n"
            )
        );
        // The clause's own `expires` is untouched.
        assert!(t.contains("        expires: 2026-12-01\n"));
    }

    #[test]
    fn inserts_expires_after_the_id_with_the_items_indentation() {
        let Found::Edited(t) = edit_contract_text(BLOCK, "dbcare-sow", d("2026-12-15")) else {
            panic!("not edited")
        };
        assert_eq!(
            t,
            BLOCK.replace(
                "  - id: dbcare-sow\n",
                "  - id: dbcare-sow\n    expires: 2026-12-15\n"
            )
        );
    }

    #[test]
    fn finds_items_at_column_zero_quoted_ids_and_id_not_first() {
        let text = "contracts:\n- party: x\n  id: \"c-1\"\n  clauses: []\n";
        assert_eq!(
            edit_contract_text(text, "c-1", d("2026-01-02")),
            Found::Edited(
                "contracts:\n- party: x\n  id: \"c-1\"\n  expires: 2026-01-02\n  clauses: []\n"
                    .into()
            )
        );
        // A clause id is not a contract id.
        assert_eq!(edit_contract_text(BLOCK, "4.1", d("2026-01-02")), Found::No);
        assert_eq!(
            edit_contract_text(BLOCK, "nope", d("2026-01-02")),
            Found::No
        );
    }

    #[test]
    fn flow_style_contracts_are_refused_with_their_line() {
        let text = "version: 1\ncontracts:\n  - {id: c-1, party: x, clauses: []}\n";
        assert_eq!(
            edit_contract_text(text, "c-1", d("2026-01-02")),
            Found::Unsupported(3)
        );
        let text = "contracts: [{id: c-1, party: x, clauses: []}]\n";
        assert_eq!(
            edit_contract_text(text, "c-1", d("2026-01-02")),
            Found::Unsupported(1)
        );
        // A block item after a flow item with a longer id is still edited.
        let mixed =
            "contracts:\n  - {id: c-10, party: x, clauses: []}\n  - id: c-1\n    party: x\n";
        assert_eq!(
            edit_contract_text(mixed, "c-1", d("2026-01-02")),
            Found::Edited(mixed.replace("  - id: c-1\n", "  - id: c-1\n    expires: 2026-01-02\n"))
        );
        assert_eq!(
            edit_contract_text(mixed, "c-10", d("2026-01-02")),
            Found::Unsupported(2)
        );
        let files = vec![("estate.yaml".to_string(), text.as_bytes().to_vec())];
        let e = apply(
            &files,
            &Edit::EndContract {
                id: "c-1".into(),
                date: d("2026-01-02"),
            },
            d("2026-01-01"),
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.message.contains("estate.yaml:1"), "{}", e.message);
        assert!(e.help.unwrap().contains("expires: 2026-01-02"));
    }

    #[test]
    fn ending_a_contract_changes_only_its_file() {
        let files = vec![
            ("a.yaml".to_string(), b"assets: []\n".to_vec()),
            ("contracts.yaml".to_string(), BLOCK.as_bytes().to_vec()),
        ];
        let out = apply(
            &files,
            &Edit::EndContract {
                id: "dbcare-sow".into(),
                date: d("2026-02-01"),
            },
            d("2026-01-01"),
        )
        .unwrap();
        assert_eq!(changed_paths(&files, &out), ["contracts.yaml"]);
    }

    #[test]
    fn appends_create_the_server_file_then_add_one_line_each() {
        let files = vec![("estate.yaml".to_string(), b"version: 1\n".to_vec())];
        let item = json!({"gap": "DM003:waf", "reason": "a \"quoted\" # reason\non two lines", "approved_by": "x", "expires": "2027-01-01"});
        let one = apply(&files, &Edit::Accept(item.clone()), d("2026-01-01")).unwrap();
        let two = apply(&one, &Edit::Accept(item.clone()), d("2026-01-01")).unwrap();
        assert_eq!(changed_paths(&files, &two), [ACCEPTANCES_FILE]);
        let text = String::from_utf8(two[1].1.clone()).unwrap();
        assert!(text.contains("\naccepted:\n  - {"), "{text}");
        assert_eq!(text.matches("\n  - ").count(), 2);
        // What was written reads back as the same data.
        #[derive(serde::Deserialize)]
        struct Doc {
            accepted: Vec<Value>,
        }
        let doc: Doc = appended_items(&text);
        assert_eq!(doc.accepted, [item.clone(), item]);
    }

    /// Each appended line is one JSON value; parse them as JSON (the estate loader reads the
    /// whole file as YAML in the server tests).
    fn appended_items<T: serde::de::DeserializeOwned>(text: &str) -> T {
        let items: Vec<Value> = text
            .lines()
            .filter_map(|l| l.strip_prefix("  - "))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        serde_json::from_value(json!({ "accepted": items })).unwrap()
    }

    #[test]
    fn characters_yaml_forbids_are_escaped_and_read_back_the_same() {
        let item = json!({"note": "del\u{7f} c1\u{9f} nel\u{85} ok é 🙂"});
        let text = yaml_safe(&serde_json::to_string(&item).unwrap());
        assert!(
            text.contains("\\u007f") && text.contains("\\u009f"),
            "{text}"
        );
        assert!(text.contains('\u{85}') && text.contains('🙂'));
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), item);
    }

    #[test]
    fn a_hand_edited_server_file_is_refused_not_corrupted() {
        let files = vec![(
            REVIEWS_FILE.to_string(),
            b"reviews:\n  - {date: 2026-01-01, by: x}\nassets: []\n".to_vec(),
        )];
        let e = apply(
            &files,
            &Edit::Review(json!({"date": "2026-01-01", "by": "y"})),
            d("2026-01-02"),
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn future_dates_are_refused() {
        let files = vec![];
        let e = apply(
            &files,
            &Edit::Review(json!({"date": "2026-01-03", "by": "y"})),
            d("2026-01-02"),
        )
        .unwrap_err();
        assert!(e.message.contains("future"), "{}", e.message);
    }
}
