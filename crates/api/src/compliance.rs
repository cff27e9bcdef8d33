//! Version 1 of the compliance contract: `demarc.compliance/v1` (one framework rolled up),
//! `demarc.compliance-cross/v1` (several frameworks side by side), `demarc.evidence/v1` (the
//! evidence register) and `demarc.audit-pack/v1` (the package manifest).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_compliance::rollup::{self, Origination, Rollup, pct};
use demarc_model::Duty;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::v1::RoleV1;

pub const COMPLIANCE: &str = "demarc.compliance/v1";
pub const COMPLIANCE_CROSS: &str = "demarc.compliance-cross/v1";
pub const EVIDENCE: &str = "demarc.evidence/v1";
pub const AUDIT_PACK: &str = "demarc.audit-pack/v1";

/// How a requirement is carried (CSA CCM SSRM / FedRAMP origination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OriginationV1 {
    /// Every cell of every mapped control is a provider's.
    Inherited,
    /// Provider and customer side each carry part.
    Shared,
    /// The customer carries it (its teams or a third party it hired).
    Customer,
    /// No asset in scope has a mapped control.
    NotApplicable,
    /// No demarc control maps to it (`not_addressed` says why).
    NotAddressed,
}

impl From<Origination> for OriginationV1 {
    fn from(o: Origination) -> Self {
        match o {
            Origination::Inherited => OriginationV1::Inherited,
            Origination::Shared => OriginationV1::Shared,
            Origination::Customer => OriginationV1::Customer,
            Origination::NotApplicable => OriginationV1::NotApplicable,
            Origination::NotAddressed => OriginationV1::NotAddressed,
        }
    }
}

/// The framework and baseline rolled up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameworkRefV1 {
    pub id: String,
    pub name: String,
    pub edition: String,
    /// Where the requirement list comes from.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineRefV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineRefV1 {
    pub id: String,
    pub title: String,
}

/// Which assets were rolled up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceScopeV1 {
    pub assets: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// `--mine`: only requirements this party carries part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

/// Counts over the requirements (before `--mine` filtering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceSummaryV1 {
    pub requirements: usize,
    pub not_addressed: usize,
    pub not_applicable: usize,
    pub inherited: usize,
    pub shared: usize,
    pub customer: usize,
    /// Requirements with assets in scope: inherited + shared + customer.
    pub applicable: usize,
    pub ready: usize,
    /// Ready share of applicable requirements, in percent (one decimal).
    pub readiness_pct: f64,
    /// Shares of applicable requirements, in percent.
    pub inherited_pct: f64,
    pub shared_pct: f64,
    pub customer_pct: f64,
    /// Addressed share of all requirements, in percent.
    pub addressed_pct: f64,
    pub at_risk: usize,
    pub inherited_cells: usize,
    /// Inherited cells backed by an in-date attestation covering the framework and service.
    pub backed_cells: usize,
    /// Shares of the applicable requirements' cells, in percent: the provider alone, shared,
    /// the customer's side alone. Requirement shares count a requirement as shared as soon as
    /// one asset differs; these weigh the work itself.
    #[serde(default)]
    pub cells_provider_pct: f64,
    #[serde(default)]
    pub cells_shared_pct: f64,
    #[serde(default)]
    pub cells_customer_pct: f64,
}

impl From<&rollup::Summary> for ComplianceSummaryV1 {
    fn from(s: &rollup::Summary) -> Self {
        let a = s.applicable();
        let cells = s.cells_provider + s.cells_shared + s.cells_customer;
        ComplianceSummaryV1 {
            requirements: s.requirements,
            not_addressed: s.not_addressed,
            not_applicable: s.not_applicable,
            inherited: s.inherited,
            shared: s.shared,
            customer: s.customer,
            applicable: a,
            ready: s.ready,
            readiness_pct: s.readiness(),
            inherited_pct: pct(s.inherited, a),
            shared_pct: pct(s.shared, a),
            customer_pct: pct(s.customer, a),
            addressed_pct: pct(s.requirements - s.not_addressed, s.requirements),
            at_risk: s.at_risk,
            inherited_cells: s.inherited_cells,
            backed_cells: s.backed_cells,
            cells_provider_pct: pct(s.cells_provider, cells),
            cells_shared_pct: pct(s.cells_shared, cells),
            cells_customer_pct: pct(s.cells_customer, cells),
        }
    }
}

