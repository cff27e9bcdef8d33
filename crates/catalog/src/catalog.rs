//! The catalog: its data, indexes and the responsibility lookup.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use demarc_model::{Duty, Owner, Source, Vocabulary};

use crate::builder::CatalogBuilder;
use crate::entry::{Decision, Entry};
use crate::ids::{IdScheme, LayerId, Mapping, Relation};
use crate::types::*;

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
    hosting_layers: Vec<LayerId>,
    exposure: Exposure,
    self_operated: BTreeSet<String>,
    programs: Vec<Program>,
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
    /// What in the entry decided the owner: `owner:`, a `duties:` exception or the facts.
    pub decision: Decision,
    /// Set when the deciding layer entry said otherwise for a duty the customer can always act
    /// on: what the layer said (provider or shared). The owner is then the customer.
    pub layer_said: Option<Owner>,
    /// True when the named service's layer entry says provider for a customer-actionable duty
    /// and was therefore passed over for the generic model.
    pub passed_over_service_layer: bool,
}

impl Found<'_> {
    /// Why the entry gives this owner, in words, beyond its level: the facts, an explicit
    /// duty exception, or the layer rule for customer-actionable controls. Empty when the
    /// entry's `owner:` decided as written.
    pub fn why(&self) -> String {
        let mut parts = Vec::new();
        match self.decision {
            Decision::Facts(f) => parts.push(format!("feature {}: {}", f.label(), f.describe())),
            Decision::Duty => parts.push("explicit owner for this duty".to_string()),
            Decision::Owner => {}
        }
        if self.passed_over_service_layer {
            parts.push(
                "the service's layer entry says provider, but a layer alone does not decide a control the customer can act on"
                    .to_string(),
            );
        }
        if let Some(o) = self.layer_said {
            parts.push(format!(
                "the layer says {}, but the customer can act on this control and no entry for the control gives the provider a part",
                o.as_str()
            ));
        }
        parts.join("; ")
    }
}

