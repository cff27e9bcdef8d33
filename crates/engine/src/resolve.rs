//! Resolution: for every asset × applicable control × duty, who is responsible and why.
//!
//! Assets are grouped twice before any cell is computed. First by [`Signature`] (the only
//! attributes a scope can see), then by *table key*: the service and the set of rules that
//! match. Cells are computed once per table, so the cost grows with the variety of the estate,
//! not with its size.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, Control, Owner, Service};
use demarc_model::{Duration, Duty, Estate, Loc, PartyKind, Scope, Sp, Sym, Target};

use crate::cell::{Assignee, Basis, BasisKind, Cell, Ownership, Role};
use crate::scope::{Matcher, Projection, Signature};

/// Which part of the estate a rule comes from, highest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    Override,
    Clause,
    Assignment,
}

/// A clause, assignment or override, normalised for matching.
pub struct Rule {
    pub kind: RuleKind,
    /// Stable name: `contract shieldco-msa §4.2`, `assignment to acme/dba`, `override to aws`.
    pub name: String,
    pub at: Loc,
    /// What the clause says, quoted in every basis that cites it (empty for other rules).
    pub text: String,
    pub targets: Vec<Target>,
    pub performed_by: Option<String>,
    pub split: BTreeMap<String, String>,
    pub sla: BTreeMap<Duty, Duration>,
    pub cadence: Option<Duration>,
    /// In force on the analysis date.
    pub active: bool,
    /// Date it stopped counting, when it has.
    pub ended: Option<NaiveDate>,
    /// Date it stops counting, past or future: the earlier of the contract's and the clause's
    /// `expires`, or the override's.
    pub ends: Option<NaiveDate>,
    /// Date it starts counting, when that is still ahead.
    pub starts: Option<NaiveDate>,
    pub specificity: u32,
    matcher: Matcher,
    /// `None` = every control.
    controls: Option<Vec<bool>>,
    /// Bit per [`Duty::index`]; 0 = every duty.
    duties: u8,
}

impl Rule {
    pub fn covers(&self, control: usize, duty: Duty) -> bool {
        self.controls.as_ref().is_none_or(|c| c[control])
            && (self.duties == 0 || self.duties & (1 << duty.index()) != 0)
    }
    pub fn target_label(&self) -> String {
        self.targets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// How an asset's service was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceKind {
    /// A named service in the built-in catalog.
    Catalog,
    /// A generic service model used directly (`iaas`, `saas`, …).
    Generic,
    /// A service the estate defines under `services:`.
    Estate,
    /// Not known anywhere: every control is the customer's, assumed.
    Unknown,
}

/// The cells shared by every asset whose service and matching rules are the same.
pub struct Table {
    pub service: String,
    pub kind: ServiceKind,
    pub model: Option<String>,
    /// Estate party key of the provider, or the catalog provider id when the estate has none.
    pub provider: Option<String>,
    pub provider_declared: bool,
    /// Indices of the rules that match these assets.
    pub rules: Vec<usize>,
    /// Cells are shared between tables: two tables of one service whose rules differ only on
    /// some controls hold the very same cells for all the others.
    pub cells: Vec<Arc<Cell>>,
}

/// Assets that look the same to every rule.
pub struct Class {
    /// Asset indices, in id order.
    pub members: Vec<u32>,
    pub table: usize,
    pub env: Option<Sym>,
    pub data: Vec<Sym>,
}

/// The resolved estate.
pub struct Resolution<'e> {
    pub estate: &'e Estate,
    pub catalog: &'e Catalog,
    pub as_of: NaiveDate,
    pub rules: Vec<Rule>,
    pub tables: Vec<Table>,
    pub classes: Vec<Class>,
    /// Class of each asset, by asset index.
    pub asset_class: Vec<u32>,
    /// Asset indices sorted by id: the order every output uses.
    pub order: Vec<u32>,
}

