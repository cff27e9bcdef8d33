//! Building a catalog overlay from what a provider's document says per framework
//! requirement. Providers publish responsibilities per SP 800-53 control (a CRM, an OSCAL
//! SSP) or per CCM control (a CAIQ); the catalog holds them per demarc control. Each demarc
//! control collects the requirements it maps to, and its owner follows from theirs: all the
//! provider's → provider, all the customer's → customer, anything else → shared, with the
//! provider's and customer's texts joined so the split is written down.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use serde::Serialize;

/// Who implements a requirement, as the provider's document says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Provider,
    Customer,
    Shared,
    /// Not applicable to the service.
    NotApplicable,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Provider => "provider",
            Side::Customer => "customer",
            Side::Shared => "shared",
            Side::NotApplicable => "not-applicable",
        }
    }
}

/// One requirement's responsibility, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementFact {
    /// The framework whose ids the document uses (`nist-800-53`, `csa-ccm`).
    pub framework: String,
    /// The requirement id as the document writes it (normalised by the framework's scheme).
    pub requirement: String,
    pub side: Side,
    pub provider_text: Option<String>,
    pub customer_text: Option<String>,
    /// Where in the document (`sheet "CRM" row 12`), for warnings.
    pub at: String,
}

/// The document an overlay follows: a local file with its hash (imports name the file they
/// read) or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    File { path: String, sha256: String },
    Url(String),
}

/// What to call the imported service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHead {
    /// Catalog provider id (`acme-cloud`).
    pub provider: String,
    pub provider_name: String,
    /// Service id (`acme-cloud:platform`).
    pub id: String,
    pub name: String,
    /// A generic model id (`iaas`, `paas`, `saas`, …).
    pub model: String,
    pub title: String,
    pub provenance: Provenance,
    pub checked: NaiveDate,
}

#[derive(Serialize)]
struct Doc {
    version: u32,
    provider: String,
    provider_name: String,
    services: Vec<Svc>,
}

#[derive(Serialize)]
struct Svc {
    id: String,
    name: String,
    model: String,
    source: Src,
    notes: String,
    controls: BTreeMap<String, Ent>,
}

#[derive(Serialize)]
struct Src {
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    checked: NaiveDate,
}

#[derive(Serialize)]
struct Ent {
    owner: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<String>,
}

/// The overlay and what building it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub yaml: String,
    /// demarc control → the owner it got.
    pub controls: BTreeMap<String, &'static str>,
    /// Requirements no demarc control maps to (kept out of the overlay, listed here).
    pub unmapped: Vec<String>,
    pub warnings: Vec<String>,
}

/// Longest text kept per side of an entry: the catalog's limit, less room for joining.
const MAX_TEXT: usize = 4000;

fn join(texts: &[(String, String)], what: &str) -> Option<String> {
    if texts.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (req, t) in texts {
        let piece = format!("{req}: {}", t.trim());
        if out.len() + piece.len() + 2 > MAX_TEXT {
            out.push_str(&format!(" (and more; see the source {what})"));
            break;
        }
        if !out.is_empty() {
            out.push_str(" | ");
        }
        out.push_str(&piece);
    }
    Some(out)
}

