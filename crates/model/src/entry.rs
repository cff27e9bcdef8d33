//! Responsibility entries and their sources, shared by the catalog's YAML and the estate's own
//! services (`services:` with `layers:`/`controls:`), so both are written in one schema.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::Duty;

/// Which side of the demarc a duty falls on, according to the provider's documentation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    Provider,
    Customer,
    Shared,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Provider => "provider",
            Owner::Customer => "customer",
            Owner::Shared => "shared",
        }
    }
}

/// A responsibility entry: who owns it and what each side does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub owner: Owner,
    pub provider: Option<String>,
    pub customer: Option<String>,
    pub duties: BTreeMap<Duty, Owner>,
}

impl Entry {
    pub fn owner_for(&self, duty: Duty) -> Owner {
        self.duties.get(&duty).copied().unwrap_or(self.owner)
    }
    /// A shared entry must say what both sides do; a one-sided entry what that side does.
    pub fn check_texts(&self) -> Result<(), String> {
        let mut owners = vec![self.owner];
        owners.extend(self.duties.values().copied());
        let need_p = owners
            .iter()
            .any(|o| matches!(o, Owner::Provider | Owner::Shared));
        let need_c = owners
            .iter()
            .any(|o| matches!(o, Owner::Customer | Owner::Shared));
        let empty = |t: &Option<String>| t.as_deref().is_none_or(|s| s.trim().is_empty());
        if need_p && empty(&self.provider) {
            return Err("says the provider does something but not what (`provider:` text)".into());
        }
        if need_c && empty(&self.customer) {
            return Err("says the customer does something but not what (`customer:` text)".into());
        }
        Ok(())
    }
}

/// The written form of an entry, for the JSON schema: a bare owner or the full mapping.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EntrySchema {
    Short(Owner),
    Full {
        owner: Owner,
        /// What the provider does (required when the owner is provider or shared).
        provider: Option<String>,
        /// What the customer does (required when the owner is customer or shared).
        customer: Option<String>,
        /// Duties whose owner differs from `owner`.
        #[serde(default)]
        duties: BTreeMap<Duty, Owner>,
    },
}

impl JsonSchema for Entry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Entry".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        EntrySchema::json_schema(g)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            owner: Owner,
            #[serde(default)]
            provider: Option<String>,
            #[serde(default)]
            customer: Option<String>,
            #[serde(default)]
            duties: BTreeMap<Duty, Owner>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "an owner (provider, customer, shared) or {owner, provider, customer, duties}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
                let owner = Owner::deserialize(de::value::StrDeserializer::<E>::new(v))?;
                Ok(Entry {
                    owner,
                    provider: None,
                    customer: None,
                    duties: BTreeMap::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Entry {
                    owner: f.owner,
                    provider: f.provider,
                    customer: f.customer,
                    duties: f.duties,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Where a source document is: a public https URL, or a local file pinned by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceLocation {
    Url(String),
    File { path: PathBuf, sha256: String },
}

/// The document an entry follows: where it is, its title and the date it was read.
///
/// Written `{title, url, checked}` or `{title, file, sha256, checked}`. Exactly one of `url`
/// (https) and `file` is given, and `sha256` (64 hex digits) goes with `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub title: String,
    pub location: SourceLocation,
    pub checked: NaiveDate,
}

impl Source {
    /// The URL, if the source is a web document.
    pub fn url(&self) -> Option<&str> {
        match &self.location {
            SourceLocation::Url(u) => Some(u),
            SourceLocation::File { .. } => None,
        }
    }
    /// A link for people: the URL, or `file:<path>` for a local document.
    pub fn link(&self) -> String {
        match &self.location {
            SourceLocation::Url(u) => u.clone(),
            SourceLocation::File { path, .. } => format!("file:{}", path.display()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.title, self.link())
    }
}

/// The written form of a source (see [`Source`]).
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SourceDoc {
    /// The document's title.
    title: String,
    /// A public https URL (give this or `file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// A local file (give this or `url`), with its `sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
    /// The SHA-256 of `file`, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    /// The date the document was read.
    checked: NaiveDate,
}

/// Checks a written source: exactly one of `url` and `file`, https only, a well-formed hash.
fn source_from_doc(d: SourceDoc) -> Result<Source, String> {
    let location = match (d.url, d.file, d.sha256) {
        (Some(_), Some(_), _) => {
            return Err("a source has either `url` or `file`, not both".into());
        }
        (None, None, _) => {
            return Err("a source needs `url` (https) or `file` with `sha256`".into());
        }
        (Some(_), None, Some(_)) => {
            return Err("`sha256` pins a local `file`; a `url` source has none".into());
        }
        (Some(u), None, None) => {
            if !u.starts_with("https://") || u.len() <= "https://".len() {
                return Err(format!("source url `{u}` must be https://"));
            }
            SourceLocation::Url(u)
        }
        (None, Some(_), None) => {
            return Err("a `file` source needs its `sha256` (64 hex digits)".into());
        }
        (None, Some(path), Some(h)) => {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "sha256 `{h}` is not 64 hex digits (run `sha256sum FILE`)"
                ));
            }
            if path.as_os_str().is_empty() {
                return Err("source `file` is empty".into());
            }
            SourceLocation::File {
                path,
                sha256: h.to_ascii_lowercase(),
            }
        }
    };
    if d.title.trim().is_empty() {
        return Err("source `title` is empty".into());
    }
    Ok(Source {
        title: d.title,
        location,
        checked: d.checked,
    })
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        source_from_doc(SourceDoc::deserialize(d)?).map_err(de::Error::custom)
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (url, file, sha256) = match &self.location {
            SourceLocation::Url(u) => (Some(u.clone()), None, None),
            SourceLocation::File { path, sha256 } => {
                (None, Some(path.clone()), Some(sha256.clone()))
            }
        };
        SourceDoc {
            title: self.title.clone(),
            url,
            file,
            sha256,
            checked: self.checked,
        }
        .serialize(s)
    }
}

impl JsonSchema for Source {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Source".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SourceDoc::json_schema(g)
    }
}

/// An estate service's `source:`: free text (the original form), or a [`Source`] document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceSource {
    Text(String),
    Document(Source),
}

impl ServiceSource {
    pub fn document(&self) -> Option<&Source> {
        match self {
            ServiceSource::Text(_) => None,
            ServiceSource::Document(s) => Some(s),
        }
    }
}

impl fmt::Display for ServiceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceSource::Text(t) => f.write_str(t),
            ServiceSource::Document(s) => s.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for ServiceSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServiceSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text or {title, url | file + sha256, checked}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServiceSource, E> {
                Ok(ServiceSource::Text(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ServiceSource, A::Error> {
                Source::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ServiceSource::Document)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ServiceSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServiceSource::Text(t) => s.serialize_str(t),
            ServiceSource::Document(d) => d.serialize(s),
        }
    }
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ServiceSourceSchema {
    Text(String),
    Document(Source),
}

impl JsonSchema for ServiceSource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ServiceSource".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ServiceSourceSchema::json_schema(g)
    }
}
