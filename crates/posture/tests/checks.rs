//! The built-in check tables: every control and duty exists in the catalog, no check is
//! mapped twice, and the common Prowler checks of every provider are covered.

use demarc_catalog::Catalog;
use demarc_posture::CheckTable;

#[test]
fn every_check_maps_to_a_control_and_duty_the_catalog_has() {
    let table = CheckTable::builtin();
    let problems = table.problems(Catalog::builtin());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn no_check_is_written_twice() {
    // serde maps keep the last of two equal keys; read the files line by line.
    for (name, text) in demarc_catalog::check_tables() {
        let mut seen = std::collections::HashSet::new();
        let mut section = "";
        for line in text.lines() {
            if !line.starts_with(' ') && line.ends_with(':') {
                section = line;
                continue;
            }
            if let Some(key) = line
                .strip_prefix("  ")
                .and_then(|l| l.split_once(':'))
                .map(|(k, _)| k)
                && !key.starts_with('#')
                && !key.starts_with(' ')
            {
                assert!(seen.insert((section, key)), "{name}: `{key}` twice");
            }
        }
    }
}

#[test]
fn the_common_prowler_checks_of_every_provider_are_mapped() {
    let t = CheckTable::builtin();
    assert!(t.len() >= 450, "{} checks", t.len());
    for (check, control) in [
        ("s3_bucket_public_access", "public-access-blocking"),
        (
            "s3_bucket_server_access_logging_enabled",
            "storage-access-logging",
        ),
        ("iam_root_mfa_enabled", "mfa"),
        ("iam_user_mfa_enabled_console_access", "mfa"),
        (
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
            "security-groups",
        ),
        ("rds_instance_backup_enabled", "backup"),
        ("cloudtrail_multi_region_enabled", "audit-logging"),
        ("kms_cmk_rotation_enabled", "key-rotation"),
        (
            "storage_ensure_encryption_with_customer_managed_keys",
            "encryption-at-rest-cmk",
        ),
        (
            "compute_firewall_rdp_access_from_the_internet_allowed",
            "security-groups",
        ),
        ("apiserver_anonymous_requests", "cluster-control-plane"),
        ("CKV_AWS_18", "storage-access-logging"),
    ] {
        assert_eq!(
            t.check(check).map(|e| e.control.as_str()),
            Some(control),
            "{check}"
        );
    }
    let prefixes = |p: &[&str]| {
        t.check_ids()
            .iter()
            .filter(|c| p.iter().any(|x| c.starts_with(x)))
            .count()
    };
    assert!(
        prefixes(&[
            "defender_",
            "storage_",
            "sqlserver_",
            "keyvault_",
            "entra_",
            "network_",
            "vm_",
            "app_",
            "monitor_"
        ]) >= 60
    );
    assert!(
        prefixes(&[
            "compute_",
            "cloudsql_",
            "cloudstorage_",
            "logging_",
            "iam_sa",
            "bigquery_",
            "gke_"
        ]) >= 40
    );
    assert!(
        prefixes(&[
            "apiserver_",
            "kubelet_",
            "etcd_",
            "core_",
            "rbac_",
            "controllermanager_",
            "scheduler_"
        ]) >= 60
    );
}
