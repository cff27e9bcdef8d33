//! The estate as an OSCAL 1.1.3 System Security Plan.
//!
//! The customer's estate is the system. Each provider service the assets use is a
//! component (external, tied to the provider's leveraged authorization when an in-date
//! attestation is on record), as is each MSSP or vendor and each customer team. The
//! requirements are the FedRAMP Moderate baseline of SP 800-53; each is rolled up over the
//! estate (`demarc_compliance::rollup`), and its by-components say who carries it: the
//! provider's part is `inherited` (from the provider's `provided` entry), the customer's
//! teams and contractors `satisfied` the provider's `responsibility` entries, and services
//! the estate provides itself `export` what they provide and leave to their own customers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use demarc_compliance::Library;
use demarc_compliance::rollup::{Options, Origination, Row, rollup};
use demarc_engine::{Resolution, Role};
use demarc_model::Duty;
use serde_json::{Value, json};

use super::{NS, uuid_for};
use crate::ExchangeError;

const FEDRAMP_MODERATE: &str = "https://raw.githubusercontent.com/GSA/fedramp-automation/master/dist/content/rev5/baselines/json/FedRAMP_rev5_MODERATE-baseline_profile.json";

/// Who a by-component is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    /// The customer itself, no team named.
    ThisSystem,
    /// A provider service (base service id).
    Service(String),
    /// A team of the customer.
    Team(String, String),
    /// An MSSP or vendor.
    Third(String),
}

#[derive(Debug, Clone, Default)]
struct Acc {
    cells: usize,
    duties: BTreeSet<Duty>,
    does: Vec<String>,
    problems: usize,
    /// Services whose provider shares the cells this side works on: the provider's
    /// responsibilities it satisfies.
    satisfies: BTreeSet<String>,
    /// Who actually does the work (`payflow → aws`).
    via: BTreeSet<String>,
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.cells += o.cells;
        self.duties.extend(o.duties.iter().copied());
        for d in &o.does {
            if self.does.len() < 3 && !self.does.contains(d) {
                self.does.push(d.clone());
            }
        }
        self.problems += o.problems;
        self.satisfies.extend(o.satisfies.iter().cloned());
        self.via.extend(o.via.iter().cloned());
    }
}

struct Svc {
    name: String,
    model: Option<String>,
    provider: Option<String>,
    assets: usize,
}

fn base(service: &str) -> &str {
    service.split_once('#').map_or(service, |(s, _)| s)
}

fn glob_match(pattern: &str, s: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return pattern == s;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(s))
        .unwrap_or(false)
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "ns": NS, "value": value.into()})
}

fn duties(d: &BTreeSet<Duty>) -> String {
    d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

/// Text for an OSCAL string field: trimmed, never empty.
fn text(s: &str) -> String {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() { "-".into() } else { t }
}

struct Ctx<'a> {
    res: &'a Resolution,
    estate_id: String,
    customer: String,
    /// party key → uuid (estate parties, their teams as `key/team`, undeclared providers).
    party_uuid: BTreeMap<String, String>,
    party_name: BTreeMap<String, String>,
    services: BTreeMap<String, Svc>,
    /// provider party → its in-date leveraged authorizations (uuid, framework, services).
    las: BTreeMap<String, Vec<(String, String, Vec<String>)>>,
}

