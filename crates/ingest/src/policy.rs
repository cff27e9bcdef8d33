//! Configuration checks in Rego, evaluated with regorus over [`InventoryV1`].
//!
//! A rule file is a Rego (v1) module in its own package that defines
//! `metadata := {"id", "title", "control", "severity"}` (the catalog control it checks, one of
//! `info low medium high critical`) and a set `deny` of `{"resource": <resource id>,
//! "message": <text>}` objects. Built-in rules (`rules/*.rego`, embedded in the binary) can
//! use the helpers of package `demarc.lib`; a user's rules (`--rules DIR`, every `*.rego`
//! file) can too. Results are [`PolicyResultV1`]s: rule, resource, asset, control, severity
//! and message; [`findings`] turns them into findings that `demarc-posture` attributes like
//! any scanner's (to the cell's responsible party, with the contract's SLA).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use demarc_api::{InventoryV1, PolicyResultV1, PolicyRuleV1, PolicySeverityV1};
use demarc_catalog::Catalog;
use serde_json::Value;

/// The built-in rule files: `(name, text)`.
pub const BUILTIN: [(&str, &str); 11] = [
    ("lib.rego", include_str!("../rules/lib.rego")),
    (
        "public_storage.rego",
        include_str!("../rules/public_storage.rego"),
    ),
    (
        "encryption_at_rest.rego",
        include_str!("../rules/encryption_at_rest.rego"),
    ),
    (
        "storage_logging.rego",
        include_str!("../rules/storage_logging.rego"),
    ),
    ("mfa.rego", include_str!("../rules/mfa.rego")),
    (
        "access_key_age.rego",
        include_str!("../rules/access_key_age.rego"),
    ),
    (
        "key_rotation.rego",
        include_str!("../rules/key_rotation.rego"),
    ),
    (
        "management_ports.rego",
        include_str!("../rules/management_ports.rego"),
    ),
    (
        "default_credentials.rego",
        include_str!("../rules/default_credentials.rego"),
    ),
    ("backups.rego", include_str!("../rules/backups.rego")),
    (
        "audit_logging.rego",
        include_str!("../rules/audit_logging.rego"),
    ),
];

/// A loaded set of rules.
pub struct Policy {
    engine: regorus::Engine,
    /// `(package, file)` of every module that declares `metadata` and `deny`.
    modules: Vec<(String, String)>,
}

/// Which rules to load.
pub struct RuleSources {
    pub builtin: bool,
    /// A directory of the user's `.rego` files.
    pub dir: Option<PathBuf>,
}

fn rego_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read rules directory {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rego") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} holds no `.rego` file", dir.display()));
    }
    Ok(files)
}

impl Policy {
    /// Loads and compiles the rules. A syntax error is an error naming the file and line.
    pub fn load(sources: &RuleSources) -> Result<Policy, String> {
        let mut engine = regorus::Engine::new();
        let mut modules = Vec::new();
        let mut add =
            |engine: &mut regorus::Engine, file: String, text: String| -> Result<(), String> {
                let declares = text.contains("metadata") && text.contains("deny");
                let package = engine
                    .add_policy(file.clone(), text)
                    .map_err(|e| format!("{e}"))?;
                if declares {
                    modules.push((package, file));
                }
                Ok(())
            };
        if sources.builtin {
            for (name, text) in BUILTIN {
                add(&mut engine, format!("builtin:{name}"), text.to_string())?;
            }
        }
        if let Some(dir) = &sources.dir {
            for f in rego_files(dir)? {
                let text =
                    std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                add(&mut engine, f.display().to_string(), text)?;
            }
        }
        Ok(Policy { engine, modules })
    }