/// Readiness of one party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PartyReadinessV1 {
    pub party: String,
    pub role: RoleV1,
    pub requirements: usize,
    pub ready: usize,
    pub readiness_pct: f64,
    pub cells: usize,
}

/// A demarc control mapped to a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MappedControlV1 {
    pub control: String,
    /// `equivalent`, `subset`, `superset` or `intersects` (NIST IR 8477).
    pub relation: String,
    /// For a 20x indicator: the SP 800-53 control it links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The statement part the control maps to, if only a part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

/// One party's share of a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShareV1 {
    pub party: String,
    pub role: RoleV1,
    pub cells: usize,
    /// Share of the requirement's cells, in percent.
    pub share_pct: f64,
    pub duties: Vec<Duty>,
    /// What this side does where the cell is shared, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub does: Vec<String>,
}

/// Whether an attestation backs what is inherited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AttestationBackingV1 {
    /// `not-needed` (nothing inherited), `backed`, `partial` or `unbacked`.
    pub status: String,
    pub inherited_cells: usize,
    pub backed_cells: usize,
    /// The attestations relied on.
    pub by: Vec<String>,
    /// Why the rest is not backed.
    pub unbacked: Vec<String>,
}

/// Evidence for the mapped controls that need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceStatusV1 {
    /// `not-required`, `complete`, `partial`, `missing` or `expired`.
    pub status: String,
    pub needed: usize,
    pub missing: usize,
    pub expired: usize,
}

/// Something lapsed or about to lapse under a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskV1 {
    pub what: String,
    pub date: NaiveDate,
    pub lapsed: bool,
}

/// A statement part and what maps to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PartV1 {
    pub id: String,
    pub label: String,
    pub prose: String,
    pub controls: Vec<String>,
    /// `part`, `control` or `none`.
    pub covered_by: String,
}

/// Cells with a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProblemsV1 {
    pub unassigned: usize,
    pub contested: usize,
    pub unsplit: usize,
}

/// One requirement rolled up. Also the NDJSON record of `demarc compliance --format ndjson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequirementV1 {
    pub id: String,
    pub label: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `control`, `enhancement`, `indicator` or `requirement`.
    pub kind: String,
    /// `required` / `addressable` for HIPAA implementation specifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    pub origination: OriginationV1,
    /// The FedRAMP CIS control-origination wording.
    pub fedramp_origination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_addressed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    pub controls: Vec<MappedControlV1>,
    pub assets: usize,
    pub cells: usize,
    /// Cells by CSA CCM SSRM ownership (`csp-owned`, `csc-owned`, `shared`, `third-party`).
    pub ownership: BTreeMap<String, usize>,
    pub split: Vec<ShareV1>,
    pub attestation: AttestationBackingV1,
    pub evidence: EvidenceStatusV1,
    pub problems: ProblemsV1,
    pub at_risk: Vec<RiskV1>,
    pub ready: bool,
    /// Why it is not ready, each with its fix.
    pub blockers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartV1>,
}

