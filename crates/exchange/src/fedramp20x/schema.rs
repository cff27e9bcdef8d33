//! The dated FedRAMP package schemas, embedded, and validation against them with nothing
//! fetched at run time.
//!
//! The schemas refer to each other as `https://fedramp.gov/schemas/<file>.json/$defs/<name>`:
//! a path after the file name rather than a `#` fragment. A JSON Schema validator reads that
//! as a separate resource and would try to fetch it. [`Embedded`] answers such a URI with a
//! one-line schema that `$ref`s the same definition by fragment in the embedded file, and
//! answers the files' own URIs with the files; anything else is refused.

use jsonschema::{Resource, Retrieve, Uri};
use serde_json::{Value, json};

use crate::ExchangeError;

/// Where the schemas live (their `$id` prefix).
pub const BASE: &str = "https://fedramp.gov/schemas/";

/// The schema dates this demarc reads and writes.
pub const SCHEMA_DATES: &[&str] = &["2026-06-24"];

macro_rules! schema {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!("../../data/cr26-schemas/", $file)),
        )
    };
}

/// Every embedded schema: `(file name, text)`.
pub const SCHEMAS: &[(&str, &str)] = &[
    schema!("fedramp-accepted-vulnerability-info-schema-2026-06-24.json"),
    schema!("fedramp-advisor-information-schema-2026-06-24.json"),
    schema!("fedramp-assessor-information-schema-2026-06-24.json"),
    schema!("fedramp-certification-package-overview-schema-2026-06-24.json"),
    schema!("fedramp-common-definitions-schema-2026-06-24.json"),
    schema!("fedramp-historical-ver-activity-schema-2026-06-24.json"),
    schema!("fedramp-incident-report-schema-2026-06-24.json"),
    schema!("fedramp-ongoing-certification-report-schema-2026-06-24.json"),
    schema!("fedramp-security-decision-record-schema-2026-06-24.json"),
    schema!("fedramp-significant-change-notifications-schema-2026-06-24.json"),
    schema!("fedramp-vulnerability-detail-report-schema-2026-06-24.json"),
];

/// The Certification Package Overview schema demarc writes.
pub const CPO: &str = "fedramp-certification-package-overview-schema-2026-06-24.json";
/// The Security Decision Record schema demarc writes.
pub const SDR: &str = "fedramp-security-decision-record-schema-2026-06-24.json";

/// The text of an embedded schema, by file name.
pub fn text(file: &str) -> Option<&'static str> {
    SCHEMAS.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

/// `fedramp-security-decision-record-schema-2026-06-24.json` →
/// (`fedramp-security-decision-record`, `2026-06-24`).
fn kind_and_date(file: &str) -> Option<(&str, &str)> {
    let stem = file.strip_suffix(".json")?;
    let (kind, date) = stem.rsplit_once("-schema-")?;
    Some((kind, date))
}

/// Serves the embedded schemas to the validator; fetches nothing.
struct Embedded;

impl Retrieve for Embedded {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let s = uri.as_str();
        let refuse = || -> Box<dyn std::error::Error + Send + Sync> {
            format!("{s} is not one of the FedRAMP schemas shipped with demarc, and demarc fetches nothing at run time").into()
        };
        let rest = s.strip_prefix(BASE).ok_or_else(refuse)?;
        let end = rest.find(".json").ok_or_else(refuse)? + ".json".len();
        let (file, path) = rest.split_at(end);
        let text = text(file).ok_or_else(refuse)?;
        let path = path.split('#').next().unwrap_or("");
        if path.is_empty() {
            return Ok(serde_json::from_str(text)?);
        }
        // `<file>.json/$defs/x` is the definition `#/$defs/x` of the file.
        Ok(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("{BASE}{file}#{path}"),
        }))
    }
}

/// `/keySecurityIndicators/0/ksiId` → `$.keySecurityIndicators[0].ksiId`.
pub fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

