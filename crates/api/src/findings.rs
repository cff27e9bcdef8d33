//! `demarc findings` and `demarc ingest findings`: findings attributed to controls, assets,
//! responsible parties and SLAs (`demarc.findings/v1`, `demarc.findings-ingest/v1`).

use chrono::NaiveDate;
use demarc_engine as engine;
use demarc_model::Duty;
use demarc_posture as posture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema id of [`FindingsV1`].
pub const FINDINGS: &str = "demarc.findings/v1";
/// The schema id of [`FindingsIngestV1`].
pub const FINDINGS_INGEST: &str = "demarc.findings-ingest/v1";

/// The resource a finding is about, as the tool names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingResourceV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// One finding with who must fix it and by when (also one NDJSON record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingV1 {
    /// The tool's id of the finding.
    pub id: String,
    pub tool: String,
    /// `ocsf`, `asff`, `sarif`, `rego` (demarc's policy checks).
    pub format: String,
    /// The check or rule id.
    pub check: String,
    pub title: String,
    /// `critical`, `high`, `medium`, `low`, `info`.
    pub severity: String,
    /// `open`, `passed`, `manual`, `suppressed`, `resolved`.
    pub status: String,
    /// `misconfiguration`, `vulnerability`, `detection`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub resource: FindingResourceV1,
    /// For code scanners: `file:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The declared asset it is about; absent for an undeclared resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// How the asset was matched: `external_id`, `id`, `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// How the control was found: `rule` (the check names it), `check-table`, `compliance`,
    /// `category`, `resource-type`, `none`.
    pub control_via: String,
    /// The duty the finding implies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty: Option<Duty>,
    /// `responsible`, `unassigned`, `provider`, `not-applicable`, `no-control`,
    /// `undeclared-asset`.
    pub route: String,
    /// Who the finding goes to: `party` or `party/team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Everyone responsible for the cell (`shieldco → nightwatch`, `aws`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible: Vec<String>,
    /// The owner's contact from the estate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The SLA that applies, e.g. `1h`, `7d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// The duty whose SLA it is (the finding's duty, or `respond`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_from: Option<Duty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<NaiveDate>,
    /// First seen + SLA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
    /// The estate rule that decided the cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The input file (index into the snapshot's sources) and the finding's position in it.
    pub source: u32,
    pub record: u64,
}

impl FindingV1 {
    pub fn new(
        at: &posture::Attributor<'_>,
        f: &posture::Finding,
        a: &posture::Attribution,
    ) -> Self {
        let res = at.resolution();
        let contact = a
            .party
            .as_deref()
            .and_then(|p| at.contact(p, a.team.as_deref()).contact);
        FindingV1 {
            id: f.id.clone(),
            tool: f.tool.clone(),
            format: f.format.as_str().to_string(),
            check: f.check.clone(),
            title: f.title.clone(),
            severity: f.severity.as_str().to_string(),
            status: f.status.as_str().to_string(),
            kind: f.kind.as_str().to_string(),
            provider: f.provider.clone(),
            resource: FindingResourceV1 {
                uid: f.resource.uid.clone(),
                name: f.resource.name.clone(),
                kind: f.resource.kind.clone(),
                region: f.resource.region.clone(),
                account: f.resource.account.clone(),
            },
            location: f.location.clone(),
            asset: a.asset.map(|x| res.asset(x).id.value.clone()),
            asset_match: a.asset_match.map(|m| m.as_str().to_string()),
            control: a.control.map(|c| res.catalog().controls[c].id.clone()),
            control_via: a.control_via.as_str().to_string(),
            duty: a.duty,
            route: a.route.as_str().to_string(),
            owner: a.owner_label(),
            responsible: a
                .cell
                .as_ref()
                .map(|c| c.responsible.iter().map(engine::Assignee::label).collect())
                .unwrap_or_default(),
            contact,
            sla: a.sla.map(|s| s.to_string()),
            sla_from: a.sla_from,
            first_seen: f.first_seen,
            due: a.due,
            overdue: a.overdue,
            days_overdue: a.overdue.then_some(a.days_overdue),
            rule: a
                .cell
                .as_ref()
                .and_then(|c| res.deciding_rule(c))
                .map(|r| r.to_string()),
            source: f.source,
            record: f.record,
        }
    }
}

/// Open findings per severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityCountsV1 {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
}

impl From<[u64; 5]> for SeverityCountsV1 {
    fn from(v: [u64; 5]) -> Self {
        SeverityCountsV1 {
            critical: v[0],
            high: v[1],
            medium: v[2],
            low: v[3],
            info: v[4],
        }
    }
}

