//! Resolution: for every asset × applicable control × duty, who is responsible and why.
//!
//! Work is split in two, the way a policy engine prepares a query once and evaluates it many
//! times. [`Prepared::new`] compiles the policy (rules, scope matchers, the projection of
//! asset attributes that scopes can see) and groups assets twice: first by
//! [`Signature`](crate::scope::Signature), then by *table key* (service, provider and the set
//! of rules that match). None of that depends on the date. [`Prepared::resolve`] then decides
//! which rules are in force on the analysis date and computes each table's cells once, so the
//! cost grows with the variety of the estate, not with its size.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, CatalogOrigin, Control, Owner, Service};
use demarc_model::{Duty, Estate, Loc, PartyKind, Sym, Target};

use crate::cell::{Assignee, Basis, BasisKind, Cell, Ownership, Role};
use crate::rules::{Rule, RuleKind, RuleState, build_rules, template_owners};
use crate::scope::{Matcher, Projection, Signature};

/// How an asset's service was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// A named service in the catalog (built in or from an overlay).
    Catalog,
    /// A generic service model used directly (`iaas`, `saas`, …).
    Generic,
    /// A service the estate defines under `services:`.
    Estate,
    /// Not known anywhere: every control is the customer's, assumed.
    Unknown,
}

/// Assets that look the same to every rule.
pub(crate) struct Class {
    /// Asset indices, in id order.
    pub members: Vec<u32>,
    /// Index of its table key (and of its table in every resolution).
    pub table: usize,
    pub env: Option<Sym>,
    pub data: Vec<Sym>,
    /// Indices of the `apply:` entries whose scope matches, in `apply:` order.
    pub templates: Vec<u32>,
}

/// What the cells of a table depend on: the service, the asset's own provider and the rules
/// whose scope matches.
pub(crate) struct TableKey {
    pub service: String,
    pub provider: Option<String>,
    /// Indices of the matching rules, in rule order.
    pub rules: Vec<usize>,
}

/// The cells shared by every asset whose service and matching rules are the same.
pub(crate) struct Table {
    pub kind: ServiceKind,
    pub model: Option<String>,
    /// Estate party key of the provider, or the catalog provider id when the estate has none.
    pub provider: Option<String>,
    pub provider_declared: bool,
    /// Cells are shared between tables: two tables of one service whose rules differ only on
    /// some controls hold the very same cells for all the others.
    pub cells: Vec<Arc<Cell>>,
}

/// A compiled policy: rules, matchers and asset classes, ready to be resolved for any date.
/// Owned and `Send + Sync`, so a server can keep one per estate version and share it.
pub struct Prepared {
    pub(crate) estate: Arc<Estate>,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) classes: Vec<Class>,
    /// Class of each asset, by asset index.
    pub(crate) asset_class: Vec<u32>,
    /// Asset indices sorted by id: the order every output uses.
    pub(crate) order: Vec<u32>,
    pub(crate) keys: Vec<TableKey>,
}

/// The resolved estate on one date: owned, immutable and shareable (`Arc<Resolution>`).
/// Ask it questions through the query API ([`Resolution::cell`], [`Resolution::explain`],
/// [`Resolution::who`], [`Resolution::triage`], [`Resolution::gaps`]).
pub struct Resolution {
    pub(crate) prepared: Arc<Prepared>,
    pub(crate) as_of: NaiveDate,
    pub(crate) states: Vec<RuleState>,
    pub(crate) tables: Vec<Table>,
}