/// A validator for one embedded schema, with every other schema available to it.
fn validator(file: &str) -> Result<jsonschema::Validator, String> {
    let text = text(file).ok_or_else(|| format!("{file} is not embedded"))?;
    let schema: Value = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let mut resources = Vec::new();
    for (f, t) in SCHEMAS {
        let v: Value = serde_json::from_str(t).map_err(|e| format!("{f}: {e}"))?;
        let r = Resource::from_contents(v).map_err(|e| format!("{f}: {e}"))?;
        resources.push((format!("{BASE}{f}"), r));
    }
    jsonschema::options()
        .should_validate_formats(true)
        .with_resources(resources.into_iter())
        .with_retriever(Embedded)
        .build(&schema)
        .map_err(|e| format!("{file} cannot be compiled: {e}"))
}

/// Validates a FedRAMP package document against the schema its `$schema` names, or
/// `expect` when it names none. Returns the schema file it was validated against.
///
/// A document dated for a schema version this demarc does not know is refused with the
/// versions it does know, before any schema error: a newer release must be read by a newer
/// demarc, never half-understood by this one.
pub fn validate(name: &str, json: &str, expect: Option<&str>) -> Result<String, ExchangeError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        ExchangeError::new(
            name,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not readable JSON: {e}"),
            "give the JSON rendition of the FedRAMP package document",
        )
    })?;
    let named = value.get("$schema").and_then(Value::as_str);
    let file = match (named, expect) {
        (Some(uri), _) => {
            let file = uri.strip_prefix(BASE).unwrap_or(uri).to_string();
            file.split('#').next().unwrap_or("").to_string()
        }
        (None, Some(f)) => f.to_string(),
        (None, None) => {
            return Err(ExchangeError::new(
                name,
                "$.$schema",
                "the document does not say which FedRAMP schema it follows",
                format!("set `$schema` to the schema's URI, such as {BASE}{CPO}"),
            ));
        }
    };
    if text(&file).is_none() {
        let known: Vec<&str> = SCHEMA_DATES.to_vec();
        let message = match kind_and_date(&file) {
            Some((kind, date))
                if SCHEMAS
                    .iter()
                    .any(|(f, _)| kind_and_date(f).is_some_and(|(k, _)| k == kind)) =>
            {
                format!(
                    "{kind} schema version {date} is not one this demarc reads (it reads {})",
                    known.join(", ")
                )
            }
            _ => format!("`{file}` is not a FedRAMP package schema this demarc knows"),
        };
        return Err(ExchangeError::new(
            name,
            "$.$schema",
            message,
            "use a demarc release that supports this schema version, or write the document for the 2026-06-24 schemas",
        ));
    }
    if let Some(want) = expect
        && want != file
    {
        return Err(ExchangeError::new(
            name,
            "$.$schema",
            format!("the document follows {file}, not {want}"),
            "give the document of the kind asked for",
        ));
    }
    let v = validator(&file).map_err(|e| {
        ExchangeError::new(
            &file,
            "",
            e,
            "the embedded schemas are broken: report this as a demarc bug",
        )
    })?;
    let errors: Vec<_> = v.iter_errors(&value).collect();
    if let Some(e) = errors.first() {
        let more = if errors.len() > 1 {
            format!(" (and {} more)", errors.len() - 1)
        } else {
            String::new()
        };
        return Err(ExchangeError::new(
            name,
            json_path(&e.instance_path.to_string()),
            format!("does not match {file}: {e}{more}"),
            "fix the value at that path; the schema is in crates/exchange/data/cr26-schemas",
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles_with_its_references_resolved_locally() {
        for (f, _) in SCHEMAS {
            validator(f).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn path_style_references_resolve_to_the_embedded_definition() {
        let doc = json!({
            "$schema": format!("{BASE}{SDR}"),
            "certificationPackageOverviewUri": "not a uri",
            "fedRampRequirements": [],
        });
        let e = validate("sdr.json", &doc.to_string(), None).unwrap_err();
        assert_eq!(e.at, "$.certificationPackageOverviewUri", "{e}");
        let ok = json!({
            "$schema": format!("{BASE}{SDR}"),
            "certificationPackageOverviewUri": "https://example.com/cpo.json",
            "fedRampRequirements": [],
        });
        assert_eq!(validate("sdr.json", &ok.to_string(), None).unwrap(), SDR);
    }

    #[test]
    fn json_paths_read_like_paths() {
        assert_eq!(json_path(""), "$");
        assert_eq!(json_path("/a/0/b~1c"), "$.a[0].b/c");
    }
}
