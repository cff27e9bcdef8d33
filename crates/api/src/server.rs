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
