//! FedRAMP 20x package documents (Consolidated Rules 2026): the Certification Package
//! Overview and the Security Decision Record of an estate that is itself a cloud service
//! offering, validated against the dated schemas (2026-06-24) before they are returned.
//!
//! What comes from where:
//!
//! - the provider is the estate's customer party (its name and contact), the offering is the
//!   estate;
//! - third-party information resources (MAS-CSO-TPR) are the estate's parties of kind
//!   provider, vendor and MSSP: one resource per service a provider runs for the estate's
//!   assets, one per contracted party otherwise, each with what it carries and the
//!   attestations on record (framework, dates, lapsed or not) as of the as-of date. A party
//!   with an in-date `fedramp` attestation covering the service is listed as certified;
//! - each control's inheritance is the compliance rollup of the resolved cells: FedRAMP
//!   Moderate for the SP 800-53 controls, the 20x Key Security Indicators for the KSIs
//!   (the same numbers `demarc compliance` prints);
//! - what the estate does not record (website, logo, acronym, deployment model, a sales
//!   contact, where the overview is published) is a placeholder: a value that says
//!   `DEMARC-PLACEHOLDER` (or a URI under `https://placeholder.invalid/`), listed by JSON
//!   pointer in the document's `x-demarc.placeholders` and reported as a note.
//!
//! Output depends only on the estate, the catalog and the as-of date: the same input gives
//! the same bytes.

pub mod schema;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use demarc_compliance::Library;
use demarc_compliance::frameworks::FEDRAMP_20X;
use demarc_compliance::rollup::{self, Options, Origination, Rollup, Row};
use demarc_engine::Resolution;
use demarc_model::PartyKind;
use serde_json::{Map, Value, json};

use crate::ExchangeError;

/// The marker every placeholder text starts with.
pub const PLACEHOLDER: &str = "DEMARC-PLACEHOLDER";
/// Placeholder URIs live under this reserved (never resolvable) host.
pub const PLACEHOLDER_URI: &str = "https://placeholder.invalid/demarc/";

/// An exported document and the notes for the person running the export (placeholders to
/// fill in, values left out).
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub json: String,
    pub notes: Vec<String>,
}

/// The Certification Package Overview, as JSON text.
pub fn export_cpo(res: &Resolution, lib: &Library) -> Result<String, ExchangeError> {
    cpo(res, lib).map(|e| e.json)
}

/// The Security Decision Record, as JSON text.
pub fn export_sdr(res: &Resolution, lib: &Library) -> Result<String, ExchangeError> {
    sdr(res, lib).map(|e| e.json)
}

/// Collects placeholders: each gets a pointer in `x-demarc.placeholders` and a note.
#[derive(Default)]
struct Holes {
    pointers: Vec<String>,
    notes: Vec<String>,
}

impl Holes {
    fn text(&mut self, pointer: &str, what: &str) -> Value {
        self.mark(pointer, what);
        Value::String(format!("{PLACEHOLDER}: {what}"))
    }
    fn uri(&mut self, pointer: &str, file: &str, what: &str) -> Value {
        self.mark(pointer, what);
        Value::String(format!("{PLACEHOLDER_URI}{file}"))
    }
    /// A value the schema restricts to a list: the placeholder is the pointer in
    /// `x-demarc.placeholders` and the note.
    fn choice(&mut self, pointer: &str, value: Value, what: &str) -> Value {
        self.mark(pointer, what);
        value
    }
    fn mark(&mut self, pointer: &str, what: &str) {
        self.pointers.push(pointer.to_string());
        self.notes.push(format!(
            "placeholder at {}: {what}",
            schema::json_path(pointer)
        ));
    }
}

