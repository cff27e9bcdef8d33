//! FedRAMP 20x Key Security Indicators, read from the Consolidated Rules JSON.
//!
//! The reader is versioned: it validates the document against the rules' own JSON Schema and
//! accepts only the rule sets whose layout it knows (the 2026 Consolidated Rules). A newer
//! release must be read by a newer demarc, never half-understood by this one.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::oscal::OscalError;

/// The Consolidated Rules versions this reader understands, as `info.version` prefixes.
pub const SUPPORTED_VERSIONS: &[&str] = &["2026."];

/// The Consolidated Rules shipped with demarc, and their schema.
pub const BUILTIN_RULES: &str = include_str!("../data/cr26/fedramp-consolidated-rules.json");
pub const BUILTIN_SCHEMA: &str =
    include_str!("../data/cr26/fedramp-consolidated-rules.schema.json");

#[derive(Deserialize)]
struct Doc {
    info: Info,
    #[serde(rename = "KSI")]
    ksi: BTreeMap<String, RawTheme>,
}

#[derive(Deserialize)]
struct Info {
    title: String,
    version: String,
    last_updated: String,
}

#[derive(Deserialize)]
struct RawTheme {
    id: String,
    name: String,
    #[serde(default)]
    status: Option<String>,
    indicators: BTreeMap<String, RawIndicator>,
}

#[derive(Deserialize)]
struct RawIndicator {
    name: String,
    #[serde(default)]
    statement: Option<String>,
    #[serde(default)]
    controls: Vec<String>,
    #[serde(default)]
    varies_by_class: BTreeMap<String, RawVariant>,
}

#[derive(Deserialize)]
struct RawVariant {
    #[serde(default)]
    statement: Option<String>,
}

/// One Key Security Indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// `KSI-IAM-MFA`.
    pub id: String,
    pub name: String,
    /// The theme id: `KSI-IAM`.
    pub theme: String,
    /// The indicator's statement (FedRAMP's text, a US Government work). Indicators whose
    /// statement differs by certification class have none here; see `by_class`.
    pub statement: Option<String>,
    /// Class letter → statement, where the indicator varies by class.
    pub by_class: BTreeMap<String, String>,
    /// The NIST SP 800-53 controls it links to, in OSCAL form (`ac-2.2`).
    pub controls: Vec<String>,
}

/// A theme (`KSI-IAM`, Identity and Access Management).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub status: Option<String>,
}

/// The Key Security Indicators of one Consolidated Rules release.
#[derive(Debug, Clone)]
pub struct KsiSet {
    pub title: String,
    pub version: String,
    pub last_updated: String,
    pub themes: Vec<Theme>,
    pub indicators: Vec<Indicator>,
}

fn error(name: &str, at: &str, message: String, help: &str) -> OscalError {
    OscalError {
        document: name.to_string(),
        at: at.to_string(),
        message,
        help: help.to_string(),
    }
}

impl KsiSet {
    /// The rules shipped with demarc.
    pub fn builtin() -> Result<KsiSet, OscalError> {
        KsiSet::read(
            "fedramp-consolidated-rules.json",
            BUILTIN_RULES,
            BUILTIN_SCHEMA,
        )
    }