impl Ctx<'_> {
    fn party(&self, key: &str) -> Option<&String> {
        self.party_uuid.get(key)
    }
    /// The leveraged authorization that covers a service, if any.
    fn la_for(&self, service: &str) -> Option<&str> {
        let p = self.services.get(service)?.provider.as_deref()?;
        self.las
            .get(p)?
            .iter()
            .find(|(_, _, svcs)| svcs.is_empty() || svcs.iter().any(|g| glob_match(g, service)))
            .map(|(u, _, _)| u.as_str())
    }
    fn comp_uuid(&self, k: &Key) -> String {
        match k {
            Key::ThisSystem => uuid_for(&["component", &self.estate_id, "this-system"]),
            Key::Service(s) => uuid_for(&["component", &self.estate_id, "service", s]),
            Key::Team(p, t) => uuid_for(&["component", &self.estate_id, "team", p, t]),
            Key::Third(p) => uuid_for(&["component", &self.estate_id, "party", p]),
        }
    }
    fn role_of(&self, k: &Key) -> (&'static str, Option<String>) {
        match k {
            Key::ThisSystem => ("system-owner", self.party(&self.customer).cloned()),
            Key::Service(s) => (
                "provider",
                self.services
                    .get(s)
                    .and_then(|v| v.provider.as_deref())
                    .and_then(|p| self.party(p).cloned()),
            ),
            Key::Team(p, t) => ("customer", self.party(&format!("{p}/{t}")).cloned()),
            Key::Third(p) => {
                let kind = self
                    .res
                    .estate()
                    .parties
                    .get(p)
                    .map(|x| x.kind.as_str())
                    .unwrap_or("vendor");
                (
                    if kind == "mssp" { "mssp" } else { "vendor" },
                    self.party(p).cloned(),
                )
            }
        }
    }
    fn responsible(&self, k: &Key) -> Value {
        let (role, party) = self.role_of(k);
        match party {
            Some(p) => json!([{"role-id": role, "party-uuids": [p]}]),
            None => json!([{"role-id": role}]),
        }
    }
    fn label(&self, k: &Key) -> String {
        match k {
            Key::ThisSystem => self
                .party_name
                .get(&self.customer)
                .cloned()
                .unwrap_or_else(|| self.customer.clone()),
            Key::Service(s) => format!(
                "{} ({s})",
                self.services.get(s).map(|v| v.name.as_str()).unwrap_or(s)
            ),
            Key::Team(p, t) => self
                .party_name
                .get(&format!("{p}/{t}"))
                .cloned()
                .unwrap_or_else(|| format!("{p}/{t}")),
            Key::Third(p) => self.party_name.get(p).cloned().unwrap_or_else(|| p.clone()),
        }
    }
}

