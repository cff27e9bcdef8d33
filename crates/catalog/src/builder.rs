//! Building a catalog from the built-in files, overlay files loaded at run time and the
//! estate's own services, with every problem located at `file:line:column`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use demarc_model::{CustomService, Diagnostic, Diagnostics, Duty, Place, Source, Sp};
use serde::Deserialize;

use crate::compact::Located;
use crate::entry::{Entry, RawEntry};
use crate::ids::{FrameworkId, IdScheme, LayerId, Mapping, Relation};
use crate::types::*;
use crate::types::{ResourceFormat, ServiceMode};
use crate::{Catalog, data};

/// Overlay files larger than this are refused: an overlay is hand-written text.
pub const MAX_OVERLAY_BYTES: u64 = 4 * 1024 * 1024;

// ---------------------------------------------------------------- the written form

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    version: Option<Sp<u32>>,
    #[serde(default)]
    duties: Option<Vec<DutyInfo>>,
    #[serde(default)]
    layers: Option<Vec<RawLayer>>,
    #[serde(default)]
    frameworks: Option<Vec<RawFramework>>,
    #[serde(default)]
    controls: Option<Vec<RawControl>>,
    #[serde(default)]
    models: Option<Vec<RawModel>>,
    #[serde(default)]
    provider: Option<Sp<String>>,
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    self_operated: bool,
    #[serde(default)]
    services: Option<Vec<RawService>>,
    #[serde(default)]
    exposure: Option<RawExposure>,
    #[serde(default)]
    programs: Option<Vec<RawProgram>>,
    /// In a services file: the provider's scope list per program.
    #[serde(default)]
    compliance_scope: Option<BTreeMap<Sp<String>, Source>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    id: Sp<String>,
    name: String,
    framework: Sp<String>,
    #[serde(default)]
    level: Option<String>,
    description: String,
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    id: Sp<String>,
    name: String,
    description: String,
    #[serde(default)]
    hosting: bool,
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    id: Sp<String>,
    name: String,
    publisher: String,
    version: String,
    url: String,
    kind: FrameworkKind,
    #[serde(default)]
    license_note: Option<String>,
    #[serde(default)]
    id_scheme: IdScheme,
    #[serde(default)]
    attests: Option<Sp<String>>,
    #[serde(default)]
    replace: bool,
}

/// `AC-2` or `{id: AC-2, relation: subset}`. A visitor, not `#[serde(untagged)]`: untagged
/// enums buffer every value, and the built-in catalog holds over a thousand mappings.
enum RawMapping {
    Id(String),
    Full { id: String, relation: Relation },
}