impl<'e> Resolution<'e> {
    /// The party that stays accountable for every cell.
    pub fn accountable(&self) -> &str {
        &self.estate.customer
    }
    pub fn asset_index(&self, id: &str) -> Option<usize> {
        self.order
            .binary_search_by(|&i| self.estate.assets[i as usize].id.as_str().cmp(id))
            .ok()
            .map(|p| self.order[p] as usize)
    }
    pub fn table_of(&self, asset: usize) -> &Table {
        &self.tables[self.classes[self.asset_class[asset] as usize].table]
    }
    pub fn cells_of(&self, asset: usize) -> &[Arc<Cell>] {
        &self.table_of(asset).cells
    }
    pub fn control(&self, cell: &Cell) -> &'e Control {
        &self.catalog.controls[cell.control]
    }
    /// The number of asset × control × duty cells.
    pub fn cell_count(&self) -> usize {
        self.classes
            .iter()
            .map(|c| c.members.len() * self.tables[c.table].cells.len())
            .sum()
    }
}

/// Resolves every asset of `estate` against `catalog` as of `as_of`. Pure: no I/O, no clock.
/// The estate must have passed [`demarc_model::validate`].
pub fn resolve<'e>(estate: &'e Estate, catalog: &'e Catalog, as_of: NaiveDate) -> Resolution<'e> {
    let scopes = estate
        .contracts
        .iter()
        .flat_map(|c| c.clauses.iter().map(|cl| &cl.scope))
        .chain(estate.assignments.iter().map(|a| &a.scope))
        .chain(estate.overrides.iter().map(|o| &o.scope));
    let projection = Projection::new(scopes);
    let rules = build_rules(estate, catalog, as_of, &projection);

    let mut order: Vec<u32> = (0..estate.assets.len() as u32).collect();
    order.sort_by(|&a, &b| {
        estate.assets[a as usize]
            .id
            .cmp(&estate.assets[b as usize].id)
    });

    let mut class_of: HashMap<Signature<'e>, u32> = HashMap::new();
    let mut classes: Vec<Class> = Vec::new();
    let mut signatures: Vec<Signature<'e>> = Vec::new();
    let mut asset_class = vec![0u32; estate.assets.len()];
    for &i in &order {
        let a = &estate.assets[i as usize];
        let sig = projection.signature(a);
        let c = *class_of.entry(sig.clone()).or_insert_with(|| {
            signatures.push(sig);
            classes.push(Class {
                members: Vec::new(),
                table: 0,
                env: a.env.clone(),
                data: {
                    let mut d = a.data.clone();
                    d.sort();
                    d.dedup();
                    d
                },
            });
            (classes.len() - 1) as u32
        });
        classes[c as usize].members.push(i);
        asset_class[i as usize] = c;
    }

    let mut table_of: HashMap<(&str, Option<&str>, Vec<usize>), usize> = HashMap::new();
    let mut tables: Vec<Table> = Vec::new();
    let ctx = Ctx {
        estate,
        catalog,
        rules: &rules,
        cells: Default::default(),
    };
    for (class, sig) in classes.iter_mut().zip(&signatures) {
        let matched: Vec<usize> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.matcher.matches(sig))
            .map(|(i, _)| i)
            .collect();
        let key = (sig.service, sig.provider, matched);
        class.table = match table_of.get(&key) {
            Some(&t) => t,
            None => {
                let t = ctx.table(sig.service, sig.provider, key.2.clone());
                tables.push(t);
                table_of.insert(key, tables.len() - 1);
                tables.len() - 1
            }
        };
    }

    Resolution {
        estate,
        catalog,
        as_of,
        rules,
        tables,
        classes,
        asset_class,
        order,
    }
}

fn control_mask(catalog: &Catalog, controls: &[Sp<String>]) -> Option<Vec<bool>> {
    if controls.is_empty() {
        return None;
    }
    let mut mask = vec![false; catalog.controls.len()];
    for c in controls {
        if let Some(i) = catalog.control_position(c) {
            mask[i] = true;
        }
    }
    Some(mask)
}