pub(super) fn build(res: &Resolution, lib: &Library, level: &str) -> Result<Value, ExchangeError> {
    let estate = res.estate();
    let catalog = res.catalog();
    let as_of = res.as_of();
    let fail = |m: String, h: &str| ExchangeError::new("oscal-ssp export", "", m, h);
    let baseline = lib
        .baseline("fedramp", level)
        .map_err(|e| fail(e.message, &e.help))?;
    // FIPS 199 impact of the baseline: LI-SaaS is a low-impact baseline.
    let fips = match level {
        "high" => "fips-199-high",
        "moderate" => "fips-199-moderate",
        _ => "fips-199-low",
    };
    let roll = rollup(
        lib,
        res,
        &Options {
            framework: "fedramp",
            baseline: Some(baseline),
            ..Default::default()
        },
    )
    .map_err(|e| fail(e.message, &e.help))?;

    let estate_id = if estate.name.is_empty() {
        estate.customer.value.clone()
    } else {
        estate.name.clone()
    };
    let customer = estate.customer.value.clone();

    // Tables in use, with their assets, and the services behind them.
    let mut tables: BTreeMap<usize, (usize, String, Option<String>)> = BTreeMap::new();
    let mut services: BTreeMap<String, Svc> = BTreeMap::new();
    for c in res.classes() {
        let s = base(c.service).to_string();
        let e =
            tables
                .entry(c.table.index())
                .or_insert((0, s.clone(), c.provider.map(str::to_string)));
        e.0 += c.assets;
        let first = c.members().next();
        let info = first.map(|a| res.service_of(a));
        let svc = services.entry(s.clone()).or_insert_with(|| Svc {
            name: catalog
                .service(&s)
                .map(|x| x.name.clone())
                .or_else(|| estate.services.get(&s).and_then(|x| x.name.clone()))
                .unwrap_or_else(|| s.clone()),
            model: info.and_then(|i| i.model.map(str::to_string)),
            provider: c.provider.map(str::to_string),
            assets: 0,
        });
        svc.assets += c.assets;
    }

    // Parties: the estate's, their teams, and catalog providers the estate does not declare.
    let mut party_uuid = BTreeMap::new();
    let mut party_name = BTreeMap::new();
    let mut parties_json = Vec::new();
    for (key, p) in &estate.parties {
        let u = uuid_for(&["party", key]);
        party_uuid.insert(key.clone(), u.clone());
        party_name.insert(key.clone(), p.name.clone());
        let mut pj = json!({"uuid": u, "type": "organization", "name": text(&p.name), "short-name": key,
            "props": [prop("party-kind", p.kind.as_str())]});
        if let Some(c) = p.contact.as_deref().filter(|c| is_email(c)) {
            pj["email-addresses"] = json!([c]);
        }
        if let Some(ph) = p.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            pj["telephone-numbers"] = json!([{"number": ph.trim()}]);
        }
        parties_json.push(pj);
        for (tk, t) in &p.teams {
            let tkey = format!("{key}/{tk}");
            let tu = uuid_for(&["party", key, tk]);
            let name = match &t.name {
                Some(n) => format!("{} / {n}", p.name),
                None => format!("{} / {tk}", p.name),
            };
            party_uuid.insert(tkey.clone(), tu.clone());
            party_name.insert(tkey.clone(), name.clone());
            let mut tj = json!({"uuid": tu, "type": "organization", "name": text(&name), "short-name": tkey,
                "member-of-organizations": [u]});
            if let Some(c) = t.contact.as_deref().filter(|c| is_email(c)) {
                tj["email-addresses"] = json!([c]);
            }
            parties_json.push(tj);
        }
    }
    for svc in services.values() {
        if let Some(p) = &svc.provider
            && !party_uuid.contains_key(p)
        {
            let u = uuid_for(&["party", p]);
            let name = catalog
                .providers
                .get(p)
                .cloned()
                .unwrap_or_else(|| p.clone());
            party_uuid.insert(p.clone(), u.clone());
            party_name.insert(p.clone(), name.clone());
            parties_json.push(json!({"uuid": u, "type": "organization", "name": text(&name), "short-name": p,
                "props": [prop("party-kind", "provider")],
                "remarks": "A provider known from demarc's catalog; the estate does not declare it as a party."}));
        }
    }

    // Leveraged authorizations: in-date attestations of the providers whose services are used.
    let mut las_json = Vec::new();
    let mut las: BTreeMap<String, Vec<(String, String, Vec<String>)>> = BTreeMap::new();
    let providers: BTreeSet<&String> = services
        .values()
        .filter_map(|s| s.provider.as_ref())
        .collect();
    let mut lapsed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pkey in providers {
        if *pkey == customer {
            continue;
        }
        let Some(p) = estate.parties.get(pkey.as_str()) else {
            continue;
        };
        for (i, a) in p.attestations.iter().enumerate() {
            let fw = a.framework.value.clone();
            let until = a.valid_until();
            if until.is_some_and(|u| u < as_of) {
                lapsed.entry(pkey.clone()).or_default().push(format!(
                    "{fw} (lapsed {})",
                    until.map(|u| u.to_string()).unwrap_or_default()
                ));
                continue;
            }
            let u = uuid_for(&["leveraged-authorization", pkey, &fw, &i.to_string()]);
            let fw_name = catalog
                .framework(&fw)
                .map(|f| f.name.clone())
                .unwrap_or_else(|| fw.clone());
            let mut props = vec![prop("framework", fw.clone())];
            if let Some(u) = until {
                props.push(prop("valid-until", u.to_string()));
            }
            let svcs: Vec<String> = a.services.iter().map(|s| s.value.clone()).collect();
            if !svcs.is_empty() {
                props.push(prop("covers-services", svcs.join(" ")));
            }
            let mut remarks = vec![format!(
                "{} {fw_name}{}.",
                p.name,
                a.reference
                    .as_deref()
                    .map(|r| format!(", recorded as \"{r}\""))
                    .unwrap_or_default()
            )];
            let date = match a.period_end {
                Some(d) => {
                    remarks.push("date-authorized is the end of the report's period.".into());
                    d
                }
                None => {
                    remarks.push("The estate records no authorization date for this attestation; date-authorized is the plan's as-of date.".into());
                    as_of
                }
            };
            las_json.push(json!({
                "uuid": u,
                "title": text(&format!("{} {fw_name}", p.name)),
                "props": props,
                "party-uuid": party_uuid[pkey.as_str()],
                "date-authorized": date.to_string(),
                "remarks": remarks.join(" "),
            }));
            las.entry(pkey.clone()).or_default().push((u, fw, svcs));
        }
    }

    let ctx = Ctx {
        res,
        estate_id: estate_id.clone(),
        customer: customer.clone(),
        party_uuid,
        party_name,
        services,
        las,
    };

    // Per control: who carries its cells, by component.
    let mut per_ctl: HashMap<usize, BTreeMap<Key, Acc>> = HashMap::new();
    for (&t, (n, service, provider)) in &tables {
        let Some(first) = res.classes().find(|c| c.table.index() == t) else {
            continue;
        };
        for cell in res.table_cells(first.table) {
            let ci = res.control_index(cell);
            let provider_side = cell.responsible.iter().any(|a| a.role == Role::Provider);
            let by = per_ctl.entry(ci).or_default();
            for a in &cell.responsible {
                let key = match a.role {
                    Role::Provider => Key::Service(service.clone()),
                    Role::Customer => match &a.team {
                        Some(tm) => Key::Team(a.party.clone(), tm.clone()),
                        None => Key::ThisSystem,
                    },
                    Role::Mssp | Role::Vendor => Key::Third(a.party.clone()),
                };
                let acc = by.entry(key).or_default();
                acc.cells += n;
                acc.duties.insert(cell.duty);
                if let Some(d) = &a.does
                    && acc.does.len() < 3
                    && !acc.does.contains(d)
                {
                    acc.does.push(d.clone());
                }
                if cell.has_problem() && a.role != Role::Provider {
                    acc.problems += n;
                }
                if a.role != Role::Provider && provider_side && provider.is_some() {
                    acc.satisfies.insert(service.clone());
                }
                if !a.via.is_empty() {
                    acc.via.insert(a.label());
                }
            }
        }
    }

    // Components that carry anything, in a stable order.
    let mut used: BTreeSet<Key> = BTreeSet::new();
    used.insert(Key::ThisSystem);
    for by in per_ctl.values() {
        used.extend(by.keys().cloned());
    }
    for s in ctx.services.keys() {
        used.insert(Key::Service(s.clone()));
    }
    if let Some(c) = estate.parties.get(customer.as_str()) {
        for t in c.teams.keys() {
            used.insert(Key::Team(customer.clone(), t.clone()));
        }
    }
    for (k, p) in &estate.parties {
        if p.kind.as_str() == "mssp" {
            used.insert(Key::Third(k.clone()));
        }
    }
    let components: Vec<Value> = used.iter().map(|k| component(&ctx, k)).collect();

    // Users: the customer's teams (internal) and MSSPs (external).
    let mut users = Vec::new();
    for k in &used {
        let (role, party) = ctx.role_of(k);
        let kind = match k {
            Key::Team(..) => "internal",
            Key::Third(_) if role == "mssp" => "external",
            _ => continue,
        };
        let mut u = json!({
            "uuid": uuid_for(&["user", &estate_id, &format!("{k:?}")]),
            "title": text(&ctx.label(k)),
            "props": [{"name": "type", "value": kind}],
            "role-ids": [role],
        });
        if let Some(p) = party {
            u["remarks"] = json!(format!("Party {p}."));
        }
        users.push(u);
    }
    if users.is_empty() {
        users.push(json!({
            "uuid": uuid_for(&["user", &estate_id, "system-owner"]),
            "title": text(&ctx.label(&Key::ThisSystem)),
            "props": [{"name": "type", "value": "internal"}],
            "role-ids": ["system-owner"],
        }));
    }

    let reqs: Vec<Value> = roll
        .rows
        .iter()
        .map(|row| requirement(&ctx, row, &per_ctl))
        .collect();

    let ssp_uuid = uuid_for(&["system-security-plan", &estate_id]);
    let customer_uuid = ctx.party(&customer).cloned();
    let mut data: BTreeSet<String> = BTreeSet::new();
    for c in res.classes() {
        data.extend(c.data.iter().map(|d| d.to_string()));
    }
    let mut lapsed_note = String::new();
    for (p, l) in &lapsed {
        lapsed_note.push_str(&format!(" {p}: {} not relied on.", l.join(", ")));
    }
    let mut metadata = json!({
        "title": text(&format!("System Security Plan: {estate_id}")),
        "last-modified": format!("{as_of}T00:00:00Z"),
        "version": as_of.to_string(),
        "oscal-version": "1.1.3",
        "props": [prop("generator", "demarc"), prop("as-of", as_of.to_string())],
        "roles": [
            {"id": "system-owner", "title": "System Owner", "description": "The customer: owns the data and stays accountable for every control."},
            {"id": "provider", "title": "Cloud Service Provider", "description": "Provides a service the system runs on; its part of a control is inherited."},
            {"id": "customer", "title": "Customer Team", "description": "A team of the customer that carries the customer's part of a control."},
            {"id": "mssp", "title": "Managed Security Service Provider", "description": "A third party carrying part of the customer's side under contract."},
            {"id": "vendor", "title": "Vendor", "description": "Another third party under contract (a consultancy, a subcontractor or a SaaS vendor)."},
            {"id": "leveraging-customer", "title": "Leveraging Customer", "description": "A customer of a service this system provides."},
        ],
        "parties": parties_json,
    });
    if let Some(u) = &customer_uuid {
        metadata["responsible-parties"] = json!([{"role-id": "system-owner", "party-uuids": [u]}]);
    }
    let mut si = json!({
        "users": users,
        "components": components,
    });
    if !las_json.is_empty() {
        si["leveraged-authorizations"] = json!(las_json);
    }
    let doc = json!({
        "system-security-plan": {
            "uuid": ssp_uuid,
            "metadata": metadata,
            "import-profile": {"href": FEDRAMP_MODERATE},
            "system-characteristics": {
                "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": ssp_uuid}],
                "system-name": text(&estate_id),
                "description": text(&format!(
                    "The {estate_id} estate of {}: {} assets on {} services, resolved by demarc as of {as_of}.{}",
                    ctx.label(&Key::ThisSystem), res.asset_count(), ctx.services.len(),
                    if lapsed_note.is_empty() { String::new() } else { format!(" Lapsed attestations:{lapsed_note}") }
                )),
                "props": [prop("assets", res.asset_count().to_string())],
                "security-sensitivity-level": fips,
                "system-information": {"information-types": [{
                    "uuid": uuid_for(&["information-type", &estate_id]),
                    "title": "Estate data",
                    "description": text(&if data.is_empty() {
                        "The data the estate's assets hold (no data classes are declared).".to_string()
                    } else {
                        format!("The data the estate's assets hold, by demarc data class: {}.", data.into_iter().collect::<Vec<_>>().join(", "))
                    }),
                    "confidentiality-impact": {"base": fips},
                    "integrity-impact": {"base": fips},
                    "availability-impact": {"base": fips},
                }]},
                "security-impact-level": {
                    "security-objective-confidentiality": fips,
                    "security-objective-integrity": fips,
                    "security-objective-availability": fips,
                },
                "status": {"state": "operational"},
                "authorization-boundary": {"description": text(&format!(
                    "The assets of the {estate_id} estate and the provider services they run on; the providers' own systems are outside the boundary and leveraged."
                ))},
            },
            "system-implementation": si,
            "control-implementation": {
                "description": text(&format!(
                    "{} ({}): {} requirements, {} inherited, {} shared, {} the customer's, {} not applicable to the estate, {} not addressed by demarc's catalog; {} ready.",
                    baseline.title, roll.framework_name, roll.summary.requirements, roll.summary.inherited,
                    roll.summary.shared, roll.summary.customer, roll.summary.not_applicable,
                    roll.summary.not_addressed, roll.summary.ready
                )),
                "implemented-requirements": reqs,
            },
        }
    });
    Ok(doc)
}

