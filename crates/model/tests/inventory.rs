//! Inventory files beside the policy: JSON Lines and CSV assets with their origins, merging
//! by id with declared assets, every kind of bad input, JSON estate files, files that are not
//! regular files, and bounded durations.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use demarc_model::{
    Attestation, Duration, Estate, Evidence, Interner, LoadOptions, Loc, MAX_ERRORS_PER_FILE,
    Origin, Sp, load_path, load_sources,
};

const HEAD: &str = "version: 1\nestate: inv\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n  aws: {kind: provider, name: AWS}\n";

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn load(path: &Path, inventory: &[PathBuf]) -> Result<Estate, String> {
    let options = LoadOptions {
        inventory: inventory.to_vec(),
        ..LoadOptions::default()
    };
    load_path(path, &options, &mut Interner::new()).map_err(|d| d.to_string())
}

/// `dir/estate.yaml` naming `assets.jsonl`, which holds `jsonl`.
fn with_jsonl(jsonl: impl AsRef<[u8]>) -> (tempfile::TempDir, Result<Estate, String>) {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(
        dir.path(),
        "estate.yaml",
        format!("{HEAD}inventory: [assets.jsonl]\n"),
    );
    write(dir.path(), "assets.jsonl", jsonl);
    let r = load(&estate, &[]);
    (dir, r)
}

fn with_csv(csv: impl AsRef<[u8]>) -> (tempfile::TempDir, Result<Estate, String>) {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(dir.path(), "estate.yaml", HEAD);
    let hosts = write(dir.path(), "hosts.csv", csv);
    let r = load(&estate, &[hosts]);
    (dir, r)
}

#[test]
fn jsonl_assets_load_with_their_records_as_origins() {
    let (dir, r) = with_jsonl(concat!(
        r#"{"id": "web-1", "service": "aws:ec2", "env": "prod", "data": ["pii"], "tags": {"team": "web"}, "external_id": "arn:aws:ec2:eu-west-1:111:instance/i-1", "account": "111", "region": "eu-west-1", "first_seen": "2026-01-02", "last_seen": "2026-11-20"}"#,
        "\n\n",
        r#"{"id": "db-1", "service": "aws:rds", "env": "prod", "data": ["pii", "pci"], "account": "111", "region": "eu-west-1", "description": "orders \"db\""}"#,
        "\r\n",
        r#"{"id": "fn-1", "service": "aws:lambda", "provider": "aws", "added": "2026-03-04"}"#,
        "\n",
    ));
    let e = r.unwrap();
    assert_eq!(e.assets.len(), 3);
    let web = &e.assets[0];
    assert_eq!(web.id.value, "web-1");
    assert_eq!(web.service.value, "aws:ec2");
    assert_eq!(web.data, vec!["pii"]);
    assert_eq!(web.tags.get("team"), Some("web"));
    assert_eq!(web.account.as_deref(), Some("111"));
    assert_eq!(web.region.as_deref(), Some("eu-west-1"));
    assert_eq!(web.first_seen, NaiveDate::from_ymd_opt(2026, 1, 2));
    assert_eq!(web.last_seen, NaiveDate::from_ymd_opt(2026, 11, 20));
    assert_eq!(e.assets[1].description.as_deref(), Some("orders \"db\""));
    assert_eq!(e.assets[2].added, NaiveDate::from_ymd_opt(2026, 3, 4));
    assert_eq!(e.assets[2].provider.as_ref().unwrap().value, "aws");

    // Line 2 is blank, so db-1 is on line 3, fn-1 on line 4.
    let jsonl = dir.path().join("assets.jsonl");
    assert_eq!(
        e.origin(e.assets[1].id.loc),
        Origin::Record {
            source: jsonl.clone(),
            record: 3,
            line: 3,
            address: None
        }
    );
    assert_eq!(
        e.asset_origin(web),
        Origin::Record {
            source: jsonl.clone(),
            record: 1,
            line: 1,
            address: Some("arn:aws:ec2:eu-west-1:111:instance/i-1".into())
        }
    );
    assert_eq!(
        e.cite(e.assets[2].service.loc),
        format!("{}:4 (record 4)", jsonl.display())
    );
    assert_eq!(e.sources.len(), 2);
    assert!(e.sources[1].kind.is_inventory());
    // The policy file still cites as file:line.
    assert_eq!(
        e.cite(e.customer.loc),
        format!("{}:3", dir.path().join("estate.yaml").display())
    );
}

