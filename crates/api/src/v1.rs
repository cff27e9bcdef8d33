//! Version 1 of the JSON contract (`demarc.check/v1`, `demarc.cells/v1`, `demarc.triage/v1`,
//! and the cell and gap objects they hold, which are also the NDJSON records).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_engine as engine;
use demarc_model::Duty;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const CHECK: &str = "demarc.check/v1";
pub const CELLS: &str = "demarc.cells/v1";
pub const TRIAGE: &str = "demarc.triage/v1";

/// CSA CCM SSRM ownership of a cell, from the customer's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OwnershipV1 {
    /// The cloud service provider performs it; the customer inherits it.
    CspOwned,
    /// The customer performs it with its own teams.
    CscOwned,
    /// Provider and customer (or customer and a third party) each do part of it.
    Shared,
    /// Outsourced to a third party (an MSSP or vendor) under contract.
    ThirdParty,
}

impl OwnershipV1 {
    /// The serialised word: `csp-owned`, `csc-owned`, `shared`, `third-party`.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnershipV1::CspOwned => "csp-owned",
            OwnershipV1::CscOwned => "csc-owned",
            OwnershipV1::Shared => "shared",
            OwnershipV1::ThirdParty => "third-party",
        }
    }
}

impl From<engine::Ownership> for OwnershipV1 {
    fn from(o: engine::Ownership) -> Self {
        match o {
            engine::Ownership::CspOwned => OwnershipV1::CspOwned,
            engine::Ownership::CscOwned => OwnershipV1::CscOwned,
            engine::Ownership::Shared => OwnershipV1::Shared,
            engine::Ownership::ThirdParty => OwnershipV1::ThirdParty,
        }
    }
}

/// The kind of party doing a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleV1 {
    Provider,
    Customer,
    Mssp,
    Vendor,
}

impl From<engine::Role> for RoleV1 {
    fn from(r: engine::Role) -> Self {
        match r {
            engine::Role::Provider => RoleV1::Provider,
            engine::Role::Customer => RoleV1::Customer,
            engine::Role::Mssp => RoleV1::Mssp,
            engine::Role::Vendor => RoleV1::Vendor,
        }
    }
}

/// The kind of rule a basis step cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BasisKindV1 {
    Override,
    Contract,
    Assignment,
    ServiceCatalog,
    GenericModel,
    Default,
    Superseded,
    Lapsed,
}

impl From<engine::BasisKind> for BasisKindV1 {
    fn from(k: engine::BasisKind) -> Self {
        use engine::BasisKind as K;
        match k {
            K::Override => BasisKindV1::Override,
            K::Contract => BasisKindV1::Contract,
            K::Assignment => BasisKindV1::Assignment,
            K::ServiceCatalog => BasisKindV1::ServiceCatalog,
            K::GenericModel => BasisKindV1::GenericModel,
            K::Default => BasisKindV1::Default,
            K::Superseded => BasisKindV1::Superseded,
            K::Lapsed => BasisKindV1::Lapsed,
        }
    }
}

/// How urgent a gap is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SeverityV1 {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityV1 {
    /// The serialised word: `info` … `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityV1::Info => "info",
            SeverityV1::Low => "low",
            SeverityV1::Medium => "medium",
            SeverityV1::High => "high",
            SeverityV1::Critical => "critical",
        }
    }
}

impl From<engine::Severity> for SeverityV1 {
    fn from(s: engine::Severity) -> Self {
        match s {
            engine::Severity::Info => SeverityV1::Info,
            engine::Severity::Low => SeverityV1::Low,
            engine::Severity::Medium => SeverityV1::Medium,
            engine::Severity::High => SeverityV1::High,
            engine::Severity::Critical => SeverityV1::Critical,
        }
    }
}

/// One party (or team) responsible for a cell, or for its side of a shared cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssigneeV1 {
    /// Party key (or the catalog provider id when the estate declares no such party).
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub role: RoleV1,
    /// Named in writing (contract, assignment, override or provider document).
    pub named: bool,
    /// What this side does, for a shared cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub does: Option<String>,
    /// Who performs the work on this party's behalf, in order (a subcontractor, or the IaaS a
    /// SaaS vendor runs on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// False when the party is only known from the catalog (no party in the estate).
    pub declared: bool,
}