/// Counts over all findings read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsSummaryV1 {
    pub total: u64,
    pub open: u64,
    pub passed: u64,
    pub manual: u64,
    pub suppressed: u64,
    pub resolved: u64,
    pub open_by_severity: SeverityCountsV1,
    /// Open findings past their due date.
    pub overdue: u64,
    /// Open findings with a due date.
    pub with_sla: u64,
    /// Open findings on duties only the provider holds.
    pub provider: u64,
    /// Open findings on customer duties with nobody named.
    pub unassigned: u64,
    /// Open findings whose control does not apply to the asset's service.
    pub not_applicable: u64,
    /// Open findings that map to no control.
    pub no_control: u64,
    /// Open findings on resources no declared asset matches.
    pub undeclared_asset: u64,
}

impl From<&posture::Tally> for FindingsSummaryV1 {
    fn from(t: &posture::Tally) -> Self {
        FindingsSummaryV1 {
            total: t.total,
            open: t.open,
            passed: t.passed,
            manual: t.manual,
            suppressed: t.suppressed,
            resolved: t.resolved,
            open_by_severity: t.open_by_severity.into(),
            overdue: t.overdue,
            with_sla: t.with_sla,
            provider: t.provider,
            unassigned: t.unassigned,
            not_applicable: t.not_applicable,
            no_control: t.no_control,
            undeclared_asset: t.undeclared_asset,
        }
    }
}

/// Open findings of one group (a party with its contacts and escalation path, a control, an
/// asset or a severity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingGroupV1 {
    pub key: String,
    /// The route of the group's findings (party groups).
    pub route: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Who to escalate to, in order (a provider's escalation path, from the estate's party).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<String>,
    pub open: u64,
    pub by_severity: SeverityCountsV1,
    pub overdue: u64,
    pub with_sla: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_due: Option<NaiveDate>,
    pub most_days_overdue: i64,
}

impl FindingGroupV1 {
    pub fn new(at: &posture::Attributor<'_>, by: posture::GroupBy, g: &posture::Group) -> Self {
        let c = (by == posture::GroupBy::Party)
            .then(|| g.party.as_deref().map(|p| at.contact(p, g.team.as_deref())))
            .flatten();
        FindingGroupV1 {
            key: g.key.clone(),
            route: g.route.as_str().to_string(),
            party: g.party.clone().filter(|_| by == posture::GroupBy::Party),
            team: g.team.clone().filter(|_| by == posture::GroupBy::Party),
            name: c.as_ref().map(|c| c.name.clone()),
            contact: c.as_ref().and_then(|c| c.contact.clone()),
            phone: c.as_ref().and_then(|c| c.phone.clone()),
            escalation: c.map(|c| c.escalation).unwrap_or_default(),
            open: g.tally.open,
            by_severity: g.tally.open_by_severity.into(),
            overdue: g.tally.overdue,
            with_sla: g.tally.with_sla,
            earliest_due: g.earliest_due,
            most_days_overdue: g.most_days_overdue,
        }
    }
}

/// One input file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsSourceV1 {
    pub path: String,
    /// `ocsf`, `asff`, `sarif`, `rego`; absent for a file with no findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    pub findings: u64,
    pub bytes: u64,
}

impl From<&posture::snapshot::SourceInfo> for FindingsSourceV1 {
    fn from(s: &posture::snapshot::SourceInfo) -> Self {
        FindingsSourceV1 {
            path: s.path.clone(),
            format: s.format.map(|f| f.as_str().to_string()),
            findings: s.findings,
            bytes: s.bytes,
        }
    }
}

/// The snapshot a report was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsSnapshotV1 {
    pub date: NaiveDate,
    pub file: String,
    pub sources: Vec<FindingsSourceV1>,
}

/// `demarc findings --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsV1 {
    /// `demarc.findings/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub snapshot: FindingsSnapshotV1,
    /// What `groups` are grouped by: `party`, `control`, `asset`, `severity`.
    pub by: String,
    pub summary: FindingsSummaryV1,
    pub groups: Vec<FindingGroupV1>,
    pub findings: Vec<FindingV1>,
}

/// [`FindingsV1`] with any serializable list of findings, so 1.5M findings stream.
#[derive(Serialize)]
pub struct FindingsStream<F> {
    pub schema: &'static str,
    pub estate: String,
    pub as_of: NaiveDate,
    pub accountable: String,
    pub snapshot: FindingsSnapshotV1,
    pub by: String,
    pub summary: FindingsSummaryV1,
    pub groups: Vec<FindingGroupV1>,
    pub findings: F,
}

/// `demarc ingest findings --format json`: what was stored and how it is attributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingsIngestV1 {
    /// `demarc.findings-ingest/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub snapshot: FindingsSnapshotV1,
    pub by: String,
    pub summary: FindingsSummaryV1,
    pub groups: Vec<FindingGroupV1>,
}

/// The groups of a summary, most urgent first.
pub fn groups_of(at: &posture::Attributor<'_>, s: &posture::Summary) -> Vec<FindingGroupV1> {
    s.ordered()
        .into_iter()
        .map(|g| FindingGroupV1::new(at, s.by, g))
        .collect()
}