impl Catalog {
    /// The catalog embedded in this binary. `build.rs` parsed and validated its YAML with
    /// [`CatalogBuilder`] (an invalid file fails the build at its `file:line:column`) and
    /// embedded the result in a compact form, so this only deserialises it.
    pub fn builtin() -> &'static Catalog {
        // One copy, shared with `builtin_shared`: the static `Arc` is never dropped.
        Self::shared_static()
    }

    /// The one embedded catalog, validated at build time (build.rs) and only deserialised here.
    fn shared_static() -> &'static std::sync::Arc<Catalog> {
        static SHARED: OnceLock<std::sync::Arc<Catalog>> = OnceLock::new();
        SHARED.get_or_init(|| std::sync::Arc::new(crate::compact::builtin_catalog()))
    }

    /// The providers whose files say `self_operated: true`.
    #[allow(dead_code)] // used by build.rs
    pub(crate) fn self_operated_providers(&self) -> &BTreeSet<String> {
        &self.self_operated
    }

    /// The embedded catalog, shared: what an engine resolution holds when no overlay is used.
    pub fn builtin_shared() -> std::sync::Arc<Catalog> {
        Self::shared_static().clone()
    }

    /// Builds a catalog from `(file name, YAML text)` pairs treated as built-in files, and
    /// checks every cross-reference. Each file's kind comes from its top-level key. Use
    /// [`CatalogBuilder`] for overlays and located [`demarc_model::Diagnostics`].
    pub fn from_files(files: &[(&str, &str)]) -> Result<Catalog, String> {
        files
            .iter()
            .fold(CatalogBuilder::new(), |b, (name, text)| {
                b.builtin_file(PathBuf::from(name), text.to_string())
            })
            .build()
            .map_err(|e| e.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        duties: Vec<DutyInfo>,
        layers: Vec<Layer>,
        frameworks: Vec<Framework>,
        controls: Vec<Control>,
        models: Vec<Model>,
        services: Vec<Service>,
        providers: BTreeMap<String, String>,
        hosting_layers: Vec<LayerId>,
        exposure: Exposure,
        self_operated: BTreeSet<String>,
        programs: Vec<Program>,
    ) -> Catalog {
        let index = |ids: Vec<&String>| -> BTreeMap<String, usize> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect()
        };
        Catalog {
            control_index: index(controls.iter().map(|c| &c.id).collect()),
            model_index: index(models.iter().map(|m| &m.id).collect()),
            service_index: index(services.iter().map(|s| &s.id).collect()),
            duties,
            layers,
            frameworks,
            controls,
            models,
            services,
            providers,
            hosting_layers,
            exposure,
            self_operated,
            programs,
        }
    }

    /// The compliance programs providers publish scope lists for (`programs.yaml`).
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// The program with this id.
    pub fn program(&self, id: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.id == id)
    }

    /// Whether `service` is in its provider's scope for `program`: [`ProgramScope::In`] when
    /// the provider's scope list (its file's `compliance_scope:`) names it,
    /// [`ProgramScope::Out`] when the provider has a list for the program and the service is
    /// not on it, [`ProgramScope::Unknown`] when the catalog has no list for the program from
    /// the service's provider (or does not know the service). A mode (`<service>#<mode>`)
    /// answers like its service.
    ///
    /// ```
    /// use demarc_catalog::{Catalog, ProgramScope};
    /// let cat = Catalog::builtin();
    /// assert_eq!(cat.program_scope("no:such-service", "hipaa"), ProgramScope::Unknown);
    /// ```
    pub fn program_scope(&self, service: &str, program: &str) -> ProgramScope<'_> {
        let s = self.service(service).or_else(|| {
            service
                .split_once('#')
                .and_then(|(base, _)| self.service(base))
        });
        let Some(s) = s else {
            return ProgramScope::Unknown;
        };
        match s.program_sources.get(program) {
            None => ProgramScope::Unknown,
            Some(src) if s.programs.iter().any(|p| p == program) => ProgramScope::In(src),
            Some(src) => ProgramScope::Out(src),
        }
    }

    /// The programs a service holding `data_class` must be in scope for (`programs:` of the
    /// data class in exposure.yaml; empty for a class that names none or is unknown).
    pub fn programs_for_data(&self, data_class: &str) -> &[String] {
        self.exposure
            .regulated_data
            .iter()
            .chain(&self.exposure.sensitive_data)
            .find(|t| t.id == data_class)
            .map_or(&[], |t| t.programs.as_slice())
    }

    /// What an attestation against `framework` covers: every control (`attests: all`), the
    /// controls mapped to another framework (`attests: nist-800-53` for FedRAMP), or the
    /// controls mapped to the framework itself ([`AttestScope::Own`], also for unknown ids).
    pub fn attested_controls(&self, framework: &str) -> AttestScope {
        self.framework(framework)
            .map(|f| f.attests.clone())
            .unwrap_or(AttestScope::Own)
    }

    /// True when an attestation against `framework` covers `control`.
    pub fn attests(&self, framework: &str, control: &Control) -> bool {
        match self.attested_controls(framework) {
            AttestScope::All => true,
            AttestScope::Framework(f) => control.maps_to(f.as_str()),
            AttestScope::Own => control.maps_to(framework),
        }
    }

    /// A mapping as people write it: `SI-2(2)` for NIST's `si-2.2`, followed by its relation
    /// unless it is the default: `SI-2(2) (subset)`.
    pub fn mapping_label(&self, framework: &str, mapping: &Mapping) -> String {
        let scheme = self
            .framework(framework)
            .map_or(IdScheme::AsWritten, |f| f.id_scheme);
        let id = scheme.label(&mapping.requirement);
        if mapping.relation == Relation::default() {
            id
        } else {
            format!("{id} ({})", mapping.relation)
        }
    }

    /// The layers a host performs by default for a party that `runs_on` it (`hosting: true`
    /// in layers.yaml: the physical layers), bottom to top.
    pub fn hosting_layers(&self) -> &[LayerId] {
        &self.hosting_layers
    }

    /// True when `layer` is one of [`Catalog::hosting_layers`].
    pub fn is_hosting_layer(&self, layer: &str) -> bool {
        self.hosting_layers.iter().any(|l| l == layer)
    }

    /// True when `provider` is not a third party: the customer runs the software itself
    /// (`self_operated: true` in its services file, e.g. `self` for self-managed Kubernetes),
    /// so no attestation is expected from it.
    pub fn is_self_operated(&self, provider: &str) -> bool {
        self.self_operated.contains(provider)
    }

    /// Production environment names and regulated and sensitive data classes.
    pub fn exposure(&self) -> &Exposure {
        &self.exposure
    }

    /// True when `env` names a production environment (exact match).
    pub fn is_production_env(&self, env: &str) -> bool {
        self.exposure.production_envs.iter().any(|t| t.id == env)
    }

    /// True when `data_class` is regulated or directly exploitable (cardholder or health data,
    /// secrets, credentials).
    pub fn is_regulated_data(&self, data_class: &str) -> bool {
        self.exposure
            .regulated_data
            .iter()
            .any(|t| t.id == data_class)
    }

    /// True when `data_class` is sensitive but not regulated (the engine counts regulated data
    /// as sensitive too).
    pub fn is_sensitive_data(&self, data_class: &str) -> bool {
        self.exposure
            .sensitive_data
            .iter()
            .any(|t| t.id == data_class)
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
    ///
    /// An entry gives its owner for the duty: a `duties:` exception, else the owner derived
    /// from its `feature:` facts ([`Feature::owner_for`]), else its `owner:`. For a duty the
    /// customer can always act on ([`Control::is_customer_actionable`]) a layer entry never
    /// puts the provider on the cell: a provider-owned service layer is passed over for the
    /// generic model, and a shared or provider-owned layer entry that still decides makes the
    /// duty customer-owned ([`Found::layer_said`] records what the layer said). Only an entry
    /// for the control itself can give the provider a part of such a duty.
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
        let actionable = control.is_customer_actionable(duty);
        let pick = |entry: &'a Entry, level, source, passed_over| {
            let (owner, decision) = entry.decide(duty);
            let is_layer = matches!(level, EntryLevel::ServiceLayer | EntryLevel::ModelLayer);
            // A layer entry never puts the provider on a duty the customer can act on.
            let guarded = is_layer && actionable && owner != Owner::Customer;
            Found {
                owner: if guarded { Owner::Customer } else { owner },
                entry,
                level,
                // An entry that names its own page cites it; otherwise its service's or model's.
                source: entry.source.as_ref().unwrap_or(source),
                decision,
                layer_said: guarded.then_some(owner),
                passed_over_service_layer: passed_over,
            }
        };
        let mut passed_over = false;
        if let Some(s) = service {
            if let Some(e) = s.controls.get(control_id) {
                return Some(pick(e, EntryLevel::ServiceControl, &s.source, false));
            }
            if let Some(e) = s.layers.get(&control.layer) {
                // A provider-owned service layer says nothing about what the customer does
                // with the control: the generic model decides.
                if actionable && e.owner_for(duty) == Owner::Provider {
                    passed_over = true;
                } else {
                    return Some(pick(e, EntryLevel::ServiceLayer, &s.source, false));
                }
            }
        }
        if let Some(e) = model.controls.get(control_id) {
            return Some(pick(
                e,
                EntryLevel::ModelControl,
                &model.source,
                passed_over,
            ));
        }
        let e = model.layers.get(&control.layer)?;
        Some(pick(e, EntryLevel::ModelLayer, &model.source, passed_over))
    }
}

impl Vocabulary for Catalog {
    fn control_ids(&self) -> Vec<&str> {
        self.controls.iter().map(|c| c.id.as_str()).collect()
    }
    fn service_ids(&self) -> Vec<&str> {
        // The estate's own services are checked as the estate's, not as catalog services, so
        // a catalog composed with them still validates the estate that defines them.
        self.services
            .iter()
            .filter(|s| !matches!(s.origin, CatalogOrigin::Estate(_)))
            .map(|s| s.id.as_str())
            .collect()
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
    fn control_duties(&self, control: &str) -> Option<Vec<demarc_model::Duty>> {
        self.control(control).map(|c| c.duties.clone())
    }
}
