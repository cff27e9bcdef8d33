//! Reads OSCAL catalogs and resolves OSCAL profiles (baselines) against them.
//!
//! Only what demarc needs is read: controls and enhancements with their labels, titles,
//! statement parts and parameters; a profile's imports (`include-all`, `include-controls`
//! with `with-ids`, `matching` and `with-child-controls`, `exclude-controls`), and its
//! `set-parameters`. Profile resolution follows the OSCAL profile resolution specification for
//! control selection; `merge` and `alters` do not change which controls a baseline holds, so
//! they are read but not applied.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

/// An error reading or resolving OSCAL content: what went wrong, where, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscalError {
    /// The document (file name or embedded name).
    pub document: String,
    /// Where in it: `line:column` for syntax errors, a JSON path for structural ones.
    pub at: String,
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for OscalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.document)?;
        if !self.at.is_empty() {
            write!(f, " ({})", self.at)?;
        }
        write!(f, ": {}; {}", self.message, self.help)
    }
}

impl std::error::Error for OscalError {}

fn json_error(document: &str, e: &serde_json::Error, what: &str) -> OscalError {
    OscalError {
        document: document.to_string(),
        at: format!("line {}, column {}", e.line(), e.column()),
        message: format!("not a readable OSCAL {what}: {e}"),
        help: format!(
            "check that the file is complete OSCAL JSON with a top-level `{what}` object"
        ),
    }
}

// ------------------------------------------------------------------------- raw JSON shapes