#[test]
fn repeated_inventory_strings_are_interned_into_the_callers_interner() {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(dir.path(), "estate.yaml", HEAD);
    let mut lines = String::new();
    for i in 0..5000 {
        lines.push_str(&format!(
            "{{\"id\": \"a{i}\", \"service\": \"aws:ec2\", \"env\": \"prod\", \"tags\": {{\"team\": \"t{}\"}}, \"region\": \"eu-west-1\"}}\n",
            i % 3
        ));
    }
    let inv = write(dir.path(), "big.ndjson", lines);
    let mut interner = Interner::new();
    let e = load_path(
        &estate,
        &LoadOptions {
            inventory: vec![inv],
            ..LoadOptions::default()
        },
        &mut interner,
    )
    .unwrap();
    assert_eq!(e.assets.len(), 5000);
    // In file order, whatever thread parsed which block.
    assert!(
        e.assets
            .iter()
            .enumerate()
            .all(|(i, a)| a.id.value == format!("a{i}") && a.id.loc.line == i as u32 + 1)
    );
    // aws:ec2, prod, team, t0, t1, t2, eu-west-1
    assert_eq!(interner.len(), 7);
}

#[test]
fn csv_assets_load_with_record_numbers_and_lines() {
    let (dir, r) = with_csv(concat!(
        "id,service,env,data,tags,external_id,account,region,first_seen,description\n",
        "web-1,aws:ec2,prod,pii;pci,team=web;patch=self,arn:aws:ec2:::i-1,111,eu-west-1,2026-01-02,\n",
        "db-1,aws:rds,,,,,,,,\"two\nlines\"\n",
        "fn-1,aws:lambda,dev,,,,,,,\n",
    ));
    let e = r.unwrap();
    assert_eq!(e.assets.len(), 3);
    let web = &e.assets[0];
    assert_eq!(web.data, vec!["pii", "pci"]);
    assert_eq!(web.tags.get("patch"), Some("self"));
    assert_eq!(web.tags.get("team"), Some("web"));
    assert_eq!(web.external_id.as_deref(), Some("arn:aws:ec2:::i-1"));
    assert_eq!(web.env.as_deref(), Some("prod"));
    assert_eq!(e.assets[1].env, None, "an empty cell is not given");
    assert_eq!(e.assets[1].description.as_deref(), Some("two\nlines"));
    let hosts = dir.path().join("hosts.csv");
    // Record 3 starts on line 5: record 2 took two lines.
    assert_eq!(
        e.origin(e.assets[2].id.loc),
        Origin::Record {
            source: hosts.clone(),
            record: 3,
            line: 5,
            address: None
        }
    );
    assert_eq!(
        e.cite(e.assets[1].id.loc),
        format!("{}:3 (record 2)", hosts.display())
    );
}

#[test]
fn declared_and_discovered_assets_merge_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(
        dir.path(),
        "estate.yaml",
        format!(
            "{HEAD}inventory: [inv/assets.jsonl]\nassets:\n  - {{id: web-1, service: aws:ec2, env: prod, tags: {{team: web}}}}\n"
        ),
    );
    write(
        dir.path(),
        "inv/assets.jsonl",
        concat!(
            r#"{"id": "web-1", "service": "aws:ec2", "tags": {"patch": "self"}, "account": "111", "external_id": "i-1"}"#,
            "\n",
            r#"{"id": "new-1", "service": "aws:s3"}"#,
            "\n",
            r#"{"id": "new-1", "service": "aws:s3"}"#,
            "\n",
        ),
    );
    let e = load(&estate, &[]).unwrap();
    let ids: Vec<&str> = e.assets.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["web-1", "new-1"]);
    let web = &e.assets[0];
    assert_eq!(web.env.as_deref(), Some("prod"));
    assert_eq!(web.account.as_deref(), Some("111"));
    assert_eq!(web.external_id.as_deref(), Some("i-1"));
    assert_eq!(
        web.tags.iter().collect::<Vec<_>>(),
        [("patch", "self"), ("team", "web")]
    );
    // The merged asset keeps its declared place.
    assert!(matches!(e.origin(web.id.loc), Origin::File { line: 9, .. }));
}

