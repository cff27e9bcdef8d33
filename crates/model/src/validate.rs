//! Cross-reference checks: every party, team, control, service, asset and framework an estate
//! names must exist. All problems are collected, each with its place and a suggestion.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::Estate;
use chrono::NaiveDate;

use crate::diag::{Diagnostic, Diagnostics, Place, near_miss, shorten, unknown};
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
    /// The duties of a control, when the vocabulary knows them (`None`: not checked).
    fn control_duties(&self, _control: &str) -> Option<Vec<crate::Duty>> {
        None
    }
}

/// The longest id (asset, party, team, contract, clause, service), in bytes. Ids are copied
/// into every row of a report; a megabyte-long one is a mistake, not a name.
pub const MAX_ID_BYTES: usize = 256;
/// The longest free text (a clause's text, a reason, a note, a description, a reference), in
/// bytes: 16 KiB.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The characters an asset id may use besides ASCII letters and digits. Spaces and slashes
/// are refused: ids are typed on the command line and appear in `party/team` positions.
pub const ID_CHARS: &str = "-_.:@+";
/// An attestation whose `expires` or `period_end` is more than this many years after the
/// analysis date is refused as a typo (`2206` for `2026`).
pub const ATTESTATION_HORIZON_YEARS: u32 = 10;

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
    fn id_len(&mut self, what: &str, id: &str, loc: Loc) {
        if id.len() > MAX_ID_BYTES {
            self.error(
                loc,
                format!(
                    "{what} `{}` is {} bytes long; the limit is {MAX_ID_BYTES}",
                    shorten(id),
                    id.len()
                ),
                "use a short id and put the long text in a description".into(),
            );
        }
    }
    fn text_len(&mut self, what: &str, text: Option<&str>, loc: Loc) {
        if let Some(t) = text
            && t.len() > MAX_TEXT_BYTES
        {
            self.error(
                loc,
                format!(
                    "{what} is {} bytes long; the limit is {MAX_TEXT_BYTES} (16 KiB)",
                    t.len()
                ),
                "keep it short and link to the full document (e.g. with `ref`)".into(),
            );
        }
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
    validate_at(estate, vocab, None)
}

