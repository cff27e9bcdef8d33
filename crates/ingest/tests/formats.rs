//! Every reader on a small fixture of its format, the shared real-world files, and bad input.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_ingest::{IngestOptions, IngestV1, Quiet, ResourceV1, for_each_line, ingest, sidecar};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn opts() -> IngestOptions {
    IngestOptions {
        as_of: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        stamp: "2026-11-23T101500Z".into(),
        custodian_type: None,
    }
}

fn run(files: &[PathBuf]) -> (tempfile::TempDir, Result<IngestV1, String>) {
    let dir = tempfile::tempdir().unwrap();
    let r = ingest(dir.path(), files, None, Catalog::builtin(), &opts(), &Quiet)
        .map_err(|e| e.to_string());
    (dir, r)
}

fn resources(dir: &Path) -> Vec<ResourceV1> {
    let snap = demarc_model::latest_snapshot(dir).expect("a snapshot");
    let mut out = Vec::new();
    for_each_line(&sidecar(&snap), |v| {
        out.push(serde_json::from_value(v).unwrap())
    })
    .unwrap();
    out
}

fn service_of<'a>(rs: &'a [ResourceV1], id: &str) -> Option<&'a str> {
    rs.iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .service
        .as_deref()
}

#[test]
fn terraform_state_v4_with_modules_and_index_keys() {
    let (dir, r) = run(&[fixture("tfstate.json")]);
    let s = r.unwrap();
    assert_eq!(s.assets, 2);
    let rs = resources(dir.path());
    assert_eq!(service_of(&rs, "aws_s3_bucket.logs"), Some("aws:s3"));
    assert_eq!(
        service_of(&rs, "module.db.aws_db_instance.main[0]"),
        Some("aws:rds")
    );
    let db = rs
        .iter()
        .find(|r| r.resource_type == "aws_db_instance")
        .unwrap();
    assert_eq!(db.account.as_deref(), Some("111122223333"));
    assert_eq!(db.region.as_deref(), Some("eu-west-1"));
    assert!(
        rs.iter().all(|r| r.resource_type != "aws_caller_identity"),
        "data sources are not assets"
    );
}

#[test]
fn terraform_plan_nested_child_modules_and_resource_changes() {
    let (dir, r) = run(&[fixture("tfplan.json")]);
    r.unwrap();
    let rs = resources(dir.path());
    let ids: Vec<&str> = rs.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"module.net.module.gcp.google_storage_bucket.b"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"aws_dynamodb_table.t"),
        "resource_changes are read"
    );
    assert!(
        !ids.contains(&"aws_instance.old"),
        "a deleted resource is not deployed"
    );
}

#[test]
fn aws_config_snapshot_skips_deleted_items_and_reads_select_results() {
    let (dir, r) = run(&[fixture("awsconfig.json"), fixture("select.json")]);
    let s = r.unwrap();
    assert_eq!(s.files[0].format, "aws-config");
    let rs = resources(dir.path());
    assert_eq!(rs.len(), 3);
    assert_eq!(
        service_of(&rs, "arn:aws:eks:eu-west-1:111122223333:cluster/prod"),
        Some("aws:eks")
    );
    assert_eq!(
        service_of(&rs, "arn:aws:rds:us-east-1:111122223333:db:legacy"),
        Some("aws:rds")
    );
}

#[test]
fn azure_graph_cloud_asset_kubernetes_custodian_and_csv() {
    let (dir, r) = run(&[
        fixture("arg.json"),
        fixture("cai.jsonl"),
        fixture("k8s.json"),
        fixture("custodian/resources.json"),
        fixture("assets.csv"),
    ]);
    let s = r.unwrap();
    let formats: Vec<&str> = s.files.iter().map(|f| f.format.as_str()).collect();
    assert_eq!(
        formats,
        [
            "azure-resource-graph",
            "cloud-asset-inventory",
            "kubernetes",
            "custodian",
            "csv"
        ]
    );
    let rs = resources(dir.path());
    let sa = "/subscriptions/0000-1111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acmesa";
    assert!(
        service_of(&rs, sa).is_some(),
        "ARM types match case-insensitively"
    );
    assert_eq!(
        service_of(&rs, "Deployment/shop/web"),
        Some("k8s:self-managed")
    );
    assert_eq!(service_of(&rs, "ConfigMap/shop/cfg"), None);
    assert!(
        s.unmapped.contains_key("kubernetes:ConfigMap"),
        "{:?}",
        s.unmapped
    );
    assert_eq!(service_of(&rs, "web-1"), Some("aws:ec2"));
    let alice = rs.iter().find(|r| r.format == "custodian").unwrap();
    assert_eq!(
        alice.resource_type, "aws.iam-user",
        "type from metadata.json"
    );
}