#[test]
fn a_disagreement_names_the_field_and_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(
        dir.path(),
        "estate.yaml",
        format!(
            "{HEAD}inventory: [assets.jsonl]\nassets:\n  - {{id: web-1, service: aws:ec2, env: prod, tags: {{team: web}}}}\n"
        ),
    );
    write(
        dir.path(),
        "assets.jsonl",
        concat!(
            r#"{"id": "x", "service": "aws:s3"}"#,
            "\n",
            r#"{"id": "web-1", "service": "aws:ec2", "env": "dev", "tags": {"team": "data"}}"#,
            "\n",
        ),
    );
    let err = load(&estate, &[]).unwrap_err();
    let jsonl = dir.path().join("assets.jsonl").display().to_string();
    let yaml = dir.path().join("estate.yaml").display().to_string();
    assert!(err.starts_with(&format!("{jsonl}:2: error: asset `web-1` disagrees on `env`: `dev` at {jsonl}:2 (record 2) but `prod` at {yaml}:9")), "{err}");
    assert!(
        err.contains(&format!(
            "disagrees on `tags.team`: `data` at {jsonl}:2 (record 2) but `web` at {yaml}:9"
        )),
        "{err}"
    );
    assert!(err.contains("must agree on every field"), "{err}");
}

#[test]
fn the_same_id_twice_in_inventory_files_conflicts_unless_identical() {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(dir.path(), "estate.yaml", HEAD);
    let a = write(
        dir.path(),
        "a.jsonl",
        "{\"id\": \"h1\", \"service\": \"aws:ec2\", \"region\": \"eu-west-1\"}\n",
    );
    let b = write(
        dir.path(),
        "b.csv",
        "id,service,region,account\nh1,aws:ec2,eu-west-1,222\n",
    );
    let e = load(&estate, &[a.clone(), b.clone()]).unwrap();
    assert_eq!(e.assets.len(), 1);
    assert_eq!(e.assets[0].account.as_deref(), Some("222"));
    let c = write(
        dir.path(),
        "c.csv",
        "id,service,region\nh1,aws:ec2,us-east-1\n",
    );
    let err = load(&estate, &[a.clone(), c.clone()]).unwrap_err();
    assert!(
        err.contains(&format!(
            "asset `h1` disagrees on `region`: `us-east-1` at {}:2 (record 1) but `eu-west-1` at {}:1 (record 1)",
            c.display(),
            a.display()
        )),
        "{err}"
    );
}

#[test]
fn a_malformed_jsonl_line_is_located_and_the_rest_still_checked() {
    let (dir, r) = with_jsonl(concat!(
        r#"{"id": "a", "service": "aws:ec2"}"#,
        "\n",
        r#"{"id": "b", "service": "aws:ec2",, }"#,
        "\n",
        r#"{"id": "c", "servise": "aws:ec2"}"#,
        "\n",
        r#"["not", "an", "object"]"#,
        "\n",
    ));
    let err = r.unwrap_err();
    let f = dir.path().join("assets.jsonl").display().to_string();
    assert!(
        err.contains(&format!("{f}:2:34: error: key must be a string")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:3:21: error: unknown field `servise`\n  help: did you mean `service`?"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:4:1: error: this line is not a JSON object")),
        "{err}"
    );
    assert!(!err.contains(&format!("{f}:1:")), "{err}");
}

#[test]
fn a_truncated_last_line_is_reported_as_truncation() {
    let (dir, r) = with_jsonl(concat!(
        r#"{"id": "a", "service": "aws:ec2"}"#,
        "\n",
        r#"{"id": "b", "serv"#
    ));
    let err = r.unwrap_err();
    let f = dir.path().join("assets.jsonl").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{f}:2:17: error: the last line ends in the middle of a record: the file looks truncated"
        )),
        "{err}"
    );
    // A complete last line without a final line break is fine.
    let (_d, r) = with_jsonl(r#"{"id": "a", "service": "aws:ec2"}"#);
    assert_eq!(r.unwrap().assets.len(), 1);
}

#[test]
fn a_csv_row_with_the_wrong_number_of_fields_is_located() {
    let (dir, r) = with_csv("id,service,env\na,aws:ec2,prod\nb,aws:ec2\nc,aws:ec2,prod,extra\n");
    let err = r.unwrap_err();
    let f = dir.path().join("hosts.csv").display().to_string();
    assert!(
        err.contains(&format!(
            "{f}:3: error: record 2 has 2 fields; the header has 3"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:4: error: record 3 has 4 fields; the header has 3"
        )),
        "{err}"
    );
}

