//! Tool check id → catalog control: the built-in tables under the catalog's `data/checks/`,
//! with the fallbacks on categories and resource types they also hold.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use demarc_catalog::Catalog;
use demarc_model::Duty;
use rustc_hash::FxHashMap;
use serde::Deserialize;

/// Where a check (or category, or resource type) lands: a control and, when the finding is
/// not about the duty its kind implies, the duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub control: String,
    pub duty: Option<Duty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    version: u32,
    tool: String,
    #[serde(default)]
    checks: BTreeMap<String, RawEntry>,
    #[serde(default)]
    categories: BTreeMap<String, RawEntry>,
    #[serde(default)]
    resource_types: BTreeMap<String, RawEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEntry {
    Control(String),
    Full {
        control: String,
        duty: Option<String>,
    },
}

impl RawEntry {
    fn entry(self, what: &str, problems: &mut Vec<String>) -> TableEntry {
        match self {
            RawEntry::Control(control) => TableEntry {
                control,
                duty: None,
            },
            RawEntry::Full { control, duty } => {
                let duty = duty.and_then(|d| {
                    let parsed = Duty::from_word(&d);
                    if parsed.is_none() {
                        problems.push(format!("{what}: `{d}` is not a duty"));
                    }
                    parsed
                });
                TableEntry { control, duty }
            }
        }
    }
}

/// The check tables, merged.
#[derive(Debug, Default)]
pub struct CheckTable {
    checks: FxHashMap<String, TableEntry>,
    categories: FxHashMap<String, TableEntry>,
    resource_types: FxHashMap<String, TableEntry>,
    tools: Vec<String>,
}

impl CheckTable {
    /// The built-in tables (`demarc_catalog::check_tables`), parsed on first use.
    pub fn builtin() -> &'static CheckTable {
        static T: OnceLock<CheckTable> = OnceLock::new();
        T.get_or_init(|| {
            CheckTable::parse(demarc_catalog::check_tables())
                .unwrap_or_else(|e| panic!("the built-in check tables are invalid: {e}"))
        })
    }

    /// Parses `(name, YAML)` files. A check, category or resource type given twice is an error.
    pub fn parse(files: &[(&str, &str)]) -> Result<CheckTable, String> {
        let mut t = CheckTable::default();
        let mut problems = Vec::new();
        for (name, text) in files {
            let f: File = serde_saphyr::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            t.tools.push(f.tool.clone());
            for (map, into) in [
                (f.checks, &mut t.checks),
                (f.categories, &mut t.categories),
                (f.resource_types, &mut t.resource_types),
            ] {
                for (k, v) in map {
                    let e = v.entry(&format!("{name}: {k}"), &mut problems);
                    if into.insert(k.clone(), e).is_some() {
                        problems.push(format!("{name}: `{k}` is mapped twice"));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(t)
        } else {
            Err(problems.join("; "))
        }
    }

    /// The entry for a check id.
    pub fn check(&self, id: &str) -> Option<&TableEntry> {
        self.checks.get(id)
    }
    /// The entry for a category (lower case, hyphenated).
    pub fn category(&self, c: &str) -> Option<&TableEntry> {
        self.categories.get(c)
    }
    /// The entry for a resource type, as the tool writes it.
    pub fn resource_type(&self, t: &str) -> Option<&TableEntry> {
        self.resource_types.get(t)
    }
    /// Number of checks mapped.
    pub fn len(&self) -> usize {
        self.checks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
    /// Every check id, sorted.
    pub fn check_ids(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.checks.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Entries naming a control the catalog does not have, or a duty the control lacks.
    pub fn problems(&self, catalog: &Catalog) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, map) in [
            ("check", &self.checks),
            ("category", &self.categories),
            ("resource type", &self.resource_types),
        ] {
            for (k, e) in map {
                match catalog.control(&e.control) {
                    None => out.push(format!("{kind} `{k}`: unknown control `{}`", e.control)),
                    Some(c) => {
                        if let Some(d) = e.duty
                            && !c.duties.contains(&d)
                        {
                            out.push(format!(
                                "{kind} `{k}`: control `{}` has no `{}` duty",
                                e.control,
                                d.as_str()
                            ));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }
}
