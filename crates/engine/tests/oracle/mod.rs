//! A reference resolver for differential tests: slow, per asset, written from the rules in
//! ARCHITECTURE.md ("Resolution") and nothing else. No classes, no tables, no memo, no
//! engine internals: only the loaded `Estate` and `Catalog::responsibility`.
//!
//! Where the documentation leaves the outcome open (equally specific rules with the same
//! readable name but different content), the oracle returns every outcome the documentation
//! allows, and the caller accepts any of them; order-independence is tested separately.

#![allow(dead_code)]

pub mod generate;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use demarc_catalog::{Catalog, Owner};
use demarc_engine::{BasisKind, Ownership, Role};
use demarc_model::{Asset, Duration, Duty, Estate, Loc, PartyKind, Scope, Target};
use globset::Glob;

/// One responsible party as the oracle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAssignee {
    pub party: String,
    pub team: Option<String>,
    pub role: Role,
    pub named: bool,
    pub does: Option<String>,
    pub via: Vec<String>,
}

/// What decided a cell: an estate rule (by kind and `file:line`) or a catalog/default step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decider {
    pub kind: BasisKind,
    /// `file:line` of the rule; `None` for catalog and default steps.
    pub at: Option<String>,
}

/// The oracle's answer for one asset × control × duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OCell {
    pub responsible: Vec<OAssignee>,
    pub ownership: Ownership,
    pub assumed: bool,
    pub unassigned: bool,
    pub contested: Vec<String>,
    pub unsplit: bool,
    pub sla: Option<Duration>,
    pub cadence: Option<Duration>,
    pub decider: Decider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Override,
    Clause,
    Assignment,
}

/// A clause, assignment or override as written.
struct ORule<'e> {
    kind: Kind,
    /// `contract X §Y`, `assignment to a + b`, `override to x`.
    name: String,
    label: String,
    targets: Vec<Target>,
    scope: &'e Scope,
    controls: Vec<&'e str>,
    duties: &'e [Duty],
    split: BTreeMap<String, String>,
    in_force: bool,
    sla: BTreeMap<Duty, Duration>,
    cadence: Option<Duration>,
    performed_by: Option<String>,
    at: Loc,
}

fn label(t: &[Target]) -> String {
    t.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

fn rules(estate: &Estate, as_of: NaiveDate) -> Vec<ORule<'_>> {
    let mut out = Vec::new();
    for o in &estate.overrides {
        let targets = o.to.value.0.clone();
        out.push(ORule {
            kind: Kind::Override,
            name: format!("override to {}", label(&targets)),
            label: label(&targets),
            targets,
            scope: &o.scope,
            controls: o.controls.iter().map(|c| c.value.as_str()).collect(),
            duties: &o.duties,
            split: o.split.clone(),
            // An override lapses on its expiry date.
            in_force: o.expires.is_none_or(|e| e > as_of),
            sla: BTreeMap::new(),
            cadence: None,
            performed_by: None,
            at: o.loc,
        });
    }
    for c in &estate.contracts {
        for cl in &c.clauses {
            let ends = match (c.expires, cl.expires) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let targets = vec![Target::party(&c.party.value)];
            out.push(ORule {
                kind: Kind::Clause,
                name: format!("contract {} §{}", c.id.value, cl.id.value),
                label: label(&targets),
                targets,
                scope: &cl.scope,
                controls: cl.controls.iter().map(|c| c.value.as_str()).collect(),
                duties: &cl.duties,
                split: BTreeMap::new(),
                in_force: ends.is_none_or(|e| e > as_of) && c.effective.is_none_or(|e| e <= as_of),
                sla: cl.sla.clone(),
                cadence: cl.cadence,
                performed_by: cl.performed_by.as_ref().map(|p| p.value.clone()),
                at: cl.id.loc,
            });
        }
    }
    for a in &estate.assignments {
        let targets = a.to.value.0.clone();
        out.push(ORule {
            kind: Kind::Assignment,
            name: format!("assignment to {}", label(&targets)),
            label: label(&targets),
            targets,
            scope: &a.scope,
            controls: a.controls.iter().map(|c| c.value.as_str()).collect(),
            duties: &a.duties,
            split: a.split.clone(),
            in_force: true,
            sla: BTreeMap::new(),
            cadence: None,
            performed_by: None,
            at: a.loc,
        });
    }
    out
}

