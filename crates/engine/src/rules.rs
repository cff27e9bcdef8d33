//! The estate's clauses, assignments and overrides, compiled once into [`Rule`]s.
//!
//! Compiling does not depend on the analysis date: whether a rule is in force is worked out
//! per resolution ([`RuleState`]), so a kept [`crate::Prepared`] can be resolved again for
//! another date without recompiling scopes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_model::{Apply, Assignment, Duration, Duty, Estate, Loc, Scope, Sp, Target};

use crate::scope::{Matcher, Projection};

/// Which part of the estate a rule comes from, highest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    Override,
    Clause,
    Assignment,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Override => "override",
            RuleKind::Clause => "clause",
            RuleKind::Assignment => "assignment",
        }
    }
}

/// A rule's identity, derived from what it says, never from where it is written or how its
/// reason is worded: `clause:shieldco-msa/4.2` for a contract clause (the ids the contract
/// gives), `assignment:3f9c0a1b2c3d4e5f` and `override:…` for the others (a hash of kind,
/// scope, controls, duties and targets). Renaming a file, moving a rule or rewording an
/// override's reason keeps the id; changing whom or what the rule covers makes a new one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(Arc<str>);

impl RuleId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 64-bit FNV-1a: tiny, stable across Rust releases and platforms (unlike `DefaultHasher`),
/// and enough to tell apart the few thousand rules an estate has.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The scope, controls, duties and targets of a rule in one canonical text: lists sorted,
/// so writing `[b, a]` or `[a, b]` gives the same id.
fn canonical(
    kind: RuleKind,
    scope: &Scope,
    controls: &[Sp<String>],
    duties: &[Duty],
    targets: &[Target],
) -> String {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v.join(",")
    };
    let mut s = String::new();
    s.push_str(kind.as_str());
    s.push_str("|service=");
    s.push_str(&sorted(
        scope.service.iter().flat_map(|x| x.0.clone()).collect(),
    ));
    s.push_str("|env=");
    s.push_str(&sorted(
        scope.env.iter().flat_map(|x| x.0.clone()).collect(),
    ));
    s.push_str("|data=");
    s.push_str(&sorted(scope.data.clone()));
    s.push_str("|tags=");
    s.push_str(&sorted(
        scope.tags.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    ));
    s.push_str("|assets=");
    s.push_str(&sorted(
        scope.assets.iter().map(|a| a.value.clone()).collect(),
    ));
    s.push_str("|controls=");
    s.push_str(&sorted(controls.iter().map(|c| c.value.clone()).collect()));
    s.push_str("|duties=");
    s.push_str(&sorted(duties.iter().map(|d| d.to_string()).collect()));
    s.push_str("|to=");
    s.push_str(&sorted(targets.iter().map(ToString::to_string).collect()));
    s
}

fn hashed_id(kind: RuleKind, canonical: &str) -> RuleId {
    RuleId(Arc::from(format!(
        "{}:{:016x}",
        kind.as_str(),
        fnv1a(canonical.as_bytes())
    )))
}

/// One owner of a template, as applied by one `apply:` entry: an assignment whose scope is
/// the owner's own scope within the scope the template is applied with.
pub(crate) struct TemplateOwner<'e> {
    pub template: &'e str,
    pub owner: &'e Sp<Assignment>,
    pub apply: &'e Sp<Apply>,
    pub scope: Scope,
}

/// The templates step: every owner of every applied template, in `apply:` order. An owner
/// whose scope conflicts with the applying scope is left out (validation rejects it).
pub(crate) fn template_owners(estate: &Estate) -> Vec<TemplateOwner<'_>> {
    let mut out = Vec::new();
    for ap in &estate.apply {
        let Some(t) = estate.templates.get(ap.template.as_str()) else {
            continue;
        };
        for owner in &t.owners {
            if let Ok(scope) = owner.scope.within(&ap.scope) {
                out.push(TemplateOwner {
                    template: ap.template.as_str(),
                    owner,
                    apply: ap,
                    scope,
                });
            }
        }
    }
    out
}