impl<'de> Deserialize<'de> for RawMapping {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            id: String,
            #[serde(default)]
            relation: Relation,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMapping;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a requirement id or {id, relation}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawMapping, E> {
                Ok(RawMapping::Id(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawMapping, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawMapping::Full {
                    id: f.id,
                    relation: f.relation,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `customer_actionable: true` (every duty of the control), `false`, or a list of duties.
enum RawActionable {
    All(bool),
    Duties(Vec<Duty>),
}

impl<'de> Deserialize<'de> for RawActionable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawActionable;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false or a list of duties such as [configure]")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawActionable, E> {
                Ok(RawActionable::All(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawActionable, A::Error> {
                Vec::<Duty>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawActionable::Duties)
            }
        }
        d.deserialize_any(V)
    }
}

/// Where a control is carried out: per asset, or once for the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ControlScope {
    Asset,
    Organisation,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: Sp<String>,
    name: String,
    layer: Sp<String>,
    duties: Vec<Duty>,
    description: String,
    #[serde(default)]
    evidence: bool,
    /// `asset` (default) or `organisation`.
    #[serde(default)]
    scope: Option<ControlScope>,
    #[serde(default)]
    customer_actionable: Option<Sp<RawActionable>>,
    #[serde(default)]
    applies_to: Vec<Sp<String>>,
    #[serde(default)]
    mappings: BTreeMap<Sp<String>, Vec<Sp<RawMapping>>>,
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: Sp<String>,
    name: String,
    description: String,
    source: Source,
    layers: BTreeMap<Sp<String>, RawEntry>,
    #[serde(default)]
    controls: BTreeMap<Sp<String>, RawEntry>,
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: Sp<String>,
    name: String,
    model: Sp<String>,
    source: Source,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    layers: BTreeMap<Sp<String>, RawEntry>,
    #[serde(default)]
    controls: BTreeMap<Sp<String>, RawEntry>,
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    resource_types: BTreeMap<ResourceFormat, Vec<String>>,
    #[serde(default)]
    modes: Vec<RawMode>,
    #[serde(default)]
    programs: Vec<Sp<String>>,
}

/// A mode of a service: a setting that moves the split (Lambda zip vs container image).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMode {
    id: Sp<String>,
    name: String,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    layers: BTreeMap<Sp<String>, RawEntry>,
    #[serde(default)]
    controls: BTreeMap<Sp<String>, RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    id: Sp<String>,
    description: String,
    #[serde(default)]
    programs: Vec<Sp<String>>,
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExposure {
    #[serde(default)]
    production_envs: Vec<RawTerm>,
    #[serde(default)]
    regulated_data: Vec<RawTerm>,
    #[serde(default)]
    sensitive_data: Vec<RawTerm>,
}

// ---------------------------------------------------------------- places

/// A line and column in one of the builder's files (index into `CatalogBuilder::files`).
#[derive(Debug, Clone, Copy)]
struct At {
    file: usize,
    line: u32,
    column: u32,
}

/// One definition with where it was written.
struct Item<T> {
    value: T,
    id: String,
    at: At,
    replace: bool,
}

/// A service before cross-reference checks: the public form plus where its parts were written.
struct PendingService {
    service: Service,
    model_at: At,
    layers_at: BTreeMap<String, At>,
    controls_at: BTreeMap<String, At>,
    /// Catalog services need `<prefix>:<name>` ids; estate services are named by the estate.
    catalog: bool,
    /// An estate service without a source document cites its model's document.
    model_source: bool,
    /// Where each of `programs:` was written (empty for the validated built-in data).
    programs_at: Vec<(String, At)>,
    /// Where each `compliance_scope:` key of its file was written.
    scope_at: Vec<(String, At)>,
}

struct PendingModel {
    model: Model,
    layers_at: BTreeMap<String, At>,
    controls_at: BTreeMap<String, At>,
}

/// Builds a [`Catalog`] from the built-in data, overlay files and the estate's own services.
///
/// ```
/// use demarc_catalog::CatalogBuilder;
/// let overlay = "provider: acme-cloud\nprovider_name: Acme Cloud\nservices:\n  - id: acme:vm\n    name: Acme VM\n    model: iaas\n    source: {title: Acme SRM, url: https://acme.example/srm, checked: 2026-11-01}\n";
/// let cat = CatalogBuilder::new()
///     .builtin()
///     .overlay("overlays/acme.yaml".into(), overlay.into())
///     .build()
///     .unwrap();
/// assert!(cat.service("acme:vm").is_some());
/// ```
#[derive(Default)]
pub struct CatalogBuilder {
    files: Vec<(PathBuf, CatalogOrigin, Cow<'static, str>)>,
    /// The first files are the built-in ones, taken from the embedded, already validated
    /// catalog instead of being parsed again.
    seeded: usize,
    /// Estate files, after the catalog files in place numbering.
    estate_files: Vec<PathBuf>,
    estate_services: Vec<Item<PendingService>>,
}

impl CatalogBuilder {
    pub fn new() -> Self {
        CatalogBuilder::default()
    }

    /// Adds the built-in catalog. Its YAML was parsed and validated by `build.rs`; the
    /// builder starts from the embedded result (with where each definition was written), so
    /// only overlays and estate services are parsed, and everything is checked together.
    pub fn builtin(mut self) -> Self {
        if self.files.is_empty() {
            self.seeded = data::FILES.len();
        }
        for (name, text) in data::FILES {
            self.files.push((
                PathBuf::from(format!("<builtin>/{name}")),
                CatalogOrigin::Builtin,
                Cow::Borrowed(text),
            ));
        }
        self
    }

    /// Adds a file as if it were built in (for tests and for [`Catalog::from_files`]).
    pub fn builtin_file(mut self, name: PathBuf, text: String) -> Self {
        self.files
            .push((name, CatalogOrigin::Builtin, Cow::Owned(text)));
        self
    }

    /// Adds an overlay file. Its kind is recognised by its top-level key (`services`,
    /// `controls`, `models`, `layers`, `frameworks` or `exposure`), never by its name.
    pub fn overlay(mut self, name: PathBuf, text: String) -> Self {
        self.files
            .push((name.clone(), CatalogOrigin::Overlay(name), Cow::Owned(text)));
        self
    }

    /// Adds every `(path, text)` overlay in order, e.g. from [`load_overlay_dir`].
    pub fn overlays(self, files: Vec<(PathBuf, String)>) -> Self {
        files
            .into_iter()
            .fold(self, |b, (name, text)| b.overlay(name, text))
    }

    /// Adds the estate's own services (`services:` in the estate) as catalog services.
    /// `files` are the estate's files, which the services' locations index
    /// ([`demarc_model::Estate::files`]). Their origin is [`CatalogOrigin::Estate`]; the
    /// provider is their `provider:` (empty when none); a service without a `source:` document
    /// follows its generic model and cites the model's document.
    pub fn estate_services(
        mut self,
        services: &BTreeMap<String, Sp<CustomService>>,
        files: &[PathBuf],
    ) -> Self {
        let base = self.estate_files.len();
        self.estate_files.extend(files.iter().cloned());
        let at = |loc: demarc_model::Loc| At {
            // Relative to the estate files; shifted past the catalog files in `build`.
            file: base + loc.file as usize,
            line: loc.line,
            column: loc.column,
        };
        for (id, cs) in services {
            let file = files
                .get(cs.loc.file as usize)
                .cloned()
                .unwrap_or_else(|| PathBuf::from("<estate>"));
            let source = cs.source.as_ref().and_then(|s| s.document()).cloned();
            let notes = match &cs.source {
                Some(demarc_model::ServiceSource::Text(t)) => Some(t.clone()),
                _ => None,
            };
            let service = Service {
                id: id.clone(),
                name: cs.name.clone().unwrap_or_else(|| id.clone()),
                model: cs.model.value.clone(),
                // Replaced by the model's document at build time when there is none.
                source: source.clone().unwrap_or_else(placeholder_source),
                notes,
                layers: cs
                    .layers
                    .iter()
                    .map(|(k, e)| (k.value.clone(), Entry::from(e.clone())))
                    .collect(),
                controls: cs
                    .controls
                    .iter()
                    .map(|(k, e)| (k.value.clone(), Entry::from(e.clone())))
                    .collect(),
                provider: cs
                    .provider
                    .as_ref()
                    .map(|p| p.value.clone())
                    .unwrap_or_default(),
                origin: CatalogOrigin::Estate(file),
                resource_types: BTreeMap::new(),
                modes: Vec::new(),
                mode: None,
                programs: cs.programs.iter().map(|p| p.value.clone()).collect(),
                program_sources: BTreeMap::new(),
            };
            let pending = PendingService {
                programs_at: cs
                    .programs
                    .iter()
                    .map(|p| (p.value.clone(), at(p.loc)))
                    .collect(),
                scope_at: Vec::new(),
                layers_at: cs
                    .layers
                    .keys()
                    .map(|k| (k.value.clone(), at(k.loc)))
                    .collect(),
                controls_at: cs
                    .controls
                    .keys()
                    .map(|k| (k.value.clone(), at(k.loc)))
                    .collect(),
                model_at: at(cs.model.loc),
                service,
                catalog: false,
                model_source: source.is_none(),
            };
            self.estate_services.push(Item {
                value: pending,
                id: id.clone(),
                at: at(cs.loc),
                replace: false,
            });
        }
        self
    }

    /// Parses every file, merges the definitions and checks every cross-reference. All
    /// problems are returned together, each at `file:line:column` with a fix.
    pub fn build(self) -> Result<Catalog, Diagnostics> {
        self.build_located().map(|(c, _)| c)
    }

    /// [`CatalogBuilder::build`], also returning where each definition was written.
    pub(crate) fn build_located(self) -> Result<(Catalog, Vec<Located>), Diagnostics> {
        let mut b = Build {
            files: &self.files,
            estate_files: &self.estate_files,
            seeded: self.seeded,
            diags: Vec::new(),
            located: Vec::new(),
        };
        let c = b.run(self.estate_services)?;
        Ok((c, b.located))
    }
}

fn placeholder_source() -> Source {
    Source {
        title: String::new(),
        location: demarc_model::SourceLocation::Url(String::new()),
        checked: chrono::NaiveDate::MIN,
    }
}

struct Build<'a> {
    files: &'a [(PathBuf, CatalogOrigin, Cow<'static, str>)],
    estate_files: &'a [PathBuf],
    seeded: usize,
    diags: Vec<Diagnostic>,
    located: Vec<Located>,
}