impl From<&rollup::Row> for RequirementV1 {
    fn from(r: &rollup::Row) -> Self {
        let q = &r.requirement;
        let b = &r.backing;
        RequirementV1 {
            id: q.id.clone(),
            label: q.label.clone(),
            title: q.title.clone(),
            group: q.group.clone(),
            kind: q.kind.as_str().to_string(),
            qualifier: q.qualifier.clone(),
            origination: r.origination.into(),
            fedramp_origination: r.origination.fedramp().to_string(),
            not_addressed: q.not_addressed.clone(),
            statement: q.statement.clone(),
            controls: r
                .controls
                .iter()
                .map(|m| MappedControlV1 {
                    control: m.control.clone(),
                    relation: m.relation.as_str().to_string(),
                    via: m.via.clone(),
                    part: m.part.clone(),
                })
                .collect(),
            assets: r.assets,
            cells: r.cells,
            ownership: r
                .ownership
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            split: r
                .shares
                .iter()
                .map(|s| ShareV1 {
                    party: s.label.clone(),
                    role: s.role.into(),
                    cells: s.cells,
                    share_pct: pct(s.cells, r.cells),
                    duties: s.duties.iter().copied().collect(),
                    does: s.does.clone(),
                })
                .collect(),
            attestation: AttestationBackingV1 {
                status: match (b.cells, b.backed) {
                    (0, _) => "not-needed",
                    (c, k) if k == c => "backed",
                    (_, 0) => "unbacked",
                    _ => "partial",
                }
                .to_string(),
                inherited_cells: b.cells,
                backed_cells: b.backed,
                by: b.by.iter().cloned().collect(),
                unbacked: b.unbacked.iter().cloned().collect(),
            },
            evidence: EvidenceStatusV1 {
                status: r.evidence.status().to_string(),
                needed: r.evidence.needed,
                missing: r.evidence.missing,
                expired: r.evidence.expired,
            },
            problems: ProblemsV1 {
                unassigned: r.unassigned,
                contested: r.contested,
                unsplit: r.unsplit,
            },
            at_risk: r
                .risks
                .iter()
                .map(|k| RiskV1 {
                    what: k.what.clone(),
                    date: k.date,
                    lapsed: k.lapsed,
                })
                .collect(),
            ready: r.ready,
            blockers: r.blockers.clone(),
            parts: r
                .parts
                .iter()
                .map(|p| PartV1 {
                    id: p.id.clone(),
                    label: p.label.clone(),
                    prose: p.prose.clone(),
                    controls: p.controls.clone(),
                    covered_by: p.covered_by.to_string(),
                })
                .collect(),
        }
    }
}

/// `demarc compliance --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceV1 {
    /// `demarc.compliance/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub framework: FrameworkRefV1,
    pub scope: ComplianceScopeV1,
    pub summary: ComplianceSummaryV1,
    pub parties: Vec<PartyReadinessV1>,
    pub requirements: Vec<RequirementV1>,
    /// Catalog mappings to requirement ids the framework does not list.
    pub unknown_mappings: Vec<UnknownMappingV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnknownMappingV1 {
    pub control: String,
    pub requirement: String,
}

/// What `--env`, `--data` and `--mine` narrowed the rollup to.
#[derive(Debug, Clone, Default)]
pub struct ScopeArgs<'a> {
    pub env: Option<&'a str>,
    pub data: Option<&'a str>,
    pub party: Option<&'a str>,
}

impl ComplianceV1 {
    /// `rollup`'s rows must already be filtered for `--mine`; the summary is the whole
    /// framework's.
    pub fn new(estate: &str, accountable: &str, rollup: &Rollup, scope: ScopeArgs) -> Self {
        ComplianceV1 {
            schema: COMPLIANCE.to_string(),
            estate: estate.to_string(),
            as_of: rollup.as_of,
            accountable: accountable.to_string(),
            framework: FrameworkRefV1 {
                id: rollup.framework.clone(),
                name: rollup.framework_name.clone(),
                edition: rollup.edition.clone(),
                source: rollup.source.clone(),
                baseline: rollup.baseline.as_ref().map(|(id, title)| BaselineRefV1 {
                    id: id.clone(),
                    title: title.clone(),
                }),
            },
            scope: ComplianceScopeV1 {
                assets: rollup.assets,
                env: scope.env.map(str::to_string),
                data: scope.data.map(str::to_string),
                party: scope.party.map(str::to_string),
            },
            summary: (&rollup.summary).into(),
            parties: rollup
                .parties
                .iter()
                .map(|p| PartyReadinessV1 {
                    party: p.label.clone(),
                    role: p.role.into(),
                    requirements: p.requirements,
                    ready: p.ready,
                    readiness_pct: pct(p.ready, p.requirements),
                    cells: p.cells,
                })
                .collect(),
            requirements: rollup.rows.iter().map(Into::into).collect(),
            unknown_mappings: rollup
                .unknown_mappings
                .iter()
                .map(|(c, r)| UnknownMappingV1 {
                    control: c.clone(),
                    requirement: r.clone(),
                })
                .collect(),
        }
    }
}

