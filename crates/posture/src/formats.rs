//! One finding from each format to the normalised [`Finding`].

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;

use crate::finding::{Finding, Kind, Resource, Severity, SourceFormat, Status};
use crate::finding::{epoch_day, iso_day, nist_id};
use crate::read::{ElementError, ReadError};

type S<'a> = Cow<'a, str>;

/// One element of a findings array: an OCSF finding or an ASFF finding (the two formats'
/// keys differ in case, so one struct reads either).
#[derive(Deserialize)]
struct Raw<'a> {
    // ---------------------------------------------------------------- OCSF
    class_uid: Option<u64>,
    #[serde(borrow)]
    metadata: Option<Meta<'a>>,
    #[serde(borrow)]
    severity: Option<S<'a>>,
    severity_id: Option<u64>,
    #[serde(borrow)]
    status: Option<S<'a>>,
    #[serde(borrow)]
    status_code: Option<S<'a>>,
    #[serde(borrow)]
    state: Option<S<'a>>,
    muted: Option<bool>,
    #[serde(borrow)]
    finding_info: Option<Info<'a>>,
    /// OCSF 1.0's Security Finding (class 2001) keeps the same facts under `finding`.
    #[serde(borrow)]
    finding: Option<Info<'a>>,
    #[serde(borrow, default)]
    resources: Vec<OcsfResource<'a>>,
    #[serde(borrow)]
    cloud: Option<Cloud<'a>>,
    #[serde(borrow)]
    unmapped: Option<Unmapped<'a>>,
    #[serde(borrow)]
    compliance: Option<OcsfCompliance<'a>>,
    time: Option<f64>,
    #[serde(borrow)]
    time_dt: Option<S<'a>>,
    #[serde(borrow)]
    message: Option<S<'a>>,
    // ---------------------------------------------------------------- ASFF
    #[serde(borrow, rename = "SchemaVersion")]
    schema_version: Option<S<'a>>,
    #[serde(borrow, rename = "Id")]
    asff_id: Option<S<'a>>,
    #[serde(borrow, rename = "GeneratorId")]
    generator_id: Option<S<'a>>,
    #[serde(borrow, rename = "ProductName")]
    product_name: Option<S<'a>>,
    #[serde(borrow, rename = "ProductArn")]
    product_arn: Option<S<'a>>,
    #[serde(borrow, rename = "AwsAccountId")]
    aws_account_id: Option<S<'a>>,
    #[serde(borrow, rename = "Region")]
    asff_region: Option<S<'a>>,
    #[serde(borrow, default, rename = "Types")]
    types: Vec<S<'a>>,
    #[serde(borrow, rename = "FirstObservedAt")]
    first_observed_at: Option<S<'a>>,
    #[serde(borrow, rename = "CreatedAt")]
    created_at: Option<S<'a>>,
    #[serde(borrow, rename = "Severity")]
    asff_severity: Option<AsffSeverity<'a>>,
    #[serde(borrow, rename = "Title")]
    title: Option<S<'a>>,
    #[serde(borrow, default, rename = "Resources")]
    asff_resources: Vec<AsffResource<'a>>,
    #[serde(borrow, rename = "Compliance")]
    asff_compliance: Option<AsffCompliance<'a>>,
    #[serde(borrow, rename = "Workflow")]
    workflow: Option<Workflow<'a>>,
    #[serde(borrow, rename = "RecordState")]
    record_state: Option<S<'a>>,
    #[serde(borrow, rename = "ProductFields")]
    product_fields: Option<HashMap<S<'a>, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow)]
    event_code: Option<S<'a>>,
    #[serde(borrow)]
    product: Option<Product<'a>>,
}

#[derive(Deserialize)]
struct Product<'a> {
    #[serde(borrow)]
    name: Option<S<'a>>,
}

#[derive(Deserialize)]
struct Info<'a> {
    #[serde(borrow)]
    uid: Option<S<'a>>,
    #[serde(borrow)]
    title: Option<S<'a>>,
    #[serde(borrow, default)]
    types: Vec<S<'a>>,
    first_seen_time: Option<f64>,
    #[serde(borrow)]
    first_seen_time_dt: Option<S<'a>>,
    created_time: Option<f64>,
    #[serde(borrow)]
    created_time_dt: Option<S<'a>>,
}

