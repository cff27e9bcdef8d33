//! Finding → control → asset → responsible party, SLA and due date.
//!
//! **Control.** The control the check names itself (demarc's Rego rules); else the check table entry for the finding's check id; else the catalog control
//! whose NIST SP 800-53 mappings share the most requirement ids with the finding's (a parent
//! control `ac-2` counts half for an enhancement `ac-2.1`; ties go to catalog order); else the
//! table entry for one of its categories, then for its resource type. Otherwise it maps to no
//! control and is listed as such, never dropped.
//!
//! **Duty.** The table entry's duty if it names one; else the finding's kind decides:
//! misconfiguration → `configure`, vulnerability → `patch`, detection → `respond`. A control
//! without that duty takes its first of configure, respond, patch, monitor, audit.
//!
//! **Asset.** The resource's uid equal to an asset's `external_id` (exactly, then ignoring
//! case: Azure ids are case-insensitive), then to an asset id; then the resource name (or the
//! last segment of an ARN or resource path) equal to an asset id or `external_id`, unless
//! both name an account and the accounts differ.
//!
//! **Who.** The cell (asset, control, duty). A shared cell routes to its customer side (the
//! customer's team, or the third party under contract), since a scanner's finding is about
//! what the customer configured; a cell only the provider holds routes to the provider
//! (`Route::Provider`), to be raised through its escalation path. A customer side with
//! nobody named is `Route::Unassigned` (the customer, DM001).
//!
//! **SLA.** The SLA the deciding clause sets for that duty (`sla: {configure: 7d}`); else,
//! when the control has a `respond` duty held by the same party, the SLA for `respond` (a
//! contract promising to respond to this control's alerts within 1h covers acting on the
//! finding). Due = first seen + SLA, in whole days; overdue when an open finding's due day is
//! before the as-of date.

use std::sync::Arc;

use chrono::NaiveDate;
use demarc_engine::{AssetIx, Assignee, Cell, Resolution, Role};
use demarc_model::{Duration, Duty};
use rustc_hash::FxHashMap;

use crate::finding::{Finding, Kind, Status};
use crate::table::{CheckTable, TableEntry};

/// How the finding's resource was matched to an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetMatch {
    ExternalId,
    Id,
    Name,
}

impl AssetMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetMatch::ExternalId => "external_id",
            AssetMatch::Id => "id",
            AssetMatch::Name => "name",
        }
    }
}

/// How the control was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlVia {
    /// The check names the control itself (a demarc Rego rule's `metadata.control`).
    Rule,
    Check,
    Compliance,
    Category,
    ResourceType,
    None,
}

impl ControlVia {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlVia::Rule => "rule",
            ControlVia::Check => "check-table",
            ControlVia::Compliance => "compliance",
            ControlVia::Category => "category",
            ControlVia::ResourceType => "resource-type",
            ControlVia::None => "none",
        }
    }
}

/// Where a finding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    /// A named party or team holds the duty.
    Responsible,
    /// The duty is the customer's but nobody is named (DM001): the customer holds it.
    Unassigned,
    /// Only the provider holds the duty: raise it through the provider's escalation path.
    Provider,
    /// The control does not apply to the asset's service.
    NotApplicable,
    /// The finding maps to no control.
    NoControl,
    /// No declared asset matches the resource.
    UndeclaredAsset,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Responsible => "responsible",
            Route::Unassigned => "unassigned",
            Route::Provider => "provider",
            Route::NotApplicable => "not-applicable",
            Route::NoControl => "no-control",
            Route::UndeclaredAsset => "undeclared-asset",
        }
    }
}

/// Everything demarc says about one finding.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub asset: Option<AssetIx>,
    pub asset_match: Option<AssetMatch>,
    /// Position of the control in the catalog's controls.
    pub control: Option<usize>,
    pub control_via: ControlVia,
    pub duty: Option<Duty>,
    pub cell: Option<Arc<Cell>>,
    pub route: Route,
    /// The party (and team) the finding is routed to.
    pub party: Option<String>,
    pub team: Option<String>,
    pub sla: Option<Duration>,
    /// The duty whose SLA applies (the finding's, or `respond`).
    pub sla_from: Option<Duty>,
    pub due: Option<NaiveDate>,
    /// Open and due before the as-of date.
    pub overdue: bool,
    pub days_overdue: i64,
}

impl Attribution {
    /// `acme/platform`, `shieldco`, `aws`: the routing key people group by.
    pub fn owner_label(&self) -> Option<String> {
        self.party.as_ref().map(|p| match &self.team {
            Some(t) => format!("{p}/{t}"),
            None => p.clone(),
        })
    }
}

/// Attributes findings against one resolution. Build once, share across threads.
pub struct Attributor<'r> {
    res: &'r Resolution,
    table: &'r CheckTable,
    as_of: NaiveDate,
    nist: FxHashMap<String, Vec<usize>>,
    ext: FxHashMap<&'r str, AssetIx>,
    ext_lower: FxHashMap<String, AssetIx>,
    ids: FxHashMap<&'r str, AssetIx>,
    ids_lower: FxHashMap<String, AssetIx>,
}