impl AssigneeV1 {
    /// `acme/dba`, `shieldco → nightwatch`.
    pub fn label(&self) -> String {
        let mut s = match &self.team {
            Some(t) => format!("{}/{}", self.party, t),
            None => self.party.clone(),
        };
        for v in &self.via {
            s.push_str(" → ");
            s.push_str(v);
        }
        s
    }
}

impl From<&engine::Assignee> for AssigneeV1 {
    fn from(a: &engine::Assignee) -> Self {
        AssigneeV1 {
            party: a.party.clone(),
            team: a.team.clone(),
            role: a.role.into(),
            named: a.named,
            does: a.does.clone(),
            via: a.via.clone(),
            declared: a.declared,
        }
    }
}

/// Where a fact comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OriginV1 {
    /// A policy file (estate or catalog overlay); `line` 0 means the whole file.
    File {
        path: String,
        line: u32,
        column: u32,
    },
    /// A row of an inventory file, with the asset's external id when known.
    Record {
        source: String,
        record: u64,
        line: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    },
    /// Submitted through the API by `actor`.
    Api { actor: String },
    /// Built-in catalog data or one of demarc's own rules.
    Builtin { what: String },
    /// Not recorded.
    Unknown,
}

impl From<&demarc_model::Origin> for OriginV1 {
    fn from(o: &demarc_model::Origin) -> Self {
        use demarc_model::Origin as O;
        match o {
            O::File { path, line, column } => OriginV1::File {
                path: path.display().to_string(),
                line: *line,
                column: *column,
            },
            O::Record {
                source,
                record,
                line,
                address,
            } => OriginV1::Record {
                source: source.display().to_string(),
                record: *record,
                line: *line,
                address: address.clone(),
            },
            O::Api { actor } => OriginV1::Api {
                actor: actor.clone(),
            },
            O::Builtin { what } => OriginV1::Builtin { what: what.clone() },
            O::Unknown => OriginV1::Unknown,
        }
    }
}

/// One step of the chain of rules behind a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BasisV1 {
    pub kind: BasisKindV1,
    /// What the rule says, starting with a readable name.
    pub rule: String,
    /// The estate rule's stable, content-derived id (`clause:shieldco-msa/4.2`,
    /// `assignment:…`, `override:…`); omitted for catalog and default steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// `file:line` of the rule in the estate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The public document behind a catalog entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the rule or entry comes from, structured (`at` is its citation text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<OriginV1>,
}

impl From<&engine::Basis> for BasisV1 {
    fn from(b: &engine::Basis) -> Self {
        BasisV1 {
            kind: b.kind.into(),
            rule: b.rule.to_string(),
            rule_id: b.rule_id.as_ref().map(ToString::to_string),
            at: b.at.clone(),
            url: b.url.clone(),
            origin: Some((&b.origin).into()),
        }
    }
}

/// One resolved asset × control × duty. Also the `explain --format json` object and an
/// NDJSON record of `matrix --rows --format ndjson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CellV1 {
    pub asset: String,
    pub service: String,
    pub control: String,
    pub control_name: String,
    pub layer: String,
    pub duty: Duty,
    pub ownership: OwnershipV1,
    /// FedRAMP control-origination wording of `ownership`.
    pub origination: String,
    pub responsible: Vec<AssigneeV1>,
    /// Always the customer.
    pub accountable: String,
    /// No document decided this cell: the customer is responsible by default.
    pub assumed: bool,
    /// The customer's side has nobody named in writing.
    pub unassigned: bool,
    /// Other owners named by rules of equal rank.
    pub contested: Vec<String>,
    /// Shared without a written split of what each owner does.
    pub unsplit: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    /// The id of the estate rule that decided the cell; omitted when the catalog alone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub basis: Vec<BasisV1>,
}