fn rollups(res: &Resolution, lib: &Library) -> Result<(Rollup, Rollup), ExchangeError> {
    let fail = |m: String, h: String| ExchangeError::new("fedramp 20x export", "", m, h);
    let baseline = lib
        .baseline("fedramp", "moderate")
        .map_err(|e| fail(e.message.clone(), e.help.clone()))?;
    let warn_days = res.estate().settings.expiry_warning.days();
    let moderate = rollup::rollup(
        lib,
        res,
        &Options {
            framework: "fedramp",
            baseline: Some(baseline),
            env: None,
            data: None,
            warn_days,
        },
    )
    .map_err(|e| fail(e.message, e.help))?;
    let ksi = rollup::rollup(
        lib,
        res,
        &Options {
            framework: FEDRAMP_20X,
            baseline: None,
            env: None,
            data: None,
            warn_days,
        },
    )
    .map_err(|e| fail(e.message, e.help))?;
    Ok((moderate, ksi))
}

fn summary_json(r: &Rollup) -> Value {
    let s = &r.summary;
    json!({
        "framework": r.framework,
        "baseline": r.baseline.as_ref().map(|b| b.0.clone()),
        "requirements": s.requirements,
        "inherited": s.inherited,
        "shared": s.shared,
        "customer": s.customer,
        "notApplicable": s.not_applicable,
        "notAddressed": s.not_addressed,
        "ready": s.ready,
        "inheritedCells": s.inherited_cells,
        "backedCells": s.backed_cells,
    })
}

/// The extension object both documents carry: where the document came from (the
/// Consolidated Rules' metadata: version, date of last update, source of update), its
/// placeholders and the inheritance summary.
fn extension(
    res: &Resolution,
    source: &str,
    schema_file: &str,
    holes: &Holes,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "generator".into(),
        json!(format!("demarc {}", env!("CARGO_PKG_VERSION"))),
    );
    m.insert("source".into(), json!(source));
    m.insert(
        "schema".into(),
        json!(format!("{}{schema_file}", schema::BASE)),
    );
    m.insert("estate".into(), json!(res.estate().name));
    m.insert("lastUpdated".into(), json!(res.as_of().to_string()));
    m.insert("placeholders".into(), json!(holes.pointers));
    m
}

/// The customer party (the provider of the offering) and its key.
fn customer(res: &Resolution) -> (&str, Option<&demarc_model::Party>) {
    let key = res.accountable();
    (key, res.estate().parties.get(key).map(|p| &p.value))
}

fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((a, b)) => {
            !a.is_empty()
                && b.contains('.')
                && !b.starts_with('.')
                && !b.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn looks_like_uri(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s.contains(char::is_whitespace)
}

/// `202-555-0123`, from any writing with ten digits (or eleven with a leading 1).
fn us_phone(s: &str) -> Option<String> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    let d = match d.len() {
        11 if d.starts_with('1') => &d[1..],
        10 => &d[..],
        _ => return None,
    };
    Some(format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]))
}

/// What one party carries for the estate.
#[derive(Default)]
struct PartyUse {
    /// Service → assets using it that the party provides.
    services: BTreeMap<String, usize>,
    /// Service → cells the party itself carries on the assets of that service it provides.
    service_cells: BTreeMap<String, usize>,
    /// Cells it is responsible for (or performs through a chain), and their duties.
    cells: usize,
    via_cells: usize,
    duties: BTreeSet<&'static str>,
    assets: usize,
}