fn at_of<T>(file: usize, sp: &Sp<T>) -> At {
    At {
        file,
        line: sp.loc.line,
        column: sp.loc.column,
    }
}

impl Build<'_> {
    fn place(&self, at: At) -> Place {
        let file = if at.file >= self.files.len() {
            self.estate_files
                .get(at.file - self.files.len())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("<estate>"))
        } else {
            self.files[at.file].0.clone()
        };
        Place {
            file,
            line: at.line,
            column: at.column,
        }
    }
    fn cite(&self, at: At) -> String {
        let p = self.place(at);
        format!("{}:{}:{}", p.file.display(), p.line, p.column)
    }
    fn error(&mut self, at: At, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::new(Some(self.place(at)), message).with_help(help);
        self.diags.push(d);
    }
    fn file_at(file: usize) -> At {
        At {
            file,
            line: 1,
            column: 1,
        }
    }

    fn parse(&mut self, file: usize) -> Option<RawFile> {
        let text: &str = &self.files[file].2;
        match serde_saphyr::from_str::<RawFile>(text) {
            Ok(f) => Some(f),
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| At {
                        file,
                        line: l.line() as u32,
                        column: l.column() as u32,
                    })
                    .unwrap_or(Self::file_at(file));
                let full = e.without_snippet().to_string();
                let first = full.lines().next().unwrap_or(&full).trim();
                let mut message = match first.find(" at line ") {
                    Some(i) => first[..i].to_string(),
                    None => first.to_string(),
                };
                if let Some((m, _)) = message.clone().split_once(", set DuplicateKeyPolicy") {
                    message = m.to_string();
                }
                let help = demarc_model::unknown_field_hint(&message).unwrap_or_else(|| {
                    "fix the YAML at this position; docs/catalog-format.md describes every file"
                        .to_string()
                });
                self.error(at, message, help);
                None
            }
        }
    }

    fn run(&mut self, estate_services: Vec<Item<PendingService>>) -> Result<Catalog, Diagnostics> {
        let mut duties: Option<Vec<DutyInfo>> = None;
        let mut layers: Vec<Item<Layer>> = Vec::new();
        let mut frameworks: Vec<Item<(Framework, Option<Sp<String>>)>> = Vec::new();
        let mut controls: Vec<Item<RawControl>> = Vec::new();
        let mut models: Vec<Item<PendingModel>> = Vec::new();
        let mut services: Vec<Item<PendingService>> = Vec::new();
        let mut terms: [Vec<Item<ExposureTerm>>; 3] = Default::default();
        let mut providers: BTreeMap<String, (String, At)> = BTreeMap::new();
        let mut self_operated = BTreeSet::new();
        let mut has_exposure = false;
        let mut programs: Vec<Item<(Program, At)>> = Vec::new();
        // Program ids named by exposure terms: (id, where, who names it).
        let mut term_programs: Vec<(String, At, String)> = Vec::new();

        if self.seeded > 0 {
            // The built-in data, validated at build time: its definitions, at the places
            // they were written, join the overlays' before the merge and the checks.
            let base = Catalog::builtin();
            let index: BTreeMap<&str, usize> = (0..self.seeded)
                .map(|i| {
                    let name = self.files[i].0.to_str().unwrap_or_default();
                    (name.strip_prefix("<builtin>/").unwrap_or(name), i)
                })
                .collect();
            let places: BTreeMap<(String, String), At> = crate::compact::builtin_locations()
                .into_iter()
                .map(|l| {
                    let at = At {
                        file: index.get(l.file.as_str()).copied().unwrap_or(0),
                        line: l.line,
                        column: l.column,
                    };
                    ((l.kind, l.id), at)
                })
                .collect();
            let at = |kind: &str, id: &str| {
                places
                    .get(&(kind.to_string(), id.to_string()))
                    .copied()
                    .unwrap_or(Self::file_at(0))
            };
            let sp = |value: &str, at: At| Sp {
                value: value.to_string(),
                loc: demarc_model::Loc {
                    file: at.file as u32,
                    line: at.line,
                    column: at.column,
                },
            };
            duties = Some(base.duties.clone());
            for l in &base.layers {
                layers.push(Item {
                    value: l.clone(),
                    id: l.id.clone(),
                    at: at("layer", &l.id),
                    replace: false,
                });
            }
            for f in &base.frameworks {
                let a = at("framework", &f.id);
                let attests = match &f.attests {
                    AttestScope::All => Some(sp("all", a)),
                    AttestScope::Framework(x) => Some(sp(x.as_str(), a)),
                    AttestScope::Own => None,
                };
                let mut f = f.clone();
                f.attests = AttestScope::Own;
                frameworks.push(Item {
                    id: f.id.clone(),
                    value: (f, attests),
                    at: a,
                    replace: false,
                });
            }
            for c in &base.controls {
                let a = at("control", &c.id);
                let raw = RawControl {
                    id: sp(&c.id, a),
                    name: c.name.clone(),
                    layer: sp(&c.layer, a),
                    duties: c.duties.clone(),
                    description: c.description.clone(),
                    evidence: c.evidence,
                    scope: Some(if c.organisation {
                        ControlScope::Organisation
                    } else {
                        ControlScope::Asset
                    }),
                    customer_actionable: Some(Sp {
                        value: RawActionable::Duties(c.customer_actionable.clone()),
                        loc: sp("", a).loc,
                    }),
                    applies_to: c.applies_to.iter().map(|m| sp(m, a)).collect(),
                    mappings: c
                        .mappings
                        .iter()
                        .map(|(fw, ms)| {
                            let list = ms
                                .iter()
                                .map(|m| Sp {
                                    value: RawMapping::Full {
                                        id: m.requirement.to_string(),
                                        relation: m.relation,
                                    },
                                    loc: sp("", a).loc,
                                })
                                .collect();
                            (sp(fw.as_str(), a), list)
                        })
                        .collect(),
                    replace: false,
                };
                controls.push(Item {
                    value: raw,
                    id: c.id.clone(),
                    at: a,
                    replace: false,
                });
            }
            for m in &base.models {
                models.push(Item {
                    value: PendingModel {
                        model: m.clone(),
                        layers_at: BTreeMap::new(),
                        controls_at: BTreeMap::new(),
                    },
                    id: m.id.clone(),
                    at: at("model", &m.id),
                    replace: false,
                });
            }
            for s in &base.services {
                let a = at("service", &s.id);
                services.push(Item {
                    value: PendingService {
                        service: s.clone(),
                        model_at: a,
                        layers_at: BTreeMap::new(),
                        controls_at: BTreeMap::new(),
                        catalog: true,
                        model_source: false,
                        programs_at: Vec::new(),
                        scope_at: Vec::new(),
                    },
                    id: s.id.clone(),
                    at: a,
                    replace: false,
                });
            }
            for p in base.programs() {
                let a = at("program", &p.id);
                programs.push(Item {
                    value: (p.clone(), a),
                    id: p.id.clone(),
                    at: a,
                    replace: false,
                });
            }
            for (p, name) in &base.providers {
                providers.insert(p.clone(), (name.clone(), at("provider", p)));
                if base.is_self_operated(p) {
                    self_operated.insert(p.clone());
                }
            }
            let x = base.exposure();
            for (slot, (kind, list)) in terms.iter_mut().zip([
                (TERM_KINDS[0], &x.production_envs),
                (TERM_KINDS[1], &x.regulated_data),
                (TERM_KINDS[2], &x.sensitive_data),
            ]) {
                for t in list {
                    slot.push(Item {
                        value: t.clone(),
                        id: t.id.clone(),
                        at: at(kind, &t.id),
                        replace: false,
                    });
                }
            }
            has_exposure = true;
        }

        for file in self.seeded..self.files.len() {
            let Some(raw) = self.parse(file) else {
                continue;
            };
            let overlay = self.files[file].1 != CatalogOrigin::Builtin;
            let kinds: Vec<&str> = [
                ("duties", raw.duties.is_some()),
                ("layers", raw.layers.is_some()),
                ("frameworks", raw.frameworks.is_some()),
                ("controls", raw.controls.is_some()),
                ("models", raw.models.is_some()),
                ("services", raw.services.is_some()),
                ("exposure", raw.exposure.is_some()),
                ("programs", raw.programs.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(k, _)| k)
            .collect();
            let help_kinds = "a catalog file has one top-level list: `services` (with `provider` and \
                 `provider_name`), `controls`, `models`, `layers`, `frameworks`, `programs` or `exposure`";
            if kinds.len() != 1 {
                let message = if kinds.is_empty() {
                    "this file defines nothing the catalog knows".to_string()
                } else {
                    format!("this file mixes {}", kinds.join(" and "))
                };
                self.error(Self::file_at(file), message, help_kinds);
                continue;
            }
            if let Some(v) = &raw.version
                && v.value != 1
            {
                self.error(
                    at_of(file, v),
                    format!("unsupported catalog file version {}", v.value),
                    "write `version: 1`",
                );
            }
            if raw.services.is_none()
                && (raw.provider.is_some() || raw.provider_name.is_some() || raw.self_operated)
            {
                self.error(
                    Self::file_at(file),
                    "`provider`, `provider_name` and `self_operated` belong to a services file",
                    help_kinds,
                );
            }
            if raw.services.is_none() && raw.compliance_scope.is_some() {
                self.error(
                    Self::file_at(file),
                    "`compliance_scope` belongs to a services file",
                    "give the provider's scope lists in the file that lists its services",
                );
            }
            for p in raw.programs.into_iter().flatten() {
                let fw_at = at_of(file, &p.framework);
                programs.push(Item {
                    id: p.id.value.clone(),
                    at: at_of(file, &p.id),
                    replace: p.replace,
                    value: (
                        Program {
                            id: p.id.value,
                            name: p.name,
                            framework: p.framework.value,
                            level: p.level,
                            description: p.description,
                        },
                        fw_at,
                    ),
                });
            }
            if let Some(d) = raw.duties {
                if overlay {
                    self.error(
                        Self::file_at(file),
                        "an overlay cannot define duties",
                        "the five duties are fixed: configure, patch, monitor, respond, audit",
                    );
                } else {
                    duties = Some(d);
                }
            }
            for l in raw.layers.into_iter().flatten() {
                layers.push(Item {
                    id: l.id.value.clone(),
                    at: at_of(file, &l.id),
                    replace: l.replace,
                    value: Layer {
                        id: l.id.value,
                        name: l.name,
                        description: l.description,
                        hosting: l.hosting,
                    },
                });
            }
            for f in raw.frameworks.into_iter().flatten() {
                frameworks.push(Item {
                    id: f.id.value.clone(),
                    at: at_of(file, &f.id),
                    replace: f.replace,
                    value: (
                        Framework {
                            id: f.id.value,
                            name: f.name,
                            publisher: f.publisher,
                            version: f.version,
                            url: f.url,
                            kind: f.kind,
                            license_note: f.license_note,
                            id_scheme: f.id_scheme,
                            attests: AttestScope::Own,
                        },
                        f.attests,
                    ),
                });
            }
            for c in raw.controls.into_iter().flatten() {
                controls.push(Item {
                    id: c.id.value.clone(),
                    at: at_of(file, &c.id),
                    replace: c.replace,
                    value: c,
                });
            }
            for m in raw.models.into_iter().flatten() {
                let keys = |map: &BTreeMap<Sp<String>, RawEntry>| -> BTreeMap<String, At> {
                    map.keys()
                        .map(|k| (k.value.clone(), at_of(file, k)))
                        .collect()
                };
                models.push(Item {
                    id: m.id.value.clone(),
                    at: at_of(file, &m.id),
                    replace: m.replace,
                    value: PendingModel {
                        layers_at: keys(&m.layers),
                        controls_at: keys(&m.controls),
                        model: Model {
                            id: m.id.value,
                            name: m.name,
                            description: m.description,
                            source: m.source,
                            layers: unspan(m.layers),
                            controls: unspan(m.controls),
                        },
                    },
                });
            }
            if let Some(list) = raw.services {
                let (Some(provider), Some(provider_name)) = (raw.provider, raw.provider_name)
                else {
                    self.error(
                        Self::file_at(file),
                        "a services file needs `provider` and `provider_name`",
                        "add e.g. `provider: acme` and `provider_name: Acme Cloud` at the top",
                    );
                    continue;
                };
                let pat = at_of(file, &provider);
                match providers.get(&provider.value) {
                    Some((name, first)) if *name != provider_name => {
                        let first = self.cite(*first);
                        self.error(
                            pat,
                            format!(
                                "provider `{}` is named `{provider_name}` here but `{name}` at {first}",
                                provider.value
                            ),
                            "use the same `provider_name` in every file of a provider",
                        );
                    }
                    Some(_) => {}
                    None => {
                        providers.insert(provider.value.clone(), (provider_name, pat));
                    }
                }
                if raw.self_operated {
                    self_operated.insert(provider.value.clone());
                }
                let scope = raw.compliance_scope.unwrap_or_default();
                let scope_at: Vec<(String, At)> = scope
                    .keys()
                    .map(|k| (k.value.clone(), at_of(file, k)))
                    .collect();
                let program_sources: BTreeMap<String, Source> =
                    scope.into_iter().map(|(k, v)| (k.value, v)).collect();
                for mut s in list {
                    let keys = |map: &BTreeMap<Sp<String>, RawEntry>| -> BTreeMap<String, At> {
                        map.keys()
                            .map(|k| (k.value.clone(), at_of(file, k)))
                            .collect()
                    };
                    // The default mode's entries are the service's own: an asset that selects
                    // no mode gets the provider's default.
                    let defaults: Vec<&RawMode> = s.modes.iter().filter(|m| m.default).collect();
                    if defaults.len() > 1 {
                        self.error(
                            at_of(file, &defaults[1].id),
                            format!("service `{}` has two default modes", s.id.value),
                            "mark exactly one mode `default: true` (the provider's default)",
                        );
                    }
                    if !s.modes.is_empty() && defaults.is_empty() {
                        self.error(
                            at_of(file, &s.id),
                            format!("service `{}` has modes but none is the default", s.id.value),
                            "mark the provider's default mode with `default: true`",
                        );
                    }
                    let mut base_layers = keys(&s.layers);
                    let mut base_controls = keys(&s.controls);
                    if let Some(d) = s.modes.iter().find(|m| m.default) {
                        for (k, e) in &d.layers {
                            base_layers.insert(k.value.clone(), at_of(file, k));
                            s.layers.insert(k.clone(), e.clone());
                        }
                        for (k, e) in &d.controls {
                            base_controls.insert(k.value.clone(), at_of(file, k));
                            s.controls.insert(k.clone(), e.clone());
                        }
                    }
                    let modes: Vec<ServiceMode> = s
                        .modes
                        .iter()
                        .map(|m| ServiceMode {
                            id: m.id.value.clone(),
                            name: m.name.clone(),
                            default: m.default,
                            notes: m.notes.clone(),
                        })
                        .collect();
                    let base = Service {
                        id: s.id.value.clone(),
                        name: s.name.clone(),
                        model: s.model.value.clone(),
                        source: s.source.clone(),
                        notes: s.notes.clone(),
                        layers: unspan(s.layers.clone()),
                        controls: unspan(s.controls.clone()),
                        provider: provider.value.clone(),
                        origin: self.files[file].1.clone(),
                        resource_types: s.resource_types.clone(),
                        modes,
                        mode: None,
                        programs: s.programs.iter().map(|p| p.value.clone()).collect(),
                        program_sources: program_sources.clone(),
                    };
                    let programs_at: Vec<(String, At)> = s
                        .programs
                        .iter()
                        .map(|p| (p.value.clone(), at_of(file, p)))
                        .collect();
                    for m in &s.modes {
                        if !is_kebab(&m.id.value) {
                            self.error(
                                at_of(file, &m.id),
                                format!("mode id `{}` is not lowercase kebab-case", m.id.value),
                                "write it like `container-image`",
                            );
                        }
                        let mut variant = base.clone();
                        variant.id = format!("{}#{}", s.id.value, m.id.value);
                        variant.name = format!("{} ({})", s.name, m.name);
                        variant.resource_types = BTreeMap::new();
                        variant.modes = Vec::new();
                        variant.mode = Some(m.id.value.clone());
                        let mut layers_at = base_layers.clone();
                        let mut controls_at = base_controls.clone();
                        for (k, e) in &m.layers {
                            layers_at.insert(k.value.clone(), at_of(file, k));
                            variant.layers.insert(k.value.clone(), e.0.clone());
                        }
                        for (k, e) in &m.controls {
                            controls_at.insert(k.value.clone(), at_of(file, k));
                            variant.controls.insert(k.value.clone(), e.0.clone());
                        }
                        services.push(Item {
                            id: variant.id.clone(),
                            at: at_of(file, &m.id),
                            replace: s.replace,
                            value: PendingService {
                                model_at: at_of(file, &s.model),
                                layers_at,
                                controls_at,
                                catalog: true,
                                model_source: false,
                                // Checked once, on the service itself.
                                programs_at: Vec::new(),
                                scope_at: Vec::new(),
                                service: variant,
                            },
                        });
                    }
                    services.push(Item {
                        id: s.id.value.clone(),
                        at: at_of(file, &s.id),
                        replace: s.replace,
                        value: PendingService {
                            model_at: at_of(file, &s.model),
                            layers_at: base_layers,
                            controls_at: base_controls,
                            catalog: true,
                            model_source: false,
                            programs_at,
                            scope_at: scope_at.clone(),
                            service: base,
                        },
                    });
                }
            }
            if let Some(x) = raw.exposure {
                has_exposure = true;
                let lists = [x.production_envs, x.regulated_data, x.sensitive_data];
                for (slot, list) in terms.iter_mut().zip(lists) {
                    for t in list {
                        for p in &t.programs {
                            term_programs.push((
                                p.value.clone(),
                                at_of(file, p),
                                format!("data class `{}`", t.id.value),
                            ));
                        }
                        slot.push(Item {
                            id: t.id.value.clone(),
                            at: at_of(file, &t.id),
                            replace: t.replace,
                            value: ExposureTerm {
                                id: t.id.value,
                                description: t.description,
                                programs: t.programs.into_iter().map(|p| p.value).collect(),
                            },
                        });
                    }
                }
            }
        }

        // A file that does not parse would make every reference to its ids look wrong too.
        if !self.diags.is_empty() {
            return Err(Diagnostics(std::mem::take(&mut self.diags)));
        }

        // Merge: a second definition of an id is an error unless it says `replace: true`.
        let layers = self.merge("layer", layers);
        let frameworks = self.merge("framework", frameworks);
        let raw_controls = self.merge("control", controls);
        let models = self.merge("model", models);
        let mut services = self.merge("service", services);
        let programs = self.merge("program", programs);
        let [envs, regulated, sensitive] = terms;
        let [envs, regulated, sensitive] = [
            self.merge(TERM_KINDS[0], envs),
            self.merge(TERM_KINDS[1], regulated),
            self.merge(TERM_KINDS[2], sensitive),
        ];
        let mut located = Vec::new();
        let mut locate =
            |kind: &str, id: &str, at: At| located.push((kind.to_string(), id.to_string(), at));
        for i in &layers {
            locate("layer", &i.id, i.at);
        }
        for i in &frameworks {
            locate("framework", &i.id, i.at);
        }
        for i in &raw_controls {
            locate("control", &i.id, i.at);
        }
        for i in &models {
            locate("model", &i.id, i.at);
        }
        for i in &services {
            locate("service", &i.id, i.at);
        }
        for (p, (_, at)) in &providers {
            locate("provider", p, *at);
        }
        for i in &programs {
            locate("program", &i.id, i.at);
        }
        for (kind, list) in TERM_KINDS.iter().zip([&envs, &regulated, &sensitive]) {
            for i in list {
                locate(kind, &i.id, i.at);
            }
        }
        self.located = located
            .into_iter()
            .map(|(kind, id, at)| Located {
                kind,
                id,
                file: self.files.get(at.file).map_or_else(String::new, |f| {
                    let name = f.0.to_string_lossy();
                    name.strip_prefix("<builtin>/").unwrap_or(&name).to_string()
                }),
                line: at.line,
                column: at.column,
            })
            .collect();
        let exposure = Exposure {
            production_envs: envs.into_iter().map(|i| i.value).collect(),
            regulated_data: regulated.into_iter().map(|i| i.value).collect(),
            sensitive_data: sensitive.into_iter().map(|i| i.value).collect(),
        };

        // Estate services come last and may not redefine a catalog service.
        let catalog_services: BTreeMap<String, At> =
            services.iter().map(|i| (i.id.clone(), i.at)).collect();
        for mut item in estate_services {
            let shift = |at: &mut At| at.file += self.files.len();
            shift(&mut item.at);
            shift(&mut item.value.model_at);
            item.value.layers_at.values_mut().for_each(shift);
            item.value.controls_at.values_mut().for_each(shift);
            item.value
                .programs_at
                .iter_mut()
                .for_each(|(_, at)| shift(at));
            if let Some(first) = catalog_services.get(&item.id) {
                let first = self.cite(*first);
                self.error(
                    item.at,
                    format!(
                        "estate service `{}` is already a catalog service ({first})",
                        item.id
                    ),
                    "use the catalog service as it is, or give the estate's service another id",
                );
                continue;
            }
            let needs_model_source = item.value.model_source;
            let s = &item.value.service;
            if needs_model_source && (!s.layers.is_empty() || !s.controls.is_empty()) {
                self.error(
                    item.at,
                    format!(
                        "estate service `{}` has its own `layers:`/`controls:` entries but no source document",
                        item.id
                    ),
                    "add `source: {title: ..., url: https://..., checked: YYYY-MM-DD}` (or `file:` with `sha256:`) naming the document the entries follow",
                );
            }
            if needs_model_source {
                item.value.service.source = models
                    .iter()
                    .find(|m| m.id == item.value.service.model)
                    .map(|m| m.value.model.source.clone())
                    .unwrap_or_else(placeholder_source);
            }
            services.push(item);
        }

        let file0 = Self::file_at(0);
        if self.files.is_empty() {
            self.diags.push(
                Diagnostic::new(None, "the catalog has no files")
                    .with_help("start from `CatalogBuilder::new().builtin()`"),
            );
        }
        for (what, missing) in [
            ("duties.yaml (`duties:`)", duties.is_none()),
            ("layers (`layers:`)", layers.is_empty()),
            ("frameworks (`frameworks:`)", frameworks.is_empty()),
            ("controls (`controls:`)", raw_controls.is_empty()),
            ("models (`models:`)", models.is_empty()),
            ("exposure.yaml (`exposure:`)", !has_exposure),
        ] {
            if missing && !self.files.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Some(self.place(file0)),
                        format!("catalog is missing {what}"),
                    )
                    .with_help("the built-in catalog files define it; start from `.builtin()`"),
                );
            }
        }

        // Frameworks: resolve `attests:`.
        let fw_ids: BTreeSet<String> = frameworks.iter().map(|f| f.id.clone()).collect();
        let mapping_fw: BTreeMap<String, IdScheme> = frameworks
            .iter()
            .filter(|f| f.value.0.kind != FrameworkKind::Attestation)
            .map(|f| (f.id.clone(), f.value.0.id_scheme))
            .collect();
        let mut fw_out = Vec::new();
        for item in frameworks {
            let (mut f, attests) = item.value;
            if let Some(a) = attests {
                let at = at_of(item.at.file, &a);
                if f.kind == FrameworkKind::Mapping {
                    self.error(at, format!("framework `{}` is a mapping framework; only an attestation framework `attests:`", f.id), "remove `attests:` or set `kind: attestation` or `both`");
                } else if a.value == "all" {
                    f.attests = AttestScope::All;
                } else if mapping_fw.contains_key(&a.value) {
                    f.attests = AttestScope::Framework(FrameworkId::new(&a.value));
                } else {
                    let (m, h) = demarc_model::unknown(
                        "mapping framework",
                        &a.value,
                        mapping_fw.keys().map(String::as_str).chain(["all"]),
                    );
                    self.error(at, format!("framework `{}` attests {m}", f.id), h);
                }
            }
            fw_out.push(f);
        }

        let layer_ids: Vec<&str> = layers.iter().map(|l| l.id.as_str()).collect();
        let model_ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        let control_ids: Vec<&str> = raw_controls.iter().map(|c| c.id.as_str()).collect();
        let mut unknown_diags: Vec<(At, String, String)> = Vec::new();
        fn unknown(
            out: &mut Vec<(At, String, String)>,
            at: At,
            what: &str,
            wrong: &str,
            valid: &[&str],
            who: &str,
        ) {
            let (m, h) = demarc_model::unknown(what, wrong, valid.iter().copied());
            out.push((at, format!("{who} names {m}"), h));
        }

        // Controls: layers, models, mappings normalised by their framework's scheme.
        let mut controls = Vec::new();
        for item in &raw_controls {
            let c = &item.value;
            let file = item.at.file;
            let who = format!("control `{}`", c.id.value);
            if !layer_ids.contains(&c.layer.as_str()) {
                unknown(
                    &mut unknown_diags,
                    at_of(file, &c.layer),
                    "layer",
                    &c.layer,
                    &layer_ids,
                    &who,
                );
            }
            for m in &c.applies_to {
                if !model_ids.contains(&m.as_str()) {
                    unknown(
                        &mut unknown_diags,
                        at_of(file, m),
                        "model",
                        m,
                        &model_ids,
                        &who,
                    );
                }
            }
            let mut mappings = BTreeMap::new();
            for (fw, list) in &c.mappings {
                let Some(scheme) = mapping_fw.get(&fw.value) else {
                    let valid: Vec<&str> = mapping_fw.keys().map(String::as_str).collect();
                    let what = if fw_ids.contains(&fw.value) {
                        "framework (an attestation-only framework has no mappings)"
                    } else {
                        "mapping framework"
                    };
                    unknown(&mut unknown_diags, at_of(file, fw), what, fw, &valid, &who);
                    continue;
                };
                let mut out: Vec<Mapping> = Vec::with_capacity(list.len());
                for m in list {
                    let (id, relation) = match &m.value {
                        RawMapping::Id(id) => (id, Relation::default()),
                        RawMapping::Full { id, relation } => (id, *relation),
                    };
                    match scheme.normalise(id) {
                        Ok(requirement) => {
                            if out.iter().any(|o| o.requirement == requirement) {
                                unknown_diags.push((at_of(file, m), format!("{who} maps to {} `{requirement}` twice", fw.value), "list each requirement once".into()));
                            } else {
                                out.push(Mapping { requirement, relation });
                            }
                        }
                        Err(e) => unknown_diags.push((
                            at_of(file, m),
                            format!("{who}: {e}"),
                            "fix the requirement id; docs/catalog-format.md shows the accepted forms".into(),
                        )),
                    }
                }
                mappings.insert(FrameworkId::new(&fw.value), out);
            }
            let customer_actionable = match c.customer_actionable.as_ref().map(|a| (&a.value, a)) {
                None | Some((RawActionable::All(false), _)) => Vec::new(),
                Some((RawActionable::All(true), _)) => c.duties.clone(),
                Some((RawActionable::Duties(ds), sp)) => {
                    for d in ds {
                        if !c.duties.contains(d) {
                            unknown_diags.push((
                                at_of(file, sp),
                                format!("{who}: `customer_actionable` names duty `{d}`, which the control does not have"),
                                format!("list only the control's duties: {}", c.duties.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
                            ));
                        }
                    }
                    ds.clone()
                }
            };
            if c.duties.is_empty() {
                unknown_diags.push((
                    item.at,
                    format!("{who} has no duties"),
                    "list the duties that apply, e.g. `duties: [configure, monitor]`".into(),
                ));
            }
            controls.push(Control {
                id: c.id.value.clone(),
                name: c.name.clone(),
                layer: c.layer.value.clone(),
                duties: c.duties.clone(),
                description: c.description.clone(),
                evidence: c.evidence,
                organisation: c.scope == Some(ControlScope::Organisation),
                customer_actionable,
                applies_to: c.applies_to.iter().map(|m| m.value.clone()).collect(),
                mappings,
            });
        }

        // Entries of models and services: known keys, texts for what each side does.
        let control_duties: BTreeMap<&str, &Vec<Duty>> = raw_controls
            .iter()
            .map(|c| (c.id.as_str(), &c.value.duties))
            .collect();
        let check_entries = |who: &str,
                             entries: &BTreeMap<String, Entry>,
                             places: &BTreeMap<String, At>,
                             fallback: At,
                             is_layer: bool,
                             strict: bool,
                             out: &mut Vec<(At, String, String)>| {
            for (k, e) in entries {
                let at = places.get(k).copied().unwrap_or(fallback);
                let (what, valid) = if is_layer {
                    ("layer", &layer_ids)
                } else {
                    ("control", &control_ids)
                };
                if !valid.contains(&k.as_str()) {
                    let (m, h) = demarc_model::unknown(what, k, valid.iter().copied());
                    out.push((at, format!("{who} names {m}"), h));
                }
                if is_layer && let Some(f) = e.feature {
                    out.push((
                        at,
                        format!("{who}: layer `{k}` has `feature: {f}`"),
                        "facts describe one control's feature: write them under `controls:`, and give the layer an `owner:`".into(),
                    ));
                }
                let duties = if is_layer {
                    None
                } else {
                    control_duties.get(k.as_str()).map(|d| d.as_slice())
                };
                if strict && let Err(p) = e.check_texts(duties) {
                    out.push((
                        at,
                        format!("{who}: entry `{k}` {p}"),
                        "say in one line what that side does".into(),
                    ));
                }
            }
        };
        for m in &models {
            let who = format!("model `{}`", m.id);
            let p = &m.value;
            check_entries(
                &who,
                &p.model.layers,
                &p.layers_at,
                m.at,
                true,
                false,
                &mut unknown_diags,
            );
            check_entries(
                &who,
                &p.model.controls,
                &p.controls_at,
                m.at,
                false,
                true,
                &mut unknown_diags,
            );
        }
        for s in &services {
            let p = &s.value;
            let who = format!("service `{}`", s.id);
            if !model_ids.contains(&p.service.model.as_str()) {
                let (m, h) =
                    demarc_model::unknown("model", &p.service.model, model_ids.iter().copied());
                unknown_diags.push((p.model_at, format!("{who} names {m}"), h));
            }
            let base_id = s.id.split_once('#').map_or(s.id.as_str(), |(b, _)| b);
            if p.catalog && !is_service_id(base_id) {
                unknown_diags.push((
                    s.at,
                    format!("{who}: id must be `<prefix>:<name>`, lowercase kebab-case"),
                    "write it like `aws:ec2` or `acme:payments`".into(),
                ));
            }
            check_entries(
                &who,
                &p.service.layers,
                &p.layers_at,
                s.at,
                true,
                true,
                &mut unknown_diags,
            );
            check_entries(
                &who,
                &p.service.controls,
                &p.controls_at,
                s.at,
                false,
                true,
                &mut unknown_diags,
            );
        }
        // Programs: their frameworks; the programs services, scope lists and data classes name.
        let program_ids: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
        for p in &programs {
            let (prog, fw_at) = &p.value;
            if !fw_ids.contains(&prog.framework) {
                let valid: Vec<&str> = fw_ids.iter().map(String::as_str).collect();
                unknown(
                    &mut unknown_diags,
                    *fw_at,
                    "framework",
                    &prog.framework,
                    &valid,
                    &format!("program `{}`", prog.id),
                );
            }
        }
        // One file's block is shared by its services: report each key once.
        let mut seen_scope_keys = BTreeSet::new();
        for s in &services {
            let who = format!("service `{}`", s.id);
            for (id, at) in &s.value.programs_at {
                if !program_ids.contains(&id.as_str()) {
                    unknown(&mut unknown_diags, *at, "program", id, &program_ids, &who);
                }
            }
            for (id, at) in &s.value.scope_at {
                if seen_scope_keys.insert((at.file, at.line, at.column))
                    && !program_ids.contains(&id.as_str())
                {
                    unknown(
                        &mut unknown_diags,
                        *at,
                        "program",
                        id,
                        &program_ids,
                        "`compliance_scope`",
                    );
                }
            }
        }
        for (id, at, who) in &term_programs {
            if !program_ids.contains(&id.as_str()) {
                unknown(&mut unknown_diags, *at, "program", id, &program_ids, who);
            }
        }
        for (at, m, h) in unknown_diags {
            self.error(at, m, h);
        }

        if !self.diags.is_empty() {
            return Err(Diagnostics(std::mem::take(&mut self.diags)));
        }

        let mut layers_out: Vec<Layer> = layers.into_iter().map(|i| i.value).collect();
        layers_out.dedup_by(|a, b| a.id == b.id);
        let hosting_layers = layers_out
            .iter()
            .filter(|l| l.hosting)
            .map(|l| LayerId::new(&l.id))
            .collect();
        let mut models: Vec<Model> = models.into_iter().map(|i| i.value.model).collect();
        let mut services: Vec<Service> = services.into_iter().map(|i| i.value.service).collect();
        controls.sort_by(|a, b| a.id.cmp(&b.id));
        models.sort_by(|a, b| a.id.cmp(&b.id));
        services.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog::assemble(
            duties.unwrap_or_default(),
            layers_out,
            fw_out,
            controls,
            models,
            services,
            providers.into_iter().map(|(k, (n, _))| (k, n)).collect(),
            hosting_layers,
            exposure,
            self_operated,
            programs.into_iter().map(|i| i.value.0).collect(),
        ))
    }

    /// Keeps the first definition of each id, in order, and applies `replace: true` ones.
    fn merge<T>(&mut self, what: &str, items: Vec<Item<T>>) -> Vec<Item<T>> {
        let mut out: Vec<Item<T>> = Vec::with_capacity(items.len());
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for item in items {
            let builtin = item.at.file < self.files.len()
                && self.files[item.at.file].1 == CatalogOrigin::Builtin;
            match index.get(&item.id) {
                Some(&i) if item.replace && !builtin => out[i] = item,
                Some(&i) => {
                    let first = self.cite(out[i].at);
                    self.error(
                        item.at,
                        format!("{what} `{}` is already defined at {first}", item.id),
                        "give it another id, or write `replace: true` on this entry to replace the earlier definition",
                    );
                }
                None if item.replace => {
                    let help = if builtin {
                        "`replace: true` is for overlays; remove it"
                    } else {
                        "remove `replace: true` to add a new entry, or fix the id"
                    };
                    self.error(
                        item.at,
                        format!(
                            "{what} `{}` says `replace: true` but no earlier definition exists",
                            item.id
                        ),
                        help,
                    );
                }
                None => {
                    index.insert(item.id.clone(), out.len());
                    out.push(item);
                }
            }
        }
        out
    }
}