impl CellV1 {
    pub fn new(res: &engine::Resolution, asset: engine::AssetIx, cell: &engine::Cell) -> Self {
        let a = res.asset(asset);
        let control = res.control_of(cell);
        CellV1 {
            asset: a.id.value.clone(),
            service: a.service.to_string(),
            control: control.id.clone(),
            control_name: control.name.clone(),
            layer: control.layer.clone(),
            duty: cell.duty,
            ownership: cell.ownership.into(),
            origination: cell.ownership.origination().to_string(),
            responsible: cell.responsible.iter().map(Into::into).collect(),
            accountable: res.accountable().to_string(),
            assumed: cell.assumed,
            unassigned: cell.unassigned,
            contested: cell.contested.clone(),
            unsplit: cell.unsplit,
            sla: cell.sla.map(|d| d.to_string()),
            cadence: cell.cadence.map(|d| d.to_string()),
            decided_by: res.deciding_rule(cell).map(ToString::to_string),
            basis: cell.basis.iter().map(Into::into).collect(),
        }
    }
}

/// One thing to fix. Also an NDJSON record of `check --format ndjson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GapV1 {
    /// `DM001` …; a code never changes meaning.
    pub code: String,
    /// The code's short name (`unassigned`).
    pub kind: String,
    /// Stable identity: the code plus the ids it concerns (never its wording).
    pub key: String,
    pub severity: SeverityV1,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<Duty>,
    /// Assets concerned in id order, possibly cut to the first N (see `asset_count`).
    pub assets: Vec<String>,
    pub asset_count: usize,
    /// Asset × control × duty cells concerned.
    pub cells: usize,
    pub basis: Vec<String>,
    pub fix: String,
    /// The fix this gap shares with others: gaps with the same `group` (same code, same
    /// assets, same missing owner or party) are closed by one fix. Stable like `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The risk acceptance in force for this gap (`accepted:` in the estate); an accepted gap
    /// does not count for `--fail-on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedV1>,
    /// With `check --baseline`: true when the key is not in the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
}

/// A risk acceptance covering a gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AcceptedV1 {
    pub reason: String,
    pub approved_by: String,
    /// The day the gap counts again.
    pub expires: NaiveDate,
    /// The `gap:` pattern that matched (`DM003:waf`, `DM010:*`).
    pub pattern: String,
    /// `file:line` of the acceptance.
    pub at: String,
}

impl From<&engine::Gap> for GapV1 {
    fn from(g: &engine::Gap) -> Self {
        GapV1 {
            code: g.code.to_string(),
            kind: g.kind.to_string(),
            key: g.key.clone(),
            severity: g.severity.into(),
            title: g.title.clone(),
            control: g.control.clone(),
            duties: g.duties.clone(),
            assets: g.assets.clone(),
            asset_count: g.asset_count,
            cells: g.cells,
            basis: g.basis.clone(),
            fix: g.fix.clone(),
            group: g.group.clone(),
            accepted: g.accepted.as_ref().map(|a| AcceptedV1 {
                reason: a.reason.clone(),
                approved_by: a.approved_by.clone(),
                expires: a.expires,
                pattern: a.pattern.clone(),
                at: a.at.clone(),
            }),
            new: g.new,
        }
    }
}

/// Counts for dashboards and CI summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummaryV1 {
    pub assets: usize,
    pub cells: usize,
    /// Cells per SSRM ownership value (every value present, zero included).
    pub ownership: BTreeMap<String, usize>,
    pub assumed_cells: usize,
    pub unassigned_cells: usize,
    /// Open gaps: not covered by a risk acceptance in force.
    pub gaps: usize,
    /// Open gaps per severity (every severity present, zero included).
    pub by_severity: BTreeMap<String, usize>,
    /// Open gaps per code.
    pub by_code: BTreeMap<String, usize>,
    /// Gaps covered by a risk acceptance in force (listed, not in `gaps`).
    #[serde(default)]
    pub accepted: usize,
    /// With `check --baseline`: open gaps whose key is not in the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<usize>,
    /// Distinct fixes among the open gaps (gaps of one `group` count once).
    #[serde(default)]
    pub fixes: usize,
    /// Equivalence classes and distinct cell tables: how much work resolution did.
    pub classes: usize,
    pub tables: usize,
}

