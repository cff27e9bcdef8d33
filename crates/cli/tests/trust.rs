//! What a demanding user expects of the command line: dates that cannot be misread, errors
//! instead of empty answers, failed writes that are reported, files that are never clobbered,
//! completions, a man page, and colour and quiet switches.

use std::path::Path;
use std::process::Command;

fn acme() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/acme").to_string()
}

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn as_of_takes_only_four_digit_year_dates_or_today() {
    let e = acme();
    for bad in [
        "26-11-23",
        "+2026-11-23",
        "0000-01-01",
        "2026-1-5",
        "2026/11/23",
    ] {
        let (code, _, err) = demarc(&["check", &e, "--as-of", bad]);
        assert_eq!(code, 2, "{bad} accepted");
        assert!(err.contains("is not"), "{bad}: {err}");
    }
    let (code, _, err) = demarc(&["check", &e, "--as-of", "2026-13-45"]);
    assert_eq!(code, 2);
    assert!(err.contains("month 13"), "{err}");
    let (code, _, err) = demarc(&["check", &e, "--as-of", "2026-02-30"]);
    assert_eq!(code, 2);
    assert!(err.contains("no day 30"), "{err}");
    let (code, _, _) = demarc(&["check", &e, "--as-of", "today", "--fail-on", "never"]);
    assert_eq!(code, 0);
}

#[test]
fn an_as_of_before_every_estate_date_is_warned_about_unless_quiet() {
    let e = acme();
    let (_, _, err) = demarc(&["check", &e, "--as-of", "1999-01-01", "-f", "csv"]);
    assert!(err.contains("before every date in the estate"), "{err}");
    let (_, _, err) = demarc(&["check", &e, "--as-of", "1999-01-01", "-f", "csv", "-q"]);
    assert!(err.is_empty(), "{err}");
    let (_, _, err) = demarc(&["check", &e, "--as-of", "2026-11-23", "-f", "csv"]);
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn who_and_matrix_refuse_a_duty_the_control_does_not_have_like_explain() {
    let e = acme();
    for args in [
        vec!["explain", "app-server-01", "waf", "patch", "-e", &e],
        vec![
            "who",
            "patches",
            "app-server-01",
            "--control",
            "waf",
            "-e",
            &e,
        ],
        vec!["matrix", &e, "--control", "waf", "--duty", "patch"],
    ] {
        let (code, out, err) = demarc(&[args.as_slice(), &["--as-of", "2026-11-23"]].concat());
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.contains("control `waf` has no `patch` duty"),
            "{args:?}: {err}"
        );
        assert!(err.contains("configure, monitor, respond"), "{err}");
    }
}

#[test]
fn a_failed_write_of_the_output_is_an_error_not_a_silent_success() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["check", &acme(), "--as-of", "2026-11-23", "-f", "json"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the output"));
}

#[test]
fn html_report_never_replaces_a_symlink_or_device() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    let link = dir.path().join("report.html");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, _, err) = demarc(&[
        "check",
        &acme(),
        "--as-of",
        "2026-11-23",
        "--html",
        link.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A regular file is replaced whole, and no temporary file is left behind.
    let page = dir.path().join("ok.html");
    std::fs::write(&page, "old").unwrap();
    let (code, _, _) = demarc(&[
        "check",
        &acme(),
        "--as-of",
        "2026-11-23",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn completions_man_page_and_exit_codes_in_help() {
    let (code, out, _) = demarc(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("_demarc()") && out.contains("check"), "{out}");
    let (code, out, _) = demarc(&["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(out.contains("#compdef demarc"));
    let (code, out, _) = demarc(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH demarc 1"), "{out}");
    let (_, out, _) = demarc(&["--help"]);
    assert!(
        out.contains("Exit codes:") && out.contains("2  usage or input error"),
        "{out}"
    );
}

#[test]
fn color_always_and_never_override_the_terminal_check() {
    let e = acme();
    let (_, out, _) = demarc(&["check", &e, "--as-of", "2026-11-23", "--color", "always"]);
    assert!(
        out.contains("\u{1b}["),
        "no ANSI colour with --color always"
    );
    let (_, out, _) = demarc(&["check", &e, "--as-of", "2026-11-23", "--color", "never"]);
    assert!(!out.contains("\u{1b}["));
    // Piped output has no colour by default.
    let (_, out, _) = demarc(&["check", &e, "--as-of", "2026-11-23"]);
    assert!(!out.contains("\u{1b}["));
}

#[test]
fn triage_without_a_control_is_the_incident_call_sheet() {
    let e = acme();
    let (code, out, err) = demarc(&[
        "triage",
        "payment-gateway",
        "-e",
        &e,
        "--as-of",
        "2026-11-23",
        "-f",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "demarc.callsheet/v1");
    let calls = v["calls"].as_array().unwrap();
    let parties: Vec<&str> = calls.iter().map(|c| c["party"].as_str().unwrap()).collect();
    // The MSSP that responds comes first, with the SLA its own clause sets; the SaaS vendor and
    // the IaaS it runs on are engaged next; the accountable customer is always last.
    assert_eq!(parties.first(), Some(&"shieldco"), "{parties:?}");
    assert_eq!(calls[0]["reason"], "responds");
    assert_eq!(calls[0]["sla"], "1h");
    assert!(
        calls[0]["sla_set_by"]
            .as_str()
            .unwrap()
            .starts_with("contract shieldco-msa")
    );
    assert_eq!(parties.last(), Some(&"acme"));
    assert_eq!(calls.last().unwrap()["reason"], "accountable");
    let payflow = calls.iter().find(|c| c["party"] == "payflow").unwrap();
    assert_eq!(payflow["attestation_lapsed"][0]["framework"], "soc2");
    let aws = calls.iter().find(|c| c["party"] == "aws").unwrap();
    assert_eq!(aws["on_behalf_of"], "payflow");

    let (code, text, _) = demarc(&[
        "triage",
        "payment-gateway",
        "-e",
        &e,
        "--as-of",
        "2026-11-23",
    ]);
    assert_eq!(code, 0);
    assert!(
        text.contains("must respond within 1h (contract shieldco-msa"),
        "{text}"
    );
    assert!(text.contains("payflow's soc2 attestation lapsed"), "{text}");
    let (code, _, err) = demarc(&["triage", "payment-gateway", "--duty", "respond", "-e", &e]);
    assert_eq!(code, 2);
    assert!(err.contains("--duty needs --control"), "{err}");
}