/// One framework in the cross-framework view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CrossRowV1 {
    pub framework: FrameworkRefV1,
    pub summary: ComplianceSummaryV1,
    /// Why this framework's figures differ from the others'.
    pub notes: Vec<String>,
}

/// `demarc compliance --framework all --format json`: one responsibility map projected onto
/// several frameworks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComplianceCrossV1 {
    /// `demarc.compliance-cross/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub assets: usize,
    pub frameworks: Vec<CrossRowV1>,
    /// How to read differences between frameworks.
    pub explanation: Vec<String>,
}

/// One piece of evidence on file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceEntryV1 {
    pub control: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub collected: NaiveDate,
    /// The first day it no longer counts.
    pub valid_until: NaiveDate,
    /// `current`, `expiring` (within the window) or `expired`.
    pub status: String,
    /// Who must renew it.
    pub renew_by: Vec<String>,
    pub requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `none`, `unchanged`, `changed`, `unrecorded` or `unreadable`.
    pub file_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
    /// Where it is written in the estate.
    pub at: String,
}

/// Evidence a control needs and lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceMissingV1 {
    pub control: String,
    /// Proven once for the organisation rather than per asset.
    pub organisation: bool,
    pub missing_assets: usize,
    pub expired_assets: usize,
    /// Who must provide it.
    pub provide_by: Vec<String>,
}

/// `demarc evidence --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceRegisterV1 {
    /// `demarc.evidence/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub within_days: i64,
    pub entries: Vec<EvidenceEntryV1>,
    pub missing: Vec<EvidenceMissingV1>,
    pub expiring: usize,
    pub expired: usize,
    /// Files changed since their hash was recorded, or unreadable.
    pub changed: usize,
}

impl EvidenceRegisterV1 {
    pub fn new(estate: &str, r: &demarc_compliance::evidence::Register) -> Self {
        EvidenceRegisterV1 {
            schema: EVIDENCE.to_string(),
            estate: estate.to_string(),
            as_of: r.as_of,
            within_days: r.within_days,
            entries: r
                .entries
                .iter()
                .map(|e| EvidenceEntryV1 {
                    control: e.control.clone(),
                    asset: e.asset.clone(),
                    reference: e.reference.clone(),
                    kind: e.kind.map(str::to_string),
                    collected: e.collected,
                    valid_until: e.valid_until,
                    status: e.currency.as_str().to_string(),
                    renew_by: e.renew_by.clone(),
                    requirements: e.requirements.clone(),
                    file: e.file.clone(),
                    recorded_sha256: e.recorded_sha256.clone(),
                    sha256: e.current_sha256.clone(),
                    file_status: e.file_status.as_str().to_string(),
                    file_error: e.file_error.clone(),
                    at: e.at.clone(),
                })
                .collect(),
            missing: r
                .missing
                .iter()
                .map(|m| EvidenceMissingV1 {
                    control: m.control.clone(),
                    organisation: m.organisation,
                    missing_assets: m.missing_assets,
                    expired_assets: m.expired_assets,
                    provide_by: m.provide_by.clone(),
                })
                .collect(),
            expiring: r.expiring(),
            expired: r.expired(),
            changed: r.changed(),
        }
    }
}

/// One file of an audit package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackFileV1 {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// What a reviewer finds in it.
    pub description: String,
}

/// `manifest.json` of `demarc audit-pack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditPackV1 {
    /// `demarc.audit-pack/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub demarc_version: String,
    /// The catalog's content hash and what it was composed of.
    pub catalog: String,
    pub frameworks: Vec<String>,
    pub files: Vec<PackFileV1>,
}
