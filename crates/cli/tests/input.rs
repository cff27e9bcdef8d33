//! Issue 7: finding the estate, and input a user gets wrong, told in the user's words.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn demarc(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_demarc"));
    c.env_remove("DEMARC_ESTATE").current_dir(cwd);
    c
}

fn run(cwd: &Path, args: &[&str]) -> Run {
    let out = demarc(cwd).args(args).output().expect("run demarc");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

const ROOT: &str = "version: 1\nestate: t\ncustomer: me\nparties:\n  me: {kind: customer, name: Me}\n  aws: {kind: provider, name: AWS}\n";

fn estate(dir: &Path, assets: &str) {
    write(dir, "estate.yaml", ROOT);
    write(dir, "assets.yaml", assets);
}

fn check(cwd: &Path, args: &[&str]) -> Run {
    let mut a = vec![
        "check",
        "--as-of",
        "2026-11-23",
        "--fail-on",
        "never",
        "-f",
        "json",
    ];
    a.extend_from_slice(args);
    run(cwd, &a)
}

fn assets_of(r: &Run) -> u64 {
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    v["summary"]["assets"]
        .as_u64()
        .unwrap_or_else(|| panic!("{v}"))
}

#[test]
fn the_estate_is_found_from_a_subdirectory_and_docker_compose_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), "assets:\n  - {id: web-01, service: aws:ec2}\n");
    write(
        dir.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx\n",
    );
    write(
        dir.path(),
        ".github/workflows/ci.yml",
        "on: push\njobs: {}\n",
    );
    write(dir.path(), "x.schema.json", "{\"$schema\": \"x\"}\n");
    let sub = dir.path().join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    let r = check(&sub, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(assets_of(&r), 1);
}

#[test]
fn no_estate_anywhere_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: no estate found"), "{}", r.stderr);
    assert!(r.stderr.contains("-e PATH"), "{}", r.stderr);
    assert!(r.stderr.contains("demarc init"), "{}", r.stderr);
}

#[test]
fn a_directory_without_a_root_file_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.yaml", ROOT);
    let r = check(dir.path(), &["-e", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("error: not an estate directory: it has no `estate.yaml` or `demarc.yaml`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("rename the estate's main file to `estate.yaml`")
    );
}

#[test]
fn a_foreign_yaml_file_is_not_an_estate_file() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), "assets: []\n");
    write(dir.path(), "k8s/deploy.yaml", "apiVersion: v1\nkind: Pod\n");
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "deploy.yaml: error: not an estate file: its top-level key `apiVersion` is not an estate key"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("unknown field"), "{}", r.stderr);
    assert!(
        r.stderr.contains("rename it to start with `.`"),
        "{}",
        r.stderr
    );
}

#[test]
fn catalog_overlay_directories_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "estate.yaml",
        &format!("{ROOT}settings:\n  catalog: [overlay]\n"),
    );
    write(dir.path(), "overlay/readme.yaml", "services: {}\n");
    write(dir.path(), "assets.yaml", "assets: []\n");
    let r = check(dir.path(), &[]);
    // The overlay is read as a catalog (empty here); what matters is that it is not an estate file.
    assert!(
        r.stderr
            .contains("skipped, a catalog overlay directory named in `settings.catalog`"),
        "{}",
        r.stderr
    );
}

#[cfg(unix)]
#[test]
fn symlinked_subdirectories_are_followed_once() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    write(dir.path(), "estate.yaml", ROOT);
    write(
        other.path(),
        "more.yaml",
        "assets:\n  - {id: linked, service: aws:s3}\n",
    );
    std::os::unix::fs::symlink(other.path(), dir.path().join("linked")).unwrap();
    // A loop back to the estate itself is not followed twice.
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        assets_of(&r),
        1,
        "the linked directory's asset is read, once"
    );
}