#[test]
fn bad_dates_name_the_field_and_place() {
    let (dir, r) = with_jsonl(concat!(
        r#"{"id": "a", "service": "aws:ec2", "first_seen": "2026-02-30"}"#,
        "\n"
    ));
    let err = r.unwrap_err();
    let f = dir.path().join("assets.jsonl").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{f}:1:35: error: `first_seen`: `2026-02-30` is not a date"
        )),
        "{err}"
    );
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let (dir, r) = with_csv("id,service,last_seen\na,aws:ec2,yesterday\n");
    let err = r.unwrap_err();
    let f = dir.path().join("hosts.csv").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{f}:2: error: record 1, column `last_seen`: `yesterday` is not a date"
        )),
        "{err}"
    );
}

#[test]
fn non_utf8_bytes_are_located() {
    let (dir, r) = with_jsonl(b"{\"id\": \"a\", \"service\": \"aws:ec2\"}\n{\"id\": \"b\xff\", \"service\": \"aws:ec2\"}\n");
    let err = r.unwrap_err();
    let f = dir.path().join("assets.jsonl").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{f}:2:10: error: not UTF-8 text (invalid byte 0xFF)"
        )),
        "{err}"
    );
    let (dir, r) = with_csv(b"id,service,env\na,aws:ec2,pr\xc3od\n");
    let err = r.unwrap_err();
    let f = dir.path().join("hosts.csv").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{f}:2: error: record 1, column `env`: not UTF-8 text"
        )),
        "{err}"
    );
}

#[test]
fn a_missing_inventory_file_is_reported_where_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let estate = write(
        dir.path(),
        "estate.yaml",
        format!("{HEAD}inventory: [gone.jsonl]\n"),
    );
    let err = load(&estate, &[]).unwrap_err();
    let yaml = dir.path().join("estate.yaml").display().to_string();
    assert!(
        err.starts_with(&format!("{yaml}:7:")),
        "the place is the estate line naming it: {err}"
    );
    assert!(err.contains("gone.jsonl"), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    // Given on the command line: the file itself, without a line.
    let gone = dir.path().join("also-gone.csv");
    let err = load(
        &write(dir.path(), "e2.yaml", HEAD),
        std::slice::from_ref(&gone),
    )
    .unwrap_err();
    assert!(
        err.starts_with(&format!("{}: error: cannot read", gone.display())),
        "{err}"
    );
    // An unknown extension is refused with the formats.
    let txt = write(dir.path(), "hosts.txt", "id\n");
    let err = load(&dir.path().join("e2.yaml"), &[txt]).unwrap_err();
    assert!(err.contains(".jsonl") && err.contains(".csv"), "{err}");
}

#[test]
fn unknown_and_missing_csv_columns_are_errors_with_suggestions() {
    let (dir, r) = with_csv("id,servce,enviroment\na,aws:ec2,prod\n");
    let err = r.unwrap_err();
    let f = dir.path().join("hosts.csv").display().to_string();
    assert!(
        err.contains(&format!("{f}:1: error: unknown column `servce`")),
        "{err}"
    );
    assert!(err.contains("did you mean `service`?"), "{err}");
    assert!(err.contains("unknown column `enviroment`"), "{err}");
    assert!(err.contains("did you mean `env`?"), "{err}");
    assert!(err.contains("the header has no `service` column"), "{err}");
}

#[test]
fn errors_are_capped_per_file_with_a_count_of_the_rest() {
    let mut text = String::new();
    for _ in 0..120 {
        text.push_str("{oops}\n");
    }
    let (_dir, r) = with_jsonl(text);
    let err = r.unwrap_err();
    assert_eq!(
        err.matches("error: key must be a string").count(),
        MAX_ERRORS_PER_FILE,
        "{err}"
    );
    assert!(
        err.contains("70 more problems in this file not shown"),
        "{err}"
    );
}