/// The exposure lists, as their definitions are named in messages and locations.
const TERM_KINDS: [&str; 3] = [
    "production environment",
    "regulated data class",
    "sensitive data class",
];

fn unspan(map: BTreeMap<Sp<String>, RawEntry>) -> BTreeMap<String, Entry> {
    map.into_iter().map(|(k, v)| (k.value, v.0)).collect()
}

/// `<prefix>:<name>`, lowercase kebab-case on both sides.
fn is_service_id(id: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    id.split_once(':').is_some_and(|(p, n)| ok(p) && ok(n))
}

/// Reads every `*.yaml`/`*.yml` regular file under `dir` (recursively, sorted by path) for
/// [`CatalogBuilder::overlays`]. Symlinks and other non-regular files are refused, as are
/// files over [`MAX_OVERLAY_BYTES`] and files that are not UTF-8.
pub fn load_overlay_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, Diagnostics> {
    let place0 = |p: &Path| Place {
        file: p.to_path_buf(),
        line: 0,
        column: 0,
    };
    let io = |p: &Path, e: std::io::Error| -> Diagnostics {
        Diagnostic::new(Some(place0(p)), format!("cannot read: {e}"))
            .with_help("check the path and its permissions")
            .into()
    };
    let meta = std::fs::symlink_metadata(dir).map_err(|e| io(dir, e))?;
    if !meta.is_dir() {
        return Err(Diagnostic::new(Some(place0(dir)), "not a directory")
            .with_help("pass the directory that holds the overlay files")
            .into());
    }
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut problems = Vec::new();
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| io(&d, e))?;
        for e in entries {
            let e = e.map_err(|e| io(&d, e))?;
            let path = e.path();
            let ft = e.file_type().map_err(|e| io(&path, e))?;
            let yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
            if ft.is_dir() {
                stack.push(path);
            } else if !yaml {
                continue;
            } else if !ft.is_file() {
                problems.push(
                    Diagnostic::new(
                        Some(place0(&path)),
                        "not a regular file (a symlink, device or pipe)",
                    )
                    .with_help("copy the overlay into the directory as a regular file"),
                );
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    let mut out = Vec::with_capacity(found.len());
    for path in found {
        let len = std::fs::metadata(&path).map_err(|e| io(&path, e))?.len();
        if len > MAX_OVERLAY_BYTES {
            problems.push(
                Diagnostic::new(
                    Some(place0(&path)),
                    format!("file is {len} bytes; the limit for an overlay is {MAX_OVERLAY_BYTES}"),
                )
                .with_help("split the overlay into several files"),
            );
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        match String::from_utf8(bytes) {
            Ok(text) => out.push((path, text)),
            Err(e) => problems.push(
                Diagnostic::new(
                    Some(place0(&path)),
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
                .with_help("save the file as UTF-8"),
            ),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(problems))
    }
}

/// Lowercase kebab-case: `container-image`.
fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The catalog an estate is resolved with: built-in data, then the overlay directories
/// (`extra` first, as `--catalog` gives them, then the estate's `settings.catalog`, relative to
/// the file that names them), then the services the estate defines itself. Without any, the
/// shared built-in catalog. The CLI and the server open estates through this one function, so
/// both resolve the same estate with the same catalog.
pub fn for_estate(
    estate: &demarc_model::Estate,
    extra: &[PathBuf],
) -> Result<std::sync::Arc<crate::Catalog>, Diagnostics> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    for d in &estate.settings.catalog {
        let base = estate
            .source(d.loc)
            .and_then(|f| f.path().parent())
            .unwrap_or(Path::new("."));
        dirs.push(base.join(&d.value));
    }
    if dirs.is_empty() && estate.services.is_empty() {
        return Ok(crate::Catalog::builtin_shared());
    }
    let mut builder = CatalogBuilder::new().builtin();
    for d in &dirs {
        builder = builder.overlays(load_overlay_dir(d)?);
    }
    let catalog = builder
        .estate_services(
            &estate.services,
            &estate.files().map(Path::to_path_buf).collect::<Vec<_>>(),
        )
        .build()?;
    Ok(std::sync::Arc::new(catalog))
}
