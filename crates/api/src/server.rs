//! The server's own JSON types (`/api/v1`): organizations, estates, versions, uploads, pages
//! of results, errors, the audit log and version diffs. The estate answers themselves (cells,
//! gaps, compliance, …) are the same types the CLI prints.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::v1::CellV1;

/// An organization: an MSSP workspace or a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgV1 {
    pub slug: String,
    pub name: String,
    pub created_at: String,
    /// The caller's organization-wide role, if it has one (`admin`, `editor`, `auditor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// An estate: one client environment, a sequence of immutable versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EstateV1 {
    pub org: String,
    pub slug: String,
    pub name: String,
    /// The newest version; 0 before the first upload.
    pub head: i64,
    pub created_at: String,
    /// The caller's role on this estate.
    pub role: String,
}

/// One immutable version of an estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionV1 {
    pub number: i64,
    pub author: String,
    pub created_at: String,
    pub message: String,
    /// What made it: `upload`, `push`, `assign`, `accept`, `evidence`, `sign-off`,
    /// `end-contract`, `ingest-inventory`, `ingest-findings`, `demo`.
    pub kind: String,
    /// SHA-256 over the version's paths and file hashes.
    pub digest: String,
}

/// A file's content in an upload or download: text as is, anything else base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FileV1 {
    Text(String),
    Binary { base64: String },
}

/// `POST …/versions`: a whole estate as a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadV1 {
    /// The version this one was made from (the head the client last saw; 0 for the first).
    /// A stale base is refused with 409.
    pub base: i64,
    pub message: String,
    /// Every file of the estate by relative path.
    pub files: BTreeMap<String, FileV1>,
}

/// `GET …/versions/{n}/files`: every file of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FilesV1 {
    pub version: i64,
    pub files: BTreeMap<String, FileV1>,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageV1<T> {
    pub page: u32,
    pub per_page: u32,
    /// Items matching the filters, over all pages.
    pub total: u64,
    pub items: Vec<T>,
}

/// `GET …/matrix`: a page of cells of one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixPageV1 {
    /// `demarc.matrix-page/v1`.
    pub schema: String,
    pub estate: String,
    pub version: i64,
    pub as_of: chrono::NaiveDate,
    pub accountable: String,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub cells: Vec<CellV1>,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorV1 {
    pub error: ErrorBodyV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBodyV1 {
    /// Stable: `unauthorized`, `forbidden`, `not_found`, `bad_request`, `conflict`, `exists`,
    /// `invalid`, `invalid_estate`, `csrf`, `too_large`, `rate_limited`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// For `invalid_estate`: each load or validation error as `file:line:column: message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEntryV1 {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estate: Option<String>,
    pub detail: serde_json::Value,
    /// SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and the canonical JSON of this entry.
    pub hash: String,
}

/// `POST /api/v1/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginV1 {
    pub email: String,
    pub password: String,
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MeV1 {
    pub email: String,
    pub name: String,
    pub superadmin: bool,
    /// The CSRF token to send as `X-CSRF-Token` with state-changing requests made with the
    /// session cookie (empty for API tokens, which need none).
    pub csrf: String,
}

/// `POST /api/v1/orgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgV1 {
    /// 1-64 lowercase letters, digits and `-`.
    pub slug: String,
    pub name: String,
}

/// `POST /api/v1/orgs/{org}/estates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEstateV1 {
    /// 1-64 lowercase letters, digits and `-`.
    pub slug: String,
    pub name: String,
}

/// A built-in drill scenario in `GET …/drills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DrillScenarioRefV1 {
    pub id: String,
    pub title: String,
    pub narrative: String,
}

/// `POST …/assignments`: name an owner for some duties, appended to `server/assignments.yaml`
/// as an `assignments:` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// One asset id (the same as `assets: [id]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Asset ids the assignment covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    /// A service id or glob (`aws:rds`, `aws:*`) whose assets it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Control ids; empty means every control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Duties (`configure`, `patch`, `monitor`, `respond`, `audit`); empty means every duty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<demarc_model::Duty>,
    /// The owner: a party key or `party/team`.
    pub to: String,
    /// Why; kept with the assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST …/acceptances`: accept a gap as a risk until a date, appended to
/// `server/acceptances.yaml` as an `accepted:` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// A gap key from `GET …/gaps` (`DM003:waf`), or a pattern with `*` (`DM010:*`).
    pub gap: String,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who signed for it; default the signed-in user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The day the acceptance ends and the gap counts again.
    pub expires: chrono::NaiveDate,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST …/evidence`: record evidence for a control, appended to `server/evidence.yaml` as an
/// `evidence:` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// The control it proves.
    pub control: String,
    /// The asset it covers; leave out for evidence that covers every asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Link to the proof.
    #[serde(rename = "ref")]
    pub reference: String,
    /// When it was collected; default today. Not in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected: Option<chrono::NaiveDate>,
    /// How long it counts (`90d`); default a year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<String>,
    /// `link`, `attestation` or `export` (`file` needs the file in the estate: upload it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Who provides and renews it: a party key or `party/team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_by: Option<String>,
    /// Requirements it supports, as `framework:id` (`soc2:CC6.1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST …/reviews`: sign off a review of the model as the signed-in auditor or admin,