impl From<&engine::Summary> for SummaryV1 {
    fn from(s: &engine::Summary) -> Self {
        let strs = |m: &BTreeMap<&'static str, usize>| {
            m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        SummaryV1 {
            assets: s.assets,
            cells: s.cells,
            ownership: strs(&s.ownership),
            assumed_cells: s.assumed_cells,
            unassigned_cells: s.unassigned_cells,
            gaps: s.gaps,
            by_severity: strs(&s.by_severity),
            by_code: strs(&s.by_code),
            accepted: s.accepted,
            new: s.new,
            fixes: s.fixes,
            classes: s.classes,
            tables: s.tables,
        }
    }
}

/// `demarc check --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckV1 {
    /// `demarc.check/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub summary: SummaryV1,
    pub gaps: Vec<GapV1>,
}

impl CheckV1 {
    pub fn new(res: &engine::Resolution, analysis: &engine::Analysis) -> Self {
        CheckV1 {
            schema: CHECK.to_string(),
            estate: res.estate().name.clone(),
            as_of: res.as_of(),
            accountable: res.accountable().to_string(),
            summary: (&analysis.summary).into(),
            gaps: analysis.gaps.iter().map(Into::into).collect(),
        }
    }
}

/// `demarc matrix --rows --format json` and `demarc who … --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CellsV1 {
    /// `demarc.cells/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub cells: Vec<CellV1>,
}

/// The header of [`CellsV1`] with any serializable list of cells, so a million-asset matrix
/// streams instead of holding every cell. Serializes to exactly the same JSON as `CellsV1`.
#[derive(Serialize)]
pub struct CellsStream<C> {
    pub schema: &'static str,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub cells: C,
}

impl<C: Serialize> CellsStream<C> {
    pub fn new(res: &engine::Resolution, cells: C) -> Self {
        CellsStream {
            schema: CELLS,
            estate: res.estate().name.clone(),
            as_of: res.as_of(),
            accountable: res.accountable().to_string(),
            cells,
        }
    }
}