    /// Reads a Consolidated Rules document: checks its version first (so an unknown release
    /// gets a version message, not a list of schema errors), then validates it against
    /// `schema`, then reads the indicators.
    pub fn read(name: &str, json: &str, schema: &str) -> Result<KsiSet, OscalError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            error(
                name,
                &format!("line {}, column {}", e.line(), e.column()),
                format!("not readable JSON: {e}"),
                "give the complete FedRAMP Consolidated Rules JSON file",
            )
        })?;
        let version = value
            .pointer("/info/version")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                error(
                    name,
                    "info.version",
                    "the document has no `info.version`".into(),
                    "this does not look like a FedRAMP Consolidated Rules file",
                )
            })?;
        if !SUPPORTED_VERSIONS.iter().any(|p| version.starts_with(p)) {
            return Err(error(
                name,
                "info.version",
                format!(
                    "Consolidated Rules version {version} is not one this demarc reads (it reads {})",
                    SUPPORTED_VERSIONS
                        .iter()
                        .map(|p| format!("{p}*"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "use a demarc release that supports this version, or the 2026 rules",
            ));
        }
        let schema_value: serde_json::Value = serde_json::from_str(schema).map_err(|e| {
            error(
                "fedramp-consolidated-rules.schema.json",
                &format!("line {}, column {}", e.line(), e.column()),
                format!("the schema is not readable JSON: {e}"),
                "give the schema that ships with the rules",
            )
        })?;
        let validator = jsonschema::validator_for(&schema_value).map_err(|e| {
            error(
                "fedramp-consolidated-rules.schema.json",
                "",
                format!("the schema cannot be compiled: {e}"),
                "give the schema that ships with the rules",
            )
        })?;
        if let Some(e) = validator.iter_errors(&value).next() {
            return Err(error(
                name,
                &e.instance_path.to_string(),
                format!("does not match the Consolidated Rules schema: {e}"),
                "fix the document, or use the schema of its own release",
            ));
        }
        let doc: Doc = serde_json::from_value(value).map_err(|e| {
            error(
                name,
                "KSI",
                format!("the Key Security Indicators cannot be read: {e}"),
                "this demarc reads KSI themes with `indicators` keyed by id",
            )
        })?;
        let mut themes = Vec::new();
        let mut indicators = Vec::new();
        for theme in doc.ksi.values() {
            themes.push(Theme {
                id: theme.id.clone(),
                name: theme.name.clone(),
                status: theme.status.clone(),
            });
            for (id, ind) in &theme.indicators {
                let mut controls = Vec::new();
                for c in &ind.controls {
                    let n = demarc_catalog::normalise_nist_800_53(c).map_err(|e| {
                        error(
                            name,
                            &format!("KSI.{}.indicators.{id}.controls", theme.id),
                            e,
                            "indicator control links are SP 800-53 ids",
                        )
                    })?;
                    if !controls.contains(&n) {
                        controls.push(n);
                    }
                }
                indicators.push(Indicator {
                    id: id.clone(),
                    name: ind.name.clone(),
                    theme: theme.id.clone(),
                    statement: ind.statement.clone(),
                    by_class: ind
                        .varies_by_class
                        .iter()
                        .filter_map(|(k, v)| v.statement.clone().map(|s| (k.clone(), s)))
                        .collect(),
                    controls,
                });
            }
        }
        Ok(KsiSet {
            title: doc.info.title,
            version: doc.info.version,
            last_updated: doc.info.last_updated,
            themes,
            indicators,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_read_with_their_links() {
        let k = KsiSet::builtin().unwrap();
        assert!(k.version.starts_with("2026."));
        assert_eq!(k.themes.len(), 10);
        assert_eq!(k.indicators.len(), 46);
        let aam = k.indicators.iter().find(|i| i.id == "KSI-IAM-AAM").unwrap();
        assert!(aam.controls.contains(&"ac-2.2".to_string()));
        // Varying indicators have their statements per class.
        let eis = k.indicators.iter().find(|i| i.id == "KSI-CNA-EIS").unwrap();
        assert!(eis.by_class.contains_key("c"));
    }

    #[test]
    fn unknown_version_is_refused_before_schema_errors() {
        let json = BUILTIN_RULES.replacen("\"2026.07.14.01\"", "\"2031.01.01.01\"", 1);
        let e = KsiSet::read("rules.json", &json, BUILTIN_SCHEMA).unwrap_err();
        assert_eq!(e.at, "info.version");
        assert!(e.message.contains("2031.01.01.01"), "{e}");
    }

    #[test]
    fn schema_violations_name_the_path() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_RULES).unwrap();
        v["KSI"]["IAM"]["indicators"]["KSI-IAM-AAM"]["controls"] = serde_json::json!("ac-2");
        let e = KsiSet::read("rules.json", &v.to_string(), BUILTIN_SCHEMA).unwrap_err();
        assert!(e.message.contains("schema"), "{e}");
        assert!(e.at.contains("KSI"), "{e:?}");
    }

    #[test]
    fn truncated_rules_give_line_and_column() {
        let e = KsiSet::read("rules.json", &BUILTIN_RULES[..5000], BUILTIN_SCHEMA).unwrap_err();
        assert!(e.at.starts_with("line "), "{e:?}");
    }
}