/// appended to `server/reviews.yaml` as a `reviews:` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// The day of the review; default today, never in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Incident ids whose post-incident review this closes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<String>,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST …/contracts/{id}/end`: end a contract on a date (its `expires:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndContractRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// The contract's clauses stop counting on this day.
    pub date: chrono::NaiveDate,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST …/inventory` and `POST …/findings`: one exported file, ingested as the CLI's
/// `demarc ingest inventory` / `demarc ingest findings` do; the snapshot becomes part of a new
/// version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// The file's format when its name does not say it: for inventory `json` (any JSON
    /// export, detected from the content), `jsonl` or `csv`; for findings the format is
    /// always detected from the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The file's text (for findings it may be empty with `policy`).
    #[serde(default)]
    pub content: String,
    /// For findings: also run the built-in Rego policy checks over the version's latest
    /// inventory snapshot and store their results as findings of the same snapshot (the
    /// CLI's `ingest findings --policy`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub policy: bool,
    /// The file's name as the snapshot records it (`terraform.tfstate`, `prowler.ocsf.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For inventory: the Cloud Custodian resource type (`aws.s3`) of a `resources.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custodian_type: Option<String>,
    /// The version's message; generated when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What an edit made: the new version, and for ingests the CLI's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EditV1 {
    pub version: VersionV1,
    /// The files the edit added or changed, by path.
    pub changed: Vec<String>,
    /// For `POST …/inventory`: the ingest summary (`demarc ingest inventory --format json`);
    /// for `POST …/findings`: the findings summary (`demarc ingest findings --format json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
}

/// One review of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewV1 {
    pub date: chrono::NaiveDate,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<String>,
}

/// `GET …/reviews`: the estate's reviews, newest first, and whether one is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewsV1 {
    pub version: i64,
    pub as_of: chrono::NaiveDate,
    /// `settings.review_cadence` (`90d`).
    pub cadence: String,
    /// The latest review's date; none when the model was never reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<chrono::NaiveDate>,
    /// The last day the latest review still counts (last + cadence); none when never reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<chrono::NaiveDate>,
    /// True when the engine reports the review as stale (DM008).
    pub overdue: bool,
    /// The engine's review gaps: DM008 (stale, also per template), DM009 (assets added since
    /// the last review), DM019 (incidents awaiting their post-incident review).
    pub gaps: Vec<crate::v1::GapV1>,
    pub reviews: Vec<ReviewV1>,
}

/// Who does a cell's duty, on one side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CellSideV1 {
    pub ownership: crate::v1::OwnershipV1,
    /// Responsible parties as labels (`acme/dba`, `shieldco → nightwatch`).
    pub responsible: Vec<String>,
    pub unassigned: bool,
}

/// A cell whose responsibility changed between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CellChangeV1 {
    pub asset: String,
    pub control: String,
    pub duty: demarc_model::Duty,
    /// Absent when the cell did not exist in `from` (the control now applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<CellSideV1>,
    /// Absent when the cell no longer exists in `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<CellSideV1>,
}

/// A compliance requirement whose origination changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequirementChangeV1 {
    pub framework: String,
    pub requirement: String,
    pub title: String,
    /// `inherited`, `shared`, `customer`, `not-applicable`, `not-addressed`; absent when the
    /// requirement was not rolled up on that side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Whether it was ready (every blocker cleared) before and after.
    pub ready_before: bool,
    pub ready_after: bool,
}

/// `GET …/diff?from=N&to=M`: what changed in who is responsible between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffV1 {
    /// `demarc.diff/v1`.
    pub schema: String,
    pub from: i64,
    pub to: i64,
    pub as_of: chrono::NaiveDate,
    pub assets_added: Vec<String>,
    pub assets_removed: Vec<String>,
    /// Cells of assets in both versions whose ownership, responsible parties or
    /// unassigned flag changed, in asset, control, duty order; cut to `limit`.
    pub cells: Vec<CellChangeV1>,
    /// Changed cells in all, before the cut.
    pub cells_changed: usize,
    /// Gaps in `to` whose key is not in `from`.
    pub gaps_opened: Vec<crate::v1::GapV1>,
    /// Gaps in `from` whose key is not in `to`.
    pub gaps_closed: Vec<crate::v1::GapV1>,
    /// Keys of gaps in both that are accepted in `to` and were not in `from`.
    pub gaps_accepted: Vec<String>,
    /// Requirements of `settings.frameworks` whose origination or readiness changed.
    pub requirements: Vec<RequirementChangeV1>,
    /// Frameworks named in settings that the compliance library cannot roll up, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// `POST …/incidents`: record an incident against the map (appended to
/// `server/incidents.yaml`). It opens a post-incident review (DM019) until a review lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRequestV1 {
    /// The version the change was made from (or send `If-Match: "vN"`); a stale one is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// A unique id, e.g. `INC-2026-012`.
    pub id: String,
    /// The day it happened (not in the future).
    pub date: chrono::NaiveDate,
    /// The assets it hit.
    pub assets: Vec<String>,
    /// What happened.
    pub summary: String,
    /// The control whose duty failed.
    pub control: String,
    /// The duty that failed.
    pub duty: demarc_model::Duty,
    /// When it started, was detected and was responded to (`YYYY-MM-DDTHH:MM`), for the
    /// times against the SLA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded: Option<String>,
    /// What changed because of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
