//! Validation of OSCAL documents: the NIST JSON schemas (shipped in
//! `data/oscal-schemas/`, compiled once), and the references the schemas cannot check.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

/// The OSCAL models demarc reads or writes, each with the schema it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `system-security-plan`, OSCAL 1.1.3.
    Ssp,
    /// `component-definition`, OSCAL 1.1.3.
    Component,
    /// `mapping-collection`, OSCAL 1.2.3.
    Mapping,
}

impl Model {
    /// The document's root key.
    pub fn root(self) -> &'static str {
        match self {
            Model::Ssp => "system-security-plan",
            Model::Component => "component-definition",
            Model::Mapping => "mapping-collection",
        }
    }
    /// The OSCAL version of the schema.
    pub fn version(self) -> &'static str {
        match self {
            Model::Ssp | Model::Component => "1.1.3",
            Model::Mapping => "1.2.3",
        }
    }
    fn schema_text(self) -> &'static str {
        match self {
            Model::Ssp => include_str!("../../data/oscal-schemas/1.1.3/oscal_ssp_schema.json"),
            Model::Component => {
                include_str!("../../data/oscal-schemas/1.1.3/oscal_component_schema.json")
            }
            Model::Mapping => {
                include_str!("../../data/oscal-schemas/1.2.3/oscal_mapping_schema.json")
            }
        }
    }
}

fn validator(model: Model) -> &'static jsonschema::Validator {
    static SSP: OnceLock<jsonschema::Validator> = OnceLock::new();
    static COMPONENT: OnceLock<jsonschema::Validator> = OnceLock::new();
    static MAPPING: OnceLock<jsonschema::Validator> = OnceLock::new();
    let cell = match model {
        Model::Ssp => &SSP,
        Model::Component => &COMPONENT,
        Model::Mapping => &MAPPING,
    };
    cell.get_or_init(|| {
        // The shipped schemas are fixed data, checked by this crate's tests: failing to
        // compile them is a build defect, not an input error.
        let schema: Value =
            serde_json::from_str(model.schema_text()).expect("the shipped OSCAL schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the shipped OSCAL schema compiles")
    })
}

/// One thing wrong with a document, at a JSON path (`$.system-security-plan.metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A JSON pointer (`/a/0/b`) as a JSON path (`$.a[0].b`).
pub fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// Checks `doc` against the OSCAL schema of `model`; every error with its JSON path and what
/// the schema expected, deepest first (the most specific place), at most `max`.
pub fn schema_errors(model: Model, doc: &Value, max: usize) -> Vec<Problem> {
    let mut errs: Vec<Problem> = validator(model)
        .iter_errors(doc)
        .map(|e| Problem {
            path: json_path(&e.instance_path.to_string()),
            message: shorten(&e.to_string(), 300),
        })
        .collect();
    errs.sort_by_key(|p| std::cmp::Reverse(p.path.matches(['.', '[']).count()));
    errs.dedup();
    errs.truncate(max);
    errs
}

/// What the reference check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// References that resolve nowhere, and repeated UUIDs: the document is broken.
    pub errors: Vec<Problem>,
    /// Questionable but readable: a `satisfied` that points at a `provided`, say.
    pub warnings: Vec<Problem>,
    /// `inherited`/`satisfied` references into a leveraged system's SSP that was not given
    /// (the document declares leveraged authorizations, so they are expected to be there).
    pub external: Vec<Problem>,
    /// UUIDs used more than once, with where (the first two places).
    pub duplicates: Vec<Problem>,
}

impl References {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.duplicates.is_empty()
    }
}

#[derive(Default)]
struct Index {
    uuids: BTreeMap<String, Vec<String>>,
    provided: BTreeSet<String>,
    responsibilities: BTreeSet<String>,
}

fn index(v: &Value, path: &str, ix: &mut Index) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(u)) = m.get("uuid") {
                ix.uuids
                    .entry(u.clone())
                    .or_default()
                    .push(path.to_string());
                let last = path.rsplit('.').next().unwrap_or("");
                if last.starts_with("provided[") {
                    ix.provided.insert(u.clone());
                }
                if last.starts_with("responsibilities[") {
                    ix.responsibilities.insert(u.clone());
                }
            }
            for (k, x) in m {
                index(x, &format!("{path}.{k}"), ix);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                index(x, &format!("{path}[{i}]"), ix);
            }
        }
        _ => {}
    }
}

fn strings<'a>(v: Option<&'a Value>) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, x)| x.as_str().map(|s| (i, s)))
}

struct Walk<'a> {
    roles: BTreeSet<&'a str>,
    parties: BTreeSet<&'a str>,
    components: BTreeSet<&'a str>,
    las: BTreeSet<&'a str>,
    own: &'a Index,
    others: Vec<Index>,
    out: References,
}

