//! Reading an OSCAL SSP. A leveraged SSP (one that exports `provided` capabilities and
//! customer `responsibilities`) becomes a catalog overlay: each control's export is a
//! requirement-level fact, which `crate::overlay` maps onto demarc's controls. A leveraging
//! SSP (one with `inherited`/`satisfied` entries) is reported: what it inherits and satisfies,
//! per control and per leveraged authorization.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::check::{Model, check_references, schema_errors};
use crate::overlay::{Provenance, RequirementFact, ServiceHead, Side, build};
use crate::{ExchangeError, Imported};

const OSCAL_ROOTS: &[&str] = &[
    "catalog",
    "profile",
    "component-definition",
    "assessment-plan",
    "assessment-results",
    "plan-of-action-and-milestones",
    "mapping-collection",
];

fn parse(name: &str, json: &str) -> Result<Value, ExchangeError> {
    serde_json::from_str(json).map_err(|e| {
        ExchangeError::new(
            name,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
            "an OSCAL SSP must be given in its JSON rendition; check the file with a JSON linter",
        )
    })
}

/// The file names (`leveraged_ssp.json`) a leveraging SSP's leveraged authorizations link to,
/// directly or through a back-matter resource: the caller may read those that sit beside the
/// input and pass them to [`import_with`].
pub fn leveraged_links(json: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        return vec![];
    };
    let ssp = &doc["system-security-plan"];
    let resources: BTreeMap<&str, &Value> = ssp["back-matter"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("uuid")?.as_str()?, r)))
        .collect();
    let mut hrefs = Vec::new();
    for la in ssp["system-implementation"]["leveraged-authorizations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for l in la["links"].as_array().into_iter().flatten() {
            let Some(h) = l["href"].as_str() else {
                continue;
            };
            if let Some(id) = h.strip_prefix('#') {
                if let Some(r) = resources.get(id) {
                    for rl in r["rlinks"].as_array().into_iter().flatten() {
                        if let Some(h) = rl["href"].as_str() {
                            hrefs.push(h.to_string());
                        }
                    }
                }
            } else {
                hrefs.push(h.to_string());
            }
        }
    }
    let mut out: Vec<String> = hrefs
        .iter()
        .filter_map(|h| {
            let file = h.rsplit(['/', '\\']).next()?;
            (file.ends_with(".json") && !file.contains(':') && file != ".json")
                .then(|| file.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(40).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = format!("oscal-{out}").trim_end_matches('-').to_string();
    }
    out
}

#[derive(Default)]
struct PerLa {
    inherited: usize,
    satisfied: usize,
    controls: BTreeMap<String, (usize, usize)>,
}

#[derive(Default)]
struct Found {
    requirements: usize,
    provided: usize,
    responsibilities: usize,
    inherited: usize,
    satisfied: usize,
    /// control-id → (provided texts, responsibility texts, where).
    export: BTreeMap<String, (Vec<String>, Vec<String>, String)>,
    by_la: BTreeMap<String, PerLa>,
}

fn descriptions(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["description"].as_str())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// A control id as SP 800-53 writes it in OSCAL: `ac-2`, from `ac-2` or a statement id.
fn control_of(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    id.split_once("_s")
        .map_or(id.clone(), |(b, _)| b.to_string())
}

fn walk_bcs(
    bcs: &Value,
    path: &str,
    control: &str,
    comp_la: &BTreeMap<&str, String>,
    f: &mut Found,
) {
    for (i, bc) in bcs.as_array().into_iter().flatten().enumerate() {
        let at = format!("{path}.by-components[{i}]");
        let prov = &bc["export"]["provided"];
        let resp = &bc["export"]["responsibilities"];
        let (p, r) = (descriptions(prov), descriptions(resp));
        let np = prov.as_array().map_or(0, Vec::len);
        let nr = resp.as_array().map_or(0, Vec::len);
        f.provided += np;
        f.responsibilities += nr;
        if np + nr > 0 {
            let e = f
                .export
                .entry(control.to_string())
                .or_insert_with(|| (vec![], vec![], at.clone()));
            e.0.extend(p);
            e.1.extend(r);
        }
        let ni = bc["inherited"].as_array().map_or(0, Vec::len);
        let ns = bc["satisfied"].as_array().map_or(0, Vec::len);
        f.inherited += ni;
        f.satisfied += ns;
        if ni + ns > 0 {
            let la = bc["component-uuid"]
                .as_str()
                .and_then(|c| comp_la.get(c))
                .cloned()
                .unwrap_or_else(|| comp_la.get("").cloned().unwrap_or_default());
            let e = f.by_la.entry(la).or_default();
            e.inherited += ni;
            e.satisfied += ns;
            let c = e.controls.entry(control.to_string()).or_default();
            c.0 += ni;
            c.1 += ns;
        }
    }
}

/// [`super::import`], with the SSPs of leveraged systems (name, JSON) that `inherited` and
/// `satisfied` entries may point into.
pub fn import_with(
    name: &str,
    json: &str,
    leveraged: &[(String, String)],
) -> Result<Imported, ExchangeError> {
    let doc = parse(name, json)?;
    let Some(root) = doc.as_object() else {
        return Err(ExchangeError::new(
            name,
            "$",
            "not an OSCAL document: the top level is not a JSON object",
            "give an OSCAL system security plan in JSON (`{\"system-security-plan\": {...}}`)",
        ));
    };
    if !root.contains_key("system-security-plan") {
        let keys: Vec<&str> = root.keys().map(String::as_str).collect();
        let msg = match keys.iter().find(|k| OSCAL_ROOTS.contains(k)) {
            Some(k) => format!("this is an OSCAL {k}, not a system security plan"),
            None => format!(
                "not an OSCAL system security plan: no `system-security-plan` at the top level (found {})",
                if keys.is_empty() {
                    "nothing".to_string()
                } else {
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        };
        return Err(ExchangeError::new(
            name,
            "$",
            msg,
            "demarc imports OSCAL SSPs; a FedRAMP CRM workbook is `demarc import crm`",
        ));
    }
    let errs = schema_errors(Model::Ssp, &doc, 4);
    if let Some(first) = errs.first() {
        let more = if errs.len() > 1 {
            format!(
                " (also: {})",
                errs[1..]
                    .iter()
                    .map(|p| p.path.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        return Err(ExchangeError::new(
            name,
            first.path.clone(),
            format!(
                "does not validate against the OSCAL 1.1.3 SSP schema: {}{more}",
                first.message
            ),
            "fix the document at that path; `check-jsonschema --schemafile oscal_ssp_schema.json FILE` lists every error",
        ));
    }
    let mut warnings = Vec::new();
    let mut others = Vec::new();
    for (lname, ltext) in leveraged {
        match serde_json::from_str::<Value>(ltext) {
            Ok(v) if v.get("system-security-plan").is_some() => others.push(v),
            Ok(_) => warnings.push(format!(
                "{lname}: not an OSCAL SSP; not used to resolve references"
            )),
            Err(e) => warnings.push(format!(
                "{lname}: not valid JSON ({e}); not used to resolve references"
            )),
        }
    }
    let refs = check_references(&doc, &others.iter().collect::<Vec<_>>());
    if let Some(first) = refs.errors.first() {
        let more = if refs.errors.len() > 1 {
            format!(
                " ({} more: {})",
                refs.errors.len() - 1,
                refs.errors[1..]
                    .iter()
                    .take(5)
                    .map(|p| p.path.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        return Err(ExchangeError::new(
            name,
            first.path.clone(),
            format!("dangling reference: {}{more}", first.message),
            "every component-uuid, role-id, party-uuid and provided-uuid must name something the document defines",
        ));
    }
    for p in refs.warnings.iter().chain(&refs.duplicates) {
        warnings.push(p.to_string());
    }
    if !refs.external.is_empty() {
        warnings.push(format!(
            "{} inherited/satisfied references point into leveraged systems' SSPs that were not given (first: {})",
            refs.external.len(),
            refs.external[0].path
        ));
    }

    let ssp = &doc["system-security-plan"];
    let meta = &ssp["metadata"];
    // Components → the leveraged authorization they stand for.
    let las: Vec<&Value> = ssp["system-implementation"]["leveraged-authorizations"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut comp_la: BTreeMap<&str, String> = BTreeMap::new();
    for c in ssp["system-implementation"]["components"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let la = c["props"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "leveraged-authorization-uuid")
            .and_then(|p| p["value"].as_str());
        if let (Some(u), Some(la)) = (c["uuid"].as_str(), la) {
            comp_la.insert(u, la.to_string());
        }
    }
    if las.len() == 1
        && let Some(u) = las[0]["uuid"].as_str()
    {
        comp_la.insert("", u.to_string());
    }

    let mut f = Found::default();
    let irs = &ssp["control-implementation"]["implemented-requirements"];
    for (i, ir) in irs.as_array().into_iter().flatten().enumerate() {
        f.requirements += 1;
        let control = control_of(ir["control-id"].as_str().unwrap_or_default());
        let path =
            format!("$.system-security-plan.control-implementation.implemented-requirements[{i}]");
        walk_bcs(&ir["by-components"], &path, &control, &comp_la, &mut f);
        for (j, st) in ir["statements"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk_bcs(
                &st["by-components"],
                &format!("{path}.statements[{j}]"),
                &control,
                &comp_la,
                &mut f,
            );
        }
    }
    let leveraged_kind = f.provided + f.responsibilities > 0;
    if !leveraged_kind && f.inherited + f.satisfied == 0 {
        return Err(ExchangeError::new(
            name,
            "$.system-security-plan.control-implementation",
            "the SSP neither exports anything (no export.provided or export.responsibilities) nor leverages another system (no inherited or satisfied entries): there is nothing to import",
            "import the SSP of the system the provider offers for leveraging (the one with export.provided entries)",
        ));
    }
    let system = ssp["system-characteristics"]["system-name"]
        .as_str()
        .unwrap_or("system")
        .to_string();
    let la_rows: Vec<Value> = f
        .by_la
        .iter()
        .map(|(u, p)| {
            let la = las.iter().find(|l| l["uuid"].as_str() == Some(u.as_str()));
            let controls: BTreeMap<&String, Value> = p
                .controls
                .iter()
                .map(|(c, (i, s))| (c, json!({"inherited": i, "satisfied": s})))
                .collect();
            json!({
                "uuid": if u.is_empty() { Value::Null } else { json!(u) },
                "title": la.and_then(|l| l["title"].as_str()).unwrap_or("(no leveraged authorization)"),
                "inherited": p.inherited,
                "satisfied": p.satisfied,
                "controls": controls,
            })
        })
        .collect();
    let mut summary = json!({
        "kind": if leveraged_kind { "leveraged" } else { "leveraging" },
        "system": system,
        "oscal_version": meta["oscal-version"],
        "requirements": f.requirements,
        "provided": f.provided,
        "responsibilities": f.responsibilities,
        "inherited": f.inherited,
        "satisfied": f.satisfied,
        "leveraged_authorizations": la_rows,
        "external_references": refs.external.len(),
        "duplicate_uuids": refs.duplicates.len(),
    });
    if !leveraged_kind {
        summary["overlay"] = json!(false);
        return Ok(Imported {
            overlay_yaml: String::new(),
            summary,
            warnings,
        });
    }

    // The provider: the party in a provider or system-owner role, else the first organisation.
    let parties: Vec<&Value> = meta["parties"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let party_name = |u: &str| {
        parties
            .iter()
            .find(|p| p["uuid"].as_str() == Some(u))
            .and_then(|p| p["name"].as_str())
            .map(str::to_string)
    };
    let mut provider_name = None;
    for role in ["cloud-service-provider", "provider", "system-owner"] {
        for rp in meta["responsible-parties"].as_array().into_iter().flatten() {
            if rp["role-id"] == role
                && let Some(n) = rp["party-uuids"][0].as_str().and_then(party_name)
            {
                provider_name = Some(n);
                break;
            }
        }
        if provider_name.is_some() {
            break;
        }
    }
    let provider_name = provider_name
        .or_else(|| {
            parties
                .iter()
                .find(|p| p["type"] == "organization")
                .and_then(|p| p["name"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| system.clone());
    let provider = slug(&provider_name);
    let short = ssp["system-characteristics"]["system-name-short"]
        .as_str()
        .unwrap_or(&system);
    let id = format!("{provider}:{}", slug(short));
    let catalog = Catalog::builtin();
    let mut model = None;
    let chars = &ssp["system-characteristics"];
    for p in chars["props"].as_array().into_iter().flatten() {
        if p["name"] == "cloud-service-model"
            && let Some(v) = p["value"].as_str()
        {
            model = Some(v.to_ascii_lowercase());
        }
    }
    if model.is_none() {
        let hay = format!("{} {}", system, chars["description"].as_str().unwrap_or(""))
            .to_ascii_lowercase();
        model = ["iaas", "paas", "saas"]
            .into_iter()
            .find(|m| hay.contains(m))
            .map(str::to_string);
    }
    let model = match model.filter(|m| catalog.model(m).is_some()) {
        Some(m) => m,
        None => {
            warnings.push("the SSP does not say its service model (no cloud-service-model property, and its name and description do not say IaaS, PaaS or SaaS): the overlay uses `saas`; edit it if that is wrong".into());
            "saas".into()
        }
    };
    let last = meta["last-modified"].as_str().unwrap_or_default();
    let checked = last
        .get(..10)
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .unwrap_or(NaiveDate::MIN);
    let head = ServiceHead {
        provider: provider.clone(),
        provider_name: provider_name.clone(),
        id: id.clone(),
        name: system.clone(),
        model: model.clone(),
        title: meta["title"].as_str().unwrap_or(&system).to_string(),
        provenance: Provenance::File {
            path: name.to_string(),
            sha256: format!("{:x}", Sha256::digest(json.as_bytes())),
        },
        checked,
    };
    let facts: Vec<RequirementFact> = f
        .export
        .iter()
        .map(|(c, (p, r, at))| RequirementFact {
            framework: "nist-800-53".into(),
            requirement: c.clone(),
            side: match (p.is_empty(), r.is_empty()) {
                (false, true) => Side::Provider,
                (true, false) => Side::Customer,
                _ => Side::Shared,
            },
            provider_text: (!p.is_empty()).then(|| p.join(" ")),
            customer_text: (!r.is_empty()).then(|| r.join(" ")),
            at: at.clone(),
        })
        .collect();
    let built = build(&head, &facts, catalog);
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for o in built.controls.values() {
        *owners.entry(o).or_default() += 1;
    }
    summary["service"] = json!(id);
    summary["model"] = json!(model);
    summary["exported_controls"] = json!(facts.len());
    summary["controls"] = json!(owners);
    summary["unmapped"] = json!(built.unmapped);
    summary["overlay"] = json!(true);
    warnings.extend(built.warnings);
    Ok(Imported {
        overlay_yaml: built.yaml,
        summary,
        warnings,
    })
}