fn glob_any(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| {
        Glob::new(p)
            .expect("validated glob")
            .compile_matcher()
            .is_match(value)
    })
}

/// Every criterion given must match.
fn scope_matches(s: &Scope, a: &Asset) -> bool {
    if let Some(svc) = &s.service
        && !glob_any(&svc.value.0, a.service.value.as_str())
    {
        return false;
    }
    if let Some(env) = &s.env {
        match &a.env {
            Some(e) if glob_any(&env.value.0, e.as_str()) => {}
            _ => return false,
        }
    }
    if !s.data.is_empty()
        && !s
            .data
            .iter()
            .any(|d| a.data.iter().any(|x| x.as_str() == d))
    {
        return false;
    }
    if !s
        .tags
        .iter()
        .all(|(k, v)| a.tags.get(k) == Some(v.as_str()))
    {
        return false;
    }
    if !s.assets.is_empty() && !s.assets.iter().any(|x| x.value == a.id.value) {
        return false;
    }
    true
}

/// 8 for assets, 2 for a literal service list (1 with any glob), 1 env, 1 data, 1 per tag.
fn scope_score(s: &Scope) -> u32 {
    let mut n = 0;
    if !s.assets.is_empty() {
        n += 8;
    }
    if let Some(svc) = &s.service {
        let glob = svc
            .value
            .0
            .iter()
            .any(|p| p.contains('*') || p.contains('?') || p.contains('['));
        n += if glob { 1 } else { 2 };
    }
    if s.env.is_some() {
        n += 1;
    }
    if !s.data.is_empty() {
        n += 1;
    }
    n + s.tags.len() as u32
}

fn specificity(r: &ORule) -> u32 {
    4 * scope_score(r.scope)
        + if r.controls.is_empty() { 0 } else { 2 }
        + if r.duties.is_empty() { 0 } else { 1 }
}

/// The rules that may win a rank: most specific, then the name that sorts first (all of them
/// if several share that name), and the other owners of the equally specific rules.
fn pick<'a, 'e>(rs: &[&'a ORule<'e>]) -> Option<(Vec<&'a ORule<'e>>, Vec<String>)> {
    let top = rs.iter().map(|r| specificity(r)).max()?;
    let tied: Vec<&ORule> = rs
        .iter()
        .copied()
        .filter(|r| specificity(r) == top)
        .collect();
    let first = tied.iter().map(|r| r.name.clone()).min()?;
    let winners: Vec<&ORule> = tied.iter().copied().filter(|r| r.name == first).collect();
    // "Name different owners": owners compared as sets, whatever order `to` lists them in.
    let owners = |r: &ORule| {
        r.targets
            .iter()
            .map(|t| t.to_string())
            .collect::<BTreeSet<String>>()
    };
    let mine = owners(winners[0]);
    let contested: BTreeSet<String> = tied
        .iter()
        .filter(|r| owners(r) != mine)
        .map(|r| r.label.clone())
        .collect();
    Some((winners, contested.into_iter().collect()))
}

fn role(estate: &Estate, party: &str) -> Role {
    match estate.parties.get(party).map(|p| p.kind) {
        Some(PartyKind::Customer) => Role::Customer,
        Some(PartyKind::Mssp) => Role::Mssp,
        Some(PartyKind::Vendor) => Role::Vendor,
        _ => Role::Provider,
    }
}

/// CSA label from the roles present.
pub fn ownership_of(roles: &[Role]) -> Ownership {
    let provider = roles.contains(&Role::Provider);
    let customer = roles.contains(&Role::Customer);
    let third = roles.contains(&Role::Mssp) || roles.contains(&Role::Vendor);
    if provider && !customer && !third {
        Ownership::CspOwned
    } else if provider || (customer && third) {
        Ownership::Shared
    } else if third {
        Ownership::ThirdParty
    } else {
        Ownership::CscOwned
    }
}

/// How the asset's service is known: the model (None = unknown), the named catalog service,
/// and the party providing it.
struct Svc<'c> {
    model: Option<String>,
    service: Option<&'c demarc_catalog::Service>,
    provider: Option<String>,
}

