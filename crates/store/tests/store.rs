//! The store on both backends: versions and their conflicts, files round-trip, the audit
//! chain and its tamper checks, logins and lockout, tokens, roles.

use demarc_store::{LOCKOUT_AFTER, LogCheck, Login, NewVersion, Role, Store, StoreError, testing};

async fn each_backend(f: impl AsyncFn(&'static str, Store)) {
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in testing::urls(dir.path()).await {
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        f(label, store).await;
    }
}

fn files(pairs: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_vec()))
        .collect()
}

#[tokio::test]
async fn versions_are_immutable_and_a_stale_base_is_refused() {
    each_backend(async |label, s| {
        let org = s.create_org("mssp", "An MSSP", "root").await.unwrap();
        let e = s
            .create_estate(&org.id, "client-a", "Client A", "root")
            .await
            .unwrap();
        let binary: &[u8] = &[0, 159, 146, 150, 255];
        let v1 = s
            .create_version(
                &e,
                0,
                NewVersion {
                    author: "ann@x.example".into(),
                    message: "first".into(),
                    kind: "upload".into(),
                    files: files(&[
                        ("estate.yaml", b"version: 1\n"),
                        ("evidence/scan.bin", binary),
                    ]),
                },
            )
            .await
            .unwrap();
        assert_eq!(v1.number, 1, "{label}");
        // A second writer that also started from version 0 loses.
        let err = s
            .create_version(
                &e,
                0,
                NewVersion {
                    author: "bob@x.example".into(),
                    message: "stale".into(),
                    kind: "upload".into(),
                    files: files(&[("estate.yaml", b"version: 1\n# bob\n")]),
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    expected: 0,
                    head: 1
                }
            ),
            "{label}: {err}"
        );
        let got = s.version_files(&e.id, 1).await.unwrap();
        assert_eq!(
            got,
            files(&[
                ("estate.yaml", b"version: 1\n"),
                ("evidence/scan.bin", binary)
            ]),
            "{label}"
        );
        // Paths that escape the estate are refused and nothing is stored.
        for bad in ["../x.yaml", "/etc/passwd", "a//b.yaml", "a\\b.yaml", ""] {
            let err = s
                .create_version(
                    &e,
                    1,
                    NewVersion {
                        author: "a".into(),
                        message: "m".into(),
                        kind: "upload".into(),
                        files: files(&[(bad, b"x")]),
                    },
                )
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid(_)),
                "{label}: {bad}: {err}"
            );
        }
        let head = s.estate(&org.id, "client-a").await.unwrap().unwrap().head;
        assert_eq!(head, 1, "{label}");
        assert_eq!(s.versions(&e.id, 10, 0).await.unwrap().len(), 1, "{label}");
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_get_one_version_each_or_a_conflict() {
    each_backend(async |label, s| {
        let org = s.create_org("o", "O", "root").await.unwrap();
        let e = s.create_estate(&org.id, "e", "E", "root").await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let s = s.clone();
            let e = e.clone();
            tasks.push(tokio::spawn(async move {
                // Each writer retries from the head it last saw until its version lands.
                loop {
                    let head = s.estate_by_id(&e.id).await.unwrap().unwrap().head;
                    match s
                        .create_version(
                            &e,
                            head,
                            NewVersion {
                                author: format!("w{i}"),
                                message: format!("writer {i}"),
                                kind: "upload".into(),
                                files: vec![(
                                    "estate.yaml".into(),
                                    format!("# {i}\n").into_bytes(),
                                )],
                            },
                        )
                        .await
                    {
                        Ok(v) => return v.number,
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap());
        }
        numbers.sort();
        assert_eq!(numbers, (1..=16).collect::<Vec<i64>>(), "{label}");
        assert!(
            matches!(s.verify_log().await.unwrap(), LogCheck::Intact { .. }),
            "{label}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_the_first_tampered_entry() {
    each_backend(async |label, s| {
        let org = s.create_org("o", "O", "root").await.unwrap();
        for i in 0..5 {
            s.create_estate(&org.id, &format!("e{i}"), "E", "root")
                .await
                .unwrap();
        }
        let LogCheck::Intact { entries, .. } = s.verify_log().await.unwrap() else {
            panic!("{label}: fresh log broken")
        };
        assert_eq!(entries, 6, "{label}");
        // Rewriting an entry's action (keeping its hash) breaks it.
        s.execute_raw("UPDATE audit_log SET action = 'estate.delete' WHERE seq = 3")
            .await
            .unwrap();
        match s.verify_log().await.unwrap() {
            LogCheck::Broken { seq, why } => {
                assert_eq!(seq, 3, "{label}");
                assert!(why.contains("does not match its hash"), "{label}: {why}");
            }
            other => panic!("{label}: {other:?}"),
        }
        s.execute_raw("UPDATE audit_log SET action = 'estate.create' WHERE seq = 3")
            .await
            .unwrap();
        assert!(
            matches!(s.verify_log().await.unwrap(), LogCheck::Intact { .. }),
            "{label}"
        );
        // Deleting one from the middle is named at the gap; from the end, by the head.
        s.execute_raw("DELETE FROM audit_log WHERE seq = 6")
            .await
            .unwrap();
        match s.verify_log().await.unwrap() {
            LogCheck::Broken { seq, why } => {
                assert_eq!(seq, 6, "{label}");
                assert!(why.contains("removed from the end"), "{label}: {why}");
            }
            other => panic!("{label}: {other:?}"),
        }
        s.execute_raw("DELETE FROM audit_log WHERE seq = 2")
            .await
            .unwrap();
        match s.verify_log().await.unwrap() {
            LogCheck::Broken { seq, .. } => assert_eq!(seq, 3, "{label}"),
            other => panic!("{label}: {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn logins_lock_after_repeated_failures_and_do_not_tell_which_users_exist() {
    each_backend(async |label, s| {
        s.create_user(
            "Ann@X.example",
            "Ann",
            "correct horse battery",
            false,
            "root",
        )
        .await
        .unwrap();
        assert!(matches!(
            s.login("nobody@x.example", "whatever-long").await.unwrap(),
            Login::Invalid
        ));
        assert!(
            matches!(
                s.login("ann@x.example", "correct horse battery")
                    .await
                    .unwrap(),
                Login::Ok(_)
            ),
            "{label}"
        );
        for _ in 0..LOCKOUT_AFTER - 1 {
            assert!(matches!(
                s.login("ann@x.example", "wrong").await.unwrap(),
                Login::Invalid
            ));
        }
        assert!(
            matches!(
                s.login("ann@x.example", "wrong").await.unwrap(),
                Login::Locked(_)
            ),
            "{label}"
        );
        // Locked: even the right password is refused.
        assert!(
            matches!(
                s.login("ann@x.example", "correct horse battery")
                    .await
                    .unwrap(),
                Login::Locked(_)
            ),
            "{label}"
        );
        let short = s
            .create_user("b@x.example", "B", "short", false, "root")
            .await
            .unwrap_err();
        assert!(
            short.to_string().contains("12 characters"),
            "{label}: {short}"
        );
    })
    .await;
}

/// Wrong passwords sent at the same moment each count: the counter is incremented in the
/// database, not written back from a read taken before the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_passwords_all_count_towards_the_lockout() {
    each_backend(async |label, s| {
        s.create_user(
            "cat@x.example",
            "Cat",
            "correct horse battery",
            false,
            "root",
        )
        .await
        .unwrap();
        let tries: Vec<_> = (0..LOCKOUT_AFTER)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.login("cat@x.example", "wrong").await.unwrap() })
            })
            .collect();
        let mut locked = 0;
        for t in tries {
            if matches!(t.await.unwrap(), Login::Locked(_)) {
                locked += 1;
            }
        }
        assert_eq!(
            locked, 1,
            "{label}: the last of {LOCKOUT_AFTER} failures locks"
        );
        assert!(
            matches!(
                s.login("cat@x.example", "correct horse battery")
                    .await
                    .unwrap(),
                Login::Locked(_)
            ),
            "{label}"
        );
    })
    .await;
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_and_checked() {
    each_backend(async |label, s| {
        let u = s
            .create_user("t@x.example", "T", "a long enough password", false, "root")
            .await
            .unwrap();
        let (row, secret) = s
            .create_token(&u, "ci", &["read".into()], 3600)
            .await
            .unwrap();
        assert!(secret.starts_with(&format!("dmk_{}_", row.id)), "{label}");
        let (t, who) = s.token(&secret).await.unwrap().expect("valid token");
        assert_eq!(
            (t.scopes.clone(), who.email.as_str()),
            (vec!["read".to_string()], "t@x.example")
        );
        let mut forged = secret.clone();
        forged.push('x');
        assert!(s.token(&forged).await.unwrap().is_none(), "{label}");
        let (_, expired) = s
            .create_token(&u, "old", &["read".into()], -1)
            .await
            .unwrap();
        assert!(s.token(&expired).await.unwrap().is_none(), "{label}");
        assert!(s.create_token(&u, "x", &["root".into()], 60).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn roles_on_one_estate_do_not_reach_another() {
    each_backend(async |label, s| {
        let org = s.create_org("o", "O", "root").await.unwrap();
        let a = s.create_estate(&org.id, "a", "A", "root").await.unwrap();
        let b = s.create_estate(&org.id, "b", "B", "root").await.unwrap();
        let client = s
            .create_user("c@x.example", "C", "a long enough password", false, "root")
            .await
            .unwrap();
        let auditor = s
            .create_user("d@x.example", "D", "a long enough password", false, "root")
            .await
            .unwrap();
        s.grant(&client.id, &org.id, Some(&a.id), Role::ClientViewer, "root")
            .await
            .unwrap();
        s.grant(&auditor.id, &org.id, None, Role::Auditor, "root")
            .await
            .unwrap();
        assert_eq!(
            s.estate_role(&client, &a).await.unwrap(),
            Some(Role::ClientViewer),
            "{label}"
        );
        assert_eq!(s.estate_role(&client, &b).await.unwrap(), None, "{label}");
        assert_eq!(
            s.estate_role(&auditor, &b).await.unwrap(),
            Some(Role::Auditor),
            "{label}"
        );
        assert!(
            s.grant(&client.id, &org.id, None, Role::ClientViewer, "root")
                .await
                .is_err()
        );
        let other = s.create_org("p", "P", "root").await.unwrap();
        assert!(
            s.grant(&client.id, &other.id, Some(&a.id), Role::Editor, "root")
                .await
                .is_err(),
            "{label}: an estate of another organization"
        );
    })
    .await;
}