fn is_email(s: &str) -> bool {
    let s = s.trim();
    s.contains('@') && !s.contains(char::is_whitespace) && !s.starts_with('@') && !s.ends_with('@')
}

fn component(ctx: &Ctx, k: &Key) -> Value {
    let uuid = ctx.comp_uuid(k);
    let (kind, desc, mut props) = match k {
        Key::ThisSystem => (
            "this-system",
            format!(
                "The {} system as a whole; where no team is named, the customer itself.",
                ctx.estate_id
            ),
            vec![],
        ),
        Key::Service(s) => {
            let svc = &ctx.services[s];
            let own = svc.provider.as_deref() == Some(ctx.customer.as_str());
            let pname = svc
                .provider
                .as_deref()
                .map(|p| {
                    ctx.party_name
                        .get(p)
                        .cloned()
                        .unwrap_or_else(|| p.to_string())
                })
                .unwrap_or_else(|| "an unknown provider".into());
            let mut props = vec![
                json!({"name": "implementation-point", "value": if own { "internal" } else { "external" }}),
                prop("service-id", s.clone()),
                prop("assets", svc.assets.to_string()),
            ];
            if let Some(m) = &svc.model {
                props.push(prop("service-model", m.clone()));
            }
            if !own && let Some(la) = ctx.la_for(s) {
                props.push(json!({"name": "leveraged-authorization-uuid", "value": la}));
            }
            (
                "service",
                format!(
                    "{} ({s}), {} provided by {pname}; {} assets of the estate use it.",
                    svc.name,
                    svc.model.as_deref().unwrap_or("unknown model"),
                    svc.assets
                ),
                props,
            )
        }
        Key::Team(..) => (
            "service",
            format!("{}: a team of the customer.", ctx.label(k)),
            vec![json!({"name": "implementation-point", "value": "internal"})],
        ),
        Key::Third(p) => {
            let kind = ctx
                .res
                .estate()
                .parties
                .get(p)
                .map(|x| x.kind.as_str())
                .unwrap_or("vendor");
            (
                "service",
                format!(
                    "{}: a third party ({kind}) working for the customer under contract.",
                    ctx.label(k)
                ),
                vec![json!({"name": "implementation-point", "value": "external"})],
            )
        }
    };
    props.push(prop("demarc-component", format!("{k:?}")));
    let mut c = json!({
        "uuid": uuid,
        "type": kind,
        "title": text(&ctx.label(k)),
        "description": text(&desc),
        "status": {"state": "operational"},
        "responsible-roles": ctx.responsible(k),
    });
    c["props"] = json!(props);
    c
}