/// A clause, assignment or override, normalised for matching.
pub(crate) struct Rule {
    pub id: RuleId,
    pub kind: RuleKind,
    /// The template an assignment comes from: at equal specificity a hand-written assignment
    /// beats a template's, without a contest.
    pub template: Option<String>,
    /// Stable, readable name: `contract shieldco-msa §4.2`, `assignment to acme/dba`,
    /// `override to aws`.
    pub name: String,
    /// Why an override was made, and who approved it, quoted in every basis that cites it.
    pub reason: Option<String>,
    pub at: Loc,
    /// What the clause says, quoted in every basis that cites it (empty for other rules).
    pub text: String,
    pub targets: Vec<Target>,
    pub performed_by: Option<String>,
    pub split: BTreeMap<String, String>,
    pub sla: BTreeMap<Duty, Duration>,
    pub cadence: Option<Duration>,
    /// The date it stops counting, past or future: the earlier of the contract's and the
    /// clause's `expires`, or the override's.
    pub ends: Option<NaiveDate>,
    /// The contract's `effective` date.
    pub effective: Option<NaiveDate>,
    /// For a clause, its contract's own `expires` (the contract warning covers that date).
    pub contract_ends: Option<NaiveDate>,
    pub specificity: u32,
    pub matcher: Matcher,
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
    /// Whether it counts on `as_of`.
    pub fn state(&self, as_of: NaiveDate) -> RuleState {
        let ended = self.ends.filter(|e| *e <= as_of);
        let starts = self.effective.filter(|s| *s > as_of);
        RuleState {
            active: ended.is_none() && starts.is_none(),
            ended,
            starts,
        }
    }
    /// The name and, for an override, its reason: what a basis line calls the rule.
    pub fn title(&self) -> String {
        match &self.reason {
            Some(r) => format!("{} ({r})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Whether a rule counts on the analysis date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RuleState {
    pub active: bool,
    /// The date it stopped counting, when it has.
    pub ended: Option<NaiveDate>,
    /// The date it starts counting, when that is still ahead.
    pub starts: Option<NaiveDate>,
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

fn targets_label(t: &[Target]) -> String {
    t.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Compiles every clause, assignment and override of the estate. Independent of the date.
pub(crate) fn build_rules(
    estate: &Estate,
    catalog: &Catalog,
    projection: &Projection,
    templates: &[TemplateOwner],
) -> Vec<Rule> {
    let mut rules = Vec::new();
    for o in &estate.overrides {
        let targets = &o.to.0;
        rules.push(Rule {
            id: hashed_id(
                RuleKind::Override,
                &canonical(
                    RuleKind::Override,
                    &o.scope,
                    &o.controls,
                    &o.duties,
                    targets,
                ),
            ),
            kind: RuleKind::Override,
            template: None,
            name: format!("override to {}", targets_label(targets)),
            reason: Some(format!(
                "reason: {}{}",
                o.reason.trim(),
                o.approved_by
                    .as_ref()
                    .map(|a| format!("; approved by {a}"))
                    .unwrap_or_default()
            )),
            at: o.loc,
            text: String::new(),
            targets: targets.clone(),
            performed_by: None,
            split: o.split.clone(),
            sla: BTreeMap::new(),
            cadence: None,
            ends: o.expires,
            effective: None,
            contract_ends: None,
            specificity: specificity(&o.scope, &o.controls, &o.duties),
            matcher: Matcher::new(&o.scope, projection),
            controls: control_mask(catalog, &o.controls),
            duties: duty_mask(&o.duties),
        });
    }
    for c in &estate.contracts {
        for cl in &c.clauses {
            rules.push(Rule {
                id: RuleId(Arc::from(format!("clause:{}/{}", c.id.value, cl.id.value))),
                kind: RuleKind::Clause,
                template: None,
                name: format!("contract {} §{}", c.id.value, cl.id.value),
                reason: None,
                at: cl.id.loc,
                text: cl.text.clone(),
                targets: vec![Target::party(&c.party)],
                performed_by: cl.performed_by.as_ref().map(|p| p.value.clone()),
                split: BTreeMap::new(),
                sla: cl.sla.clone(),
                cadence: cl.cadence,
                ends: [c.expires, cl.expires].into_iter().flatten().min(),
                effective: c.effective,
                contract_ends: c.expires,
                specificity: specificity(&cl.scope, &cl.controls, &cl.duties),
                matcher: Matcher::new(&cl.scope, projection),
                controls: control_mask(catalog, &cl.controls),
                duties: duty_mask(&cl.duties),
            });
        }
    }
    for a in &estate.assignments {
        let id = hashed_id(
            RuleKind::Assignment,
            &canonical(
                RuleKind::Assignment,
                &a.scope,
                &a.controls,
                &a.duties,
                &a.to.0,
            ),
        );
        let name = format!("assignment to {}", targets_label(&a.to.0));
        rules.push(assignment_rule(
            id, None, name, None, a.loc, a, &a.scope, catalog, projection,
        ));
    }
    for t in templates {
        let a = &t.owner.value;
        let targets = &a.to.0;
        // Content-derived like every id: the template's name and what the applied owner
        // says (its combined scope, controls, duties and owners), never where it is written.
        let canon = format!(
            "template={}|{}",
            t.template,
            canonical(
                RuleKind::Assignment,
                &t.scope,
                &a.controls,
                &a.duties,
                targets
            )
        );
        let id = RuleId(Arc::from(format!(
            "template:{}/{:016x}",
            t.template,
            fnv1a(canon.as_bytes())
        )));
        let name = format!(
            "template {}: assignment to {}",
            t.template,
            targets_label(targets)
        );
        let reason = format!("applied by `apply` at {}", estate.cite(t.apply.loc));
        rules.push(assignment_rule(
            id,
            Some(t.template.to_string()),
            name,
            Some(reason),
            t.owner.loc,
            a,
            &t.scope,
            catalog,
            projection,
        ));
    }
    // The same template applied twice to the same assets gives the same rule once.
    rules.sort_by(rule_order);
    rules.dedup_by(|a, b| a.template.is_some() && a.id == b.id);
    // Rules are kept in a content order (kind, name, id, split), never in file order, so
    // every later tie-break and every list of rules is the same however the estate's files
    // are named or ordered.
    rules.sort_by(rule_order);
    rules
}

/// An assignment as a rule: one written in the estate, or a template's owner applied to a
/// scope (then `scope` is the combined one).
#[allow(clippy::too_many_arguments)]
fn assignment_rule(
    id: RuleId,
    template: Option<String>,
    name: String,
    reason: Option<String>,
    at: Loc,
    a: &Assignment,
    scope: &Scope,
    catalog: &Catalog,
    projection: &Projection,
) -> Rule {
    Rule {
        id,
        kind: RuleKind::Assignment,
        template,
        name,
        reason,
        at,
        text: String::new(),
        targets: a.to.0.clone(),
        performed_by: None,
        split: a.split.clone(),
        sla: BTreeMap::new(),
        cadence: None,
        ends: None,
        effective: None,
        contract_ends: None,
        specificity: specificity(scope, &a.controls, &a.duties),
        matcher: Matcher::new(scope, projection),
        controls: control_mask(catalog, &a.controls),
        duties: duty_mask(&a.duties),
    }
}

/// The content order of rules: kind, readable name, id, then the split text (two rules that
/// differ only in their split are told apart by what they say, not where they are written).
pub(crate) fn rule_order(a: &Rule, b: &Rule) -> std::cmp::Ordering {
    a.kind
        .cmp(&b.kind)
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.split.cmp(&b.split))
        .then_with(|| a.text.cmp(&b.text))
        .then_with(|| a.specificity.cmp(&b.specificity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (Fowler, Noll, Vo): the hash must never change, since rule
        // ids and gap keys in users' baselines are made of it.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