fn party_uses(res: &Resolution) -> BTreeMap<String, PartyUse> {
    let mut uses: BTreeMap<String, PartyUse> = BTreeMap::new();
    let estate = res.estate();
    // A catalog provider id maps to the party that `provides:` it.
    let party_of = |p: &str| -> Option<String> {
        if estate.parties.contains_key(p) {
            return Some(p.to_string());
        }
        estate
            .parties
            .iter()
            .find(|(_, party)| party.provides.iter().any(|x| x.value == p))
            .map(|(k, _)| k.clone())
    };
    for class in res.classes() {
        let n = class.assets;
        let service = class
            .service
            .split_once('#')
            .map_or(class.service, |(s, _)| s);
        let provider = class.provider.and_then(party_of);
        if let Some(p) = &provider {
            let u = uses.entry(p.clone()).or_default();
            *u.services.entry(service.to_string()).or_default() += n;
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for cell in res.table_cells(class.table) {
            for a in &cell.responsible {
                let u = uses.entry(a.party.clone()).or_default();
                u.cells += n;
                if provider.as_deref() == Some(a.party.as_str()) {
                    *u.service_cells.entry(service.to_string()).or_default() += n;
                }
                u.duties.insert(cell.duty.as_str());
                seen.insert(a.party.clone());
                for v in &a.via {
                    let u = uses.entry(v.clone()).or_default();
                    u.via_cells += n;
                    u.duties.insert(cell.duty.as_str());
                    seen.insert(v.clone());
                }
            }
        }
        for p in seen {
            uses.entry(p).or_default().assets += n;
        }
    }
    uses
}

fn glob_match(pattern: &str, s: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return pattern == s;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(s))
        .unwrap_or(false)
}