fn service_of<'c>(estate: &Estate, catalog: &'c Catalog, a: &Asset) -> Svc<'c> {
    let id = a.service.value.as_str();
    let mut v = if let Some(s) = catalog.service(id) {
        // The estate party that stands for the catalog provider: same key, or `provides`.
        let party = if estate.parties.contains_key(&s.provider) {
            s.provider.clone()
        } else {
            estate
                .parties
                .iter()
                .find(|(_, p)| p.provides.iter().any(|x| x.value == s.provider))
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| s.provider.clone())
        };
        Svc {
            model: Some(s.model.clone()),
            service: Some(s),
            provider: Some(party),
        }
    } else if catalog.model(id).is_some() {
        Svc {
            model: Some(id.to_string()),
            service: None,
            provider: None,
        }
    } else if let Some(cs) = estate.services.get(id) {
        Svc {
            model: Some(cs.model.value.clone()),
            service: None,
            provider: cs.provider.as_ref().map(|p| p.value.clone()),
        }
    } else {
        Svc {
            model: None,
            service: None,
            provider: None,
        }
    };
    if let Some(p) = &a.provider {
        v.provider = Some(p.value.as_str().to_string());
    }
    v
}

/// Whether the asset's service is unknown (no catalog service, model or estate service).
pub fn is_unknown_service(estate: &Estate, catalog: &Catalog, a: &Asset) -> bool {
    service_of(estate, catalog, a).model.is_none()
}

/// `runs_on` from `origin` for a control on `layer`: up to 8 hops, no cycles.
fn chain(estate: &Estate, origin: &str, layer: &str) -> Vec<String> {
    let mut via: Vec<String> = Vec::new();
    let mut cur = origin.to_string();
    while via.len() < 8 {
        let Some(p) = estate.parties.get(&cur) else {
            break;
        };
        let next = p.runs_on.iter().find(|r| {
            let covers = if r.layers.is_empty() {
                layer.starts_with("physical-")
            } else {
                r.layers.iter().any(|l| l.value == layer)
            };
            covers && r.party.value != origin && !via.contains(&r.party.value)
        });
        match next {
            Some(r) => {
                via.push(r.party.value.clone());
                cur = r.party.value.clone();
            }
            None => break,
        }
    }
    via
}

fn provider_assignee(estate: &Estate, svc: &Svc, layer: &str, does: Option<String>) -> OAssignee {
    let party = svc.provider.clone().unwrap_or_else(|| "provider".into());
    OAssignee {
        via: chain(estate, &party, layer),
        party,
        team: None,
        role: Role::Provider,
        named: true,
        does,
    }
}

fn target_assignee(
    estate: &Estate,
    svc: &Svc,
    layer: &str,
    t: &Target,
    does: Option<String>,
) -> OAssignee {
    if t.party == "provider" && t.team.is_none() && !estate.parties.contains_key("provider") {
        return provider_assignee(estate, svc, layer, does);
    }
    OAssignee {
        party: t.party.clone(),
        team: t.team.clone(),
        role: role(estate, &t.party),
        named: true,
        does,
        via: Vec::new(),
    }
}

fn finish(
    responsible: Vec<OAssignee>,
    assumed: bool,
    contested: Vec<String>,
    sla: Option<Duration>,
    cadence: Option<Duration>,
    decider: Decider,
) -> OCell {
    let roles: Vec<Role> = responsible.iter().map(|a| a.role).collect();
    OCell {
        ownership: ownership_of(&roles),
        unassigned: responsible.iter().any(|a| !a.named),
        unsplit: responsible.len() > 1
            && responsible
                .iter()
                .any(|a| a.does.as_deref().is_none_or(str::is_empty)),
        responsible,
        assumed,
        contested,
        sla,
        cadence,
        decider,
    }
}