fn duty_mask(duties: &[Duty]) -> u8 {
    duties.iter().fold(0, |m, d| m | (1 << d.index()))
}

fn specificity(scope: &Scope, controls: &[Sp<String>], duties: &[Duty]) -> u32 {
    scope.specificity() * 4
        + if controls.is_empty() { 0 } else { 2 }
        + u32::from(!duties.is_empty())
}

fn build_rules(
    estate: &Estate,
    catalog: &Catalog,
    as_of: NaiveDate,
    projection: &Projection,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    for o in &estate.overrides {
        let ended = o.expires.filter(|e| *e <= as_of);
        rules.push(Rule {
            ends: o.expires,
            kind: RuleKind::Override,
            // The reason is part of the name so every basis that cites the override says why.
            name: format!(
                "override to {} (reason: {}{})",
                o.to.0
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" + "),
                o.reason.trim(),
                o.approved_by
                    .as_ref()
                    .map(|a| format!("; approved by {a}"))
                    .unwrap_or_default()
            ),
            at: o.loc,
            text: String::new(),
            targets: o.to.0.clone(),
            performed_by: None,
            split: o.split.clone(),
            sla: BTreeMap::new(),
            cadence: None,
            active: ended.is_none(),
            ended,
            starts: None,
            specificity: specificity(&o.scope, &o.controls, &o.duties),
            matcher: Matcher::new(&o.scope, projection),
            controls: control_mask(catalog, &o.controls),
            duties: duty_mask(&o.duties),
        });
    }
    for c in &estate.contracts {
        for cl in &c.clauses {
            let ends = [c.expires, cl.expires].into_iter().flatten().min();
            let ended = ends.filter(|e| *e <= as_of);
            let starts = c.effective.filter(|s| *s > as_of);
            rules.push(Rule {
                ends,
                kind: RuleKind::Clause,
                name: format!("contract {} §{}", c.id.value, cl.id.value),
                at: cl.id.loc,
                text: cl.text.clone(),
                targets: vec![Target::party(&c.party)],
                performed_by: cl.performed_by.as_ref().map(|p| p.value.clone()),
                split: BTreeMap::new(),
                sla: cl.sla.clone(),
                cadence: cl.cadence,
                active: ended.is_none() && starts.is_none(),
                ended,
                starts,
                specificity: specificity(&cl.scope, &cl.controls, &cl.duties),
                matcher: Matcher::new(&cl.scope, projection),
                controls: control_mask(catalog, &cl.controls),
                duties: duty_mask(&cl.duties),
            });
        }
    }
    for a in &estate.assignments {
        rules.push(Rule {
            ends: None,
            kind: RuleKind::Assignment,
            name: format!(
                "assignment to {}",
                a.to.0
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            at: a.loc,
            text: String::new(),
            targets: a.to.0.clone(),
            performed_by: None,
            split: a.split.clone(),
            sla: BTreeMap::new(),
            cadence: None,
            active: true,
            ended: None,
            starts: None,
            specificity: specificity(&a.scope, &a.controls, &a.duties),
            matcher: Matcher::new(&a.scope, projection),
            controls: control_mask(catalog, &a.controls),
            duties: duty_mask(&a.duties),
        });
    }
    rules
}

/// What decides one cell, given the service and provider: the control and duty, and the
/// matched rules that cover that control and duty. Equal keys give equal cells.
type CellKey = (usize, Duty, Vec<usize>);
/// Cells computed so far, per (service, asset provider).
type CellMemo = HashMap<(String, Option<String>), HashMap<CellKey, Arc<Cell>>>;

struct Ctx<'a> {
    estate: &'a Estate,
    catalog: &'a Catalog,
    rules: &'a [Rule],
    /// Cells already computed, so tables that differ in a few rules share the rest.
    cells: std::cell::RefCell<CellMemo>,
}