/// `soc2 (relied on until 2027-06-30; AWS Artifact: …)`, `pci-dss (lapsed 2026-09-30)`.
fn attestation_line(a: &demarc_model::Attestation, as_of: NaiveDate) -> (String, Value) {
    let until = a.valid_until();
    let lapsed = until.is_some_and(|u| u < as_of);
    let mut parts = Vec::new();
    if let Some(p) = a.period_end {
        parts.push(format!("report period ending {p}"));
    }
    if let Some(e) = a.expires {
        parts.push(format!("expires {e}"));
    }
    if let Some(b) = &a.bridge_letter {
        parts.push(format!("bridge letter until {}", b.until));
    }
    match until {
        Some(u) if lapsed => parts.push(format!("lapsed {u}")),
        Some(u) => parts.push(format!("relied on until {u}")),
        None => parts.push("no end date recorded".into()),
    }
    if !a.services.is_empty() {
        parts.push(format!(
            "covers {}",
            a.services
                .iter()
                .map(|s| s.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(r) = &a.reference {
        parts.push(r.clone());
    }
    let text = format!("{} ({})", a.framework.value, parts.join("; "));
    let v = json!({
        "framework": a.framework.value,
        "periodEnd": a.period_end.map(|d| d.to_string()),
        "expires": a.expires.map(|d| d.to_string()),
        "validUntil": until.map(|d| d.to_string()),
        "lapsed": lapsed,
        "services": a.services.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
        "ref": a.reference,
    });
    (text, v)
}

struct ThirdParties {
    certified: Vec<Value>,
    non_certified: Vec<Value>,
    /// Machine-readable detail for `x-demarc.thirdParties`.
    detail: Vec<Value>,
}

fn third_parties(res: &Resolution, holes: &mut Holes) -> ThirdParties {
    let estate = res.estate();
    let catalog = res.catalog();
    let as_of = res.as_of();
    let uses = party_uses(res);
    let mut out = ThirdParties {
        certified: Vec::new(),
        non_certified: Vec::new(),
        detail: Vec::new(),
    };
    let empty = PartyUse::default();
    for (key, party) in &estate.parties {
        if !matches!(
            party.kind,
            PartyKind::Provider | PartyKind::Vendor | PartyKind::Mssp
        ) {
            continue;
        }
        let u = uses.get(key).unwrap_or(&empty);
        let atts: Vec<(String, Value)> = party
            .attestations
            .iter()
            .map(|a| attestation_line(a, as_of))
            .collect();
        let att_text = if atts.is_empty() {
            "No attestation on record.".to_string()
        } else {
            format!(
                "Attestations on record as of {as_of}: {}.",
                atts.iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let carries = if u.cells + u.via_cells == 0 {
            format!("No responsibility of the offering rests on it as of {as_of}.")
        } else {
            let mut s = format!(
                "Responsible for {} responsibility cells across {} assets ({})",
                u.cells + u.via_cells,
                u.assets,
                u.duties.iter().copied().collect::<Vec<_>>().join(", ")
            );
            if u.via_cells > 0 {
                s.push_str(&format!(
                    ", {} of them performed for another party (runs_on or performed_by)",
                    u.via_cells
                ));
            }
            s.push('.');
            s
        };
        let kind = party.kind.as_str();
        // In-date FedRAMP authorizations, by the services they cover.
        let fedramp: Vec<&demarc_model::Attestation> = party
            .attestations
            .iter()
            .filter(|a| a.framework.value == "fedramp")
            .filter(|a| a.valid_until().is_none_or(|u| u >= as_of))
            .collect();
        let mut services_detail = Vec::new();
        let mut push = |name: String, service: Option<&str>, use_case: String| {
            let covering = fedramp.iter().find(|a| {
                a.services.is_empty()
                    || service.is_some_and(|s| a.services.iter().any(|p| glob_match(&p.value, s)))
            });
            if let Some(a) = covering {
                let idx = out.certified.len();
                let id = match &a.reference {
                    Some(r) => Value::String(r.clone()),
                    None => holes.text(
                        &format!(
                            "/thirdPartyInformationResources/certified/{idx}/fedRampCertifiedThirdPartyInformationResource"
                        ),
                        &format!(
                            "the FedRAMP ID of {name}: {key}'s fedramp attestation has no `ref`"
                        ),
                    ),
                };
                out.certified.push(json!({
                    "fedRampCertifiedThirdPartyInformationResource": id,
                    "useCase": use_case,
                }));
            } else {
                out.non_certified.push(json!({
                    "name": name,
                    "provider": party.name,
                    "useCase": use_case,
                }));
            }
        };
        if u.services.is_empty() {
            let use_case = format!("{} ({kind} `{key}`). {carries} {att_text}", party.name);
            push(party.name.clone(), None, use_case);
        } else {
            for (service, n) in &u.services {
                let sname = catalog
                    .service(service)
                    .map(|s| s.name.clone())
                    .or_else(|| estate.services.get(service).and_then(|s| s.name.clone()))
                    .unwrap_or_else(|| service.clone());
                let c = u.service_cells.get(service).copied().unwrap_or(0);
                let use_case = format!(
                    "Service `{service}` ({sname}), used by {n} {} of the offering; provided by {} ({kind} `{key}`), which carries {c} responsibility {} on {}. {att_text}",
                    if *n == 1 { "asset" } else { "assets" },
                    party.name,
                    if c == 1 { "cell" } else { "cells" },
                    if *n == 1 { "it" } else { "them" },
                );
                services_detail.push(json!({"service": service, "assets": n}));
                push(format!("{sname} ({service})"), Some(service), use_case);
            }
        }
        out.detail.push(json!({
            "party": key,
            "kind": kind,
            "name": party.name,
            "services": services_detail,
            "cells": u.cells + u.via_cells,
            "assets": u.assets,
            "duties": u.duties,
            "attestations": atts.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        }));
    }
    out
}

/// The Certification Package Overview and its notes.
pub fn cpo(res: &Resolution, lib: &Library) -> Result<Export, ExchangeError> {
    let mut holes = Holes::default();
    let estate = res.estate();
    let (ckey, cparty) = customer(res);
    let provider_name = cparty.map_or_else(|| ckey.to_string(), |p| p.name.clone());
    let (moderate, ksi) = rollups(res, lib)?;

    let providers: BTreeSet<&str> = res.classes().filter_map(|c| c.provider).collect();
    let services: BTreeSet<&str> = res.classes().map(|c| c.service).collect();
    // The estate's `offering:` section fills what it can; the rest are placeholders.
    let offering = estate.offering.as_ref().map(|o| &o.value);
    let o_text = |f: fn(&demarc_model::Offering) -> Option<&String>| {
        offering
            .and_then(f)
            .filter(|t| !t.trim().is_empty())
            .cloned()
    };
    let ident = json!({
        "fedRampPackageId": match o_text(|o| o.fedramp_id.as_ref()) {
            Some(id) => json!(id),
            None => holes.text(
                "/serviceIdentification/fedRampPackageId",
                &format!("the FedRAMP ID (`offering.fedramp_id`); without one, FedRAMP asks for the provider's name and the offering's acronym ({provider_name} and the acronym)"),
            ),
        },
        "providerName": provider_name,
        "serviceName": o_text(|o| o.name.as_ref()).unwrap_or_else(|| estate.name.clone()),
        "serviceAcronym": match o_text(|o| o.acronym.as_ref()) {
            Some(a) => json!(a),
            None => holes.text(
                "/serviceIdentification/serviceAcronym",
                "the offering's acronym (`offering.acronym`); the estate does not record one",
            ),
        },
        "serviceDescription": match o_text(|o| o.description.as_ref()) {
            Some(d) => json!(d),
            None => holes.text(
                "/serviceIdentification/serviceDescription",
                &format!(
                    "describe the offering (`offering.description`). From the estate: {} assets on {} services from {} providers, as resolved on {}",
                    res.asset_count(),
                    services.len(),
                    providers.len(),
                    res.as_of()
                ),
            ),
        },
        "certificationType": "20x",
        "website": match offering.and_then(|o| o.website.as_ref()) {
            Some(w) => json!(w.value),
            None => holes.uri(
                "/serviceIdentification/website",
                "website",
                "the offering's website (`offering.website`); the estate does not record one",
            ),
        },
        "logo": match offering.and_then(|o| o.logo.as_ref()) {
            Some(l) => json!(l.value),
            None => holes.uri(
                "/serviceIdentification/logo",
                "logo.png",
                "the URL of the provider's logo (`offering.logo`: PNG, JPEG, GIF, SVG, WebP, ICO, BMP or TIFF)",
            ),
        },
    });
    let props = json!({
        "serviceType": match offering.map(|o| &o.service_models).filter(|m| !m.is_empty()) {
            Some(m) => json!(m.iter().map(|x| x.value.clone()).collect::<Vec<_>>()),
            None => holes.choice(
                "/serviceProperties/serviceType",
                json!(["SaaS"]),
                "the offering's service model(s) (`offering.service_models`: SaaS, PaaS, IaaS); `SaaS` is an assumption",
            ),
        },
        "deploymentModel": match offering.and_then(|o| o.deployment_model.as_ref()) {
            Some(d) => json!(d.value),
            None => holes.choice(
                "/serviceProperties/deploymentModel",
                json!("Public Cloud"),
                "the deployment model (`offering.deployment_model`: Public Cloud, Government-Only Cloud, Hybrid Cloud, Community Cloud, Government Community Cloud); `Public Cloud` is an assumption",
            ),
        },
    });
    // Contacts: the customer party's contact is the security contact (the one every call
    // sheet ends with); the estate has no sales contact.
    let mut contacts = Vec::new();
    let mut security = Map::new();
    security.insert("contactType".into(), json!("Security"));
    match cparty.and_then(|p| p.contact.as_deref()) {
        Some(c) if looks_like_email(c) => {
            security.insert("contactName".into(), json!(provider_name));
            security.insert("contactEmail".into(), json!(c.trim()));
        }
        Some(c) => {
            security.insert("contactName".into(), json!(c));
        }
        None => {
            security.insert(
                "contactName".into(),
                holes.text(
                    "/contactInformation/0/contactName",
                    &format!("a security contact; the customer party `{ckey}` has no `contact`"),
                ),
            );
        }
    }
    if let Some(phone) = cparty.and_then(|p| p.phone.as_deref()) {
        match us_phone(phone) {
            Some(p) => {
                security.insert("contactPhone".into(), json!(p));
            }
            None => holes.notes.push(format!(
                "the phone number of `{ckey}` ({phone}) is not in the ###-###-#### form FedRAMP asks for; it was left out"
            )),
        }
    }
    // Contacts the offering names replace the ones derived from the customer party.
    let named: Vec<&demarc_model::OfferingContact> = offering
        .map(|o| o.contacts.iter().collect())
        .unwrap_or_default();
    if !named
        .iter()
        .any(|c| c.kind.value.eq_ignore_ascii_case("security"))
    {
        contacts.push(Value::Object(security));
    }
    for c in &named {
        let mut m = Map::new();
        m.insert("contactType".into(), json!(c.kind.value));
        m.insert("contactName".into(), json!(c.name));
        if let Some(e) = c.email.as_deref().filter(|e| looks_like_email(e)) {
            m.insert("contactEmail".into(), json!(e.trim()));
        }
        if let Some(p) = c.phone.as_deref() {
            match us_phone(p) {
                Some(p) => {
                    m.insert("contactPhone".into(), json!(p));
                }
                None => holes.notes.push(format!(
                    "the phone number of the {} contact ({p}) is not in the ###-###-#### form FedRAMP asks for; it was left out",
                    c.kind.value
                )),
            }
        }
        contacts.push(Value::Object(m));
    }
    if !named
        .iter()
        .any(|c| c.kind.value.eq_ignore_ascii_case("sales"))
    {
        let at = format!("/contactInformation/{}/contactName", contacts.len());
        contacts.push(json!({
            "contactType": "Sales",
            "contactName": holes.text(
                &at,
                "a sales contact (`offering.contacts` with `type: Sales`); the estate records none",
            ),
        }));
    }
    let tp = third_parties(res, &mut holes);
    let mut tpr = Map::new();
    if !tp.certified.is_empty() {
        tpr.insert("certified".into(), Value::Array(tp.certified));
    }
    tpr.insert("nonCertified".into(), Value::Array(tp.non_certified));

    let mut ext = extension(res, "demarc export fedramp-cpo", schema::CPO, &holes);
    ext.insert(
        "inheritance".into(),
        json!({
            "fedrampModerate": summary_json(&moderate),
            "fedramp20x": summary_json(&ksi),
        }),
    );
    ext.insert("thirdParties".into(), Value::Array(tp.detail));
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        json!(format!("{}{}", schema::BASE, schema::CPO)),
    );
    doc.insert("serviceIdentification".into(), ident);
    doc.insert("serviceProperties".into(), props);
    doc.insert("contactInformation".into(), Value::Array(contacts));
    doc.insert("thirdPartyInformationResources".into(), Value::Object(tpr));
    doc.insert("x-demarc".into(), Value::Object(ext));
    finish(
        "fedramp-cpo export",
        Value::Object(doc),
        schema::CPO,
        holes.notes,
    )
}

/// Serialises, then validates against the schema: demarc never writes a document that does
/// not validate.
fn finish(
    what: &str,
    doc: Value,
    schema_file: &str,
    notes: Vec<String>,
) -> Result<Export, ExchangeError> {
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| ExchangeError::new(what, "", e.to_string(), "report this as a demarc bug"))?;
    text.push('\n');
    schema::validate(what, &text, Some(schema_file)).map_err(|mut e| {
        e.help = "demarc wrote a document its schema rejects: report this as a demarc bug".into();
        e
    })?;
    Ok(Export { json: text, notes })
}

/// `Implemented` when ready, `Not Implemented` when nobody is named for any of its cells,
/// `Partially Implemented` otherwise; none when it does not apply or is not addressed.
fn status(row: &Row) -> Option<&'static str> {
    match row.origination {
        Origination::NotAddressed | Origination::NotApplicable => None,
        _ if row.ready => Some("Implemented"),
        _ if row.unassigned >= row.cells => Some("Not Implemented"),
        _ => Some("Partially Implemented"),
    }
}

/// One paragraph: how the requirement is carried across the estate, from the rollup.
fn inheritance_text(row: &Row) -> String {
    let origination = row.origination.fedramp();
    match row.origination {
        Origination::NotAddressed => {
            return format!(
                "{origination}: {}. demarc's resolution says nothing about it; describe it outside demarc.",
                row.requirement
                    .not_addressed
                    .as_deref()
                    .unwrap_or("no demarc control maps to it")
                    .trim_end_matches('.')
            );
        }
        Origination::NotApplicable => {
            let controls: BTreeSet<&str> =
                row.controls.iter().map(|m| m.control.as_str()).collect();
            return format!(
                "{origination}: no asset in scope has one of its demarc controls ({}).",
                controls.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        _ => {}
    }
    let controls: BTreeSet<&str> = row.controls.iter().map(|m| m.control.as_str()).collect();
    let mut s = format!(
        "{origination}. {} responsibility cells across {} assets on the demarc controls {}: {}.",
        row.cells,
        row.assets,
        controls.into_iter().collect::<Vec<_>>().join(", "),
        row.ownership
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let carried: Vec<String> = row
        .shares
        .iter()
        .take(6)
        .map(|sh| format!("{} ({}, {} cells)", sh.label, sh.role.as_str(), sh.cells))
        .collect();
    if !carried.is_empty() {
        s.push_str(&format!(" Carried by {}", carried.join(", ")));
        if row.shares.len() > 6 {
            s.push_str(&format!(" and {} more", row.shares.len() - 6));
        }
        s.push('.');
    }
    if row.backing.cells > 0 {
        s.push_str(&format!(
            " {} of {} inherited cells are backed by an in-date attestation{}.",
            row.backing.backed,
            row.backing.cells,
            if row.backing.by.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    row.backing
                        .by
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    if !row.blockers.is_empty() {
        s.push_str(&format!(" Open: {}.", row.blockers.join("; ")));
    }
    s
}

fn evidence_type(kind: Option<demarc_model::EvidenceKind>) -> Option<&'static str> {
    use demarc_model::EvidenceKind as K;
    match kind? {
        K::Attestation | K::File => Some("Report"),
        K::Export => Some("Configuration"),
        K::Link => None,
    }
}

/// At most this many evidence records per indicator; the validation statement counts all.
const MAX_EVIDENCE: usize = 20;

/// The Security Decision Record and its notes.
pub fn sdr(res: &Resolution, lib: &Library) -> Result<Export, ExchangeError> {
    let mut holes = Holes::default();
    let (moderate, ksi) = rollups(res, lib)?;
    let as_of = res.as_of();
    let estate = res.estate();
    let cpo_uri = match estate.offering.as_ref().and_then(|o| o.package_url.as_ref()) {
        Some(u) => json!(u.value),
        None => holes.uri(
            "/certificationPackageOverviewUri",
            "certification-package-overview.json",
            "where the Certification Package Overview is published (`offering.package_url`; `demarc export fedramp-cpo` writes it)",
        ),
    };
    let tp_count = {
        let mut h = Holes::default();
        let t = third_parties(res, &mut h);
        t.certified.len() + t.non_certified.len()
    };
    let frr = vec![json!({
        "frrID": "MAS-CSO-TPR",
        "frrImplementation": [format!(
            "The Certification Package Overview lists {tp_count} third-party information resources, derived by demarc from the estate `{}` as of {as_of}: every provider, vendor and MSSP party, with the services it runs for the offering's assets, the responsibility cells it carries and the attestations on record (framework, dates, lapsed or in date).",
            estate.name
        )],
        "frrValidation": [
            "Regenerate with `demarc export fedramp-cpo` on the same estate and as-of date: the output is byte-identical; `demarc compliance --framework fedramp --baseline moderate` prints the same inheritance counts."
        ],
        "frrAssessment": [],
    })];
    let controls: Vec<Value> = moderate
        .rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            m.insert("controlId".into(), json!(row.requirement.label));
            if let Some(s) = status(row) {
                m.insert("controlImplementationStatus".into(), json!(s));
            }
            m.insert(
                "controlImplementationDescription".into(),
                json!(inheritance_text(row)),
            );
            Value::Object(m)
        })
        .collect();
    let indicators: Vec<Value> = ksi
        .rows
        .iter()
        .map(|row| {
            let mapped: BTreeSet<&str> = row.controls.iter().map(|m| m.control.as_str()).collect();
            let mut evidence = Vec::new();
            let mut total = 0usize;
            for ev in &estate.evidence {
                if !mapped.contains(ev.control.value.as_str()) || ev.valid_until() <= as_of {
                    continue;
                }
                total += 1;
                if evidence.len() >= MAX_EVIDENCE {
                    continue;
                }
                let mut e = Map::new();
                if let Some(t) = evidence_type(ev.kind) {
                    e.insert("evidenceType".into(), json!(t));
                }
                e.insert(
                    "evidenceDescription".into(),
                    json!(format!(
                        "{} for {}, collected {}, counts until {}{}{}",
                        ev.control.value,
                        ev.asset
                            .as_ref()
                            .map_or("every asset".to_string(), |a| format!("asset {}", a.value)),
                        ev.collected,
                        ev.valid_until(),
                        ev.provided_by
                            .as_ref()
                            .map(|p| format!(", provided by {}", p.value))
                            .unwrap_or_default(),
                        if looks_like_uri(&ev.reference) {
                            String::new()
                        } else {
                            format!("; kept at {}", ev.reference)
                        }
                    )),
                );
                if looks_like_uri(&ev.reference) {
                    e.insert("evidenceLocation".into(), json!(ev.reference));
                }
                e.insert("lastUpdated".into(), json!(ev.collected.to_string()));
                evidence.push(Value::Object(e));
            }
            let mut validation = Vec::new();
            if row.evidence.needed > 0 {
                validation.push(format!(
                    "Evidence for its demarc controls as of {as_of}: {} needed, {} missing, {} expired ({}).",
                    row.evidence.needed,
                    row.evidence.missing,
                    row.evidence.expired,
                    row.evidence.status()
                ));
            }
            if total > evidence.len() {
                validation.push(format!(
                    "{total} in-date evidence records; the first {} are listed.",
                    evidence.len()
                ));
            }
            let mut m = Map::new();
            m.insert("ksiId".into(), json!(row.requirement.id));
            if let Some(s) = status(row) {
                m.insert("ksiImplementationStatus".into(), json!(s));
            }
            m.insert("ksiImplementation".into(), json!([inheritance_text(row)]));
            m.insert("ksiValidation".into(), json!(validation));
            m.insert("ksiAssessment".into(), json!([]));
            m.insert("ksiTests".into(), json!([]));
            m.insert("ksiEvidence".into(), Value::Array(evidence));
            Value::Object(m)
        })
        .collect();
    let mut ext = extension(res, "demarc export fedramp-sdr", schema::SDR, &holes);
    ext.insert(
        "inheritance".into(),
        json!({
            "fedrampModerate": summary_json(&moderate),
            "fedramp20x": summary_json(&ksi),
        }),
    );
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        json!(format!("{}{}", schema::BASE, schema::SDR)),
    );
    doc.insert("certificationPackageOverviewUri".into(), cpo_uri);
    doc.insert("fedRampRequirements".into(), Value::Array(frr));
    doc.insert("securityControls".into(), Value::Array(controls));
    doc.insert("keySecurityIndicators".into(), Value::Array(indicators));
    doc.insert("x-demarc".into(), Value::Object(ext));
    let notes = holes.notes;
    finish("fedramp-sdr export", Value::Object(doc), schema::SDR, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_take_the_form_fedramp_asks_for() {
        assert_eq!(
            us_phone("+1 (202) 555-0123").as_deref(),
            Some("202-555-0123")
        );
        assert_eq!(us_phone("+1-555-0100"), None);
        assert!(looks_like_email("security@acme.example"));
        assert!(!looks_like_email("AWS Enterprise Support"));
    }
}