    /// Each rule's metadata, checked against the catalog (the control must exist).
    pub fn rules(&mut self, catalog: &Catalog) -> Result<Vec<PolicyRuleV1>, String> {
        let mut out = Vec::new();
        for (package, file) in &self.modules {
            let meta = self
                .engine
                .eval_rule(format!("{package}.metadata"))
                .map_err(|e| format!("{file}: {e}"))?;
            let meta: Value = serde_json::to_value(&meta).map_err(|e| e.to_string())?;
            let field = |k: &str| -> Result<String, String> {
                meta.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    format!(
                        "{file}: `metadata` of {package} has no `{k}` (it needs id, title, control and severity)"
                    )
                })
            };
            let control = field("control")?;
            if catalog.control(&control).is_none() {
                let hint =
                    demarc_model::suggest(&control, catalog.controls.iter().map(|c| c.id.as_str()))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                return Err(format!(
                    "{file}: rule {package} names control `{control}`, which the catalog does not have{hint}"
                ));
            }
            let severity = field("severity")?;
            let severity: PolicySeverityV1 = serde_json::from_value(Value::String(
                severity.clone(),
            ))
            .map_err(|_| {
                format!(
                    "{file}: severity `{severity}` is not one of info, low, medium, high, critical"
                )
            })?;
            out.push(PolicyRuleV1 {
                id: field("id")?,
                title: field("title")?,
                control,
                severity,
                file: file.clone(),
            });
        }
        Ok(out)
    }

    /// Evaluates every rule over `input`; results sorted by rule, then resource.
    pub fn evaluate(
        &mut self,
        input: &InventoryV1,
        rules: &[PolicyRuleV1],
    ) -> Result<Vec<PolicyResultV1>, String> {
        // One pass to JSON text and regorus's own parser: half the time of building a
        // `serde_json::Value` and converting it.
        let json = serde_json::to_string(input).map_err(|e| e.to_string())?;
        let value = regorus::Value::from_json_str(&json).map_err(|e| e.to_string())?;
        drop(json);
        self.engine.set_input(value);
        let assets: HashMap<&str, &str> = input
            .resources
            .iter()
            .map(|r| (r.id.as_str(), r.asset.as_str()))
            .collect();
        // Rule modules are independent: each thread evaluates every n-th one on its own
        // clone of the engine (the compiled modules and the input are shared, not copied).
        let jobs: Vec<(&(String, String), &PolicyRuleV1)> =
            self.modules.iter().zip(rules).collect();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8)
            .min(jobs.len().max(1));
        let engine = &self.engine;
        let assets = &assets;
        // An error carries its module's index, so the one reported is the first in load
        // order whichever thread met it.
        let run = |t: usize| -> Result<Vec<PolicyResultV1>, (usize, String)> {
            let mut engine = engine.clone();
            let mut out = Vec::new();
            for (i, ((package, file), rule)) in jobs.iter().enumerate().skip(t).step_by(threads) {
                let deny = engine
                    .eval_rule(format!("{package}.deny"))
                    .map_err(|e| (i, format!("{file}: {e}")))?;
                results_of(deny, rule, assets, &mut out).map_err(|e| (i, e))?;
            }
            Ok(out)
        };
        let parts: Vec<Result<Vec<PolicyResultV1>, (usize, String)>> = if threads == 1 {
            vec![run(0)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || run(t))).collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err((usize::MAX, "a rule evaluation thread panicked".into()))
                        })
                    })
                    .collect()
            })
        };
        let mut out = Vec::new();
        let mut first_error: Option<(usize, String)> = None;
        for p in parts {
            match p {
                Ok(r) => out.extend(r),
                Err(e) => {
                    if first_error.as_ref().is_none_or(|f| e.0 < f.0) {
                        first_error = Some(e);
                    }
                }
            }
        }
        if let Some((_, e)) = first_error {
            return Err(e);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// Appends the results of one rule's `deny` set.
fn results_of(
    deny: regorus::Value,
    rule: &PolicyRuleV1,
    assets: &HashMap<&str, &str>,
    out: &mut Vec<PolicyResultV1>,
) -> Result<(), String> {
    let deny: Value = serde_json::to_value(&deny).map_err(|e| e.to_string())?;
    let items = match deny {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    for d in items {
        let resource = d
            .get("resource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let message = d
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| rule.title.clone());
        out.push(PolicyResultV1 {
            rule: rule.id.clone(),
            asset: assets
                .get(resource.as_str())
                .copied()
                .unwrap_or(resource.as_str())
                .to_string(),
            resource,
            control: rule.control.clone(),
            severity: rule.severity,
            message,
        });
    }
    Ok(())
}

/// The tool name policy findings carry.
pub const TOOL: &str = "demarc-policy";

/// The provider word findings use (`aws`, `azure`, `gcp`, `kubernetes`) for an inventory
/// provider (`aws`, `azurerm`, `google`, `kubernetes`, …).
fn finding_provider(p: &str) -> String {
    match p {
        "azurerm" | "azuread" | "azapi" => "azure".into(),
        "google" | "google-beta" => "gcp".into(),
        other => other.into(),
    }
}

/// Policy results as findings: each names its rule's control (so attribution takes it as
/// given), its resource as the inventory recorded it (id, type, account, region) and the
/// declared asset it became, which attribution matches first by `external_id`, then by id.
/// Open misconfigurations; the first-seen date is left to the snapshot (carried from the
/// last ingest, else the as-of date).
pub fn findings(input: &InventoryV1, results: &[PolicyResultV1]) -> Vec<demarc_posture::Finding> {
    let by_id: HashMap<&str, &demarc_api::ResourceV1> =
        input.resources.iter().map(|r| (r.id.as_str(), r)).collect();
    results
        .iter()
        .map(|r| {
            let res = by_id.get(r.resource.as_str()).copied();
            let uid = res
                .and_then(|x| x.external_id.clone())
                .unwrap_or_else(|| r.resource.clone());
            demarc_posture::Finding {
                // One rule may fail one resource for several reasons (ports 22 and 3389 of a
                // security group): the message keeps them apart, and stable across runs.
                id: format!("{}:{}:{}", r.rule, r.resource, r.message),
                format: demarc_posture::SourceFormat::Rego,
                tool: TOOL.into(),
                check: r.rule.clone(),
                title: r.message.clone(),
                severity: match r.severity {
                    PolicySeverityV1::Info => demarc_posture::Severity::Info,
                    PolicySeverityV1::Low => demarc_posture::Severity::Low,
                    PolicySeverityV1::Medium => demarc_posture::Severity::Medium,
                    PolicySeverityV1::High => demarc_posture::Severity::High,
                    PolicySeverityV1::Critical => demarc_posture::Severity::Critical,
                },
                status: demarc_posture::Status::Open,
                kind: demarc_posture::Kind::Misconfiguration,
                provider: res
                    .and_then(|x| x.provider.as_deref())
                    .map(finding_provider),
                resource: demarc_posture::Resource {
                    uid: Some(uid),
                    // The asset the inventory matched it to: attribution finds it by name
                    // when the uid is not an asset's `external_id`.
                    name: Some(r.asset.clone()),
                    kind: res.map(|x| x.resource_type.clone()),
                    region: res.and_then(|x| x.region.clone()),
                    account: res.and_then(|x| x.account.clone()),
                },
                first_seen: None,
                seen_by_ingest: false,
                nist: Vec::new(),
                categories: Vec::new(),
                location: None,
                control: Some(r.control.clone()),
                source: 0,
                record: 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> InventoryV1 {
        serde_json::from_value(serde_json::json!({
            "schema": "demarc.inventory/v1", "snapshot": "", "as_of": "2026-11-23",
            "resources": [
                {"asset": "logs", "id": "aws_s3_bucket.logs", "type": "aws_s3_bucket",
                 "format": "terraform", "source": "terraform-plan", "service": "aws:s3",
                 "config": {"acl": "public-read"}},
                {"asset": "db", "id": "aws_db_instance.db", "type": "aws_db_instance",
                 "format": "terraform", "source": "terraform-plan", "service": "aws:rds",
                 "config": {"storage_encrypted": false}}
            ]
        }))
        .unwrap()
    }

    fn rule(dir: &Path, name: &str, body: &str) {
        let text = format!(
            "package t.{name}\nimport rego.v1\nmetadata := {{\"id\": \"{name}\", \"title\": \"t\", \"control\": \"encryption-at-rest\", \"severity\": \"high\"}}\n{body}\n"
        );
        std::fs::write(dir.join(format!("{name}.rego")), text).unwrap();
    }

    fn load(dir: &Path) -> (Policy, Vec<PolicyRuleV1>) {
        let mut p = Policy::load(&RuleSources {
            builtin: false,
            dir: Some(dir.to_path_buf()),
        })
        .unwrap();
        let rules = p.rules(Catalog::builtin()).unwrap();
        (p, rules)
    }

    #[test]
    fn every_module_is_evaluated_whichever_thread_runs_it() {
        let dir = tempfile::tempdir().unwrap();
        for (i, ty) in ["aws_s3_bucket", "aws_db_instance", "aws_s3_bucket"]
            .iter()
            .enumerate()
        {
            rule(
                dir.path(),
                &format!("r{i}"),
                &format!(
                    "deny contains {{\"resource\": r.id, \"message\": \"m{i}\"}} if {{ some r in input.resources; r.type == \"{ty}\" }}"
                ),
            );
        }
        let (mut p, rules) = load(dir.path());
        let got: Vec<(String, String, String)> = p
            .evaluate(&inventory(), &rules)
            .unwrap()
            .into_iter()
            .map(|r| (r.rule, r.asset, r.message))
            .collect();
        let want = [
            ("r0", "logs", "m0"),
            ("r1", "db", "m1"),
            ("r2", "logs", "m2"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_error_reported_is_the_first_failing_module_in_load_order() {
        let dir = tempfile::tempdir().unwrap();
        // Two definitions of one complete rule with different values: an evaluation error.
        let conflict = "v := 1 if { true }\nv := 2 if { true }\ndeny contains {\"resource\": \"x\", \"message\": \"m\"} if { v == 1 }";
        rule(
            dir.path(),
            "a_ok",
            "deny contains {\"resource\": \"x\", \"message\": \"m\"} if { false }",
        );
        rule(dir.path(), "b_bad", conflict);
        rule(dir.path(), "c_bad", conflict);
        let (mut p, rules) = load(dir.path());
        for _ in 0..5 {
            let e = p.evaluate(&inventory(), &rules).unwrap_err();
            assert!(e.contains("b_bad.rego"), "{e}");
        }
    }
}
