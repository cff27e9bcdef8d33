//! The built-in catalog: the five duties, the layers of the stack, the controls (with IDs in
//! NIST SP 800-53, ISO 27001, SOC 2, PCI DSS, HIPAA and CIS v8) and the service models that say,
//! per layer and control, where the provider's responsibility ends and the customer's begins.
//!
//! The catalog is data (`data/*.yaml`, embedded at build time); every service names the public
//! provider document it follows. [`Catalog::responsibility`] answers "who owns this duty of this
//! control on this service, according to the provider", most specific entry first.
//!
//! ```
//! use demarc_catalog::{Catalog, Owner};
//! use demarc_model::Duty;
//! let cat = Catalog::builtin();
//! let ec2 = cat.service("aws:ec2").unwrap();
//! let found = cat.responsibility(&ec2.model, Some(ec2), "os-patching", Duty::Patch).unwrap();
//! assert_eq!(found.owner, Owner::Customer);
//! ```

mod data;
mod types;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use types::*;

use demarc_model::{Duty, Vocabulary};

/// The whole catalog, indexed for lookup.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub duties: Vec<DutyInfo>,
    pub layers: Vec<Layer>,
    pub frameworks: Vec<Framework>,
    pub controls: Vec<Control>,
    pub models: Vec<Model>,
    pub services: Vec<Service>,
    /// Provider id → display name, from the service files.
    pub providers: BTreeMap<String, String>,
    control_index: BTreeMap<String, usize>,
    model_index: BTreeMap<String, usize>,
    service_index: BTreeMap<String, usize>,
}

/// Which catalog entry decided a responsibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryLevel {
    ServiceControl,
    ServiceLayer,
    ModelControl,
    ModelLayer,
}

impl EntryLevel {
    pub fn describe(self) -> &'static str {
        match self {
            EntryLevel::ServiceControl => "service entry for this control",
            EntryLevel::ServiceLayer => "service entry for this layer",
            EntryLevel::ModelControl => "generic model entry for this control",
            EntryLevel::ModelLayer => "generic model entry for this layer",
        }
    }
    /// True when a named service's own entry decided, false for the generic model.
    pub fn is_service_specific(self) -> bool {
        matches!(self, EntryLevel::ServiceControl | EntryLevel::ServiceLayer)
    }
}

/// The catalog's answer for one control and duty on one service.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    pub owner: Owner,
    pub entry: &'a Entry,
    pub level: EntryLevel,
    /// The document behind the entry (the service's, or the model's for a generic answer).
    pub source: &'a Source,
}