#[test]
fn json_estate_files_load_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let json = "{\n\t\"version\": 1,\n\t\"estate\": \"j\",\n\t\"customer\": \"acme\",\n\t\"parties\": {\"acme\": {\"kind\": \"customer\", \"name\": \"Acme\"}},\n\t\"assets\": [\n\t\t{\"id\": \"web\", \"service\": \"aws:ec2\", \"external_id\": \"i-1\"}\n\t]\n}\n";
    let p = write(dir.path(), "estate.json", json);
    let e = load(&p, &[]).unwrap();
    assert_eq!(e.name, "j");
    assert_eq!(e.assets[0].external_id.as_deref(), Some("i-1"));
    assert_eq!(
        e.cite(e.assets[0].service.loc),
        format!("{}:7", p.display())
    );
    let bad = write(
        dir.path(),
        "bad/estate.json",
        "{\n  \"version\": 1,\n  \"estat\": \"j\"\n}\n",
    );
    let err = load(&bad, &[]).unwrap_err();
    assert!(err.starts_with(&format!("{}:3:", bad.display())), "{err}");
    assert!(err.contains("did you mean `estate`?"), "{err}");
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "estate.yaml", HEAD);
    let fifo = dir.path().join("pipe.yaml");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {
            let err = load(dir.path(), &[]).unwrap_err();
            assert!(
                err.starts_with(&format!(
                    "{}: error: cannot read: this is a named pipe (FIFO), not a regular file",
                    fifo.display()
                )),
                "{err}"
            );
            let inv = dir.path().join("pipe.jsonl");
            std::process::Command::new("mkfifo")
                .arg(&inv)
                .status()
                .unwrap();
            std::fs::remove_file(&fifo).unwrap();
            let err = load(&dir.path().join("estate.yaml"), &[inv]).unwrap_err();
            assert!(err.contains("named pipe (FIFO)"), "{err}");
        }
        _ => eprintln!("skipped the FIFO case: mkfifo is not available"),
    }
    let zero = dir.path().join("zero.yaml");
    if std::os::unix::fs::symlink("/dev/zero", &zero).is_ok() && Path::new("/dev/zero").exists() {
        let err = load(dir.path(), &[]).unwrap_err();
        assert!(
            err.contains(&format!(
                "{}: error: cannot read: this is a device",
                zero.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn durations_are_bounded_and_never_zero_where_zero_is_meaningless() {
    let ev = |v: &str| {
        load_sources(vec![(
            "estate.yaml".into(),
            format!("{HEAD}evidence:\n  - {{control: backup, ref: r, collected: 2026-01-01, valid_for: {v}}}\n"),
        )])
        .map_err(|d| d.to_string())
    };
    let err = ev("300000y").unwrap_err();
    assert!(
        err.starts_with("estate.yaml:8:"),
        "located at the evidence: {err}"
    );
    assert!(
        err.contains("`300000y` is too long: the limit is 100y"),
        "{err}"
    );
    let err = ev("0d").unwrap_err();
    assert!(err.starts_with("estate.yaml:8:"), "{err}");
    assert!(err.contains("`0d` is no time at all"), "{err}");
    let e = ev("100y").unwrap();
    assert_eq!(
        e.evidence[0].valid_until(),
        NaiveDate::from_ymd_opt(2125, 12, 8).unwrap()
    );
    let err = load_sources(vec![(
        "estate.yaml".into(),
        format!("{HEAD}settings: {{review_cadence: 0d}}\n"),
    )])
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("estate.yaml:7:"), "{err}");
    assert!(err.contains("no time at all"), "{err}");
}

#[test]
fn date_arithmetic_saturates_instead_of_overflowing() {
    let e = Evidence {
        control: Sp::new("backup".into()),
        asset: None,
        reference: "r".into(),
        collected: NaiveDate::MAX,
        valid_for: Some(Duration::MAX),
        kind: None,
        provided_by: None,
        requirements: Vec::new(),
        file: None,
        sha256: None,
    };
    assert_eq!(e.valid_until(), NaiveDate::MAX);
    let a = Attestation {
        framework: Sp::new("soc2".into()),
        period_end: Some(NaiveDate::MAX),
        expires: None,
        reference: None,
        services: Vec::new(),
        bridge_letter: None,
    };
    assert_eq!(a.valid_until(), Some(NaiveDate::MAX));
    assert_eq!(
        demarc_model::sub_days(NaiveDate::MIN, Duration::MAX),
        NaiveDate::MIN
    );
}

#[test]
fn an_unknown_place_is_never_the_first_file() {
    let e = load_sources(vec![("estate.yaml".into(), HEAD.into())]).unwrap();
    assert_eq!(e.origin(Loc::default()), Origin::Unknown);
    assert_eq!(e.cite(Loc::default()), "(unknown place)");
    assert_eq!(e.try_place(Loc::default()), None);
    assert!(Sp::new(1).loc.is_unknown());
    // A whole-file problem shows just the path, never `file:0`.
    let err = load_sources(vec![("estate.yaml".into(), "assets: []\n".into())])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("estate.yaml: error: missing `version`"),
        "{err}"
    );
    let err = load_sources(vec![
        ("a.yaml".into(), "assets: []\n".into()),
        ("b.yaml".into(), "assets: []\n".into()),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("error: missing `version` (none of the 2 estate files sets it)"),
        "{err}"
    );
}