/// Builds the overlay for one service from `facts`, through the catalog's mappings.
pub fn build(head: &ServiceHead, facts: &[RequirementFact], catalog: &Catalog) -> Built {
    let mut warnings = Vec::new();
    // requirement (framework, normalised id) → demarc controls mapping to it (the control or
    // any of its statement parts).
    let mut by_req: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for c in &catalog.controls {
        for (fw, list) in &c.mappings {
            for m in list {
                let id = m.requirement.as_str();
                let base = id.split_once("_smt").map_or(id, |(b, _)| b);
                by_req
                    .entry((fw.as_str().to_string(), base.to_string()))
                    .or_default()
                    .push(c.id.clone());
            }
        }
    }
    // Per demarc control: the sides and texts of its requirements.
    #[derive(Default)]
    struct Acc {
        sides: Vec<Side>,
        provider: Vec<(String, String)>,
        customer: Vec<(String, String)>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    let mut unmapped = Vec::new();
    for f in facts {
        let scheme = catalog
            .framework(&f.framework)
            .map(|fw| fw.id_scheme)
            .unwrap_or_default();
        let id = match scheme.normalise(&f.requirement) {
            Ok(id) => id.to_string(),
            Err(e) => {
                warnings.push(format!("{}: {e}; skipped", f.at));
                continue;
            }
        };
        let base = id
            .split_once("_smt")
            .map_or(id.as_str(), |(b, _)| b)
            .to_string();
        let Some(controls) = by_req.get(&(f.framework.clone(), base.clone())) else {
            if !unmapped.contains(&base) {
                unmapped.push(base);
            }
            continue;
        };
        if f.side == Side::NotApplicable {
            continue;
        }
        let label = scheme.label(&demarc_catalog::RequirementId::new(&id));
        for c in controls {
            let a = acc.entry(c.clone()).or_default();
            a.sides.push(f.side);
            if let Some(t) = f.provider_text.as_ref().filter(|t| !t.trim().is_empty())
                && !a.provider.iter().any(|(_, x)| x == t)
            {
                a.provider.push((label.clone(), t.clone()));
            }
            if let Some(t) = f.customer_text.as_ref().filter(|t| !t.trim().is_empty())
                && !a.customer.iter().any(|(_, x)| x == t)
            {
                a.customer.push((label.clone(), t.clone()));
            }
        }
    }
    let mut entries = BTreeMap::new();
    let mut owners = BTreeMap::new();
    for (control, a) in acc {
        let all = |s: Side| a.sides.iter().all(|x| *x == s);
        let owner = if all(Side::Provider) {
            "provider"
        } else if all(Side::Customer) {
            "customer"
        } else {
            "shared"
        };
        let name = catalog
            .control(&control)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| control.clone());
        let mut provider = join(&a.provider, "document");
        let mut customer = join(&a.customer, "document");
        // The catalog requires the text of each side that holds a duty; a document that
        // names the side without saying what it does still gets an honest line.
        if owner != "customer" && provider.is_none() {
            provider = Some(format!(
                "The provider's document assigns {name} to the provider without describing it."
            ));
            warnings.push(format!(
                "{control}: the document gives the provider a part without saying what it does"
            ));
        }
        if owner != "provider" && customer.is_none() {
            customer = Some(format!(
                "The provider's document leaves {name} to the customer without describing it."
            ));
            warnings.push(format!(
                "{control}: the document gives the customer a part without saying what it does"
            ));
        }
        owners.insert(control.clone(), owner);
        entries.insert(
            control,
            Ent {
                owner,
                provider: if owner == "customer" { None } else { provider },
                customer: if owner == "provider" { None } else { customer },
            },
        );
    }
    let (url, file, sha256) = match &head.provenance {
        Provenance::Url(u) => (Some(u.clone()), None, None),
        Provenance::File { path, sha256 } => (None, Some(path.clone()), Some(sha256.clone())),
    };
    let doc = Doc {
        version: 1,
        provider: head.provider.clone(),
        provider_name: head.provider_name.clone(),
        services: vec![Svc {
            id: head.id.clone(),
            name: head.name.clone(),
            model: head.model.clone(),
            source: Src {
                title: head.title.clone(),
                url,
                file,
                sha256,
                checked: head.checked,
            },
            notes: format!(
                "Imported by demarc from {}: {} requirements mapped onto {} demarc controls; {} requirements map to no demarc control.",
                head.title,
                facts.len(),
                entries.len(),
                unmapped.len()
            ),
            controls: entries,
        }],
    };
    let yaml = format!(
        "# Generated by `demarc import` from {}. Edit the source document and import again\n# rather than editing this file by hand.\n{}",
        head.title,
        serde_saphyr::to_string(&doc).unwrap_or_default()
    );
    Built {
        yaml,
        controls: owners,
        unmapped,
        warnings,
    }
}