#[derive(Deserialize)]
struct OcsfResource<'a> {
    #[serde(borrow)]
    uid: Option<S<'a>>,
    #[serde(borrow)]
    name: Option<S<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<S<'a>>,
    #[serde(borrow)]
    region: Option<S<'a>>,
    #[serde(borrow)]
    namespace: Option<S<'a>>,
}

#[derive(Deserialize)]
struct Cloud<'a> {
    #[serde(borrow)]
    provider: Option<S<'a>>,
    #[serde(borrow)]
    region: Option<S<'a>>,
    #[serde(borrow)]
    account: Option<Account<'a>>,
    #[serde(borrow)]
    project_uid: Option<S<'a>>,
}

#[derive(Deserialize)]
struct Account<'a> {
    #[serde(borrow)]
    uid: Option<S<'a>>,
}

#[derive(Deserialize)]
struct Unmapped<'a> {
    #[serde(default)]
    compliance: NistRefs,
    #[serde(borrow, default)]
    categories: Vec<S<'a>>,
    #[serde(borrow)]
    check_id: Option<S<'a>>,
}

/// The NIST SP 800-53 ids of a Prowler `unmapped.compliance` map (framework → ids); the
/// other frameworks' lists are skipped without being built.
#[derive(Default)]
struct NistRefs(Vec<String>);

impl<'de> Deserialize<'de> for NistRefs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = NistRefs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of framework to requirement ids")
            }
            fn visit_unit<E>(self) -> Result<NistRefs, E> {
                Ok(NistRefs::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<NistRefs, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    // `NIST-800-53-Revision-5`, `nist_800_53_revision_4_aws`: digits only.
                    if k.contains("800-53") || k.contains("800_53") {
                        let ids: Vec<Cow<'de, str>> = m.next_value()?;
                        out.extend(ids.into_iter().map(Cow::into_owned));
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(NistRefs(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct OcsfCompliance<'a> {
    #[serde(borrow, default)]
    requirements: Vec<S<'a>>,
    #[serde(borrow, default)]
    standards: Vec<S<'a>>,
    #[serde(borrow)]
    control: Option<S<'a>>,
}

#[derive(Deserialize)]
struct AsffSeverity<'a> {
    #[serde(borrow, rename = "Label")]
    label: Option<S<'a>>,
    #[serde(rename = "Normalized")]
    normalized: Option<f64>,
}

#[derive(Deserialize)]
struct AsffResource<'a> {
    #[serde(borrow, rename = "Type")]
    kind: Option<S<'a>>,
    #[serde(borrow, rename = "Id")]
    id: Option<S<'a>>,
    #[serde(borrow, rename = "Region")]
    region: Option<S<'a>>,
}

#[derive(Deserialize)]
struct AsffCompliance<'a> {
    #[serde(borrow, rename = "Status")]
    status: Option<S<'a>>,
    #[serde(borrow, default, rename = "RelatedRequirements")]
    related: Vec<S<'a>>,
    #[serde(borrow, rename = "SecurityControlId")]
    control_id: Option<S<'a>>,
}

#[derive(Deserialize)]
struct Workflow<'a> {
    #[serde(borrow, rename = "Status")]
    status: Option<S<'a>>,
}

