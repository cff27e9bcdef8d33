//! Cross-reference checks: every party, team, control, service, asset and framework an estate
//! names must exist. All problems are collected, each with its place and a suggestion.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::Estate;
use crate::diag::{Diagnostic, Diagnostics, Place, unknown};
use crate::span::{Loc, Sp};
use crate::types::{PartyKind, Scope, Target};

/// The names the built-in catalog defines; the catalog crate implements this.
pub trait Vocabulary {
    fn control_ids(&self) -> Vec<&str>;
    fn service_ids(&self) -> Vec<&str>;
    fn model_ids(&self) -> Vec<&str>;
    fn layer_ids(&self) -> Vec<&str>;
    fn framework_ids(&self) -> Vec<&str>;
    fn provider_ids(&self) -> Vec<&str>;
}

struct Checker<'a> {
    estate: &'a Estate,
    controls: Vec<&'a str>,
    layers: Vec<&'a str>,
    frameworks: Vec<&'a str>,
    providers: Vec<&'a str>,
    services: Vec<String>,
    /// Asset id → where it is defined.
    asset_ids: HashMap<&'a str, Loc>,
    errors: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn place(&self, loc: Loc) -> Option<Place> {
        self.estate.try_place(loc)
    }
    fn error(&mut self, loc: Loc, message: String, help: String) {
        let d = Diagnostic::new(self.place(loc), message).with_help(help);
        self.errors.push(d);
    }
    fn check_in(&mut self, what: &str, value: &Sp<String>, set: &[&str]) {
        if !set.contains(&value.as_str()) {
            let (m, h) = unknown(what, value, set.iter().copied());
            self.error(value.loc, m, h);
        }
    }
    fn party<T: AsRef<str>>(&mut self, value: &Sp<T>) {
        let v = value.value.as_ref();
        if !self.estate.parties.contains_key(v) {
            let (m, h) = unknown("party", v, self.estate.parties.keys().map(String::as_str));
            self.error(value.loc, m, h);
        }
    }
    fn controls(&mut self, list: &[Sp<String>]) {
        let set = self.controls.clone();
        for c in list {
            self.check_in("control", c, &set);
        }
    }
    fn target(&mut self, t: &Target, loc: Loc, allow_provider_keyword: bool) {
        if allow_provider_keyword && t.party == "provider" && t.team.is_none() {
            return;
        }
        let Some(party) = self.estate.parties.get(&t.party) else {
            let names: Vec<&str> = self.estate.parties.keys().map(String::as_str).collect();
            let (m, h) = unknown("party", &t.party, names.iter().copied());
            self.error(loc, m, h);
            return;
        };
        if let Some(team) = &t.team
            && !party.teams.contains_key(team)
        {
            let names: Vec<&str> = party.teams.keys().map(String::as_str).collect();
            let (m, h) = unknown(
                &format!("team of `{}`", t.party),
                team,
                names.iter().copied(),
            );
            self.error(loc, m, h);
        }
    }
    fn scope(&mut self, scope: &Scope) {
        if let Some(svc) = &scope.service {
            for pattern in &svc.0 {
                let is_glob = pattern.contains(['*', '?', '[']);
                if is_glob {
                    if let Err(e) = globset::Glob::new(pattern) {
                        self.error(
                            svc.loc,
                            format!("bad service pattern `{pattern}`: {e}"),
                            "use `*` and `?` globs, e.g. `aws:*`".into(),
                        );
                    }
                } else if !self.services.iter().any(|s| s == pattern) {
                    let (m, h) =
                        unknown("service", pattern, self.services.iter().map(String::as_str));
                    self.error(svc.loc, m, h);
                }
            }
        }
        if let Some(env) = &scope.env {
            for pattern in &env.0 {
                if let Err(e) = globset::Glob::new(pattern) {
                    self.error(
                        env.loc,
                        format!("bad env pattern `{pattern}`: {e}"),
                        "use a plain name or a `*` glob".into(),
                    );
                }
            }
        }
        for a in &scope.assets {
            if !self.asset_ids.contains_key(a.as_str()) {
                let (m, h) = unknown("asset", a, self.asset_ids.keys().copied());
                self.error(a.loc, m, h);
            }
        }
    }
    fn split(&mut self, split: &BTreeMap<String, String>, targets: &[Target], loc: Loc) {
        let names: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        for key in split.keys() {
            if !names.contains(key) {
                let (m, h) = unknown("owner in `split`", key, names.iter().map(String::as_str));
                self.error(
                    loc,
                    m,
                    format!("{h} (split keys must be the owners listed in `to`)"),
                );
            }
        }
    }
}

