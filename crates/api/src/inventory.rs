//! Ingested inventory as JSON: the Rego input document of `demarc policy` ([`InventoryV1`]),
//! the results of policy rules ([`PolicyResultV1`], usable as findings), an ingest run's
//! summary ([`IngestV1`]) and drift ([`DriftV1`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The input document policy rules see as `input`: every resource of the latest inventory
/// snapshot, mapped to a catalog service or not, with its raw configuration.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InventoryV1 {
    /// Always `demarc.inventory/v1`.
    pub schema: String,
    /// The snapshot's file name (`2026-11-23T101500Z-001.jsonl`), or empty when built in memory.
    pub snapshot: String,
    /// The date the snapshot was taken (`--as-of` of the ingest run).
    pub as_of: String,
    pub resources: Vec<ResourceV1>,
}

/// One resource found by a discovery tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceV1 {
    /// The estate asset id it became (a declared asset's id when it matched one by id or
    /// `external_id`, else the resource's own stable id).
    pub asset: String,
    /// The resource's stable id in its source: an ARN, an ARM id, a Cloud Asset name, a
    /// Terraform address, `Kind/namespace/name` for Kubernetes.
    pub id: String,
    /// The resource type as the source names it (`aws_s3_bucket`, `AWS::S3::Bucket`,
    /// `microsoft.storage/storageaccounts`, `storage.googleapis.com/Bucket`, `Deployment`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The catalog's resource-type format: `terraform`, `cloudformation`, `arm`, `cai`,
    /// `kubernetes`, `custodian`, or `demarc` for rows that already name their service.
    pub format: String,
    /// The input format it was read from: `terraform-plan`, `terraform-state`,
    /// `aws-config`, `azure-resource-graph`, `cloud-asset-inventory`, `kubernetes`,
    /// `custodian`, `csv`, `jsonl`.
    pub source: String,
    /// The catalog service the type maps to; `null` for an unmapped type.
    pub service: Option<String>,
    /// The cloud provider (`aws`, `azurerm`, `google`, `kubernetes`, …) where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The resource's raw configuration as its source wrote it: a Terraform resource's
    /// `values` (plan: `change.after`), an AWS Config item's `configuration` (with
    /// `supplementaryConfiguration`), an Azure Resource Graph row, a Cloud Asset's
    /// `resource.data`, a Kubernetes object, a Cloud Custodian resource.
    #[serde(default)]
    pub config: serde_json::Value,
}

/// How bad a failed policy rule is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PolicySeverityV1 {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// One resource that fails one rule: a finding, attributable through `control` and `asset`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct PolicyResultV1 {
    /// The rule's id (`DMP001`, or a user rule's own id).
    pub rule: String,
    /// The resource's stable id in its source ([`ResourceV1::id`]).
    pub resource: String,
    /// The estate asset it concerns ([`ResourceV1::asset`]).
    pub asset: String,
    /// The catalog control the rule checks (`encryption-at-rest`).
    pub control: String,
    pub severity: PolicySeverityV1,
    pub message: String,
}

/// A policy rule as loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyRuleV1 {
    pub id: String,
    pub title: String,
    pub control: String,
    pub severity: PolicySeverityV1,
    /// `builtin:<file>.rego` or the user's file path.
    pub file: String,
}

/// `demarc policy --format json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PolicyV1 {
    /// Always `demarc.policy/v1`.
    pub schema: String,
    pub snapshot: String,
    pub resources: usize,
    pub rules: Vec<PolicyRuleV1>,
    pub results: Vec<PolicyResultV1>,
    /// Each result attributed as a finding, in the order of `results`: the asset's cell for
    /// the rule's control, who must fix it (route, owner, SLA) and by when.
    #[serde(default)]
    pub findings: Vec<crate::FindingV1>,
}

/// One input file of an ingest run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IngestFileV1 {
    pub path: String,
    /// The format detected from the content.
    pub format: String,
    pub bytes: u64,
    pub resources: u64,
}

/// `demarc ingest inventory --format json`, also kept as the snapshot's manifest.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IngestV1 {
    /// Always `demarc.ingest/v1`.
    pub schema: String,
    /// The snapshot file written, relative to the estate directory.
    pub snapshot: String,
    pub as_of: String,
    pub files: Vec<IngestFileV1>,
    /// Resources written as assets (mapped to a catalog service).
    pub assets: u64,
    /// Resources whose type no catalog service lists, per `format:type`: kept in the
    /// snapshot's sidecar for policy checks, reported by drift (DM023), never dropped.
    pub unmapped: BTreeMap<String, u64>,
    /// Resources matched to a declared asset (by id or `external_id`).
    pub matched_declared: u64,
    /// Records seen again under an id already read (history files, a plan's two views).
    pub duplicates: u64,
    /// Records without any id (skipped), per `format:type`.
    pub without_id: BTreeMap<String, u64>,
}

/// `demarc drift --format json`: the drift gaps (DM021–DM025) between the estate and its
/// latest inventory snapshot, and between that snapshot and the one before it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DriftV1 {
    /// Always `demarc.drift/v1`.
    pub schema: String,
    /// The latest snapshot's file name.
    pub snapshot: String,
    /// The snapshot before it, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    pub gaps: Vec<crate::v1::GapV1>,
}