/// The service an asset runs on, as far as the catalog and estate know it.
struct ServiceView<'a> {
    name: String,
    kind: ServiceKind,
    model: Option<&'a str>,
    service: Option<&'a Service>,
    provider: Option<String>,
    provider_declared: bool,
    source_title: Option<String>,
    /// Where the estate defines the service, for an estate-defined one.
    at: Option<Loc>,
}

impl<'a> Ctx<'a> {
    fn role(&self, party: &str) -> Role {
        match self.estate.parties.get(party).map(|p| p.kind) {
            Some(PartyKind::Customer) => Role::Customer,
            Some(PartyKind::Mssp) => Role::Mssp,
            Some(PartyKind::Vendor) => Role::Vendor,
            Some(PartyKind::Provider) | None => Role::Provider,
        }
    }

    /// The estate party that stands for catalog provider `id`: the party with that key, or one
    /// that lists it under `provides`.
    fn provider_party(&self, id: &str) -> Option<&'a str> {
        if let Some((k, _)) = self.estate.parties.get_key_value(id) {
            return Some(k);
        }
        self.estate
            .parties
            .iter()
            .find(|(_, p)| p.provides.iter().any(|x| x.value == id))
            .map(|(k, _)| k.as_str())
    }

    fn view(&self, service: &str, asset_provider: Option<&str>) -> ServiceView<'a> {
        let mut v = if let Some(s) = self.catalog.service(service) {
            let party = self.provider_party(&s.provider);
            ServiceView {
                name: service.to_string(),
                kind: ServiceKind::Catalog,
                model: Some(&s.model),
                service: Some(s),
                provider: Some(party.unwrap_or(&s.provider).to_string()),
                provider_declared: party.is_some(),
                source_title: None,
                at: None,
            }
        } else if let Some(m) = self.catalog.model(service) {
            ServiceView {
                name: service.to_string(),
                kind: ServiceKind::Generic,
                model: Some(&m.id),
                service: None,
                provider: None,
                provider_declared: false,
                source_title: None,
                at: None,
            }
        } else if let Some(cs) = self.estate.services.get(service) {
            ServiceView {
                name: service.to_string(),
                kind: ServiceKind::Estate,
                model: self.catalog.model(&cs.model).map(|m| m.id.as_str()),
                service: None,
                provider: cs.provider.as_ref().map(|p| p.value.clone()),
                provider_declared: cs.provider.is_some(),
                source_title: Some(
                    cs.source
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| format!("estate service `{service}`")),
                ),
                at: Some(cs.loc),
            }
        } else {
            ServiceView {
                name: service.to_string(),
                kind: ServiceKind::Unknown,
                model: None,
                service: None,
                provider: None,
                provider_declared: false,
                source_title: None,
                at: None,
            }
        };
        if let Some(p) = asset_provider {
            v.provider = Some(p.to_string());
            v.provider_declared = true;
        }
        v
    }

    fn table(&self, service: &str, asset_provider: Option<&str>, matched: Vec<usize>) -> Table {
        let view = self.view(service, asset_provider);
        let mut cells = Vec::new();
        let mut memo = self.cells.borrow_mut();
        let memo = memo
            .entry((service.to_string(), asset_provider.map(str::to_string)))
            .or_default();
        for (ci, control) in self.catalog.controls.iter().enumerate() {
            for &duty in &control.duties {
                let found = match view.model {
                    Some(m) => match self
                        .catalog
                        .responsibility(m, view.service, &control.id, duty)
                    {
                        Some(f) => Some(f),
                        // The model says this layer does not exist on the service.
                        None => continue,
                    },
                    None => None,
                };
                let covering: Vec<usize> = matched
                    .iter()
                    .copied()
                    .filter(|&i| self.rules[i].covers(ci, duty))
                    .collect();
                let key: CellKey = (ci, duty, covering);
                let cell = match memo.get(&key) {
                    Some(c) => c.clone(),
                    None => {
                        let c = Arc::new(self.cell(&view, &key.2, ci, control, duty, found));
                        memo.insert(key, c.clone());
                        c
                    }
                };
                cells.push(cell);
            }
        }
        Table {
            service: service.to_string(),
            kind: view.kind,
            model: view.model.map(str::to_string),
            provider: view.provider,
            provider_declared: view.provider_declared,
            rules: matched,
            cells,
        }
    }

    fn provider_assignee(
        &self,
        view: &ServiceView,
        control: &Control,
        does: Option<String>,
    ) -> Assignee {
        let party = view
            .provider
            .clone()
            .unwrap_or_else(|| "provider".to_string());
        let mut via = Vec::new();
        let mut current = party.clone();
        // Follow `runs_on` (a SaaS vendor hosted on an IaaS, and so on) for this layer.
        'outer: for _ in 0..8 {
            let Some(p) = self.estate.parties.get(&current) else {
                break;
            };
            for r in &p.runs_on {
                let covers = if r.layers.is_empty() {
                    control.layer.starts_with("physical-")
                } else {
                    r.layers.iter().any(|l| l.value == control.layer)
                };
                if covers && r.party.value != party && !via.contains(&r.party.value) {
                    via.push(r.party.value.clone());
                    current = r.party.value.clone();
                    continue 'outer;
                }
            }
            break;
        }
        Assignee {
            party,
            team: None,
            role: Role::Provider,
            named: true,
            does,
            via,
            declared: view.provider_declared,
        }
    }

    fn target_assignee(
        &self,
        t: &Target,
        view: &ServiceView,
        control: &Control,
        does: Option<String>,
    ) -> Assignee {
        if t.party == "provider"
            && t.team.is_none()
            && !self.estate.parties.contains_key("provider")
        {
            return self.provider_assignee(view, control, does);
        }
        Assignee {
            party: t.party.clone(),
            team: t.team.clone(),
            role: self.role(&t.party),
            named: true,
            does,
            via: Vec::new(),
            declared: true,
        }
    }

    /// The winning rules of one kind for a cell: most specific first; a tie between rules
    /// naming different owners is a contest, decided by rule name so the result never depends
    /// on the order rules were written in.
    fn pick(&self, candidates: &[usize]) -> Option<(usize, Vec<String>, Vec<usize>)> {
        let best = candidates
            .iter()
            .map(|&i| self.rules[i].specificity)
            .max()?;
        let mut top: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| self.rules[i].specificity == best)
            .collect();
        top.sort_by(|&a, &b| {
            let (ra, rb) = (&self.rules[a], &self.rules[b]);
            ra.name
                .cmp(&rb.name)
                .then(ra.target_label().cmp(&rb.target_label()))
                .then(ra.at.cmp(&rb.at))
        });
        let winner = top[0];
        let label = self.rules[winner].target_label();
        let mut contested: Vec<String> = top
            .iter()
            .map(|&i| self.rules[i].target_label())
            .filter(|l| *l != label)
            .collect();
        contested.sort();
        contested.dedup();
        let losers = candidates
            .iter()
            .copied()
            .filter(|&i| i != winner)
            .collect();
        Some((winner, contested, losers))
    }

    fn rule_basis(&self, i: usize, kind: BasisKind, note: &str) -> Basis {
        let r = &self.rules[i];
        let mut rule = r.name.clone();
        if !r.text.is_empty() {
            rule = format!("{rule}: \"{}\"", r.text);
        }
        if !note.is_empty() {
            rule = format!("{rule} ({note})");
        }
        Basis {
            kind,
            rule,
            at: Some(self.estate.cite(r.at)),
            url: None,
        }
    }

    fn cell(
        &self,
        view: &ServiceView,
        matched: &[usize],
        ci: usize,
        control: &Control,
        duty: Duty,
        found: Option<demarc_catalog::Found>,
    ) -> Cell {
        let mut basis = Vec::new();
        let mut lapsed = Vec::new();
        let (mut overrides, mut clauses, mut assignments) = (Vec::new(), Vec::new(), Vec::new());
        for &i in matched {
            let r = &self.rules[i];
            if !r.covers(ci, duty) {
                continue;
            }
            if !r.active {
                lapsed.push(i);
                continue;
            }
            match r.kind {
                RuleKind::Override => overrides.push(i),
                RuleKind::Clause => clauses.push(i),
                RuleKind::Assignment => assignments.push(i),
            }
        }

        // Rules are considered in name order, never in the order they were written, so the
        // basis reads the same whichever file or list position a rule came from.
        for list in [&mut overrides, &mut clauses, &mut assignments, &mut lapsed] {
            list.sort_by(|&a, &b| {
                let (ra, rb) = (&self.rules[a], &self.rules[b]);
                ra.name
                    .cmp(&rb.name)
                    .then(ra.specificity.cmp(&rb.specificity))
                    .then(ra.target_label().cmp(&rb.target_label()))
            });
        }

        // What the provider's documentation says (or the default when nothing does).
        let (owner, entry, catalog_step) = match (&found, view.kind.clone()) {
            (Some(f), _) => {
                let kind = if f.level.is_service_specific() {
                    BasisKind::ServiceCatalog
                } else {
                    BasisKind::GenericModel
                };
                let subject = match view.service {
                    Some(s) if f.level.is_service_specific() => s.id.clone(),
                    _ if view.kind == ServiceKind::Estate => format!(
                        "estate service {} (model {})",
                        view.name,
                        view.model.unwrap_or("?")
                    ),
                    _ => format!("model {}", view.model.unwrap_or("?")),
                };
                // An estate-defined service cites the estate's own source (a link when it is
                // one), never the generic model's document under the estate's title.
                let (title, url) = match &view.source_title {
                    Some(t) => (
                        format!("{t}; generic model: {}", f.source.title),
                        t.starts_with("https://")
                            .then(|| t.clone())
                            .or_else(|| Some(f.source.link())),
                    ),
                    None => (f.source.title.clone(), Some(f.source.link())),
                };
                (
                    f.owner,
                    Some(f.entry),
                    Basis {
                        kind,
                        rule: format!(
                            "{subject}: {} is {}-owned ({}; {})",
                            control.id,
                            f.owner.as_str(),
                            f.level.describe(),
                            title
                        ),
                        at: view.at.map(|l| self.estate.cite(l)),
                        url,
                    },
                )
            }
            (None, _) => (
                Owner::Customer,
                None,
                Basis {
                    kind: BasisKind::Default,
                    rule: format!(
                        "no provider document covers `{}` on service `{}`: the customer is assumed responsible",
                        control.id,
                        view_name(view)
                    ),
                    at: None,
                    url: None,
                },
            ),
        };
        let assumed = found.is_none();

        let mut contested = Vec::new();
        let mut rule = None;
        let mut sla = None;
        let mut cadence = None;
        let responsible: Vec<Assignee>;

        if let Some((w, c, losers)) = self.pick(&overrides) {
            let r = &self.rules[w];
            responsible = r
                .targets
                .iter()
                .map(|t| {
                    self.target_assignee(t, view, control, r.split.get(&t.to_string()).cloned())
                })
                .collect();
            contested = c;
            rule = Some(w);
            basis.push(self.rule_basis(w, BasisKind::Override, ""));
            let mut superseded = catalog_step;
            superseded.kind = BasisKind::Superseded;
            basis.push(superseded);
            for l in losers.into_iter().chain(clauses).chain(assignments) {
                basis.push(self.rule_basis(l, BasisKind::Superseded, "outranked"));
            }
        } else {
            basis.push(catalog_step);
            let mut side = Vec::new();
            if matches!(owner, Owner::Provider | Owner::Shared) {
                side.push(self.provider_assignee(
                    view,
                    control,
                    entry.and_then(|e| e.provider.clone()),
                ));
            }
            if matches!(owner, Owner::Customer | Owner::Shared) {
                let customer_text = entry.and_then(|e| e.customer.clone());
                let for_side = |does: Option<String>| does.or_else(|| customer_text.clone());
                if let Some((w, c, losers)) = self.pick(&clauses) {
                    let r = &self.rules[w];
                    let mut a = self.target_assignee(&r.targets[0], view, control, None);
                    a.does = if owner == Owner::Shared {
                        customer_text.clone()
                    } else {
                        None
                    };
                    if let Some(p) = &r.performed_by {
                        a.via.push(p.clone());
                    }
                    side.push(a);
                    contested = c;
                    rule = Some(w);
                    sla = r.sla.get(&duty).copied();
                    cadence = r.cadence;
                    basis.push(self.rule_basis(
                        w,
                        BasisKind::Contract,
                        "performs the customer's side",
                    ));
                    for l in losers.into_iter().chain(assignments) {
                        basis.push(self.rule_basis(
                            l,
                            BasisKind::Superseded,
                            "outranked by the contract",
                        ));
                    }
                } else if let Some((w, c, losers)) = self.pick(&assignments) {
                    let r = &self.rules[w];
                    for t in &r.targets {
                        let does = r.split.get(&t.to_string()).cloned();
                        let does = if owner == Owner::Shared && r.targets.len() == 1 {
                            for_side(does)
                        } else {
                            does
                        };
                        side.push(self.target_assignee(t, view, control, does));
                    }
                    contested = c;
                    rule = Some(w);
                    basis.push(self.rule_basis(
                        w,
                        BasisKind::Assignment,
                        "names the customer's owner",
                    ));
                    for l in losers {
                        basis.push(self.rule_basis(
                            l,
                            BasisKind::Superseded,
                            "not chosen: less specific, or lost an equal-rank tie",
                        ));
                    }
                } else {
                    side.push(Assignee {
                        party: self.estate.customer.value.clone(),
                        team: None,
                        role: Role::Customer,
                        named: false,
                        does: if owner == Owner::Shared {
                            customer_text
                        } else {
                            None
                        },
                        via: Vec::new(),
                        declared: true,
                    });
                }
            } else {
                for l in clauses.into_iter().chain(assignments) {
                    basis.push(self.rule_basis(
                        l,
                        BasisKind::Superseded,
                        "the provider owns this duty",
                    ));
                }
            }
            responsible = side;
        }
        for &l in &lapsed {
            let r = &self.rules[l];
            let note = match (r.ended, r.starts) {
                (Some(d), _) => format!("ended {d}; no longer counts"),
                (None, Some(d)) => format!("takes effect {d}; not yet in force"),
                _ => String::new(),
            };
            basis.push(self.rule_basis(l, BasisKind::Lapsed, &note));
        }

        let unassigned = responsible.iter().any(|a| !a.named);
        let unsplit = responsible.len() > 1
            && responsible
                .iter()
                .any(|a| a.does.as_deref().is_none_or(str::is_empty));
        Cell {
            control: ci,
            duty,
            ownership: ownership(&responsible),
            responsible,
            assumed,
            unassigned,
            contested,
            unsplit,
            basis,
            sla,
            cadence,
            rule,
            lapsed,
        }
    }
}

fn view_name(view: &ServiceView) -> String {
    view.name.clone()
}

/// SSRM ownership from who is responsible.
pub fn ownership(responsible: &[Assignee]) -> Ownership {
    let has = |r: Role| responsible.iter().any(|a| a.role == r);
    let third = has(Role::Mssp) || has(Role::Vendor);
    let provider = has(Role::Provider);
    let customer = has(Role::Customer);
    match (provider, customer, third) {
        (true, false, false) => Ownership::CspOwned,
        (true, _, _) => Ownership::Shared,
        (false, true, true) => Ownership::Shared,
        (false, false, true) => Ownership::ThirdParty,
        _ => Ownership::CscOwned,
    }
}