impl Prepared {
    /// Compiles `estate`'s policy against `catalog`. The estate must have passed
    /// [`demarc_model::validate`]; anything validation would reject is still handled without
    /// a panic (an unknown control in a rule covers nothing, a bad glob matches literally).
    pub fn new(estate: Arc<Estate>, catalog: Arc<Catalog>) -> Prepared {
        let e: &Estate = &estate;
        // The templates step: each applied template owner is an assignment with its own scope.
        let owners = template_owners(e);
        let scopes = e
            .contracts
            .iter()
            .flat_map(|c| c.clauses.iter().map(|cl| &cl.scope))
            .chain(e.assignments.iter().map(|a| &a.scope))
            .chain(e.overrides.iter().map(|o| &o.scope))
            .chain(owners.iter().map(|t| &t.scope))
            .chain(e.apply.iter().map(|a| &a.scope));
        let projection = Projection::new(scopes);
        let rules = build_rules(e, &catalog, &projection, &owners);
        let applies: Vec<Matcher> = e
            .apply
            .iter()
            .map(|a| Matcher::new(&a.scope, &projection))
            .collect();

        let mut order: Vec<u32> = (0..e.assets.len() as u32).collect();
        // Asset ids are unique (validation), so an unstable sort gives the same order, faster.
        order.sort_unstable_by(|&a, &b| e.assets[a as usize].id.cmp(&e.assets[b as usize].id));

        // Hashing a million signatures dominates preparation; FxHash is several times faster
        // than SipHash here, and the keys are not attacker-chosen in a way that matters (a
        // hostile estate can only slow its own analysis).
        let mut class_of: rustc_hash::FxHashMap<Signature, u32> = Default::default();
        let mut classes: Vec<Class> = Vec::new();
        let mut signatures: Vec<Signature> = Vec::new();
        let mut asset_class = vec![0u32; e.assets.len()];
        for &i in &order {
            let a = &e.assets[i as usize];
            let sig = projection.signature(a);
            let c = *class_of.entry(sig.clone()).or_insert_with(|| {
                signatures.push(sig);
                let mut data = a.data.clone();
                data.sort();
                data.dedup();
                classes.push(Class {
                    members: Vec::new(),
                    table: 0,
                    env: a.env.clone(),
                    data,
                    templates: Vec::new(),
                });
                (classes.len() - 1) as u32
            });
            classes[c as usize].members.push(i);
            asset_class[i as usize] = c;
        }

        // The catalog entry of a mode is its variant service, `<service>#<mode>`.
        let mut key_of: HashMap<KeyOf, usize> = HashMap::new();
        let mut keys: Vec<TableKey> = Vec::new();
        for (class, sig) in classes.iter_mut().zip(&signatures) {
            class.templates = applies
                .iter()
                .enumerate()
                .filter(|(_, m)| m.matches(sig))
                .map(|(i, _)| i as u32)
                .collect();
            let matched: Vec<usize> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.matcher.matches(sig))
                .map(|(i, _)| i)
                .collect();
            let k = (sig.service, sig.mode, sig.provider, matched);
            class.table = match key_of.get(&k) {
                Some(&t) => t,
                None => {
                    keys.push(TableKey {
                        service: match k.1 {
                            Some(m) => format!("{}#{m}", k.0),
                            None => k.0.to_string(),
                        },
                        provider: k.2.map(str::to_string),
                        rules: k.3.clone(),
                    });
                    key_of.insert(k, keys.len() - 1);
                    keys.len() - 1
                }
            };
        }
        drop(key_of);
        drop(applies);
        drop(signatures);
        drop(class_of);
        Prepared {
            estate,
            catalog,
            rules,
            classes,
            asset_class,
            order,
            keys,
        }
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Resolves the prepared policy as of `as_of`. Pure: no I/O, no clock.
    pub fn resolve(self: &Arc<Self>, as_of: NaiveDate) -> Arc<Resolution> {
        let states: Vec<RuleState> = self.rules.iter().map(|r| r.state(as_of)).collect();
        let ctx = Ctx {
            estate: &self.estate,
            catalog: &self.catalog,
            rules: &self.rules,
            states: &states,
            cells: Default::default(),
            texts: Default::default(),
        };
        let tables = self
            .keys
            .iter()
            .map(|k| ctx.table(&k.service, k.provider.as_deref(), &k.rules))
            .collect();
        drop(ctx);
        Arc::new(Resolution {
            prepared: self.clone(),
            as_of,
            states,
            tables,
        })
    }
}

/// What groups classes into a table while preparing: service, mode, the asset's own
/// provider, and the matching rules.
type KeyOf<'e> = (&'e str, Option<&'e str>, Option<&'e str>, Vec<usize>);

/// Compiles and resolves in one step: `Prepared::new(estate, catalog).resolve(as_of)`.
pub fn resolve(estate: Arc<Estate>, catalog: Arc<Catalog>, as_of: NaiveDate) -> Arc<Resolution> {
    Arc::new(Prepared::new(estate, catalog)).resolve(as_of)
}

/// What decides one cell, given the service and provider: the control and duty, and the
/// matched rules that cover that control and duty. Equal keys give equal cells.
type CellKey = (usize, Duty, Vec<usize>);
/// Cells computed so far, per (service, asset provider).
type CellMemo = HashMap<(String, Option<String>), HashMap<CellKey, Arc<Cell>>>;

/// The outcome of a contest between rules of one kind.
struct Pick {
    winner: usize,
    /// The other owners named by equally specific rules.
    contested: Vec<String>,
    /// The rules that lost, each with why.
    losers: Vec<(usize, String)>,
}

