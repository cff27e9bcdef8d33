//! The normalised finding: what every reader produces and what a snapshot stores.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How bad a finding is, in the five levels every tool maps onto.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// A tool's word for it, case-insensitively: `Critical`, `HIGH`, `informational`, `fatal`.
    pub fn from_word(s: &str) -> Option<Severity> {
        let s = s.trim();
        let eq = |w: &str| s.eq_ignore_ascii_case(w);
        Some(if eq("critical") || eq("fatal") {
            Severity::Critical
        } else if eq("high") || eq("error") {
            Severity::High
        } else if eq("medium") || eq("moderate") || eq("warning") {
            Severity::Medium
        } else if eq("low") || eq("note") {
            Severity::Low
        } else if eq("info") || eq("informational") || eq("none") || eq("unknown") {
            Severity::Info
        } else {
            return None;
        })
    }
    /// OCSF `severity_id`: 1 informational … 5 critical, 6 fatal.
    pub fn from_ocsf_id(id: u64) -> Severity {
        match id {
            2 => Severity::Low,
            3 => Severity::Medium,
            4 => Severity::High,
            5 | 6 => Severity::Critical,
            _ => Severity::Info,
        }
    }
    /// A CVSS-style score (SARIF `security-severity`).
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

/// Where a finding stands. Only `open` findings are someone's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The check failed (Prowler `FAIL`, ASFF `FAILED`/`WARNING`, a SARIF result).
    Open,
    /// The check passed (Prowler `PASS`, ASFF `PASSED`): kept for counts, nobody's work.
    Passed,
    /// Needs a person to look (Prowler `MANUAL`, ASFF `NOT_AVAILABLE`).
    Manual,
    /// Muted or suppressed in the tool.
    Suppressed,
    /// Resolved or archived in the tool.
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Passed => "passed",
            Status::Manual => "manual",
            Status::Suppressed => "suppressed",
            Status::Resolved => "resolved",
        }
    }
}

/// What kind of problem a finding reports; it decides the duty when the check table does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A setting is wrong: someone must `configure` it.
    #[default]
    Misconfiguration,
    /// Vulnerable software: someone must `patch` it.
    Vulnerability,
    /// Activity was detected (a threat, an anomaly): someone must `respond`.
    Detection,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Misconfiguration => "misconfiguration",
            Kind::Vulnerability => "vulnerability",
            Kind::Detection => "detection",
        }
    }
}

/// The format a finding was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// Prowler (or another tool's) OCSF 1.x JSON: classes 2001 and 2004.
    Ocsf,
    /// AWS Security Hub's AWS Security Finding Format.
    Asff,
    /// SARIF 2.1.0 (Checkov, Trivy, …).
    Sarif,
    /// demarc's own Rego policy checks over the ingested inventory (`demarc policy`).
    Rego,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Ocsf => "ocsf",
            SourceFormat::Asff => "asff",
            SourceFormat::Sarif => "sarif",
            SourceFormat::Rego => "rego",
        }
    }
}

/// The resource a finding is about, as the tool names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The tool's id: an ARN, an Azure resource id, a GCP resource name, a file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Account, subscription or project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// One finding, normalised from any of the formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The tool's id of the finding (OCSF `finding_info.uid`, ASFF `Id`, a SARIF fingerprint).
    pub id: String,
    pub format: SourceFormat,
    /// `prowler`, `checkov`, `trivy`, a Security Hub product name…
    pub tool: String,
    /// The check or rule id (`s3_bucket_public_access`, `CKV_AWS_18`, `CVE-2024-3094`).
    pub check: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(default)]
    pub kind: Kind,
    /// `aws`, `azure`, `gcp`, `kubernetes`, when the tool says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default)]
    pub resource: Resource,
    /// When the tool first saw it (else when it reported it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<NaiveDate>,
    /// True when the tool gave no first-seen time and `first_seen` is when demarc first
    /// ingested it (carried from snapshot to snapshot, see [`Finding::key`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub seen_by_ingest: bool,
    /// NIST SP 800-53 requirement ids it cites, in OSCAL form (`ac-2.1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nist: Vec<String>,
    /// The tool's categories, lower case (`encryption`, `internet-exposed`, `vulnerability`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// For code scanners: `file:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The catalog control the check itself names (demarc's Rego rules declare theirs in
    /// `metadata.control`): it decides the control before any table or fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Which input file of the snapshot it came from (index into its sources) and its
    /// position there (1-based).
    #[serde(default)]
    pub source: u32,
    #[serde(default)]
    pub record: u64,
}

impl Finding {
    /// A stable 64-bit identity (tool, check, id, resource) for carrying facts such as the
    /// first-seen date from one snapshot to the next.
    pub fn key(&self) -> u64 {
        // FNV-1a: the same on every platform and every run.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            self.tool.as_str(),
            self.check.as_str(),
            self.id.as_str(),
            self.resource.uid.as_deref().unwrap_or(""),
        ] {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

/// Normalises a NIST SP 800-53 id as tools write it (`AC-2(1)`, `ac_2_1`, `NIST.800-53.r5
/// AC-2(1)`) to its OSCAL form, or `None`.
pub(crate) fn nist_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let raw = raw
        .rsplit_once(' ')
        .filter(|(head, _)| head.to_ascii_lowercase().contains("800"))
        .map(|(_, tail)| tail)
        .unwrap_or(raw);
    // Prowler's compliance files write `ac_2_1` for AC-2(1).
    let fixed;
    let raw = if raw.contains('_') && !raw.contains('-') && !raw.contains("_smt") {
        let mut parts = raw.split('_');
        let fam = parts.next()?;
        let num = parts.next()?;
        fixed = match parts.next() {
            Some(e) if e.chars().all(|c| c.is_ascii_digit()) => format!("{fam}-{num}({e})"),
            _ => format!("{fam}-{num}"),
        };
        fixed.as_str()
    } else {
        raw
    };
    demarc_catalog::normalise_nist_800_53(raw).ok()
}

/// The day of an ISO date-time (`2025-02-14T14:27:03.913874`, `2025-02-14T14:27:03Z`).
pub(crate) fn iso_day(s: &str) -> Option<NaiveDate> {
    let d = s.trim().get(..10)?;
    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

/// The day of an epoch time in seconds or (OCSF's unit) milliseconds.
pub(crate) fn epoch_day(t: i64) -> Option<NaiveDate> {
    let secs = if t.abs() > 100_000_000_000 {
        t / 1000
    } else {
        t
    };
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nist_ids_are_read_in_every_spelling_tools_use() {
        assert_eq!(nist_id("AC-2").as_deref(), Some("ac-2"));
        assert_eq!(nist_id("ac_2_1").as_deref(), Some("ac-2.1"));
        assert_eq!(nist_id("AC-2(1)").as_deref(), Some("ac-2.1"));
        assert_eq!(
            nist_id("NIST.800-53.r5 SC-28(1)").as_deref(),
            Some("sc-28.1")
        );
        assert_eq!(nist_id("CIS 1.1"), None);
    }

    #[test]
    fn epoch_times_in_seconds_and_milliseconds_give_the_same_day() {
        assert_eq!(epoch_day(1739539623), epoch_day(1739539623000));
        assert_eq!(epoch_day(1739539623), iso_day("2025-02-14T14:27:03.913874"));
    }
}