fn requirement(ctx: &Ctx, row: &Row, per_ctl: &HashMap<usize, BTreeMap<Key, Acc>>) -> Value {
    let req = &row.requirement.id;
    let catalog = ctx.res.catalog();
    let mut by: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut ctl_ix = Vec::new();
    for m in &row.controls {
        if let Some(ci) = catalog.control_position(&m.control)
            && !ctl_ix.contains(&ci)
        {
            ctl_ix.push(ci);
            for (k, a) in per_ctl.get(&ci).into_iter().flatten() {
                by.entry(k.clone()).or_default().merge(a);
            }
        }
    }
    let controls: Vec<&str> = row.controls.iter().map(|m| m.control.as_str()).collect();
    let est = &ctx.estate_id;
    let mut bcs = Vec::new();
    let mut roles: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (k, a) in &by {
        let (role, party) = ctx.role_of(k);
        roles.entry(role).or_default().extend(party.clone());
        let cu = ctx.comp_uuid(k);
        let bu = uuid_for(&["by-component", est, req, &cu]);
        let does = if a.does.is_empty() {
            String::new()
        } else {
            format!(" What it does: {}.", a.does.join("; "))
        };
        let via = if a.via.is_empty() {
            String::new()
        } else {
            format!(
                " Performed through {}.",
                a.via.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let mut bc = json!({
            "component-uuid": cu,
            "uuid": bu,
        });
        match k {
            Key::Service(s) => {
                let svc = &ctx.services[s];
                let p = svc.provider.clone().unwrap_or_default();
                let own = p == ctx.customer;
                bc["description"] = json!(text(&format!(
                    "{} carries {} asset-duty cells of {} ({}).{does}{via}",
                    ctx.label(k),
                    a.cells,
                    controls.join(", "),
                    duties(&a.duties)
                )));
                bc["implementation-status"] = json!({"state": "implemented"});
                if own {
                    // The estate provides this service: what it provides is exported, and the
                    // catalog's customer side is left to its own customers.
                    let pu = uuid_for(&["provided", &p, s, req]);
                    let mut export = json!({"provided": [{
                        "uuid": pu,
                        "description": text(&format!("{} provides its part of {req} ({}) to the service's customers.{does}", ctx.label(k), controls.join(", "))),
                        "responsible-roles": ctx.responsible(k),
                    }]});
                    let left = customer_side(ctx, svc, &controls);
                    if !left.is_empty() {
                        export["responsibilities"] = json!([{
                            "uuid": uuid_for(&["responsibility", &p, s, req]),
                            "provided-uuid": pu,
                            "description": text(&format!("Customers of the service: {}", left.join(" | "))),
                            "responsible-roles": [{"role-id": "leveraging-customer"}],
                        }]);
                    }
                    bc["export"] = export;
                } else if ctx.la_for(s).is_some() {
                    bc["inherited"] = json!([{
                        "uuid": uuid_for(&["inherited", est, s, req]),
                        "provided-uuid": uuid_for(&["provided", &p, s, req]),
                        "description": text(&format!("Inherited from {} for {} assets.", ctx.label(k), svc.assets)),
                        "responsible-roles": ctx.responsible(k),
                    }]);
                } else {
                    bc["remarks"] = json!(format!(
                        "No in-date attestation of {} that covers {s} is on record, so this part is not claimed as inherited.",
                        if p.is_empty() {
                            "the provider"
                        } else {
                            p.as_str()
                        }
                    ));
                }
            }
            _ => {
                let state = if a.problems == 0 {
                    "implemented"
                } else if a.problems < a.cells {
                    "partial"
                } else {
                    "planned"
                };
                bc["description"] = json!(text(&format!(
                    "{} carries {} asset-duty cells of {} ({}).{does}{via}",
                    ctx.label(k),
                    a.cells,
                    controls.join(", "),
                    duties(&a.duties)
                )));
                let mut st = json!({"state": state});
                if a.problems > 0 {
                    st["remarks"] = json!(format!(
                        "{} of its {} cells have nobody named in writing, owners contesting, or a shared split not written down.",
                        a.problems, a.cells
                    ));
                }
                bc["implementation-status"] = st;
                let sat: Vec<Value> = a
                    .satisfies
                    .iter()
                    .filter(|s| ctx.la_for(s).is_some())
                    .filter_map(|s| {
                        let p = ctx.services.get(s)?.provider.clone()?;
                        if p == ctx.customer {
                            return None;
                        }
                        Some(json!({
                            "uuid": uuid_for(&["satisfied", est, req, &cu, s]),
                            "responsibility-uuid": uuid_for(&["responsibility", &p, s, req]),
                            "description": text(&format!("{} carries the customer's side of {s} for {req}.", ctx.label(k))),
                            "responsible-roles": ctx.responsible(k),
                        }))
                    })
                    .collect();
                if !sat.is_empty() {
                    bc["satisfied"] = json!(sat);
                }
            }
        }
        bc["responsible-roles"] = ctx.responsible(k);
        bcs.push(bc);
    }
    if bcs.is_empty() {
        let (state, why) = match row.origination {
            Origination::NotAddressed => (
                "planned",
                "No demarc control maps to this requirement: the plan must address it outside demarc.".to_string(),
            ),
            _ => (
                "not-applicable",
                format!("No asset of the estate has a control mapped to it ({}).", if controls.is_empty() { "none mapped".to_string() } else { controls.join(", ") }),
            ),
        };
        let cu = ctx.comp_uuid(&Key::ThisSystem);
        bcs.push(json!({
            "component-uuid": cu,
            "uuid": uuid_for(&["by-component", est, req, &cu]),
            "description": why,
            "implementation-status": {"state": state},
        }));
    }
    let mut props = vec![prop("control-origination", row.origination.as_str())];
    props.push(prop(
        "readiness",
        if row.ready { "ready" } else { "not-ready" },
    ));
    for c in &controls {
        props.push(prop("demarc-control", c.to_string()));
    }
    let mut ir = json!({
        "uuid": uuid_for(&["implemented-requirement", est, req]),
        "control-id": req,
        "props": props,
    });
    let rr: Vec<Value> = roles
        .into_iter()
        .map(|(r, ps)| {
            if ps.is_empty() {
                json!({"role-id": r})
            } else {
                json!({"role-id": r, "party-uuids": ps.into_iter().collect::<Vec<_>>()})
            }
        })
        .collect();
    if !rr.is_empty() {
        ir["responsible-roles"] = json!(rr);
    }
    ir["by-components"] = json!(bcs);
    if !row.blockers.is_empty() {
        ir["remarks"] = json!(row.blockers.join("\n\n"));
    }
    ir
}

/// The catalog's customer-side texts of a service the estate provides, for its controls.
fn customer_side(ctx: &Ctx, svc: &Svc, controls: &[&str]) -> Vec<String> {
    let catalog = ctx.res.catalog();
    let Some(model) = svc.model.as_deref() else {
        return vec![];
    };
    let service = ctx
        .services
        .iter()
        .find(|(_, v)| std::ptr::eq(*v, svc))
        .and_then(|(k, _)| catalog.service(k));
    let mut out = Vec::new();
    for c in controls {
        let Some(ctl) = catalog.control(c) else {
            continue;
        };
        for d in &ctl.duties {
            if let Some(f) = catalog.responsibility(model, service, c, *d)
                && f.owner != demarc_model::Owner::Provider
                && let Some(t) = &f.entry.customer
                && !out.contains(t)
            {
                out.push(t.clone());
            }
        }
    }
    out
}