/// Checks every reference in the estate. Unknown asset *services* are not errors (the
/// analysis reports them as gaps, with a suggestion), everything else unknown is.
pub fn validate(estate: &Estate, vocab: &dyn Vocabulary) -> Result<(), Diagnostics> {
    let service_ids = vocab.service_ids();
    let model_ids = vocab.model_ids();
    let mut known: BTreeSet<&str> = service_ids.iter().copied().collect();
    known.extend(model_ids.iter().copied());
    known.extend(estate.services.keys().map(String::as_str));
    // A scope may name a service that only the estate's assets use (an unknown service type):
    // the asset itself is reported as a gap, the scope should not fail on top of it.
    let used: HashSet<&str> = estate
        .assets
        .iter()
        .map(|a| a.service.value.as_str())
        .collect();
    known.extend(used);
    let services: Vec<String> = known.into_iter().map(str::to_string).collect();
    let mut c = Checker {
        estate,
        controls: vocab.control_ids(),
        layers: vocab.layer_ids(),
        frameworks: vocab.framework_ids(),
        providers: vocab.provider_ids(),
        services,
        asset_ids: HashMap::new(),
        errors: Vec::new(),
    };

    // Assets first: other sections refer to them.
    let mut first_seen: HashMap<&str, Loc> = HashMap::with_capacity(estate.assets.len());
    for a in &estate.assets {
        if let Some(prev) = first_seen.get(a.id.as_str()) {
            let prev = estate.place(*prev);
            c.error(
                a.id.loc,
                format!("asset `{}` is defined twice", a.id.value),
                format!(
                    "the first is at {}; asset ids must be unique",
                    crate::load::fmt_place(&prev)
                ),
            );
        } else {
            first_seen.insert(&a.id, a.id.loc);
        }
        if a.id.is_empty() {
            c.error(
                a.id.loc,
                "asset id is empty".into(),
                "give every asset a unique id".into(),
            );
        }
        if let Some(p) = &a.provider {
            c.party(p);
        }
        // A mode is one of the service's own: catalog variants are `<service>#<mode>`.
        if let Some(m) = &a.mode {
            let wanted = format!("{}#{m}", a.service.value);
            if !service_ids.iter().any(|s| *s == wanted) {
                let prefix = format!("{}#", a.service.value);
                let modes: Vec<&str> = service_ids
                    .iter()
                    .filter_map(|s| s.strip_prefix(prefix.as_str()))
                    .collect();
                let help = if modes.is_empty() {
                    format!(
                        "`{}` has no modes in the catalog; remove `mode:`",
                        a.service.value
                    )
                } else {
                    match crate::suggest(m, modes.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? its modes: {}", modes.join(", ")),
                        None => format!("its modes: {}", modes.join(", ")),
                    }
                };
                c.error(
                    a.id.loc,
                    format!(
                        "asset `{}`: service `{}` has no mode `{m}`",
                        a.id.value, a.service.value
                    ),
                    help,
                );
            }
        }
    }
    c.asset_ids = first_seen;

    // Parties.
    match estate.parties.get(estate.customer.as_str()) {
        None => {
            let (m, h) = unknown(
                "customer party",
                &estate.customer,
                estate.parties.keys().map(String::as_str),
            );
            c.error(estate.customer.loc, m, h);
        }
        Some(p) if p.kind != PartyKind::Customer => c.error(
            estate.customer.loc,
            format!(
                "`{}` is named as the customer but its kind is `{}`",
                estate.customer.value,
                p.kind.as_str()
            ),
            "set `kind: customer` on that party".into(),
        ),
        Some(_) => {}
    }
    for (key, party) in &estate.parties {
        if party.kind == PartyKind::Customer && key != estate.customer.as_str() {
            c.error(
                party.loc,
                format!(
                    "party `{key}` has kind `customer` but the estate's customer is `{}`",
                    estate.customer.value
                ),
                "an estate has one customer; make the other party a `vendor` or a team".into(),
            );
        }
        let fw = c.frameworks.clone();
        for att in &party.attestations {
            c.check_in("framework", &att.framework, &fw);
            if att.expires.is_none() && att.period_end.is_none() {
                c.error(
                    att.framework.loc,
                    "attestation has neither `expires` nor `period_end`".into(),
                    "give the certificate's expiry date or the report's period end".into(),
                );
            }
        }
        let providers = c.providers.clone();
        for p in &party.provides {
            c.check_in("catalog provider", p, &providers);
        }
        let layers = c.layers.clone();
        for r in &party.runs_on {
            c.party(&r.party);
            if r.party.value == *key {
                c.error(
                    r.party.loc,
                    format!("party `{key}` runs on itself"),
                    "name the party that hosts it".into(),
                );
            }
            for l in &r.layers {
                c.check_in("layer", l, &layers);
            }
        }
    }

    // A `runs_on` chain that comes back to where it started (a → b → a) would make every
    // provider cell's "who really does it" circular. Self-loops are reported above. Each
    // entry is followed through every host's `runs_on` (breadth first, so the shortest
    // circle is the one shown).
    for (key, party) in &estate.parties {
        for r in &party.runs_on {
            let start = r.party.value.as_str();
            if start == key {
                continue;
            }
            let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            came_from.insert(start, key.as_str());
            let mut found = false;
            while let Some(n) = queue.pop_front() {
                if n == key {
                    found = true;
                    break;
                }
                for next in estate.parties.get(n).iter().flat_map(|p| &p.runs_on) {
                    let m = next.party.value.as_str();
                    if !came_from.contains_key(m) {
                        came_from.insert(m, n);
                        queue.push_back(m);
                    }
                }
            }
            if found {
                let mut path = vec![key.as_str()];
                let mut at = came_from[key.as_str()];
                while at != key && path.len() <= estate.parties.len() {
                    path.push(at);
                    at = came_from[at];
                }
                path.push(key.as_str());
                path.reverse();
                c.error(
                    r.party.loc,
                    format!("`runs_on` goes round in a circle: {}", path.join(" → ")),
                    "a host cannot run on a party it hosts; remove one of the `runs_on` entries"
                        .into(),
                );
            }
        }
    }

    // Estate-defined services.
    let models = vocab.model_ids();
    for (key, svc) in &estate.services {
        c.check_in("service model", &svc.model, &models);
        if vocab.service_ids().contains(&key.as_str()) {
            c.error(
                svc.loc,
                format!("service `{key}` is already in the built-in catalog"),
                "remove the estate's definition or give it another id".into(),
            );
        }
        if let Some(p) = &svc.provider {
            c.party(p);
        }
        // Entries follow the catalog's service schema (see docs/estate-format.md).
        let (layer_set, control_set) = (c.layers.clone(), c.controls.clone());
        for (entries, what, set) in [
            (&svc.layers, "layer", &layer_set),
            (&svc.controls, "control", &control_set),
        ] {
            for (k, e) in entries {
                c.check_in(what, k, set);
                if let Err(p) = e.check_texts() {
                    c.error(
                        k.loc,
                        format!("service `{key}`: entry `{}` {p}", k.value),
                        "say in one line what that side does".into(),
                    );
                }
            }
        }
        let documented = svc.source.as_ref().is_some_and(|s| s.document().is_some());
        if !documented && (!svc.layers.is_empty() || !svc.controls.is_empty()) {
            c.error(
                svc.loc,
                format!("service `{key}` has its own `layers:`/`controls:` entries but no source document"),
                "add `source: {title: ..., url: https://..., checked: YYYY-MM-DD}` (or `file:` with `sha256:`) naming the document the entries follow".into(),
            );
        }
    }

    // Contracts.
    let mut contract_ids = BTreeSet::new();
    for contract in &estate.contracts {
        if !contract_ids.insert(contract.id.as_str()) {
            c.error(
                contract.id.loc,
                format!("contract `{}` is defined twice", contract.id.value),
                "contract ids must be unique".into(),
            );
        }
        c.party(&contract.party);
        if contract.party.value == estate.customer.value {
            c.error(
                contract.party.loc,
                "a contract with the customer itself".into(),
                "use `assignments` for the customer's own teams".into(),
            );
        }
        if let (Some(from), Some(to)) = (contract.effective, contract.expires)
            && to < from
        {
            c.error(
                contract.id.loc,
                format!(
                    "contract `{}` expires ({to}) before it takes effect ({from})",
                    contract.id.value
                ),
                "check the dates".into(),
            );
        }
        let mut clause_ids = BTreeSet::new();
        for clause in &contract.clauses {
            if !clause_ids.insert(clause.id.as_str()) {
                c.error(
                    clause.id.loc,
                    format!(
                        "clause `{}` appears twice in contract `{}`",
                        clause.id.value, contract.id.value
                    ),
                    "clause ids must be unique within a contract".into(),
                );
            }
            c.scope(&clause.scope);
            c.controls(&clause.controls);
            if let Some(p) = &clause.performed_by {
                c.party(p);
            }
        }
    }

    for a in &estate.assignments {
        c.scope(&a.scope);
        c.controls(&a.controls);
        for t in &a.to.0 {
            c.target(t, a.to.loc, false);
        }
        c.split(&a.split, &a.to.0, a.loc);
    }
    for o in &estate.overrides {
        c.scope(&o.scope);
        c.controls(&o.controls);
        for t in &o.to.0 {
            c.target(t, o.to.loc, true);
        }
        c.split(&o.split, &o.to.0, o.loc);
        if o.reason.trim().is_empty() {
            c.error(
                o.loc,
                "override without a reason".into(),
                "say why the usual rule does not hold".into(),
            );
        }
    }
    let set = c.controls.clone();
    for e in &estate.evidence {
        c.check_in("control", &e.control, &set);
        if let Some(a) = &e.asset
            && !c.asset_ids.contains_key(a.as_str())
        {
            let (m, h) = unknown("asset", a, c.asset_ids.keys().copied());
            c.error(a.loc, m, h);
        }
    }
    // Templates and where they apply.
    for (name, t) in &estate.templates {
        for a in &t.owners {
            c.scope(&a.scope);
            c.controls(&a.controls);
            for tg in &a.to.0 {
                c.target(tg, a.to.loc, false);
            }
            c.split(&a.split, &a.to.0, a.loc);
        }
        for r in &t.require_evidence {
            c.check_in("control", r, &set);
        }
        if t.owners.is_empty() && t.review_cadence.is_none() && t.require_evidence.is_empty() {
            c.error(
                t.loc,
                format!("template `{name}` sets nothing"),
                "give it `owners`, `review_cadence` or `require_evidence`".into(),
            );
        }
    }
    for ap in &estate.apply {
        c.scope(&ap.scope);
        match estate.templates.get(ap.template.as_str()) {
            None => {
                let (m, h) = unknown(
                    "template",
                    &ap.template,
                    estate.templates.keys().map(String::as_str),
                );
                c.error(ap.template.loc, m, h);
            }
            Some(t) => {
                for a in &t.owners {
                    if let Err(what) = a.scope.within(&ap.scope) {
                        c.error(
                            a.loc,
                            format!(
                                "template `{}`: this owner's scope and the scope it is applied with at {} both set `{what}` differently",
                                ap.template.value,
                                c.place(ap.loc).map(|p| format!("{}:{}", p.file.display(), p.line)).unwrap_or_default()
                            ),
                            format!("set `{what}` in one of them only"),
                        );
                    }
                }
            }
        }
    }
    // Risk acceptances.
    for a in &estate.accepted {
        let key = a.gap.as_str();
        let code_ok = key.len() >= 5
            && key.starts_with("DM")
            && key[2..5].chars().all(|ch| ch.is_ascii_digit() || ch == '*')
            || key.starts_with('*');
        if !code_ok {
            c.error(
                a.gap.loc,
                format!("`{key}` is not a gap key"),
                "copy the gap's `key` from `demarc check --format json`, e.g. `DM003:waf` (`*` matches any characters)".into(),
            );
        }
        if a.reason.trim().is_empty() {
            c.error(
                a.loc,
                "acceptance without a reason".into(),
                "say why the risk is accepted".into(),
            );
        }
        if a.approved_by.trim().is_empty() {
            c.error(
                a.loc,
                "acceptance without `approved_by`".into(),
                "name who signed for the risk".into(),
            );
        }
    }
    let fw = c.frameworks.clone();
    for f in &estate.settings.frameworks {
        c.check_in("framework", f, &fw);
    }
    for r in &estate.settings.require_evidence {
        c.check_in("control", r, &set);
    }

    if c.errors.is_empty() {
        Ok(())
    } else {
        c.errors.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.place.as_ref().map(|p| (p.file.clone(), p.line, p.column));
            key(a).cmp(&key(b))
        });
        Err(Diagnostics(c.errors))
    }
}