/// Someone to call in a triage answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContactV1 {
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `demarc triage --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriageV1 {
    /// `demarc.triage/v1`.
    pub schema: String,
    pub asset: String,
    pub control: String,
    pub duty: Duty,
    pub as_of: NaiveDate,
    pub responsible: Vec<AssigneeV1>,
    pub accountable: String,
    pub contacts: Vec<ContactV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// Escalation steps in order; the accountable customer is always last.
    pub escalation: Vec<String>,
    pub basis: Vec<BasisV1>,
}

impl TriageV1 {
    pub fn new(res: &engine::Resolution, t: &engine::Triage) -> Self {
        TriageV1 {
            schema: TRIAGE.to_string(),
            asset: t.asset.clone(),
            control: t.control.clone(),
            duty: t.duty,
            as_of: res.as_of(),
            responsible: t.cell.responsible.iter().map(Into::into).collect(),
            accountable: t.accountable.clone(),
            contacts: t
                .contacts
                .iter()
                .map(|c| ContactV1 {
                    party: c.party.clone(),
                    team: c.team.clone(),
                    name: c.name.clone(),
                    contact: c.contact.clone(),
                    phone: c.phone.clone(),
                })
                .collect(),
            sla: t.sla.map(|d| d.to_string()),
            escalation: t.escalation.clone(),
            basis: t.cell.basis.iter().map(Into::into).collect(),
        }
    }
}

pub const CALL_SHEET: &str = "demarc.callsheet/v1";

/// One party or team on an incident call sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallEntryV1 {
    /// Why it is on the list: `responds`, `detects`, `provider` or `accountable` (the order
    /// the list is in).
    pub reason: String,
    pub role: RoleV1,
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Controls it responds for on this asset.
    pub responds: Vec<String>,
    /// Controls it monitors on this asset.
    pub detects: Vec<String>,
    /// The fastest response time in writing for this party on this asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// The rule (contract clause) that sets `sla`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_set_by: Option<String>,
    /// The party it works for (a subcontractor's contractor, a SaaS vendor it hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// Attestations of this party that have lapsed (framework and last valid day): what it
    /// says about its own side can no longer be relied on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation_lapsed: Vec<LapsedAttestationV1>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<String>,
}

/// A lapsed attestation on a call sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LapsedAttestationV1 {
    pub framework: String,
    pub valid_until: NaiveDate,
}

/// `demarc triage ASSET --format json` (no `--control`): whom to call about an incident on
/// the asset, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallSheetV1 {
    /// `demarc.callsheet/v1`.
    pub schema: String,
    pub asset: String,
    pub service: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub calls: Vec<CallEntryV1>,
}

impl CallSheetV1 {
    pub fn new(res: &engine::Resolution, sheet: &engine::CallSheet) -> Self {
        CallSheetV1 {
            schema: CALL_SHEET.to_string(),
            asset: sheet.asset.clone(),
            service: sheet.service.clone(),
            as_of: res.as_of(),
            accountable: res.accountable().to_string(),
            calls: sheet
                .entries
                .iter()
                .map(|e| CallEntryV1 {
                    reason: e.reason.as_str().to_string(),
                    role: e.role.into(),
                    party: e.contact.party.clone(),
                    team: e.contact.team.clone(),
                    name: e.contact.name.clone(),
                    contact: e.contact.contact.clone(),
                    phone: e.contact.phone.clone(),
                    responds: e.responds.clone(),
                    detects: e.detects.clone(),
                    sla: e.sla.as_ref().map(|(d, _)| d.to_string()),
                    sla_set_by: e.sla.as_ref().map(|(_, r)| r.clone()),
                    on_behalf_of: e.on_behalf_of.clone(),
                    attestation_lapsed: e
                        .attestation_lapsed
                        .iter()
                        .map(|(f, d)| LapsedAttestationV1 {
                            framework: f.clone(),
                            valid_until: *d,
                        })
                        .collect(),
                    escalation: e.escalation.clone(),
                })
                .collect(),
        }
    }
}

pub const DRILL: &str = "demarc.drill/v1";

/// Which assets a drill scenario hits. Every criterion given must match; within one, any
/// value matches. None at all: every asset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillTargetsV1 {
    /// Asset ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    /// Service ids (`aws:s3`); a trailing `*` matches a prefix (`aws:*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Service models: on-prem, iaas, caas, paas, faas, dbaas, saas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Data classes the asset holds (`pii`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
    /// Environments (`prod`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Tags, `key=value` or `key` (any value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Controls that must apply to the asset (`endpoint-security`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Only assets whose service has a provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provided: bool,
}

/// A control and duty a drill asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillNeedV1 {
    pub control: String,
    pub duty: Duty,
}

/// A tabletop scenario: `demarc drill --scenario FILE` reads one of these (YAML or JSON);
/// `demarc schema drill-scenario` prints its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillScenarioV1 {
    /// A short id (`lost-laptop`).
    pub id: String,
    pub title: String,
    /// What happened, read out to open the exercise.
    #[serde(default)]
    pub narrative: String,
    #[serde(default)]
    pub targets: DrillTargetsV1,
    /// Duties whose failure let it happen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cause: Vec<DrillNeedV1>,
    /// Who would notice: usually `monitor` duties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detect: Vec<DrillNeedV1>,
    /// Who acts: usually `respond` duties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub respond: Vec<DrillNeedV1>,
    /// Log controls the investigation needs (audit-logging, log-retention,
    /// network-flow-logging, storage-access-logging, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// The provider must be engaged whatever the cells say.
    #[serde(default)]
    pub engage_provider: bool,
    /// Extra questions for the facilitator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<String>,
}

fn needs_v1(n: &[engine::Need]) -> Vec<DrillNeedV1> {
    n.iter()
        .map(|n| DrillNeedV1 {
            control: n.control.clone(),
            duty: n.duty,
        })
        .collect()
}

fn needs_engine(n: &[DrillNeedV1]) -> Vec<engine::Need> {
    n.iter()
        .map(|n| engine::Need::new(&n.control, n.duty))
        .collect()
}