/// [`validate`], and with the analysis date also the checks that need one: an attestation
/// more than [`ATTESTATION_HORIZON_YEARS`] years after it is a typo.
pub fn validate_at(
    estate: &Estate,
    vocab: &dyn Vocabulary,
    as_of: Option<NaiveDate>,
) -> Result<(), Diagnostics> {
    let service_ids = vocab.service_ids();
    let model_ids = vocab.model_ids();
    let mut known: BTreeSet<&str> = service_ids.iter().copied().collect();
    known.extend(model_ids.iter().copied());
    known.extend(estate.services.keys().map(String::as_str));
    // Ids the catalog or the estate defines: an asset's service within an edit or two of one
    // of them is a typo, not a new service.
    let defined: Vec<&str> = known.iter().copied().collect();
    let defined_set: HashSet<&str> = defined.iter().copied().collect();
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
    let mut typo_cache: HashMap<&str, Option<&str>> = HashMap::new();
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
        } else if a.id.len() > MAX_ID_BYTES {
            c.id_len("asset id", &a.id, a.id.loc);
        } else if let Some(bad) =
            a.id.chars()
                .find(|ch| !ch.is_ascii_alphanumeric() && !ID_CHARS.contains(*ch))
        {
            let what = match bad {
                ' ' => "a space".to_string(),
                '/' => "a slash".to_string(),
                c if c.is_control() => format!("the control character U+{:04X}", c as u32),
                c => format!("`{c}`"),
            };
            c.error(
                a.id.loc,
                format!("asset id `{}` contains {what}", shorten(&a.id)),
                format!(
                    "asset ids use letters, digits and `{}` only (e.g. `orders-db`); keep the provider's own id in `external_id`",
                    ID_CHARS.chars().map(String::from).collect::<Vec<_>>().join("`, `")
                ),
            );
        }
        let svc = a.service.value.as_ref();
        if !defined_set.contains(svc) {
            let hit = *typo_cache
                .entry(svc)
                .or_insert_with(|| near_miss(svc, defined.iter().copied(), service_distance(svc)));
            if let Some(s) = hit {
                c.error(
                    a.service.loc,
                    format!("unknown service `{}`", shorten(svc)),
                    format!(
                        "did you mean `{s}`? (a service demarc does not know is allowed and reported as a gap, but this one is one typo away from a known id)"
                    ),
                );
            }
        }
        c.text_len(
            "the asset's description",
            a.description.as_deref(),
            a.id.loc,
        );
        c.text_len(
            "the asset's `external_id`",
            a.external_id.as_deref(),
            a.id.loc,
        );
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
        c.id_len("party id", key, party.loc);
        for t in party.teams.keys() {
            c.id_len("team id", t, party.loc);
        }
        c.text_len("the party's name", Some(&party.name), party.loc);
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
            if let Some(as_of) = as_of {
                let horizon = as_of
                    .checked_add_months(chrono::Months::new(12 * ATTESTATION_HORIZON_YEARS))
                    .unwrap_or(NaiveDate::MAX);
                for (field, date) in [("expires", att.expires), ("period_end", att.period_end)] {
                    if let Some(d) = date
                        && d > horizon
                    {
                        c.error(
                            att.framework.loc,
                            format!(
                                "attestation `{}`: `{field}: {d}` is more than {ATTESTATION_HORIZON_YEARS} years after the analysis date {as_of} (or today)", att.framework.value
                            ),
                            "check the year: certificates and audit reports run for a few years at most".into(),
                        );
                    }
                }
            }
            for pattern in &att.services {
                if let Err(e) = globset::Glob::new(pattern) {
                    c.error(
                        pattern.loc,
                        format!("bad service pattern `{}`: {e}", pattern.value),
                        "use service ids or `*` globs, e.g. `aws:s3` or `aws:*`".into(),
                    );
                }
            }
            if let (Some(l), Some(base)) = (&att.bridge_letter, att.period_end)
                && l.until < base
            {
                c.error(
                    att.framework.loc,
                    format!(
                        "attestation `{}`: the bridge letter ends ({}) before the report period does ({base})",
                        att.framework.value, l.until
                    ),
                    "a bridge letter covers the time after the period end; check `bridge_letter.until`".into(),
                );
            }
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
        c.id_len("contract id", &contract.id, contract.id.loc);
        c.text_len(
            "the contract's `ref`",
            contract.reference.as_deref(),
            contract.id.loc,
        );
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
            c.id_len("clause id", &clause.id, clause.id.loc);
            c.text_len("the clause's text", Some(&clause.text), clause.id.loc);
            if let Some(p) = &clause.performed_by {
                c.party(p);
                if p.value == contract.party.value {
                    c.error(
                        p.loc,
                        format!(
                            "`performed_by: {}` names the contracted party itself",
                            p.value
                        ),
                        "`performed_by` is for a subcontractor that does the work on the party's behalf; leave it out when the party does the work".into(),
                    );
                } else if p.value == estate.customer.value {
                    c.error(
                        p.loc,
                        format!("`performed_by: {}` names the customer", p.value),
                        "a contract cannot hand the work back to the customer; use an assignment to one of the customer's teams instead".into(),
                    );
                }
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
        c.text_len("the assignment's note", a.note.as_deref(), a.loc);
    }
    for o in &estate.overrides {
        c.scope(&o.scope);
        c.controls(&o.controls);
        for t in &o.to.0 {
            c.target(t, o.to.loc, true);
        }
        c.split(&o.split, &o.to.0, o.loc);
        c.text_len("the override's reason", Some(&o.reason), o.loc);
        if o.reason.trim().is_empty() {
            c.error(
                o.loc,
                "override without a reason".into(),
                "say why the usual rule does not hold".into(),
            );
        }
    }
    let set = c.controls.clone();
    if let Some(o) = &estate.offering {
        for (field, url) in [
            ("website", &o.website),
            ("logo", &o.logo),
            ("package_url", &o.package_url),
        ] {
            if let Some(u) = url
                && !(u.starts_with("https://") && u.len() > "https://".len())
            {
                c.error(
                    u.loc,
                    format!("offering `{field}: {}` is not an https:// URL", u.value),
                    "give the full https:// address".into(),
                );
            }
        }
        for m in &o.service_models {
            if !crate::types::SERVICE_MODELS.contains(&m.as_str()) {
                let (msg, help) = unknown("service model", m, crate::types::SERVICE_MODELS);
                c.error(m.loc, msg, help);
            }
        }
        if let Some(d) = &o.deployment_model
            && !crate::types::DEPLOYMENT_MODELS.contains(&d.as_str())
        {
            let (msg, help) = unknown("deployment model", d, crate::types::DEPLOYMENT_MODELS);
            c.error(d.loc, msg, help);
        }
        for ct in &o.contacts {
            if ct.kind.trim().is_empty() {
                c.error(
                    ct.kind.loc,
                    "a contact's `type` is empty".into(),
                    "say what the contact is for: Security, Sales, Support…".into(),
                );
            }
        }
    }
    let frameworks = c.frameworks.clone();
    for e in &estate.evidence {
        c.check_in("control", &e.control, &set);
        c.text_len("the evidence's `ref`", Some(&e.reference), e.control.loc);
        if let Some(p) = &e.provided_by {
            match p.value.parse::<Target>() {
                Ok(t) => c.target(&t, p.loc, false),
                Err(err) => c.error(p.loc, err, "write a party key or `party/team`".into()),
            }
        }
        for r in &e.requirements {
            match r.value.split_once(':') {
                Some((fw, id)) if !id.trim().is_empty() => {
                    if !frameworks.contains(&fw) {
                        let (m, h) = unknown("framework", fw, frameworks.iter().copied());
                        c.error(r.loc, m, h);
                    }
                }
                _ => c.error(
                    r.loc,
                    format!("`{}` is not a framework requirement", r.value),
                    "write `framework:id`, e.g. `soc2:CC6.1` or `nist-800-53:AC-2`".into(),
                ),
            }
        }
        if let Some(h) = &e.sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            c.error(
                h.loc,
                format!("`sha256: {}` is not a SHA-256 (64 hex digits)", h.value),
                "record the output of `sha256sum FILE`, or leave `sha256` out and let demarc report the current hash".into(),
            );
        }
        if let Some(f) = &e.file {
            let path = std::path::Path::new(f.as_str());
            if f.trim().is_empty()
                || path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                c.error(
                    f.loc,
                    format!("evidence file `{}` is not a path inside the estate", f.value),
                    "give a path relative to the estate file, without `..` (keep the evidence with the estate)".into(),
                );
            }
        }
        if e.kind == Some(crate::types::EvidenceKind::File) && e.file.is_none() {
            c.error(
                e.control.loc,
                "evidence of `kind: file` names no `file`".into(),
                "add `file: path/relative/to/the/estate` so demarc can hash it".into(),
            );
        }
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

    for (key, svc) in &estate.services {
        c.id_len("service id", key, svc.loc);
    }
    incidents(&mut c, vocab, &set);

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