/// Looks `key` up ignoring ASCII case, allocating only when it has upper-case letters.
fn get_ci<V: Copy>(map: &FxHashMap<String, V>, key: &str) -> Option<V> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        map.get(&key.to_ascii_lowercase()).copied()
    } else {
        map.get(key).copied()
    }
}

const DUTY_ORDER: [Duty; 5] = [
    Duty::Configure,
    Duty::Respond,
    Duty::Patch,
    Duty::Monitor,
    Duty::Audit,
];

fn tail(uid: &str) -> &str {
    uid.rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or(uid)
}

impl<'r> Attributor<'r> {
    pub fn new(res: &'r Resolution, table: &'r CheckTable, as_of: NaiveDate) -> Attributor<'r> {
        let mut nist: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, c) in res.catalog().controls.iter().enumerate() {
            for (fw, maps) in &c.mappings {
                if fw.as_str() == "nist-800-53" {
                    for m in maps {
                        let v = nist.entry(m.requirement.as_str().to_string()).or_default();
                        if !v.contains(&i) {
                            v.push(i);
                        }
                    }
                }
            }
        }
        let mut ext = FxHashMap::default();
        let mut ext_lower = FxHashMap::default();
        let mut ids = FxHashMap::default();
        let mut ids_lower = FxHashMap::default();
        for a in res.assets() {
            let asset = res.asset(a);
            if let Some(x) = asset.external_id.as_deref() {
                ext.entry(x).or_insert(a);
                ext_lower.entry(x.to_ascii_lowercase()).or_insert(a);
            }
            ids.insert(asset.id.as_str(), a);
            ids_lower
                .entry(asset.id.as_str().to_ascii_lowercase())
                .or_insert(a);
        }
        Attributor {
            res,
            table,
            as_of,
            nist,
            ext,
            ext_lower,
            ids,
            ids_lower,
        }
    }

    pub fn resolution(&self) -> &'r Resolution {
        self.res
    }
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// The control a finding maps to, how, and the duty the table names (if any).
    pub fn control_of(&self, f: &Finding) -> (Option<usize>, ControlVia, Option<Duty>) {
        let cat = self.res.catalog();
        let pos = |e: &TableEntry| cat.control_position(&e.control);
        if let Some(p) = f.control.as_deref().and_then(|c| cat.control_position(c)) {
            return (Some(p), ControlVia::Rule, None);
        }
        if let Some(e) = self.table.check(&f.check)
            && let Some(p) = pos(e)
        {
            return (Some(p), ControlVia::Check, e.duty);
        }
        if !f.nist.is_empty() {
            let mut score: FxHashMap<usize, u32> = FxHashMap::default();
            for id in &f.nist {
                for &c in self.nist.get(id.as_str()).into_iter().flatten() {
                    *score.entry(c).or_default() += 2;
                }
                if let Some((parent, _)) = id.split_once(['.', '_']) {
                    for &c in self.nist.get(parent).into_iter().flatten() {
                        *score.entry(c).or_default() += 1;
                    }
                }
            }
            if let Some((&c, _)) = score
                .iter()
                .max_by(|(ca, sa), (cb, sb)| sa.cmp(sb).then(cb.cmp(ca)))
            {
                return (Some(c), ControlVia::Compliance, None);
            }
        }
        for c in &f.categories {
            if let Some(e) = self.table.category(c)
                && let Some(p) = pos(e)
            {
                return (Some(p), ControlVia::Category, e.duty);
            }
        }
        if let Some(t) = f.resource.kind.as_deref()
            && let Some(e) = self.table.resource_type(t)
            && let Some(p) = pos(e)
        {
            return (Some(p), ControlVia::ResourceType, e.duty);
        }
        (None, ControlVia::None, None)
    }

    /// The declared asset a finding is about.
    pub fn asset_of(&self, f: &Finding) -> Option<(AssetIx, AssetMatch)> {
        let r = &f.resource;
        let same_account = |a: AssetIx| match (&self.res.asset(a).account, &r.account) {
            (Some(x), Some(y)) => x.as_str() == y,
            _ => true,
        };
        if let Some(uid) = r.uid.as_deref() {
            if let Some(&a) = self.ext.get(uid) {
                return Some((a, AssetMatch::ExternalId));
            }
            if let Some(a) = get_ci(&self.ext_lower, uid) {
                return Some((a, AssetMatch::ExternalId));
            }
            // Not `Resolution::find_asset`: its "did you mean" would scan every asset id for
            // every finding that names no asset.
            if let Some(&a) = self.ids.get(uid) {
                return Some((a, AssetMatch::Id));
            }
        }
        // A Terraform address (`aws_s3_bucket.order-exports`) names the resource last.
        let address = r
            .uid
            .as_deref()
            .filter(|u| !u.contains([':', '/']))
            .and_then(|u| u.rsplit_once('.'))
            .map(|(_, n)| n);
        let names = r
            .name
            .as_deref()
            .into_iter()
            .chain(r.uid.as_deref().map(tail))
            .chain(address);
        for n in names {
            if let Some(&a) = self.ext.get(n)
                && same_account(a)
            {
                return Some((a, AssetMatch::ExternalId));
            }
            if let Some(a) = get_ci(&self.ids_lower, n)
                && same_account(a)
            {
                return Some((a, AssetMatch::Name));
            }
        }
        None
    }

    fn duty_for(&self, control: usize, named: Option<Duty>, kind: Kind) -> Option<Duty> {
        let ctl = &self.res.catalog().controls[control];
        let wanted = named.unwrap_or(match kind {
            Kind::Misconfiguration => Duty::Configure,
            Kind::Vulnerability => Duty::Patch,
            Kind::Detection => Duty::Respond,
        });
        if ctl.duties.contains(&wanted) {
            return Some(wanted);
        }
        DUTY_ORDER.into_iter().find(|d| ctl.duties.contains(d))
    }

    /// Everything about one finding.
    pub fn attribute(&self, f: &Finding) -> Attribution {
        let (control, control_via, named_duty) = self.control_of(f);
        let found = self.asset_of(f);
        let duty = control.and_then(|c| self.duty_for(c, named_duty, f.kind));
        let mut a = Attribution {
            asset: found.map(|x| x.0),
            asset_match: found.map(|x| x.1),
            control,
            control_via,
            duty,
            cell: None,
            route: Route::UndeclaredAsset,
            party: None,
            team: None,
            sla: None,
            sla_from: None,
            due: None,
            overdue: false,
            days_overdue: 0,
        };
        let Some((asset, _)) = found else {
            return a;
        };
        let (Some(control), Some(duty)) = (control, duty) else {
            a.route = Route::NoControl;
            return a;
        };
        let cat = self.res.catalog();
        let cid = &cat.controls[control].id;
        let Ok(cell) = self.res.cell(asset, cid, duty) else {
            a.route = Route::NotApplicable;
            return a;
        };
        let first = primary(&cell.responsible);
        if let Some(p) = first {
            a.party = Some(p.party.clone());
            a.team = p.team.clone();
            a.route = if p.role == Role::Provider {
                Route::Provider
            } else if p.role == Role::Customer && !p.named {
                Route::Unassigned
            } else {
                Route::Responsible
            };
        }
        a.sla = cell.sla;
        if a.sla.is_some() {
            a.sla_from = Some(duty);
        } else if duty != Duty::Respond
            && let Ok(rc) = self.res.cell(asset, cid, Duty::Respond)
            && rc.sla.is_some()
            && primary(&rc.responsible).map(|p| (&p.party, &p.team))
                == first.map(|p| (&p.party, &p.team))
        {
            a.sla = rc.sla;
            a.sla_from = Some(Duty::Respond);
        }
        a.cell = Some(cell.clone());
        if let (Some(sla), Some(seen)) = (a.sla, f.first_seen) {
            let due = seen
                .checked_add_signed(chrono::TimeDelta::days(sla.days()))
                .unwrap_or(NaiveDate::MAX);
            a.due = Some(due);
            if f.status == Status::Open && due < self.as_of {
                a.overdue = true;
                a.days_overdue = (self.as_of - due).num_days();
            }
        }
        a
    }
}