impl From<&engine::Scenario> for DrillScenarioV1 {
    fn from(s: &engine::Scenario) -> Self {
        let t = &s.targets;
        DrillScenarioV1 {
            id: s.id.clone(),
            title: s.title.clone(),
            narrative: s.narrative.clone(),
            targets: DrillTargetsV1 {
                assets: t.assets.clone(),
                services: t.services.clone(),
                models: t.models.clone(),
                data: t.data.clone(),
                env: t.env.clone(),
                tags: t.tags.clone(),
                controls: t.controls.clone(),
                provided: t.provided,
            },
            cause: needs_v1(&s.cause),
            detect: needs_v1(&s.detect),
            respond: needs_v1(&s.respond),
            logs: s.logs.clone(),
            engage_provider: s.engage_provider,
            questions: s.questions.clone(),
        }
    }
}

impl From<&DrillScenarioV1> for engine::Scenario {
    fn from(s: &DrillScenarioV1) -> Self {
        let t = &s.targets;
        engine::Scenario {
            id: s.id.clone(),
            title: s.title.clone(),
            narrative: s.narrative.clone(),
            targets: engine::Targets {
                assets: t.assets.clone(),
                services: t.services.clone(),
                models: t.models.clone(),
                data: t.data.clone(),
                env: t.env.clone(),
                tags: t.tags.clone(),
                controls: t.controls.clone(),
                provided: t.provided,
            },
            cause: needs_engine(&s.cause),
            detect: needs_engine(&s.detect),
            respond: needs_engine(&s.respond),
            logs: s.logs.clone(),
            engage_provider: s.engage_provider,
            questions: s.questions.clone(),
        }
    }
}

/// Who does a duty on some of the exposed assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillOwnersV1 {
    /// Responsible parties (`acme/secops`, `shieldco → nightwatch`); empty: nobody.
    pub who: Vec<String>,
    pub ownership: OwnershipV1,
    /// Nobody is named in writing for the customer's side.
    pub unassigned: bool,
    /// Nothing decided it: the customer's by default.
    pub assumed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contested: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// `file:line` (or rule id) of the decisive rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    pub assets: Vec<String>,
}

/// One control × duty across the exposed assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillDutyV1 {
    pub control: String,
    pub duty: Duty,
    pub owners: Vec<DrillOwnersV1>,
    /// Exposed assets the control or duty does not apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<String>,
}

impl From<&engine::DutyLine> for DrillDutyV1 {
    fn from(l: &engine::DutyLine) -> Self {
        DrillDutyV1 {
            control: l.control.clone(),
            duty: l.duty,
            owners: l
                .owners
                .iter()
                .map(|o| DrillOwnersV1 {
                    who: o.who.clone(),
                    ownership: o.ownership.into(),
                    unassigned: o.unassigned,
                    assumed: o.assumed,
                    contested: o.contested.clone(),
                    sla: o.sla.clone(),
                    basis: o.basis.clone(),
                    assets: o.assets.clone(),
                })
                .collect(),
            not_applicable: l.not_applicable.clone(),
        }
    }
}

/// A log the investigation needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillLogV1 {
    pub control: String,
    /// Who turns it on (its configure duty).
    pub enabled_by: DrillDutyV1,
    /// Who reads it (its monitor duty), when the control has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_by: Option<DrillDutyV1>,
    /// Exposed assets with current evidence that it is on: asset → evidence `ref`.
    pub evidence: BTreeMap<String, String>,
}

/// Someone on a drill's call list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillCallV1 {
    /// `responds`, `detects`, `provider` or `accountable` (the list's order).
    pub reason: String,
    pub role: RoleV1,
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Exposed assets whose call sheet it is on.
    pub assets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_set_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation_lapsed: Vec<LapsedAttestationV1>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<String>,
}

/// A provider the drill may have to engage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillProviderV1 {
    /// Catalog provider id.
    pub provider: String,
    /// The estate party that stands for it; absent: no contact on file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation_lapsed: Vec<LapsedAttestationV1>,
    pub assets: Vec<String>,
    /// Scenario duties (`incident-response respond`) where it is responsible.
    pub duties: Vec<String>,
    /// Why it must be engaged; empty: it need not be.
    pub must_engage: Vec<String>,
}