/// Incidents: unique ids, known assets and control, a duty the control has, timestamps in
/// order and not before the incident's day; reviews that sign one off name a known incident
/// and are not dated before it.
fn incidents(c: &mut Checker<'_>, vocab: &dyn Vocabulary, controls: &[&str]) {
    let estate = c.estate;
    let mut seen: HashMap<&str, Loc> = HashMap::new();
    for inc in &estate.incidents {
        let id = &inc.id;
        c.id_len("incident id", id, id.loc);
        c.text_len("the incident's summary", Some(&inc.summary), id.loc);
        if id.trim().is_empty() {
            c.error(
                id.loc,
                "an incident's `id` is empty".into(),
                "give it a unique id, e.g. `INC-2026-007`".into(),
            );
        } else if let Some(prev) = seen.get(id.as_str()) {
            let prev = estate.place(*prev);
            c.error(
                id.loc,
                format!("incident `{}` is recorded twice", id.value),
                format!(
                    "the first is at {}; incident ids must be unique",
                    crate::load::fmt_place(&prev)
                ),
            );
        } else {
            seen.insert(id.as_str(), id.loc);
        }
        if inc.assets.is_empty() {
            c.error(
                id.loc,
                format!("incident `{}` names no asset", id.value),
                "list the assets it concerned under `assets:`".into(),
            );
        }
        for a in &inc.assets {
            if !c.asset_ids.contains_key(a.as_str()) {
                let (m, h) = unknown("asset", a, c.asset_ids.keys().copied());
                c.error(a.loc, m, h);
            }
        }
        if controls.contains(&inc.control.as_str()) {
            if let Some(duties) = vocab.control_duties(&inc.control)
                && !duties.contains(&inc.duty)
            {
                c.error(
                    inc.control.loc,
                    format!("control `{}` has no `{}` duty", inc.control.value, inc.duty),
                    format!(
                        "its duties are {}",
                        duties
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        } else {
            c.check_in("control", &inc.control, controls);
        }
        let day_start = inc.date.and_hms_opt(0, 0, 0).expect("midnight");
        let stamps = [
            ("started", &inc.started),
            ("detected", &inc.detected),
            ("responded", &inc.responded),
        ];
        let mut last: Option<(&str, chrono::NaiveDateTime)> = None;
        for (name, t) in stamps {
            let Some(t) = t else { continue };
            if t.value < day_start {
                c.error(
                    t.loc,
                    format!(
                        "incident `{}` is dated {}, but `{name}` is {} UTC, the day before",
                        id.value, inc.date, t.value
                    ),
                    "`date` is the day it happened or began: no timestamp may be earlier".into(),
                );
            } else if let Some((prev, pt)) = last
                && t.value < pt
            {
                c.error(
                    t.loc,
                    format!(
                        "incident `{}` was {name} at {} UTC, before it was {prev} ({} UTC)",
                        id.value, t.value, pt
                    ),
                    "timestamps go in order: started, then detected, then responded".into(),
                );
            }
            last = Some((name, t.value));
        }
    }
    let dates: HashMap<&str, NaiveDate> = estate
        .incidents
        .iter()
        .map(|i| (i.id.as_str(), i.date))
        .collect();
    for r in &estate.reviews {
        for i in &r.incidents {
            match dates.get(i.as_str()) {
                None => {
                    let (m, h) = unknown("incident", i, dates.keys().copied());
                    c.error(i.loc, m, h);
                }
                Some(d) if r.date < *d => c.error(
                    i.loc,
                    format!(
                        "the review of {} cannot sign off incident `{}`: it happened later, on {d}",
                        r.date, i.value
                    ),
                    "a post-incident review is dated on or after the incident; add a new review"
                        .into(),
                ),
                Some(_) => {}
            }
        }
    }
}

/// How many edits make a service id a typo of a known one: one for ids under ten characters
/// (`aws:ec22` for `aws:ec2`), two for longer ones (`aws:lamdba-fn` style transpositions count
/// as one edit).
fn service_distance(id: &str) -> usize {
    if id.chars().count() >= 10 { 2 } else { 1 }
}