struct Ctx<'a> {
    estate: &'a Estate,
    catalog: &'a Catalog,
    rules: &'a [Rule],
    states: &'a [RuleState],
    /// Cells already computed, so tables that differ in a few rules share the rest.
    cells: std::cell::RefCell<CellMemo>,
    /// Basis texts already made, per (rule, note): cells citing a rule the same way share one.
    texts: std::cell::RefCell<HashMap<(usize, String), Arc<str>>>,
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
            // A service the estate defines and the loader put into the catalog (with the full
            // service schema) is still the estate's: its definition is cited by `file:line`.
            let defined = matches!(s.origin, CatalogOrigin::Estate(_))
                .then(|| self.estate.services.get(service))
                .flatten();
            let provider_id = (!s.provider.is_empty()).then_some(s.provider.as_str());
            let party = provider_id.and_then(|p| self.provider_party(p));
            ServiceView {
                name: service.to_string(),
                kind: if defined.is_some() {
                    ServiceKind::Estate
                } else {
                    ServiceKind::Catalog
                },
                model: Some(&s.model),
                service: Some(s),
                provider: party.or(provider_id).map(str::to_string),
                provider_declared: party.is_some(),
                source_title: None,
                at: defined.map(|cs| cs.loc),
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

    fn table(&self, service: &str, asset_provider: Option<&str>, matched: &[usize]) -> Table {
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
            kind: view.kind,
            model: view.model.map(str::to_string),
            provider: view.provider,
            provider_declared: view.provider_declared,
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
            // Hosts are tried in party-id order, never in the order they are listed, so two
            // hosts covering the same layer give the same answer whatever the file says first.
            let mut hosts: Vec<&demarc_model::RunsOn> = p.runs_on.iter().collect();
            hosts.sort_by(|a, b| a.party.value.cmp(&b.party.value));
            for r in hosts {
                let covers = if r.layers.is_empty() {
                    self.catalog.is_hosting_layer(&control.layer)
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

    /// The winning rule of one kind for a cell: the most specific; a tie between rules
    /// naming different owners is a contest. Rules are indexed in content order (kind, name,
    /// id, split), so the first of the tied rules wins whatever file or position it came from.
    /// Each loser comes with why it lost.
    fn pick(&self, candidates: &[usize]) -> Option<Pick> {
        let best = candidates
            .iter()
            .map(|&i| self.rules[i].specificity)
            .max()?;
        // At equal specificity a hand-written rule beats one a template derived: the explicit
        // decision about these assets wins over the class default, without a contest.
        let handwritten = candidates
            .iter()
            .any(|&i| self.rules[i].specificity == best && self.rules[i].template.is_none());
        let tied = |i: usize| {
            self.rules[i].specificity == best && (!handwritten || self.rules[i].template.is_none())
        };
        let winner = candidates.iter().copied().filter(|&i| tied(i)).min()?;
        // Owners are compared as sets: `[a, b]` and `[b, a]` name the same owners, and a rule
        // does not contest a cell with its own owners written in another order.
        let owners = |i: usize| {
            let mut v: Vec<String> = self.rules[i]
                .targets
                .iter()
                .map(ToString::to_string)
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let mine = owners(winner);
        let mut others: Vec<(Vec<String>, String)> = candidates
            .iter()
            .filter(|&&i| tied(i))
            .map(|&i| (owners(i), self.rules[i].target_label()))
            .filter(|(o, _)| *o != mine)
            .collect();
        others.sort();
        others.dedup_by(|a, b| a.0 == b.0);
        let mut contested: Vec<String> = others.into_iter().map(|(_, l)| l).collect();
        contested.sort();
        let losers = candidates
            .iter()
            .copied()
            .filter(|&i| i != winner)
            .map(|i| {
                let r = &self.rules[i];
                let why = if r.specificity == best && !tied(i) {
                    format!(
                        "a template's assignment, equally specific as {} ({best}): the hand-written rule wins",
                        self.rules[winner].name
                    )
                } else if r.specificity < best {
                    format!(
                        "less specific than {} (specificity {} < {best})",
                        self.rules[winner].name, r.specificity
                    )
                } else {
                    format!(
                        "equally specific as {} ({best}); the tie goes to the rule that sorts first by name and content",
                        self.rules[winner].name
                    )
                };
                (i, why)
            })
            .collect();
        Some(Pick {
            winner,
            contested,
            losers,
        })
    }

    fn rule_basis(&self, i: usize, kind: BasisKind, note: &str) -> Basis {
        let r = &self.rules[i];
        let rule = self
            .texts
            .borrow_mut()
            .entry((i, note.to_string()))
            .or_insert_with(|| {
                let mut rule = r.title();
                if !r.text.is_empty() {
                    rule = format!("{rule}: \"{}\"", r.text);
                }
                if !note.is_empty() {
                    rule = format!("{rule} ({note})");
                }
                Arc::from(rule)
            })
            .clone();
        Basis {
            kind,
            rule,
            rule_id: Some(r.id.clone()),
            at: Some(self.estate.cite(r.at)),
            origin: self.estate.origin(r.at),
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
            if !self.states[i].active {
                lapsed.push(i);
                continue;
            }
            match r.kind {
                RuleKind::Override => overrides.push(i),
                RuleKind::Clause => clauses.push(i),
                RuleKind::Assignment => assignments.push(i),
            }
        }

        // Rule indices are in content order already (see `build_rules`), so sorting them makes
        // the basis read the same whichever file or list position a rule came from.
        for list in [&mut overrides, &mut clauses, &mut assignments, &mut lapsed] {
            list.sort_unstable();
        }

        // What the provider's documentation says (or the default when nothing does).
        let (owner, entry, catalog_step) = match (&found, view.kind) {
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
                // The document cited is the one behind the deciding entry: the service's own
                // for a service entry, the generic model's otherwise (never the service's page
                // for an answer it does not give). An estate service that has no entries of
                // its own names its source beside the model's.
                let (title, url) = match &view.source_title {
                    Some(t) => (
                        format!("{t}; generic model: {}", f.source.title),
                        Some(f.source.link()),
                    ),
                    None => (f.source.title.clone(), Some(f.source.link())),
                };
                let why = f.why();
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!("; {why}")
                };
                (
                    f.owner,
                    Some(f.entry),
                    Basis {
                        kind,
                        rule: Arc::from(format!(
                            "{subject}: {} is {}-owned ({}{why}; {})",
                            control.id,
                            f.owner.as_str(),
                            f.level.describe(),
                            title
                        )),
                        rule_id: None,
                        at: view.at.map(|l| self.estate.cite(l)),
                        origin: match (view.at, view.service) {
                            (Some(l), _) => self.estate.origin(l),
                            (None, Some(s)) if f.level.is_service_specific() => {
                                match &s.origin {
                                    CatalogOrigin::Overlay(path) | CatalogOrigin::Estate(path) => {
                                        demarc_model::Origin::File {
                                            path: path.clone(),
                                            line: 0,
                                            column: 0,
                                        }
                                    }
                                    CatalogOrigin::Builtin => demarc_model::Origin::Builtin {
                                        what: format!("catalog service {}", s.id),
                                    },
                                }
                            }
                            _ => demarc_model::Origin::Builtin {
                                what: format!("catalog model {}", view.model.unwrap_or("?")),
                            },
                        },
                        url,
                    },
                )
            }
            (None, _) => (
                Owner::Customer,
                None,
                Basis {
                    kind: BasisKind::Default,
                    rule: Arc::from(format!(
                        "no provider document covers `{}` on service `{}`: the customer is assumed responsible",
                        control.id,
                        view_name(view)
                    )),
                    rule_id: None,
                    at: None,
                    origin: demarc_model::Origin::Builtin {
                        what: "demarc's default: the customer is responsible for what no document assigns".into(),
                    },
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

        if let Some(Pick {
            winner: w,
            contested: c,
            losers,
        }) = self.pick(&overrides)
        {
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
            for (l, why) in losers {
                basis.push(self.rule_basis(l, BasisKind::Superseded, &why));
            }
            for l in clauses.into_iter().chain(assignments) {
                basis.push(self.rule_basis(l, BasisKind::Superseded, "outranked by the override"));
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
                if let Some(Pick {
                    winner: w,
                    contested: c,
                    losers,
                }) = self.pick(&clauses)
                {
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
                    for (l, why) in losers {
                        basis.push(self.rule_basis(l, BasisKind::Superseded, &why));
                    }
                    for l in assignments {
                        basis.push(self.rule_basis(
                            l,
                            BasisKind::Superseded,
                            "outranked by the contract",
                        ));
                    }
                } else if let Some(Pick {
                    winner: w,
                    contested: c,
                    losers,
                }) = self.pick(&assignments)
                {
                    let r = &self.rules[w];
                    let first = side.len();
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
                    // Wording per role: an MSSP or vendor named by an assignment does the
                    // customer's side; it is not the customer's owner.
                    let note = if side[first..].iter().all(|a| a.role == Role::Customer) {
                        "names the customer's owner"
                    } else {
                        "names who does the customer's side"
                    };
                    basis.push(self.rule_basis(w, BasisKind::Assignment, note));
                    for (l, why) in losers {
                        basis.push(self.rule_basis(l, BasisKind::Superseded, &why));
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
            let st = &self.states[l];
            let note = match (st.ended, st.starts) {
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