fn own(s: &Option<S<'_>>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `Software and Configuration Checks/Vulnerabilities/CVE` → its segments, lower case with
/// hyphens.
fn push_category(out: &mut Vec<String>, raw: &str) {
    for seg in raw.split('/') {
        let c: String = seg
            .trim()
            .chars()
            .map(|c| {
                if c.is_whitespace() || c == '_' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        if !c.is_empty() && !out.contains(&c) {
            out.push(c);
        }
    }
}

fn kind_of(categories: &[String]) -> Kind {
    let any = |ws: &[&str]| categories.iter().any(|c| ws.contains(&c.as_str()));
    if any(&[
        "vulnerabilities",
        "vulnerability",
        "cve",
        "software-vulnerabilities",
    ]) {
        Kind::Vulnerability
    } else if any(&[
        "ttps",
        "effects",
        "unusual-behaviors",
        "threat-detection",
        "threat",
    ]) {
        Kind::Detection
    } else {
        Kind::Misconfiguration
    }
}

/// One element of a findings array (or line of a sequence).
pub(crate) fn element(bytes: &[u8], source: u32, record: u64) -> Result<Finding, ElementError> {
    // One UTF-8 check of the whole finding (vectorised) spares serde_json checking every
    // string it reads; invalid UTF-8 goes through `from_slice` for its error and position.
    let raw: Raw = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(|e| ElementError::json(bytes, e))?;
    let bad = |m: &str| ElementError {
        offset: 0,
        message: m.to_string(),
    };
    if raw.schema_version.is_some() || raw.product_arn.is_some() || raw.asff_id.is_some() {
        return Ok(asff(raw, source, record));
    }
    match raw.class_uid {
        Some(2001..=2004) => {}
        Some(c) => {
            return Err(bad(&format!(
                "OCSF class {c} is not a finding (expected 2001 Security Finding or 2004 Detection Finding)"
            )));
        }
        None if raw.finding_info.is_some() || raw.finding.is_some() => {}
        None => {
            return Err(bad(
                "not a finding: neither OCSF (`class_uid`, `finding_info`) nor ASFF (`SchemaVersion`, `Id`)",
            ));
        }
    }
    Ok(ocsf(raw, source, record))
}

fn ocsf(raw: Raw<'_>, source: u32, record: u64) -> Finding {
    let info = raw.finding_info.as_ref().or(raw.finding.as_ref());
    let uid = info.and_then(|i| own(&i.uid));
    let unmapped = raw.unmapped.as_ref();
    // `prowler-aws-s3_bucket_public_access-123456789012-eu-west-1-…`
    let from_uid = uid.as_deref().and_then(|u| {
        let mut p = u.splitn(4, '-');
        match (p.next(), p.next(), p.next()) {
            (Some("prowler"), Some(provider), Some(check)) => Some((provider, check)),
            _ => None,
        }
    });
    let check = raw
        .metadata
        .as_ref()
        .and_then(|m| own(&m.event_code))
        .or_else(|| unmapped.and_then(|u| own(&u.check_id)))
        .or_else(|| from_uid.map(|(_, c)| c.to_string()))
        .or_else(|| info.and_then(|i| own(&i.title)))
        .unwrap_or_default();
    let provider = raw
        .cloud
        .as_ref()
        .and_then(|c| own(&c.provider))
        .or_else(|| from_uid.map(|(p, _)| p.to_string()))
        .or_else(|| {
            // Prowler's Kubernetes findings carry no `cloud`: their resources are namespaced
            // and typed `Kubernetes…`.
            raw.resources
                .first()
                .filter(|r| {
                    r.namespace.is_some()
                        || r.kind
                            .as_deref()
                            .is_some_and(|k| k.starts_with("Kubernetes"))
                })
                .map(|_| "kubernetes".to_string())
        })
        .map(|p| p.to_ascii_lowercase());
    let tool = raw
        .metadata
        .as_ref()
        .and_then(|m| m.product.as_ref())
        .and_then(|p| own(&p.name))
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_else(|| "ocsf".into());
    let severity = raw
        .severity
        .as_deref()
        .and_then(Severity::from_word)
        .or(raw.severity_id.map(Severity::from_ocsf_id))
        .unwrap_or_default();
    let is = |s: &Option<S<'_>>, w: &str| {
        s.as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(w))
    };
    let code =
        |w: &str| is(&raw.status_code, w) || (raw.status_code.is_none() && is(&raw.status, w));
    let status =
        if raw.muted == Some(true) || is(&raw.status, "suppressed") || is(&raw.state, "suppressed")
        {
            Status::Suppressed
        } else if is(&raw.status, "resolved") || is(&raw.state, "resolved") {
            Status::Resolved
        } else if code("pass") {
            Status::Passed
        } else if code("manual") {
            Status::Manual
        } else {
            Status::Open
        };
    let res = raw.resources.first();
    let resource = Resource {
        uid: res.and_then(|r| own(&r.uid)),
        name: res.and_then(|r| own(&r.name)),
        kind: res.and_then(|r| own(&r.kind)),
        region: res
            .and_then(|r| own(&r.region))
            .or_else(|| raw.cloud.as_ref().and_then(|c| own(&c.region))),
        account: raw
            .cloud
            .as_ref()
            .and_then(|c| {
                c.account
                    .as_ref()
                    .and_then(|a| own(&a.uid))
                    .or_else(|| own(&c.project_uid))
            })
            .or_else(|| res.and_then(|r| own(&r.namespace))),
    };
    let mut nist = Vec::new();
    if let Some(u) = unmapped {
        nist.extend(u.compliance.0.iter().filter_map(|id| nist_id(id)));
    }
    if let Some(c) = &raw.compliance
        && c.standards
            .iter()
            .any(|s| s.to_ascii_lowercase().contains("800-53"))
    {
        for id in c.requirements.iter().chain(c.control.as_ref()) {
            if let Some(n) = nist_id(id) {
                nist.push(n);
            }
        }
    }
    nist.sort();
    nist.dedup();
    let mut categories = Vec::new();
    for c in unmapped.iter().flat_map(|u| &u.categories) {
        push_category(&mut categories, c);
    }
    let kind = kind_of(&categories);
    let first_seen = info
        .and_then(|i| {
            i.first_seen_time_dt
                .as_deref()
                .and_then(iso_day)
                .or_else(|| i.first_seen_time.and_then(|t| epoch_day(t as i64)))
                .or_else(|| i.created_time_dt.as_deref().and_then(iso_day))
                .or_else(|| i.created_time.and_then(|t| epoch_day(t as i64)))
        })
        .or_else(|| raw.time_dt.as_deref().and_then(iso_day))
        .or_else(|| raw.time.and_then(|t| epoch_day(t as i64)));
    let title = info
        .and_then(|i| own(&i.title))
        .or_else(|| own(&raw.message))
        .unwrap_or_else(|| check.clone());
    let _ = info.map(|i| &i.types);
    Finding {
        id: uid.unwrap_or_else(|| format!("{check}#{record}")),
        format: SourceFormat::Ocsf,
        tool,
        check,
        title,
        severity,
        status,
        kind,
        provider,
        resource,
        first_seen,
        seen_by_ingest: false,
        nist,
        categories,
        location: None,
        control: None,
        source,
        record,
    }
}

fn asff(raw: Raw<'_>, source: u32, record: u64) -> Finding {
    let generator = own(&raw.generator_id).unwrap_or_default();
    let compliance = raw.asff_compliance.as_ref();
    let product = own(&raw.product_name).or_else(|| {
        raw.product_arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .map(str::to_string)
    });
    let prowler = generator.starts_with("prowler-")
        || product
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("prowler"));
    // Prowler's check id, Security Hub's control id, else the finding type (GuardDuty's
    // `Backdoor:EC2-C&CActivity.B!DNS`) or the CVE an Inspector finding is titled with.
    let title = own(&raw.title);
    let cve = title
        .as_deref()
        .and_then(|t| t.split_whitespace().next())
        .filter(|w| w.starts_with("CVE-") || w.starts_with("GHSA-"))
        .map(str::to_string);
    let from_type = raw
        .types
        .first()
        .filter(|t| {
            ["TTPs", "Effects", "Unusual Behaviors"]
                .iter()
                .any(|p| t.starts_with(p))
        })
        .and_then(|t| t.rsplit('/').next())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let check = if let Some(c) = generator.strip_prefix("prowler-") {
        c.to_string()
    } else if let Some(c) = compliance.and_then(|c| own(&c.control_id)) {
        c
    } else if let Some(c) = cve.or(from_type) {
        c
    } else {
        generator.clone()
    };
    let tool = if prowler {
        "prowler".to_string()
    } else {
        product
            .map(|p| p.to_ascii_lowercase())
            .unwrap_or_else(|| "securityhub".into())
    };
    let severity = raw
        .asff_severity
        .as_ref()
        .and_then(|s| {
            s.label
                .as_deref()
                .and_then(Severity::from_word)
                .or(s.normalized.map(|n| Severity::from_score(n / 10.0)))
        })
        .unwrap_or_default();
    let up = |s: &Option<S<'_>>| s.as_deref().map(|s| s.trim().to_ascii_uppercase());
    let status = match (
        up(&raw.workflow.as_ref().and_then(|w| w.status.clone())).as_deref(),
        up(&raw.record_state).as_deref(),
        up(&compliance.and_then(|c| c.status.clone())).as_deref(),
    ) {
        (Some("SUPPRESSED"), _, _) => Status::Suppressed,
        (Some("RESOLVED"), _, _) | (_, Some("ARCHIVED"), _) => Status::Resolved,
        (_, _, Some("PASSED")) => Status::Passed,
        (_, _, Some("NOT_AVAILABLE")) => Status::Manual,
        _ => Status::Open,
    };
    let res = raw.asff_resources.first();
    let resource = Resource {
        uid: res.and_then(|r| own(&r.id)),
        name: res
            .and_then(|r| r.id.as_deref())
            .and_then(|id| id.rsplit(['/', ':']).next())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        kind: res.and_then(|r| own(&r.kind)),
        region: res
            .and_then(|r| own(&r.region))
            .or_else(|| own(&raw.asff_region)),
        account: own(&raw.aws_account_id),
    };
    let mut nist: Vec<String> = compliance
        .map(|c| {
            c.related
                .iter()
                .filter(|r| r.contains("800-53"))
                .filter_map(|r| nist_id(r))
                .collect()
        })
        .unwrap_or_default();
    nist.sort();
    nist.dedup();
    let mut categories = Vec::new();
    for t in &raw.types {
        push_category(&mut categories, t);
    }
    if let Some(pf) = &raw.product_fields
        && let Some(serde_json::Value::String(c)) = pf.get("Categories")
    {
        for s in c.split(',') {
            push_category(&mut categories, s);
        }
    }
    let kind = kind_of(&categories);
    let first_seen = raw
        .first_observed_at
        .as_deref()
        .and_then(iso_day)
        .or_else(|| raw.created_at.as_deref().and_then(iso_day));
    let provider = if prowler || raw.aws_account_id.is_some() {
        Some("aws".to_string())
    } else {
        None
    };
    Finding {
        id: own(&raw.asff_id).unwrap_or_else(|| format!("{check}#{record}")),
        format: SourceFormat::Asff,
        tool,
        title: title.unwrap_or_else(|| check.clone()),
        check,
        severity,
        status,
        kind,
        provider,
        resource,
        first_seen,
        seen_by_ingest: false,
        nist,
        categories,
        location: None,
        control: None,
        source,
        record,
    }
}