#[test]
fn a_single_file_still_loads_and_init_prints_a_working_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["init", "new"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("next: demarc check new"), "{}", r.stderr);
    let r = check(dir.path(), &["new"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = check(&dir.path().join("new"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = check(dir.path(), &["new/estate.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn type_and_date_errors_are_all_reported_in_words() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "estate.yaml",
        "version: 1.5\nestate: t\ncustomer: me\nparties:\n  me: {kind: customer, name: Me}\nreviews:\n  - {date: 2026-13-45, by: me}\n  - {date: 2026-02-30, by: me}\n",
    );
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    for m in [
        "estate.yaml:1:10: error: `version` must be the integer 1, found `1.5`",
        "estate.yaml:7:12: error: `2026-13-45` is not a date: month 13 does not exist",
        "estate.yaml:8:12: error: `2026-02-30` is not a date: that month has no day 30",
    ] {
        assert!(r.stderr.contains(m), "{m}\n{}", r.stderr);
    }
    for jargon in [
        "invalid u32",
        "out of range",
        "unknown variant",
        "expected mapping start",
    ] {
        assert!(!r.stderr.contains(jargon), "{}", r.stderr);
    }
}

#[test]
fn an_unknown_duty_gets_a_suggestion_and_a_bad_type_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), "assignments:\n  - {duties: [pach], to: me}\n");
    let r = check(dir.path(), &[]);
    assert!(
        r.stderr.contains("error: unknown value `pach`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `patch`?"), "{}", r.stderr);
    estate(dir.path(), "parties: foo\n");
    let r = check(dir.path(), &[]);
    assert!(r.stderr.contains("expected a mapping"), "{}", r.stderr);
    assert!(!r.stderr.contains("mapping start"), "{}", r.stderr);
}

#[test]
fn parser_messages_are_for_users() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), "assets: []\n---\nassets: []\n");
    let r = check(dir.path(), &[]);
    assert!(r.stderr.contains("several YAML documents"), "{}", r.stderr);
    assert!(!r.stderr.contains("from_str_multiple"), "{}", r.stderr);
    estate(
        dir.path(),
        "assets:\n  - &x {id: a, service: iaas}\n  - {id: b, service: *x}\n",
    );
    let r = check(dir.path(), &[]);
    assert!(r.stderr.contains("(defined at line 2"), "{}", r.stderr);
    assert!(!r.stderr.trim_end().ends_with("(defined"), "{}", r.stderr);
    std::fs::write(dir.path().join("assets.yaml"), b"assets: []\n# caf\xe9\n").unwrap();
    let r = check(dir.path(), &[]);
    assert!(
        r.stderr.contains("assets.yaml:2:6: error: not UTF-8"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("offset"), "{}", r.stderr);
}

#[test]
fn asset_ids_services_and_lengths_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(300);
    estate(
        dir.path(),
        &format!(
            "assets:\n  - {{id: web 01, service: aws:ec2}}\n  - {{id: a/b, service: aws:ec2}}\n  - {{id: c, service: aws:ec22}}\n  - {{id: d, service: aws:quantum-thing}}\n  - {{id: {long}, service: aws:ec2}}\n"
        ),
    );
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    for m in [
        "assets.yaml:2:10: error: asset id `web 01` contains a space",
        "assets.yaml:3:10: error: asset id `a/b` contains a slash",
        "assets.yaml:4:22: error: unknown service `aws:ec22`",
        "did you mean `aws:ec2`?",
        "bytes long; the limit is 256",
    ] {
        assert!(r.stderr.contains(m), "{m}\n{}", r.stderr);
    }
    assert!(
        !r.stderr.contains("quantum"),
        "a new service is a gap, not an error: {}",
        r.stderr
    );
}

#[test]
fn performed_by_and_far_future_attestations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "estate.yaml",
        "version: 1\nestate: t\ncustomer: me\nparties:\n  me: {kind: customer, name: Me}\n  aws: {kind: provider, name: AWS, attestations: [{framework: soc2, period_end: 2206-01-01}]}\n  sec: {kind: mssp, name: Sec}\ncontracts:\n  - id: c1\n    party: sec\n    clauses:\n      - {id: a, performed_by: sec}\n      - {id: b, performed_by: me}\n",
    );
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    for m in [
        "`performed_by: sec` names the contracted party itself",
        "`performed_by: me` names the customer",
        "`period_end: 2206-01-01` is more than 10 years after the analysis date",
    ] {
        assert!(r.stderr.contains(m), "{m}\n{}", r.stderr);
    }
}

#[test]
fn many_errors_are_capped_and_unknown_parties_do_not_point_to_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("assets:\n");
    for i in 0..80 {
        text.push_str(&format!(
            "  - {{id: a{i}, service: iaas, provider: nobody{i}}}\n"
        ));
    }
    estate(dir.path(), &text);
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.matches("error: unknown party").count(),
        50,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("… and 30 more errors"), "{}", r.stderr);
    assert!(!r.stderr.contains("catalog list"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn a_fifo_given_as_the_estate_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("estate.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let r = check(dir.path(), &["-e", "estate.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a named pipe (FIFO)"), "{}", r.stderr);
    assert!(!r.stderr.contains("Not a directory"), "{}", r.stderr);
    // Found by discovery, the root file is refused the same way.
    let r = check(dir.path(), &[]);
    assert!(r.stderr.contains("a named pipe (FIFO)"), "{}", r.stderr);
}

#[test]
fn hostile_sizes_stay_fast() {
    // A 1 MB unknown name and 20,000 parties with 500 unknown providers: completes (the
    // suggestion work is bounded); nothing is measured.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("parties:\n");
    for i in 0..20_000 {
        text.push_str(&format!("  p{i:06}: {{kind: vendor, name: P}}\n"));
    }
    text.push_str("assets:\n");
    for i in 0..500 {
        text.push_str(&format!(
            "  - {{id: a{i}, service: iaas, provider: q{i:06}}}\n"
        ));
    }
    text.push_str(&format!(
        "  - {{id: z, service: iaas, provider: {}}}\n",
        "y".repeat(1 << 20)
    ));
    estate(dir.path(), &text);
    let r = check(dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("error: unknown party"),
        "{}",
        &r.stderr[..500.min(r.stderr.len())]
    );
    assert!(
        r.stderr.len() < 100_000,
        "a megabyte name is not printed whole"
    );
}