#[test]
fn unknown_format_is_a_clear_error_and_writes_nothing() {
    for f in ["unknown.json", "unknown.txt"] {
        let (dir, r) = run(&[fixture("tfstate.json"), fixture(f)]);
        let e = r.unwrap_err();
        assert!(e.contains(f), "{e}");
        assert!(
            demarc_model::snapshots(dir.path()).is_empty(),
            "nothing half-written"
        );
    }
}

#[test]
fn truncated_input_names_the_byte_offset_and_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("tfplan.json")).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let (out, r) = run(&[cut]);
    let e = r.unwrap_err();
    assert!(
        e.contains("byte offset") && e.contains("JSON path $.planned_values"),
        "{e}"
    );
    assert!(demarc_model::snapshots(out.path()).is_empty());
}

#[test]
fn first_seen_is_carried_over_between_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::builtin();
    ingest(
        dir.path(),
        &[fixture("tfstate.json")],
        None,
        cat,
        &opts(),
        &Quiet,
    )
    .unwrap();
    let mut later = opts();
    later.as_of = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    later.stamp = "2026-12-01T000000Z".into();
    ingest(
        dir.path(),
        &[fixture("tfstate.json")],
        None,
        cat,
        &later,
        &Quiet,
    )
    .unwrap();
    let snap = demarc_model::latest_snapshot(dir.path()).unwrap();
    let mut rows = Vec::new();
    for_each_line(&snap, |v| rows.push(v)).unwrap();
    assert_eq!(rows[0]["first_seen"], "2026-11-23");
    assert_eq!(rows[0]["last_seen"], "2026-12-01");
}

fn shared(sub: &str) -> Option<Vec<PathBuf>> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/inputs")
        .join(sub);
    let Ok(entries) = std::fs::read_dir(&d) else {
        eprintln!("skipped: {} is absent", d.display());
        return None;
    };
    let mut v: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    v.sort();
    Some(v)
}

#[test]
fn shared_terraform_plans_including_utf16_and_the_corrupted_one() {
    let Some(files) = shared("terraform") else {
        return;
    };
    for f in &files {
        let (dir, r) = run(std::slice::from_ref(f));
        let s = r.unwrap_or_else(|e| panic!("{e}"));
        let name = f.file_name().unwrap().to_string_lossy();
        if name.contains("terragoat") {
            assert!(s.assets >= 30, "{s:?}");
            assert!(
                resources(dir.path())
                    .iter()
                    .any(|r| r.service.as_deref() == Some("aws:s3"))
            );
        }
        if name.contains("utf16") {
            assert!(
                !resources(dir.path()).is_empty(),
                "UTF-16 with a BOM is decoded"
            );
        }
        if name.contains("corrupted") {
            // Well-formed `terraform show -json` of a state, of a provider no catalog knows.
            assert_eq!(s.assets, 0);
            assert_eq!(s.unmapped.get("terraform:test_instance"), Some(&1));
        }
        if name.contains("module_with_connected") {
            assert!(
                resources(dir.path())
                    .iter()
                    .any(|r| r.id.starts_with("module."))
            );
        }
    }
}

#[test]
fn shared_aws_config_responses() {
    let Some(files) = shared("aws-config") else {
        return;
    };
    let (dir, r) = run(&files);
    let s = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.files
            .iter()
            .all(|f| f.format == "aws-config" || f.resources == 0),
        "{s:?}"
    );
    let rs = resources(dir.path());
    assert!(rs.iter().any(|r| r.service.as_deref() == Some("aws:eks")));
}