/// One numbered step of the facilitator's script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillInjectV1 {
    /// 1-based.
    pub number: usize,
    pub title: String,
    /// What the facilitator reads out or asks.
    pub prompt: String,
    /// What the estate says, to check the table's answers against.
    pub facts: Vec<String>,
    /// Problems the table should find.
    pub findings: Vec<String>,
}

/// An exposed asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillAssetV1 {
    pub id: String,
    pub service: String,
}

/// `demarc drill SCENARIO --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DrillV1 {
    /// `demarc.drill/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub scenario: DrillScenarioV1,
    pub assets: Vec<DrillAssetV1>,
    pub cause: Vec<DrillDutyV1>,
    pub detect: Vec<DrillDutyV1>,
    pub respond: Vec<DrillDutyV1>,
    pub logs: Vec<DrillLogV1>,
    pub calls: Vec<DrillCallV1>,
    pub providers: Vec<DrillProviderV1>,
    /// Current gaps that would slow the response.
    pub gaps: Vec<GapV1>,
    pub injects: Vec<DrillInjectV1>,
}

fn lapsed(l: &[(String, NaiveDate)]) -> Vec<LapsedAttestationV1> {
    l.iter()
        .map(|(f, d)| LapsedAttestationV1 {
            framework: f.clone(),
            valid_until: *d,
        })
        .collect()
}

impl DrillV1 {
    pub fn new(res: &engine::Resolution, d: &engine::Drill) -> Self {
        DrillV1 {
            schema: DRILL.to_string(),
            estate: res.estate().name.clone(),
            as_of: res.as_of(),
            accountable: res.accountable().to_string(),
            scenario: (&d.scenario).into(),
            assets: d
                .assets
                .iter()
                .map(|(id, service)| DrillAssetV1 {
                    id: id.clone(),
                    service: service.clone(),
                })
                .collect(),
            cause: d.cause.iter().map(Into::into).collect(),
            detect: d.detect.iter().map(Into::into).collect(),
            respond: d.respond.iter().map(Into::into).collect(),
            logs: d
                .logs
                .iter()
                .map(|l| DrillLogV1 {
                    control: l.control.clone(),
                    enabled_by: (&l.enabled_by).into(),
                    read_by: l.read_by.as_ref().map(Into::into),
                    evidence: l.evidence.clone(),
                })
                .collect(),
            calls: d
                .calls
                .iter()
                .map(|c| DrillCallV1 {
                    reason: c.reason.as_str().to_string(),
                    role: c.role.into(),
                    party: c.party.clone(),
                    team: c.team.clone(),
                    name: c.name.clone(),
                    contact: c.contact.clone(),
                    phone: c.phone.clone(),
                    assets: c.assets.clone(),
                    sla: c.sla.as_ref().map(|(s, _)| s.to_string()),
                    sla_set_by: c.sla.as_ref().map(|(_, r)| r.clone()),
                    attestation_lapsed: lapsed(&c.attestation_lapsed),
                    escalation: c.escalation.clone(),
                })
                .collect(),
            providers: d
                .providers
                .iter()
                .map(|p| DrillProviderV1 {
                    provider: p.provider.clone(),
                    party: p.party.clone(),
                    name: p.name.clone(),
                    contact: p.contact.clone(),
                    phone: p.phone.clone(),
                    escalation: p.escalation.clone(),
                    attestation_lapsed: lapsed(&p.attestation_lapsed),
                    assets: p.assets.clone(),
                    duties: p.duties.clone(),
                    must_engage: p.must_engage.clone(),
                })
                .collect(),
            gaps: d.gaps.iter().map(Into::into).collect(),
            injects: d
                .injects
                .iter()
                .enumerate()
                .map(|(n, i)| DrillInjectV1 {
                    number: n + 1,
                    title: i.title.clone(),
                    prompt: i.prompt.clone(),
                    facts: i.facts.clone(),
                    findings: i.findings.clone(),
                })
                .collect(),
        }
    }
}