// -------------------------------------------------------------------------------- SARIF

#[derive(Deserialize)]
struct Sarif {
    version: Option<String>,
    #[serde(default)]
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    tool: Tool,
    #[serde(default)]
    results: Vec<SResult>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
struct Driver {
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: Option<String>,
    short_description: Option<Text>,
    default_configuration: Option<Config>,
    #[serde(default)]
    properties: Props,
}

#[derive(Deserialize)]
struct Text {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Config {
    level: Option<String>,
}

#[derive(Deserialize, Default)]
struct Props {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    level: Option<String>,
    kind: Option<String>,
    message: Option<Text>,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    partial_fingerprints: HashMap<String, String>,
    #[serde(default)]
    fingerprints: HashMap<String, String>,
    #[serde(default)]
    suppressions: Vec<serde_json::Value>,
    #[serde(default)]
    properties: Option<Props>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<Physical>,
    #[serde(default)]
    logical_locations: Vec<Logical>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Option<Artifact>,
    region: Option<Region>,
}

#[derive(Deserialize)]
struct Artifact {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Logical {
    fully_qualified_name: Option<String>,
    name: Option<String>,
}

fn score(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A whole SARIF 2.1.0 document: one finding per result.
pub(crate) fn sarif(bytes: &[u8], source: u32) -> Result<Vec<Finding>, ReadError> {
    let doc: Sarif = serde_json::from_slice(bytes).map_err(|e| {
        let err = ElementError::json(bytes, e);
        ReadError {
            offset: Some(err.offset as u64),
            record: None,
            message: format!("not valid SARIF: {}", err.message),
        }
    })?;
    if let Some(v) = &doc.version
        && !v.starts_with("2.1")
    {
        return Err(ReadError {
            offset: None,
            record: None,
            message: format!("SARIF version {v} is not supported: expected 2.1.0"),
        });
    }
    let mut out = Vec::new();
    let mut record = 0u64;
    for run in &doc.runs {
        let tool = run.tool.driver.name.trim().to_ascii_lowercase();
        let rules: HashMap<&str, &Rule> = run
            .tool
            .driver
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r))
            .collect();
        let no_rule = Rule::default();
        for r in &run.results {
            record += 1;
            if r.kind
                .as_deref()
                .is_some_and(|k| k == "pass" || k == "notApplicable")
            {
                continue;
            }
            let rule = r
                .rule_index
                .and_then(|i| run.tool.driver.rules.get(i))
                .filter(|x| r.rule_id.as_deref().is_none_or(|id| id == x.id))
                .or_else(|| r.rule_id.as_deref().and_then(|id| rules.get(id).copied()))
                .unwrap_or(&no_rule);
            let check = r.rule_id.clone().unwrap_or_else(|| rule.id.clone());
            let props = r.properties.as_ref();
            let sev_score = props
                .and_then(|p| p.security_severity.as_ref())
                .or(rule.properties.security_severity.as_ref())
                .and_then(score);
            let level = r.level.as_deref().or(rule
                .default_configuration
                .as_ref()
                .and_then(|c| c.level.as_deref()));
            let tag_sev = rule.properties.tags.iter().find_map(|t| {
                Severity::from_word(t).filter(|_| t.chars().all(|c| c.is_ascii_uppercase()))
            });
            let severity = sev_score
                .map(Severity::from_score)
                .or(tag_sev)
                .or_else(|| level.and_then(Severity::from_word))
                .unwrap_or(Severity::Medium);
            let mut categories = Vec::new();
            for t in rule
                .properties
                .tags
                .iter()
                .chain(props.into_iter().flat_map(|p| &p.tags))
            {
                if Severity::from_word(t).is_none() && t != "security" {
                    push_category(&mut categories, t);
                }
            }
            if check.starts_with("CVE-") || check.starts_with("GHSA-") {
                push_category(&mut categories, "vulnerability");
            }
            if check.starts_with("CKV") {
                push_category(&mut categories, "iac");
            }
            let kind = kind_of(&categories);
            let loc = r.locations.first();
            let uri = loc
                .and_then(|l| l.physical_location.as_ref())
                .and_then(|p| p.artifact_location.as_ref())
                .and_then(|a| a.uri.clone());
            let line = loc
                .and_then(|l| l.physical_location.as_ref())
                .and_then(|p| p.region.as_ref())
                .and_then(|r| r.start_line);
            let logical = loc
                .and_then(|l| l.logical_locations.first())
                .and_then(|l| l.fully_qualified_name.clone().or_else(|| l.name.clone()));
            let location = uri.as_ref().map(|u| match line {
                Some(n) => format!("{u}:{n}"),
                None => u.clone(),
            });
            let message = r.message.as_ref().and_then(|m| m.text.clone());
            let title = rule
                .short_description
                .as_ref()
                .and_then(|t| t.text.clone())
                .or_else(|| rule.name.clone())
                .or_else(|| {
                    message
                        .as_ref()
                        .map(|m| m.lines().next().unwrap_or("").to_string())
                })
                .unwrap_or_else(|| check.clone());
            let id = r
                .partial_fingerprints
                .values()
                .chain(r.fingerprints.values())
                .min()
                .cloned()
                .unwrap_or_else(|| {
                    format!(
                        "{tool}:{check}@{}{}",
                        logical.as_deref().or(uri.as_deref()).unwrap_or(""),
                        line.map(|l| format!(":{l}")).unwrap_or_default()
                    )
                });
            out.push(Finding {
                id,
                format: SourceFormat::Sarif,
                tool: tool.clone(),
                check,
                title,
                severity,
                status: if r.suppressions.is_empty() {
                    Status::Open
                } else {
                    Status::Suppressed
                },
                kind,
                provider: None,
                resource: Resource {
                    uid: logical.clone().or_else(|| uri.clone()),
                    name: None,
                    kind: None,
                    region: None,
                    account: None,
                },
                first_seen: None,
                seen_by_ingest: false,
                nist: Vec::new(),
                categories,
                location,
                control: None,
                source,
                record,
            });
        }
    }
    Ok(out)
}