/// Names an imported overlay's provider and service differently from what the document
/// suggested (`demarc import … --provider … --service … --model …`). Only the single-service
/// overlays imports write are renamed; every field left `None` stays as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    pub provider: Option<String>,
    pub provider_name: Option<String>,
    pub service: Option<String>,
    pub service_name: Option<String>,
    pub model: Option<String>,
}

impl Naming {
    pub fn is_empty(&self) -> bool {
        *self == Naming::default()
    }
}

/// Applies `naming` to an overlay's YAML. The generated header comment is kept.
pub fn rename(yaml: &str, naming: &Naming) -> Result<String, String> {
    if naming.is_empty() {
        return Ok(yaml.to_string());
    }
    let header: String = yaml
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut v: serde_json::Value =
        serde_saphyr::from_str(yaml).map_err(|e| format!("the overlay does not read back: {e}"))?;
    let set = |v: &mut serde_json::Value, k: &str, x: &Option<String>| {
        if let (Some(x), Some(o)) = (x, v.as_object_mut()) {
            o.insert(k.to_string(), serde_json::Value::String(x.clone()));
        }
    };
    set(&mut v, "provider", &naming.provider);
    set(&mut v, "provider_name", &naming.provider_name);
    let services = v
        .get_mut("services")
        .and_then(|s| s.as_array_mut())
        .ok_or("the overlay has no services")?;
    if services.len() != 1 {
        return Err(format!(
            "the overlay has {} services; --service names one",
            services.len()
        ));
    }
    let svc = &mut services[0];
    set(svc, "id", &naming.service);
    set(svc, "name", &naming.service_name);
    set(svc, "model", &naming.model);
    let body = serde_saphyr::to_string(&v).map_err(|e| e.to_string())?;
    Ok(format!("{header}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> ServiceHead {
        ServiceHead {
            provider: "acme-cloud".into(),
            provider_name: "Acme Cloud".into(),
            id: "acme-cloud:platform".into(),
            name: "Acme Platform".into(),
            model: "paas".into(),
            title: "Acme CRM workbook".into(),
            provenance: Provenance::File {
                path: "acme-crm.xlsx".into(),
                sha256: "a".repeat(64),
            },
            checked: "2026-11-23".parse().unwrap(),
        }
    }

    fn fact(req: &str, side: Side, p: Option<&str>, c: Option<&str>) -> RequirementFact {
        RequirementFact {
            framework: "nist-800-53".into(),
            requirement: req.into(),
            side,
            provider_text: p.map(str::to_string),
            customer_text: c.map(str::to_string),
            at: format!("row {req}"),
        }
    }

    #[test]
    fn owners_follow_the_requirements_and_the_overlay_loads() {
        let catalog = Catalog::builtin();
        let facts = vec![
            fact(
                "PE-3",
                Side::Provider,
                Some("Badge readers and guards at every site."),
                None,
            ),
            fact(
                "PE-2",
                Side::Provider,
                Some("Access lists reviewed quarterly."),
                None,
            ),
            fact(
                "AC-2",
                Side::Shared,
                Some("Provides the IAM service."),
                Some("Manages its users."),
            ),
            fact("ZZ-1", Side::Provider, None, None),
            fact("PM-9", Side::Customer, None, Some("Risk strategy.")),
        ];
        let b = build(&head(), &facts, catalog);
        assert_eq!(b.controls.get("physical-access"), Some(&"provider"));
        assert!(b.controls.values().any(|o| *o == "shared"));
        assert!(b.unmapped.contains(&"zz-1".to_string()), "{:?}", b.unmapped);
        // The overlay is a valid catalog overlay.
        let cat = demarc_catalog::CatalogBuilder::new()
            .builtin()
            .overlay("acme.yaml".into(), b.yaml.clone())
            .build()
            .unwrap_or_else(|d| panic!("{d}\n{}", b.yaml));
        let s = cat.service("acme-cloud:platform").unwrap();
        assert!(s.controls.contains_key("physical-access"));
    }
}