impl Catalog {
    /// The catalog embedded in this binary. Its data is checked by the crate's tests, so a
    /// failure here means a release was built from a tree whose tests failed.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::from_files(data::FILES).unwrap_or_else(|e| {
                panic!("the embedded catalog is invalid (run the catalog tests): {e}")
            })
        })
    }

    /// The embedded catalog, shared: what an engine resolution holds when no overlay is used.
    pub fn builtin_shared() -> std::sync::Arc<Catalog> {
        static SHARED: OnceLock<std::sync::Arc<Catalog>> = OnceLock::new();
        SHARED
            .get_or_init(|| std::sync::Arc::new(Catalog::builtin().clone()))
            .clone()
    }

    /// Builds a catalog from `(file name, YAML text)` pairs and checks every cross-reference.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Catalog, String> {
        let mut duties = None;
        let mut layers = None;
        let mut frameworks = None;
        let mut controls = None;
        let mut models = None;
        let mut services = Vec::new();
        let mut providers = BTreeMap::new();
        for (name, text) in files {
            let err =
                |e: serde_saphyr::Error| format!("catalog file {name}: {}", e.without_snippet());
            match *name {
                "duties.yaml" => {
                    duties = Some(
                        serde_saphyr::from_str::<DutiesFile>(text)
                            .map_err(err)?
                            .duties,
                    )
                }
                "layers.yaml" => {
                    layers = Some(
                        serde_saphyr::from_str::<LayersFile>(text)
                            .map_err(err)?
                            .layers,
                    )
                }
                "frameworks.yaml" => {
                    frameworks = Some(
                        serde_saphyr::from_str::<FrameworksFile>(text)
                            .map_err(err)?
                            .frameworks,
                    )
                }
                "controls.yaml" => {
                    controls = Some(
                        serde_saphyr::from_str::<ControlsFile>(text)
                            .map_err(err)?
                            .controls,
                    )
                }
                "models.yaml" => {
                    models = Some(
                        serde_saphyr::from_str::<ModelsFile>(text)
                            .map_err(err)?
                            .models,
                    )
                }
                n if n.starts_with("services/") => {
                    let f: ServicesFile = serde_saphyr::from_str(text).map_err(err)?;
                    if let Some(old) = providers.insert(f.provider.clone(), f.provider_name.clone())
                        && old != f.provider_name
                    {
                        return Err(format!(
                            "{name}: provider `{}` is named differently in two files",
                            f.provider
                        ));
                    }
                    for mut s in f.services {
                        s.provider = f.provider.clone();
                        services.push(s);
                    }
                }
                other => return Err(format!("unexpected catalog file {other}")),
            }
        }
        let missing = |what: &str| format!("catalog is missing {what}");
        let mut controls = controls.ok_or_else(|| missing("controls.yaml"))?;
        let mut models = models.ok_or_else(|| missing("models.yaml"))?;
        controls.sort_by(|a, b| a.id.cmp(&b.id));
        models.sort_by(|a, b| a.id.cmp(&b.id));
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let index = |ids: Vec<&String>| -> Result<BTreeMap<String, usize>, String> {
            let mut m = BTreeMap::new();
            for (i, id) in ids.into_iter().enumerate() {
                if m.insert(id.clone(), i).is_some() {
                    return Err(format!("catalog id `{id}` is defined twice"));
                }
            }
            Ok(m)
        };
        let cat = Catalog {
            control_index: index(controls.iter().map(|c| &c.id).collect())?,
            model_index: index(models.iter().map(|m| &m.id).collect())?,
            service_index: index(services.iter().map(|s| &s.id).collect())?,
            duties: duties.ok_or_else(|| missing("duties.yaml"))?,
            layers: layers.ok_or_else(|| missing("layers.yaml"))?,
            frameworks: frameworks.ok_or_else(|| missing("frameworks.yaml"))?,
            controls,
            models,
            services,
            providers,
        };
        cat.check()?;
        Ok(cat)
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.control_index.get(id).map(|&i| &self.controls[i])
    }
    pub fn control_position(&self, id: &str) -> Option<usize> {
        self.control_index.get(id).copied()
    }
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.model_index.get(id).map(|&i| &self.models[i])
    }
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.service_index.get(id).map(|&i| &self.services[i])
    }
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.id == id)
    }
    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.id == id)
    }
    pub fn duty(&self, duty: Duty) -> Option<&DutyInfo> {
        self.duties.iter().find(|d| d.id == duty)
    }

    /// Who the provider's documentation makes responsible for `duty` of `control` on a service
    /// of model `model_id` (refined by `service` when it is a named catalog service). Most
    /// specific entry first: service control → service layer → model control → model layer.
    /// `None` when the control's layer does not apply to the model (e.g. endpoints on IaaS).
    pub fn responsibility<'a>(
        &'a self,
        model_id: &str,
        service: Option<&'a Service>,
        control_id: &str,
        duty: Duty,
    ) -> Option<Found<'a>> {
        let control = self.control(control_id)?;
        let model = self.model(model_id)?;
        // Applicability is the model's: a layer it leaves out has no cells on this service,
        // and a control limited to some models (e.g. database engine patching) needs one of them,
        // unless the named service speaks to the control itself.
        model.layers.get(&control.layer)?;
        let named = service.is_some_and(|s| s.controls.contains_key(control_id));
        if !control.applies_to.is_empty() && !named && !control.applies_to.contains(&model.id) {
            return None;
        }
        let pick = |entry: &'a Entry, level, source| Found {
            owner: entry.owner_for(duty),
            entry,
            level,
            source,
        };
        if let Some(s) = service {
            if let Some(e) = s.controls.get(control_id) {
                return Some(pick(e, EntryLevel::ServiceControl, &s.source));
            }
            if let Some(e) = s.layers.get(&control.layer) {
                return Some(pick(e, EntryLevel::ServiceLayer, &s.source));
            }
        }
        if let Some(e) = model.controls.get(control_id) {
            return Some(pick(e, EntryLevel::ModelControl, &model.source));
        }
        let e = model.layers.get(&control.layer)?;
        Some(pick(e, EntryLevel::ModelLayer, &model.source))
    }

    /// Cross-reference and completeness checks on the data itself.
    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let layer_ok = |l: &str| self.layers.iter().any(|x| x.id == l);
        let mapping_fw: Vec<&str> = self
            .frameworks
            .iter()
            .filter(|f| f.kind != FrameworkKind::Attestation)
            .map(|f| f.id.as_str())
            .collect();
        for c in &self.controls {
            if !layer_ok(&c.layer) {
                problems.push(format!(
                    "control `{}` names unknown layer `{}`",
                    c.id, c.layer
                ));
            }
            for m in &c.applies_to {
                if self.model(m).is_none() {
                    problems.push(format!("control `{}` applies to unknown model `{m}`", c.id));
                }
            }
            if c.duties.is_empty() {
                problems.push(format!("control `{}` has no duties", c.id));
            }
            for fw in c.mappings.keys() {
                if !mapping_fw.contains(&fw.as_str()) {
                    problems.push(format!(
                        "control `{}` maps to unknown framework `{fw}`",
                        c.id
                    ));
                }
            }
        }
        let check_entries = |problems: &mut Vec<String>,
                             owner: &str,
                             entries: &BTreeMap<String, Entry>,
                             is_layer: bool,
                             strict: bool| {
            for (k, e) in entries {
                if is_layer && !layer_ok(k) {
                    problems.push(format!("{owner}: unknown layer `{k}`"));
                }
                if !is_layer && self.control(k).is_none() {
                    problems.push(format!("{owner}: unknown control `{k}`"));
                }
                if strict && let Err(p) = e.check_texts() {
                    problems.push(format!("{owner}: entry `{k}`: {p}"));
                }
            }
        };
        for m in &self.models {
            check_entries(
                &mut problems,
                &format!("model `{}`", m.id),
                &m.layers,
                true,
                false,
            );
            check_entries(
                &mut problems,
                &format!("model `{}`", m.id),
                &m.controls,
                false,
                true,
            );
        }
        for s in &self.services {
            let who = format!("service `{}`", s.id);
            if self.model(&s.model).is_none() {
                problems.push(format!("{who}: unknown model `{}`", s.model));
            }
            if !s.source.url.starts_with("https://") {
                problems.push(format!("{who}: source url must be https"));
            }
            if !s.id.contains(':') {
                problems.push(format!("{who}: id must be `<prefix>:<name>`"));
            }
            check_entries(&mut problems, &who, &s.layers, true, true);
            check_entries(&mut problems, &who, &s.controls, false, true);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

impl Vocabulary for Catalog {
    fn control_ids(&self) -> Vec<&str> {
        self.controls.iter().map(|c| c.id.as_str()).collect()
    }
    fn service_ids(&self) -> Vec<&str> {
        self.services.iter().map(|s| s.id.as_str()).collect()
    }
    fn model_ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect()
    }
    fn layer_ids(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.id.as_str()).collect()
    }
    fn framework_ids(&self) -> Vec<&str> {
        self.frameworks.iter().map(|f| f.id.as_str()).collect()
    }
    fn provider_ids(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }
}