/// The side of a cell a finding goes to: the first assignee who is not the provider, else
/// the first.
fn primary(responsible: &[Assignee]) -> Option<&Assignee> {
    responsible
        .iter()
        .find(|a| a.role != Role::Provider)
        .or_else(|| responsible.first())
}

/// Who to call at a party (or team): name, contact, phone and escalation, from the estate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartyContact {
    pub name: String,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub escalation: Vec<String>,
}

impl Attributor<'_> {
    /// The contact details the estate gives for `party` (and `team`).
    pub fn contact(&self, party: &str, team: Option<&str>) -> PartyContact {
        let estate = self.res.estate();
        let Some(p) = estate.parties.get(party) else {
            return PartyContact {
                name: party.to_string(),
                ..PartyContact::default()
            };
        };
        let t = team.and_then(|t| p.teams.get(t));
        let mut escalation: Vec<String> = t.map(|t| t.escalation.clone()).unwrap_or_default();
        escalation.extend(p.escalation.iter().cloned());
        PartyContact {
            name: t
                .and_then(|t| t.name.clone())
                .unwrap_or_else(|| match team {
                    Some(tm) => format!("{} / {tm}", p.name),
                    None => p.name.clone(),
                }),
            contact: t
                .and_then(|t| t.contact.clone())
                .or_else(|| p.contact.clone()),
            phone: t.and_then(|t| t.phone.clone()).or_else(|| p.phone.clone()),
            escalation,
        }
    }
}