#[derive(Deserialize)]
struct CatalogDoc {
    catalog: RawCatalog,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawCatalog {
    uuid: String,
    metadata: RawMetadata,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    controls: Vec<RawControl>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMetadata {
    title: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    oscal_version: Option<String>,
}

#[derive(Deserialize)]
struct RawGroup {
    #[serde(default)]
    id: Option<String>,
    title: String,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    controls: Vec<RawControl>,
}

#[derive(Deserialize)]
struct RawProp {
    name: String,
    value: String,
    #[serde(default)]
    class: Option<String>,
}

#[derive(Deserialize)]
struct RawParam {
    id: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    select: Option<RawSelect>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawSelect {
    #[serde(default)]
    how_many: Option<String>,
    #[serde(default)]
    choice: Vec<String>,
}

#[derive(Deserialize)]
struct RawPart {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    props: Vec<RawProp>,
    #[serde(default)]
    prose: Option<String>,
    #[serde(default)]
    parts: Vec<RawPart>,
}

#[derive(Deserialize)]
struct RawControl {
    id: String,
    title: String,
    #[serde(default)]
    params: Vec<RawParam>,
    #[serde(default)]
    props: Vec<RawProp>,
    #[serde(default)]
    parts: Vec<RawPart>,
    #[serde(default)]
    controls: Vec<RawControl>,
}

#[derive(Deserialize)]
struct ProfileDoc {
    profile: RawProfile,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawProfile {
    uuid: String,
    metadata: RawMetadata,
    imports: Vec<RawImport>,
    #[serde(default)]
    modify: Option<RawModify>,
    #[serde(default)]
    back_matter: Option<RawBackMatter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawImport {
    href: String,
    #[serde(default)]
    include_all: Option<serde_json::Value>,
    #[serde(default)]
    include_controls: Vec<RawSelectControls>,
    #[serde(default)]
    exclude_controls: Vec<RawSelectControls>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawSelectControls {
    #[serde(default)]
    with_child_controls: Option<String>,
    #[serde(default)]
    with_ids: Vec<String>,
    #[serde(default)]
    matching: Vec<RawMatching>,
}

#[derive(Deserialize)]
struct RawMatching {
    pattern: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawModify {
    #[serde(default)]
    set_parameters: Vec<RawSetParameter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawSetParameter {
    param_id: String,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    constraints: Vec<RawConstraint>,
}

#[derive(Deserialize)]
struct RawConstraint {
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawBackMatter {
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    uuid: String,
    #[serde(default)]
    rlinks: Vec<RawRlink>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRlink {
    href: String,
    #[serde(default)]
    media_type: Option<String>,
}

// ------------------------------------------------------------------------- the catalog

/// Where a catalog or profile came from and which edition it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocInfo {
    pub name: String,
    pub uuid: String,
    pub title: String,
    pub version: Option<String>,
    pub last_modified: Option<String>,
    pub oscal_version: Option<String>,
}

impl DocInfo {
    fn new(name: &str, uuid: String, m: RawMetadata) -> DocInfo {
        DocInfo {
            name: name.to_string(),
            uuid,
            title: m.title,
            version: m.version,
            last_modified: m.last_modified,
            oscal_version: m.oscal_version,
        }
    }
}

/// One statement part (`ac-2_smt.a`), with its prose and nested items flattened in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// OSCAL id, e.g. `ac-2_smt.a.1`.
    pub id: String,
    /// As printed in the standard: `a.`, `1.`.
    pub label: String,
    /// Prose with parameter insertions left as `{{ insert: param, id }}`; see
    /// [`OscalCatalog::render`].
    pub prose: String,
    /// Nesting depth below the statement (1 for `a.`, 2 for `a.1.`).
    pub depth: u8,
}

/// A parameter of a control, as the catalog defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub id: String,
    pub label: Option<String>,
    pub choices: Vec<String>,
    pub how_many: Option<String>,
}

/// A control or control enhancement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscalControl {
    /// OSCAL id: `ac-2`, `ac-2.1`.
    pub id: String,
    /// `AC-2`, `AC-2(1)`.
    pub label: String,
    pub title: String,
    /// The group (family) id: `ac`.
    pub family: String,
    /// The parent control for an enhancement.
    pub parent: Option<String>,
    /// `withdrawn` controls stay listed (so references to them resolve) but are skipped by
    /// baselines and coverage.
    pub withdrawn: bool,
    /// The statement prose (text before the lettered items), if any.
    pub statement: String,
    pub parts: Vec<Part>,
    pub params: Vec<Param>,
}

/// A parsed OSCAL catalog: controls in catalog order, with an index by id.
#[derive(Debug, Clone)]
pub struct OscalCatalog {
    pub info: DocInfo,
    /// Family id → family title, in order.
    pub families: Vec<(String, String)>,
    pub controls: Vec<OscalControl>,
    index: BTreeMap<String, usize>,
    params: BTreeMap<String, (usize, usize)>,
}

/// The value of a property: the one without a `class` first (SP 800-53 5.2 labels controls
/// `AC-2` plainly and `AC-02` with classes `zero-padded` and `sp800-53a`).
fn prop<'a>(props: &'a [RawProp], name: &str) -> Option<&'a str> {
    props
        .iter()
        .filter(|p| p.name == name)
        .min_by_key(|p| p.class.is_some())
        .map(|p| p.value.as_str())
}

fn flatten_parts(parts: &[RawPart], depth: u8, out: &mut Vec<Part>) {
    for p in parts.iter().filter(|p| p.name == "item") {
        out.push(Part {
            id: p.id.clone().unwrap_or_default(),
            label: prop(&p.props, "label").unwrap_or_default().to_string(),
            prose: p.prose.clone().unwrap_or_default(),
            depth,
        });
        flatten_parts(&p.parts, depth.saturating_add(1), out);
    }
}

impl OscalCatalog {
    /// Parses an OSCAL catalog (JSON). `name` is used in error messages.
    pub fn parse(name: &str, json: &str) -> Result<OscalCatalog, OscalError> {
        let doc: CatalogDoc =
            serde_json::from_str(json).map_err(|e| json_error(name, &e, "catalog"))?;
        let raw = doc.catalog;
        let mut cat = OscalCatalog {
            info: DocInfo::new(name, raw.uuid, raw.metadata),
            families: Vec::new(),
            controls: Vec::new(),
            index: BTreeMap::new(),
            params: BTreeMap::new(),
        };
        fn add(cat: &mut OscalCatalog, family: &str, parent: Option<&str>, c: &RawControl) {
            let mut parts = Vec::new();
            let mut statement = String::new();
            for p in c.parts.iter().filter(|p| p.name == "statement") {
                statement = p.prose.clone().unwrap_or_default();
                flatten_parts(&p.parts, 1, &mut parts);
            }
            let label = prop(&c.props, "label")
                .map(str::to_string)
                .unwrap_or_else(|| demarc_catalog::nist_800_53_label(&c.id));
            let params = c
                .params
                .iter()
                .map(|p| Param {
                    id: p.id.clone(),
                    label: p.label.clone(),
                    choices: p
                        .select
                        .as_ref()
                        .map(|s| s.choice.clone())
                        .unwrap_or_default(),
                    how_many: p.select.as_ref().and_then(|s| s.how_many.clone()),
                })
                .collect::<Vec<_>>();
            let ix = cat.controls.len();
            for (k, p) in params.iter().enumerate() {
                cat.params.insert(p.id.clone(), (ix, k));
            }
            cat.controls.push(OscalControl {
                id: c.id.clone(),
                label,
                title: c.title.clone(),
                family: family.to_string(),
                parent: parent.map(str::to_string),
                withdrawn: prop(&c.props, "status")
                    .is_some_and(|s| s.eq_ignore_ascii_case("withdrawn")),
                statement,
                parts,
                params,
            });
            // The first definition wins; a duplicate id would be a broken catalog, and the
            // index must not point at a later copy silently.
            cat.index.entry(c.id.clone()).or_insert(ix);
            for e in &c.controls {
                add(cat, family, Some(&c.id), e);
            }
        }
        fn walk(cat: &mut OscalCatalog, g: &RawGroup) {
            let family = g.id.clone().unwrap_or_default();
            cat.families.push((family.clone(), g.title.clone()));
            for c in &g.controls {
                add(cat, &family, None, c);
            }
            for sub in &g.groups {
                walk(cat, sub);
            }
        }
        for g in &raw.groups {
            walk(&mut cat, g);
        }
        for c in &raw.controls {
            add(&mut cat, "", None, c);
        }
        if cat.controls.is_empty() {
            return Err(OscalError {
                document: name.to_string(),
                at: "catalog".into(),
                message: "the catalog holds no controls".into(),
                help: "give a catalog with `groups[].controls` or `controls`".into(),
            });
        }
        Ok(cat)
    }

    pub fn control(&self, id: &str) -> Option<&OscalControl> {
        self.index.get(id).map(|&i| &self.controls[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The controls that are not withdrawn.
    pub fn active(&self) -> impl Iterator<Item = &OscalControl> {
        self.controls.iter().filter(|c| !c.withdrawn)
    }

    /// Replaces `{{ insert: param, id }}` in `prose` with the baseline's value for the
    /// parameter when it sets one, else `[Assignment: label]` or `[Selection: a; b]`.
    pub fn render(&self, prose: &str, values: &BTreeMap<String, String>) -> String {
        let mut out = String::with_capacity(prose.len());
        let mut rest = prose;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let inner = rest[start + 2..start + end].trim();
            let id = inner
                .strip_prefix("insert:")
                .and_then(|s| s.trim().strip_prefix("param,"))
                .map(str::trim);
            match id {
                Some(id) => out.push_str(&self.param_text(id, values)),
                None => out.push_str(&rest[start..start + end + 2]),
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn param_text(&self, id: &str, values: &BTreeMap<String, String>) -> String {
        if let Some(v) = values.get(id) {
            return v.clone();
        }
        let Some(&(c, k)) = self.params.get(id) else {
            return format!("[Assignment: {id}]");
        };
        let p = &self.controls[c].params[k];
        if !p.choices.is_empty() {
            let lead = match p.how_many.as_deref() {
                Some("one-or-more") => "Selection (one or more)",
                _ => "Selection",
            };
            let choices: Vec<String> = p.choices.iter().map(|ch| self.render(ch, values)).collect();
            return format!("[{lead}: {}]", choices.join("; "));
        }
        let label = p.label.as_deref().unwrap_or(id);
        if label.starts_with("organization-defined") || label.starts_with("organisation-defined") {
            format!("[Assignment: {label}]")
        } else {
            format!("[Assignment: organization-defined {label}]")
        }
    }
}

// ------------------------------------------------------------------------- profiles

/// What a profile's import points at, once its `href` is followed.
pub enum Imported<'a> {
    Catalog(&'a OscalCatalog),
    /// Another profile's JSON, resolved recursively.
    Profile {
        name: String,
        json: String,
    },
}

/// A resolved profile: the selected control ids in catalog order, and the parameter values
/// the profile sets.
#[derive(Debug, Clone)]
pub struct ResolvedProfile {
    pub info: DocInfo,
    /// The catalog the selection was made from.
    pub catalog: String,
    /// Selected control and enhancement ids, in catalog order, without duplicates.
    pub controls: Vec<String>,
    /// Parameter id → the value text a baseline sets (values joined, else constraints).
    pub params: BTreeMap<String, String>,
    /// Ids the profile names that the catalog does not hold (kept so a report can say so; an
    /// older catalog edition can lack a control a newer profile selects).
    pub unknown_ids: Vec<String>,
}

/// The file name an href ends in, without fragment or query: what a resolver looks up.
pub fn href_file_name(href: &str) -> &str {
    let h = href.split(['#', '?']).next().unwrap_or(href);
    h.rsplit(['/', '\\']).next().unwrap_or(h)
}

/// Resolves `json` (an OSCAL profile) with `lookup`, which maps an import's file name to a
/// catalog or profile. Cycles and chains deeper than 8 profiles are errors.
pub fn resolve_profile<'c>(
    name: &str,
    json: &str,
    lookup: &dyn Fn(&str) -> Option<Imported<'c>>,
) -> Result<ResolvedProfile, OscalError> {
    let mut seen = Vec::new();
    resolve_inner(name, json, lookup, &mut seen)
}

fn resolve_inner<'c>(
    name: &str,
    json: &str,
    lookup: &dyn Fn(&str) -> Option<Imported<'c>>,
    seen: &mut Vec<String>,
) -> Result<ResolvedProfile, OscalError> {
    let err = |at: String, message: String, help: &str| OscalError {
        document: name.to_string(),
        at,
        message,
        help: help.to_string(),
    };
    if seen.iter().any(|s| s == name) {
        return Err(err(
            "imports".into(),
            format!("profile import cycle: {} → {name}", seen.join(" → ")),
            "a profile may not import itself, directly or through others",
        ));
    }
    if seen.len() >= 8 {
        return Err(err(
            "imports".into(),
            "profiles import each other more than 8 deep".into(),
            "flatten the chain of profiles",
        ));
    }
    seen.push(name.to_string());
    let doc: ProfileDoc =
        serde_json::from_str(json).map_err(|e| json_error(name, &e, "profile"))?;
    let raw = doc.profile;
    if raw.imports.is_empty() {
        return Err(err(
            "profile.imports".into(),
            "the profile imports nothing".into(),
            "a profile needs at least one import of a catalog or profile",
        ));
    }
    let mut selected: Vec<String> = Vec::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut unknown_ids = Vec::new();
    let mut catalog_name = String::new();
    let mut order_by: Option<&'c OscalCatalog> = None;
    let mut params = BTreeMap::new();
    for (i, imp) in raw.imports.iter().enumerate() {
        let at = format!("profile.imports[{i}].href");
        let hrefs: Vec<String> = match imp.href.strip_prefix('#') {
            Some(uuid) => {
                let res = raw
                    .back_matter
                    .as_ref()
                    .and_then(|b| b.resources.iter().find(|r| r.uuid == uuid))
                    .ok_or_else(|| {
                        err(
                            at.clone(),
                            format!("`{}` names no back-matter resource", imp.href),
                            "add a back-matter resource with that uuid and an rlink to the catalog",
                        )
                    })?;
                // Prefer the JSON rendition of the imported document.
                let mut links: Vec<&RawRlink> = res.rlinks.iter().collect();
                links.sort_by_key(|l| {
                    let json = l.media_type.as_deref().is_some_and(|m| m.contains("json"))
                        || l.href.ends_with(".json");
                    !json
                });
                links.iter().map(|l| l.href.clone()).collect()
            }
            None => vec![imp.href.clone()],
        };
        let target = hrefs
            .iter()
            .find_map(|h| lookup(href_file_name(h)).map(|t| (h, t)));
        let Some((_, target)) = target else {
            return Err(err(
                at,
                format!(
                    "cannot find the imported document ({})",
                    if hrefs.is_empty() {
                        imp.href.clone()
                    } else {
                        hrefs.join(", ")
                    }
                ),
                "demarc looks the import up by file name among the catalogs it ships and those given with --oscal-dir",
            ));
        };
        // The pool of controls this import selects from: a catalog's active controls, or the
        // selection of an imported profile.
        let (cat, pool): (Option<&OscalCatalog>, Vec<String>) = match target {
            Imported::Catalog(c) => {
                catalog_name = c.info.name.clone();
                order_by = Some(c);
                (Some(c), c.active().map(|c| c.id.clone()).collect())
            }
            Imported::Profile { name: n, json: j } => {
                let sub = resolve_inner(&n, &j, lookup, seen)?;
                catalog_name = sub.catalog.clone();
                params.extend(sub.params.clone());
                (None, sub.controls)
            }
        };
        let pool_set: HashSet<&str> = pool.iter().map(String::as_str).collect();
        let children = |id: &str, out: &mut Vec<String>| {
            let prefix = format!("{id}.");
            out.extend(pool.iter().filter(|p| p.starts_with(&prefix)).cloned());
        };
        let select = |sel: &[RawSelectControls], what: &str| -> Result<Vec<String>, OscalError> {
            let mut out = Vec::new();
            for (k, s) in sel.iter().enumerate() {
                for id in &s.with_ids {
                    out.push(id.clone());
                    if s.with_child_controls.as_deref() == Some("yes") {
                        children(id, &mut out);
                    }
                }
                for m in &s.matching {
                    let g = globset::Glob::new(&m.pattern).map_err(|e| {
                        err(
                            format!("profile.imports[{i}].{what}[{k}].matching"),
                            format!("`{}` is not a valid pattern: {e}", m.pattern),
                            "use a glob such as `ac-*`",
                        )
                    })?;
                    let g = g.compile_matcher();
                    for p in &pool {
                        if g.is_match(p) {
                            out.push(p.clone());
                            if s.with_child_controls.as_deref() == Some("yes") {
                                children(p, &mut out);
                            }
                        }
                    }
                }
            }
            Ok(out)
        };
        let mut included = if imp.include_all.is_some() || imp.include_controls.is_empty() {
            pool.clone()
        } else {
            select(&imp.include_controls, "include-controls")?
        };
        let excluded: HashSet<String> = select(&imp.exclude_controls, "exclude-controls")?
            .into_iter()
            .collect();
        included.retain(|id| !excluded.contains(id));
        for id in included {
            if !pool_set.contains(id.as_str()) {
                // A withdrawn control named by id is not an unknown id: it is skipped.
                let withdrawn = cat
                    .and_then(|c| c.control(&id))
                    .is_some_and(|c| c.withdrawn);
                if !withdrawn && !unknown_ids.contains(&id) {
                    unknown_ids.push(id);
                }
                continue;
            }
            if seen_ids.insert(id.clone()) {
                selected.push(id);
            }
        }
    }
    // Catalog order, as the specification's `as-is` merge keeps it (an imported profile's
    // selection is already in its catalog's order).
    if let Some(c) = order_by {
        selected.sort_by_key(|id| c.index.get(id).copied().unwrap_or(usize::MAX));
    }
    if let Some(m) = &raw.modify {
        for sp in &m.set_parameters {
            let text = if !sp.values.is_empty() {
                sp.values.join(", ")
            } else {
                sp.constraints
                    .iter()
                    .filter_map(|c| c.description.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            if !text.is_empty() {
                params.insert(sp.param_id.clone(), text);
            }
        }
    }
    seen.pop();
    Ok(ResolvedProfile {
        info: DocInfo::new(name, raw.uuid, raw.metadata),
        catalog: catalog_name,
        controls: selected,
        params,
        unknown_ids,
    })
}