impl Walk<'_> {
    fn err(&mut self, path: String, message: String) {
        self.out.errors.push(Problem { path, message });
    }
    fn visit(&mut self, v: &Value, path: &str, key: &str) {
        match v {
            Value::Object(m) => {
                self.object(m, path, key);
                for (k, x) in m {
                    self.visit(x, &format!("{path}.{k}"), k);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.visit(x, &format!("{path}[{i}]"), key);
                }
            }
            _ => {}
        }
    }
    fn object(&mut self, m: &serde_json::Map<String, Value>, path: &str, key: &str) {
        if let Some(r) = m.get("role-id").and_then(Value::as_str)
            && matches!(key, "responsible-roles" | "responsible-parties")
            && !self.roles.contains(r)
        {
            self.err(
                format!("{path}.role-id"),
                format!("role `{r}` is not defined in metadata.roles"),
            );
        }
        for (i, r) in strings(m.get("role-ids")) {
            if !self.roles.contains(r) {
                self.err(
                    format!("{path}.role-ids[{i}]"),
                    format!("role `{r}` is not defined in metadata.roles"),
                );
            }
        }
        for field in ["party-uuids", "member-of-organizations"] {
            for (i, p) in strings(m.get(field)) {
                if !self.parties.contains(p) {
                    self.err(
                        format!("{path}.{field}[{i}]"),
                        format!("party {p} is not defined in metadata.parties"),
                    );
                }
            }
        }
        if key == "leveraged-authorizations"
            && let Some(p) = m.get("party-uuid").and_then(Value::as_str)
            && !self.parties.contains(p)
        {
            self.err(
                format!("{path}.party-uuid"),
                format!("party {p} is not defined in metadata.parties"),
            );
        }
        if let Some(c) = m.get("component-uuid").and_then(Value::as_str)
            && !self.components.contains(c)
        {
            self.err(
                format!("{path}.component-uuid"),
                format!("component {c} is not in system-implementation.components"),
            );
        }
        if key == "props"
            && m.get("name").and_then(Value::as_str) == Some("leveraged-authorization-uuid")
            && let Some(u) = m.get("value").and_then(Value::as_str)
            && !self.las.contains(u)
        {
            self.err(
                format!("{path}.value"),
                format!("leveraged authorization {u} is not in system-implementation.leveraged-authorizations"),
            );
        }
        match key {
            "responsibilities" => {
                if let Some(p) = m.get("provided-uuid").and_then(Value::as_str)
                    && !self.own.provided.contains(p)
                {
                    self.err(
                        format!("{path}.provided-uuid"),
                        format!("{p} is not the uuid of an export.provided entry of this document"),
                    );
                }
            }
            "inherited" => {
                if let Some(p) = m.get("provided-uuid").and_then(Value::as_str) {
                    self.cross(path, "provided-uuid", p, true);
                }
            }
            "satisfied" => {
                if let Some(p) = m.get("responsibility-uuid").and_then(Value::as_str) {
                    self.cross(path, "responsibility-uuid", p, false);
                }
            }
            _ => {}
        }
    }
    /// An `inherited.provided-uuid` or `satisfied.responsibility-uuid`: in this document, in
    /// a leveraged SSP given, or (with leveraged authorizations declared) external.
    fn cross(&mut self, path: &str, field: &str, u: &str, provided: bool) {
        let at = format!("{path}.{field}");
        let all = std::iter::once(self.own).chain(self.others.iter());
        let (mut hit, mut other_kind) = (false, false);
        for ix in all {
            let (want, other) = if provided {
                (&ix.provided, &ix.responsibilities)
            } else {
                (&ix.responsibilities, &ix.provided)
            };
            hit |= want.contains(u);
            other_kind |= other.contains(u);
        }
        if hit {
            return;
        }
        let (this, that) = if provided {
            ("an export.provided", "export.responsibilities")
        } else {
            ("an export.responsibilities", "export.provided")
        };
        if other_kind {
            self.out.warnings.push(Problem {
                path: at,
                message: format!(
                    "{u} is the uuid of an entry of {that}, not of {this} entry; read as a reference to it"
                ),
            });
        } else if !self.las.is_empty() {
            self.out.external.push(Problem {
                path: at,
                message: format!(
                    "{u} is not {this} entry of this document{}: it is taken to be in a leveraged system's SSP",
                    if self.others.is_empty() {
                        ""
                    } else {
                        " or of the leveraged SSPs given"
                    }
                ),
            });
        } else {
            self.err(
                at,
                format!(
                    "{u} is not {this} entry of this document, and the document declares no leveraged authorization it could belong to"
                ),
            );
        }
    }
}

fn ids<'a>(v: &'a Value, key: &str) -> BTreeSet<&'a str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.get(key).and_then(Value::as_str))
        .collect()
}

/// Checks the references the schema cannot: every `component-uuid`, `role-id`,
/// `party-uuid`, `provided-uuid`, `responsibility-uuid` and leveraged-authorization uuid
/// resolves, and no UUID is used twice. `leveraged` are the SSPs of leveraged systems, when
/// known: `inherited` and `satisfied` may point into them.
pub fn check_references(doc: &Value, leveraged: &[&Value]) -> References {
    let mut own = Index::default();
    index(doc, "$", &mut own);
    let others: Vec<Index> = leveraged
        .iter()
        .map(|d| {
            let mut ix = Index::default();
            index(d, "$", &mut ix);
            ix
        })
        .collect();
    // The model's root object (a document may also carry a `$schema` directive).
    let root = doc
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, v)| k.as_str() != "$schema" && v.is_object())
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null);
    let meta = &root["metadata"];
    let roles = ids(&meta["roles"], "id");
    let parties = ids(&meta["parties"], "uuid");
    let si = &root["system-implementation"];
    let components = ids(&si["components"], "uuid");
    let las = ids(&si["leveraged-authorizations"], "uuid");
    let mut w = Walk {
        roles,
        parties,
        components,
        las,
        own: &own,
        others,
        out: References::default(),
    };
    w.visit(doc, "$", "");
    let mut out = w.out;
    for (u, places) in &own.uuids {
        if places.len() > 1 {
            out.duplicates.push(Problem {
                path: places[1].clone(),
                message: format!(
                    "uuid {u} is used {} times (first at {})",
                    places.len(),
                    places[0]
                ),
            });
        }
    }
    out
}