/// Every cell of one asset: `(control, duty) -> the outcomes the documentation allows`.
/// A (control, duty) that is absent does not apply to the asset's service.
pub fn resolve_asset(
    estate: &Estate,
    catalog: &Catalog,
    as_of: NaiveDate,
    asset: &Asset,
) -> BTreeMap<(String, Duty), Vec<OCell>> {
    let all = rules(estate, as_of);
    let matching: Vec<&ORule> = all
        .iter()
        .filter(|r| scope_matches(r.scope, asset))
        .collect();
    let svc = service_of(estate, catalog, asset);
    let cite = |l: Loc| Some(estate.cite(l));
    let mut out = BTreeMap::new();
    for control in &catalog.controls {
        for &duty in &control.duties {
            let found = match &svc.model {
                Some(m) => match catalog.responsibility(m, svc.service, &control.id, duty) {
                    Some(f) => Some(f),
                    None => continue,
                },
                None => None,
            };
            let (owner, ptext, ctext, catalog_kind) = match &found {
                Some(f) => (
                    f.owner,
                    f.entry.provider.clone(),
                    f.entry.customer.clone(),
                    if f.level.is_service_specific() {
                        BasisKind::ServiceCatalog
                    } else {
                        BasisKind::GenericModel
                    },
                ),
                None => (Owner::Customer, None, None, BasisKind::Default),
            };
            let assumed = found.is_none();
            let covering: Vec<&ORule> = matching
                .iter()
                .copied()
                .filter(|r| r.in_force)
                .filter(|r| r.controls.is_empty() || r.controls.contains(&control.id.as_str()))
                .filter(|r| r.duties.is_empty() || r.duties.contains(&duty))
                .collect();
            let of = |k: Kind| {
                covering
                    .iter()
                    .copied()
                    .filter(|r| r.kind == k)
                    .collect::<Vec<_>>()
            };
            let (overrides, clauses, assignments) =
                (of(Kind::Override), of(Kind::Clause), of(Kind::Assignment));
            let catalog_decider = Decider {
                kind: catalog_kind,
                at: None,
            };
            let layer = control.layer.as_str();
            let mut outcomes = Vec::new();
            if let Some((winners, contested)) = pick(&overrides) {
                for w in winners {
                    let resp = w
                        .targets
                        .iter()
                        .map(|t| {
                            target_assignee(
                                estate,
                                &svc,
                                layer,
                                t,
                                w.split.get(&t.to_string()).cloned(),
                            )
                        })
                        .collect();
                    outcomes.push(finish(
                        resp,
                        assumed,
                        contested.clone(),
                        None,
                        None,
                        Decider {
                            kind: BasisKind::Override,
                            at: cite(w.at),
                        },
                    ));
                }
            } else {
                let mut provider_side = Vec::new();
                if matches!(owner, Owner::Provider | Owner::Shared) {
                    provider_side.push(provider_assignee(estate, &svc, layer, ptext.clone()));
                }
                let shared = owner == Owner::Shared;
                if matches!(owner, Owner::Customer | Owner::Shared) {
                    if let Some((winners, contested)) = pick(&clauses) {
                        for w in winners {
                            let mut a = target_assignee(estate, &svc, layer, &w.targets[0], None);
                            a.does = if shared { ctext.clone() } else { None };
                            a.via.extend(w.performed_by.clone());
                            let mut resp = provider_side.clone();
                            resp.push(a);
                            outcomes.push(finish(
                                resp,
                                assumed,
                                contested.clone(),
                                w.sla.get(&duty).copied(),
                                w.cadence,
                                Decider {
                                    kind: BasisKind::Contract,
                                    at: cite(w.at),
                                },
                            ));
                        }
                    } else if let Some((winners, contested)) = pick(&assignments) {
                        for w in winners {
                            let mut resp = provider_side.clone();
                            for t in &w.targets {
                                let mut does = w.split.get(&t.to_string()).cloned();
                                if shared && w.targets.len() == 1 {
                                    does = does.or_else(|| ctext.clone());
                                }
                                resp.push(target_assignee(estate, &svc, layer, t, does));
                            }
                            outcomes.push(finish(
                                resp,
                                assumed,
                                contested.clone(),
                                None,
                                None,
                                Decider {
                                    kind: BasisKind::Assignment,
                                    at: cite(w.at),
                                },
                            ));
                        }
                    } else {
                        let mut resp = provider_side.clone();
                        resp.push(OAssignee {
                            party: estate.customer.value.clone(),
                            team: None,
                            role: Role::Customer,
                            named: false,
                            does: if shared { ctext.clone() } else { None },
                            via: Vec::new(),
                        });
                        outcomes.push(finish(
                            resp,
                            assumed,
                            Vec::new(),
                            None,
                            None,
                            catalog_decider.clone(),
                        ));
                    }
                } else {
                    outcomes.push(finish(
                        provider_side,
                        assumed,
                        Vec::new(),
                        None,
                        None,
                        catalog_decider.clone(),
                    ));
                }
            }
            out.insert((control.id.clone(), duty), outcomes);
        }
    }
    out
}
