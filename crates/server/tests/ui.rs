//! The web UI on both databases: sign-in, every estate tab for every role, tenancy (404),
//! CSRF on forms, the accept-gap and sign-off forms making new versions, the history diff,
//! and the CSP rules the pages must keep (no inline scripts, no `style=`).

use demarc_server::testing::{PASSWORD, TestServer, servers};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

const TABS: &[&str] = &[
    "",
    "/gaps",
    "/compliance",
    "/evidence",
    "/contracts",
    "/findings",
    "/history",
    "/reviews",
    "/drills",
    "/drills?run=public-bucket",
];

fn client(follow: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(if follow {
            Policy::limited(5)
        } else {
            Policy::none()
        })
        .build()
        .unwrap()
}

/// Signs in through the login form; returns the client (with the session cookie) and the
/// dashboard's HTML.
async fn sign_in(s: &TestServer, email: &str) -> (reqwest::Client, String) {
    let c = client(false);
    let r = c
        .post(s.url("/login"))
        .form(&[("email", email), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}: login {email}",
        s.label
    );
    assert_eq!(r.headers()["location"], "/");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("demarc_session=") && cookie.contains("HttpOnly"));
    let (status, html) = get(&c, &s.url("/")).await;
    assert_eq!(status, StatusCode::OK, "{}: dashboard for {email}", s.label);
    (c, html)
}

async fn get(c: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The value of the first `<input … name="NAME" value="…">` in a page.
fn input(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// Undoes askama's HTML escaping of an attribute value.
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The pages may not carry anything the CSP would block.
fn assert_csp_clean(html: &str, what: &str) {
    assert!(!html.contains("style="), "{what}: a style attribute");
    assert!(!html.contains("<style"), "{what}: a style element");
    assert!(!html.contains("javascript:"), "{what}: a javascript: URL");
    assert!(!html.contains(" onclick="), "{what}: an inline handler");
    for (i, _) in html.match_indices("<script") {
        let tag_end = i + html[i..].find('>').unwrap();
        assert!(
            html[i..tag_end].contains(" src=\"/static/"),
            "{what}: a script that is not a static file"
        );
        assert!(
            html[tag_end + 1..].starts_with("</script>"),
            "{what}: an inline script body"
        );
    }
    assert!(
        html.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{what}"
    );
}

#[tokio::test]
async fn unauthenticated_pages_redirect_to_sign_in_and_failures_say_the_same() {
    for s in servers().await {
        let c = client(false);
        let r = c
            .get(s.url("/orgs/demo/estates/acme/gaps?severity=high"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.label);
        assert_eq!(
            r.headers()["location"],
            "/login?next=%2Forgs%2Fdemo%2Festates%2Facme%2Fgaps%3Fseverity%3Dhigh"
        );
        // htmx is told to move the whole page, not to swap the form into the panel.
        let r = c
            .get(s.url("/orgs/demo/estates/acme/explain?asset=a&control=b&duty=patch"))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.headers()["hx-redirect"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=%2F")
        );
        let (status, html) = get(&c, &s.url("/login?next=//evil.example")).await;
        assert_eq!(status, StatusCode::OK);
        assert_csp_clean(&html, "login");
        assert!(
            html.contains("<label for=\"email\">") && html.contains("<label for=\"password\">")
        );
        assert!(
            html.contains("name=\"next\" value=\"/\""),
            "an off-site `next` is dropped"
        );

        // A `next` that is not a plain path on this server goes to the dashboard.
        for next in [
            "//evil.example/",
            "https://evil.example/",
            "/\r\nSet-Cookie: x=y",
            "/\\evil",
        ] {
            let r = c
                .post(s.url("/login"))
                .form(&[
                    ("email", "auditor@demo.example"),
                    ("password", PASSWORD),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(r.headers()["location"], "/", "{next:?}");
        }

        let fail = |email: &'static str, password: &'static str| {
            let c = c.clone();
            let url = s.url("/login");
            async move {
                let r = c
                    .post(url)
                    .form(&[("email", email), ("password", password), ("next", "/")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
                assert!(r.headers().get("set-cookie").is_none());
                r.text().await.unwrap()
            }
        };
        let wrong = fail("editor@demo.example", "not the password").await;
        let unknown = fail("nobody@demo.example", "not the password").await;
        let msg = "Sign-in failed: the email or the password is wrong";
        assert!(wrong.contains(msg) && unknown.contains(msg), "{}", s.label);
        assert_eq!(
            wrong.replace("editor@demo.example", "X"),
            unknown.replace("nobody@demo.example", "X"),
            "an unknown user and a wrong password get the same page"
        );
    }
}

#[tokio::test]
async fn every_tab_renders_for_every_role_with_forms_only_for_those_who_may_use_them() {
    for s in servers().await {
        for (email, estates, can_edit, can_sign_off) in [
            (
                "admin@demo.example",
                &["acme", "health-serverless", "startup-saas"][..],
                true,
                true,
            ),
            (
                "editor@demo.example",
                &["acme", "health-serverless", "startup-saas"][..],
                true,
                false,
            ),
            (
                "auditor@demo.example",
                &["acme", "health-serverless", "startup-saas"][..],
                false,
                true,
            ),
            ("client@demo.example", &["acme"][..], false, false),
        ] {
            let (c, dash) = sign_in(&s, email).await;
            let who = format!("{} {email}", s.label);
            assert_csp_clean(&dash, &who);
            assert!(dash.contains("Gaps by severity") && dash.contains("Reviews due"));
            // acme's patch miss of September has no signed-off review: every role that sees
            // acme sees it listed as an open post-incident review.
            assert!(
                dash.contains("open post-incident reviews and repeated failures"),
                "{who}"
            );
            assert!(
                dash.contains("post-incident review of INC-2026-007")
                    && dash.contains("review open"),
                "{who}: the open incident review is on the dashboard"
            );
            for e in ["acme", "health-serverless", "startup-saas"] {
                let link = format!("href=\"/orgs/demo/estates/{e}\"");
                assert_eq!(dash.contains(&link), estates.contains(&e), "{who}: {e}");
            }
            for e in estates {
                for tab in TABS {
                    let url = s.url(&format!("/orgs/demo/estates/{e}{tab}"));
                    let (status, html) = get(&c, &url).await;
                    assert_eq!(status, StatusCode::OK, "{who}: {url}: {html}");
                    assert_csp_clean(&html, &url);
                    assert!(html.contains("aria-current=\"page\""), "{url}: the tab");
                    assert_eq!(
                        html.contains("/gaps/accept"),
                        can_edit && *tab == "/gaps",
                        "{who}: {url}: accept forms"
                    );
                    assert_eq!(
                        html.contains("/reviews/sign-off"),
                        can_sign_off && *tab == "/reviews",
                        "{who}: {url}: sign-off form"
                    );
                }
            }
            let (_, m) = get(&c, &s.url("/orgs/demo/estates/acme")).await;
            assert!(m.contains("class=\"heatmap\"") && m.contains("<th scope=\"col\">patch</th>"));
            assert!(m.contains("hx-get=\"/orgs/demo/estates/acme/explain?asset="));
        }
    }
}

#[tokio::test]
async fn matrix_filters_and_the_explain_panel_show_the_basis_chain() {
    for s in servers().await {
        let (c, _) = sign_in(&s, "editor@demo.example").await;
        let base = "/orgs/demo/estates/acme";
        let (_, all) = get(&c, &s.url(base)).await;
        let (_, s3) = get(&c, &s.url(&format!("{base}?service=aws%3As3"))).await;
        assert!(
            s3.contains("<option value=\"aws:s3\" selected>"),
            "{}",
            s.label
        );
        assert!(s3.matches("class=\"asset\"").count() < all.matches("class=\"asset\"").count());
        assert!(s3.contains("aws:s3") && !s3.contains("<span class=\"sub\">aws:ec2"));
        let (_, problems) = get(&c, &s.url(&format!("{base}?problems=1"))).await;
        assert!(
            problems.contains(" problem\"><a"),
            "problem cells are marked"
        );
        assert!(
            problems.contains("problem: "),
            "with words, not only colour"
        );

        // The first cell's link, as a plain page and as the htmx fragment.
        let at = all.find("hx-get=\"").unwrap() + 8;
        let href = all[at..at + all[at..].find('"').unwrap()].to_string();
        let href = unescape(&href);
        let (status, page) = get(&c, &s.url(&href)).await;
        assert_eq!(status, StatusCode::OK, "{href}");
        assert!(page.contains("<h3>Basis chain</h3>") && page.contains("(decided it)"));
        assert!(
            page.contains("<nav class=\"tabs\""),
            "the page has the frame"
        );
        let r = c
            .get(s.url(&href))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        let frag = r.text().await.unwrap();
        assert!(
            frag.starts_with("<section class=\"explain-body\""),
            "{frag}"
        );
        assert!(frag.contains("Basis chain") && !frag.contains("<html"));

        // A cell an MSSP does by contract quotes the clause, with the estate's own paths.
        let (_, sec) = get(
            &c,
            &s.url(&format!("{base}?party=shieldco&control=alert-triage")),
        )
        .await;
        let at = sec.find("hx-get=\"").expect("a shieldco cell") + 8;
        let href = unescape(&sec[at..at + sec[at..].find('"').unwrap()]);
        let (_, page) = get(&c, &s.url(&href)).await;
        assert!(page.contains("<h3>Contract clause</h3>"), "{href}");
        assert!(page.contains("<code>contracts.yaml:"), "{href}");
        assert!(page.contains("<h3>Contacts</h3>") && page.contains("soc@shieldco.example"));
        assert!(!page.contains("demarc-estate-"), "no server paths");

        // The evidence register checks the files the version carries against their hashes.
        let (_, ev) = get(&c, &s.url(&format!("{base}/evidence"))).await;
        assert!(ev.contains("<code>evidence-files/pentest-2026-summary.txt</code>"));
        assert!(ev.contains("class=\"status st-unchanged\""), "{}", s.label);

        let bad = [
            format!("{base}/explain?asset=x&control=y&duty=sleep"),
            format!("{base}/explain?asset=x"),
            format!("{base}?page=zero"),
            format!("{base}/history/diff?from=0&to=1"),
            format!("{base}/drills?run=no-such-scenario"),
        ];
        for u in bad {
            let (status, html) = get(&c, &s.url(&u)).await;
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
                "{u}: {status}"
            );
            assert!(
                html.contains("<p class=\"error-message\">"),
                "{u}: an error page"
            );
        }
    }
}

#[tokio::test]
async fn a_client_viewer_gets_404_for_an_estate_it_cannot_see() {
    for s in servers().await {
        let (c, _) = sign_in(&s, "client@demo.example").await;
        for tab in TABS.iter().chain(&[
            "/explain?asset=a&control=b&duty=patch",
            "/history/diff?from=1&to=1",
        ]) {
            let url = s.url(&format!("/orgs/demo/estates/startup-saas{tab}"));
            let (status, html) = get(&c, &url).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{}: {url}", s.label);
            assert!(
                html.contains("estate `demo/startup-saas` not found"),
                "{html}"
            );
        }
        let (status, _) = get(&c, &s.url("/orgs/demo/estates/no-such-estate")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A client viewer cannot accept a gap on its own estate either.
        let (_, gaps) = get(&c, &s.url("/orgs/demo/estates/acme/gaps")).await;
        let r = c
            .post(s.url("/orgs/demo/estates/acme/gaps/accept"))
            .form(&[
                ("csrf", input(&gaps, "csrf").unwrap().as_str()),
                ("base", "1"),
                ("gap", "DM008:review"),
                ("reason", "r"),
                ("expires", "2099-01-01"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", s.label);
    }
}

async fn head(c: &reqwest::Client, s: &TestServer) -> Value {
    c.get(s.url("/api/v1/orgs/demo/estates/acme/versions?per_page=1"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["items"][0]
        .clone()
}

#[tokio::test]
async fn accepting_a_gap_needs_the_csrf_token_and_makes_a_version_the_diff_shows() {
    for s in servers().await {
        let (c, _) = sign_in(&s, "editor@demo.example").await;
        let base = "/orgs/demo/estates/acme";
        let (_, gaps) = get(&c, &s.url(&format!("{base}/gaps"))).await;
        let csrf = input(&gaps, "csrf").expect("csrf field");
        let key = input(&gaps, "gap").expect("an open gap with an accept form");
        let form = |csrf: Option<&str>, expires: &str| {
            let mut f = vec![
                ("base", "1".to_string()),
                ("gap", key.clone()),
                ("reason", "Tracked in RISK-42\nwith the vendor".to_string()),
                ("expires", expires.to_string()),
            ];
            if let Some(t) = csrf {
                f.push(("csrf", t.to_string()));
            }
            f
        };
        let url = s.url(&format!("{base}/gaps/accept"));
        let r = c
            .post(&url)
            .form(&form(None, "2099-01-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}: no csrf", s.label);
        let r = c
            .post(&url)
            .form(&form(Some("wrong"), "2099-01-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}: wrong csrf", s.label);
        let r = c
            .post(&url)
            .form(&form(Some(&csrf), "2001-01-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an expiry in the past");
        assert!(r.text().await.unwrap().contains("is not in the future"));
        assert_eq!(head(&c, &s).await["number"], 1, "nothing was stored");

        let r = c
            .post(&url)
            .form(&form(Some(&csrf), "2099-01-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.label);
        assert_eq!(r.headers()["location"], format!("{base}/gaps?accepted=2"));
        let v = head(&c, &s).await;
        assert_eq!(v["number"], 2);
        assert_eq!(v["kind"], "accept");
        assert_eq!(v["author"], "editor@demo.example");
        assert!(v["message"].as_str().unwrap().contains(&key));

        let (_, after) = get(&c, &s.url(&format!("{base}/gaps?accepted=2"))).await;
        assert!(after.contains("saved as version 2"));
        assert!(after.contains(
            "by editor@demo.example until 2099-01-31: Tracked in RISK-42 with the vendor"
        ));

        // The same form again is made from version 1, which is no longer the newest.
        let r = c
            .post(&url)
            .form(&form(Some(&csrf), "2099-01-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{}", s.label);

        let (_, hist) = get(&c, &s.url(&format!("{base}/history"))).await;
        assert!(hist.contains("<th scope=\"row\">2</th>") && hist.contains(">accept<"));
        let (status, diff) = get(&c, &s.url(&format!("{base}/history/diff?from=1&to=2"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_csp_clean(&diff, "diff");
        assert!(diff.contains("<h3>Gaps accepted</h3>"), "{diff}");
        assert!(diff.contains(&format!("<code>{key}</code>")));
        assert!(
            diff.contains(
                "accepted by editor@demo.example until 2099-01-31: Tracked in RISK-42 with the vendor"
            ),
            "{diff}"
        );
        assert!(diff.contains("added</span> <code>server/acceptances.yaml</code>"));
        let files: Value = c
            .get(s.url("/api/v1/orgs/demo/estates/acme/versions/2/files"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let yaml = files["files"]["server/acceptances.yaml"].as_str().unwrap();
        assert!(yaml.contains("accepted:\n  - {"), "{yaml}");
    }
}

#[tokio::test]
async fn signing_off_a_review_is_for_auditors_and_makes_a_version() {
    for s in servers().await {
        let base = "/orgs/demo/estates/acme";
        let (ed, _) = sign_in(&s, "editor@demo.example").await;
        let (_, page) = get(&ed, &s.url(&format!("{base}/reviews"))).await;
        let r = ed
            .post(s.url(&format!("{base}/reviews/sign-off")))
            .form(&[
                ("csrf", input(&page, "csrf").unwrap().as_str()),
                ("base", "1"),
                ("notes", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}: an editor", s.label);
        assert!(r.text().await.unwrap().contains("cannot sign off reviews"));

        let (c, _) = sign_in(&s, "auditor@demo.example").await;
        let (_, page) = get(&c, &s.url(&format!("{base}/reviews"))).await;
        assert!(page.contains("<label for=\"notes\">Review notes</label>"));
        let csrf = input(&page, "csrf").unwrap();
        let r = c
            .post(s.url(&format!("{base}/reviews/sign-off")))
            .form(&[("csrf", csrf.as_str()), ("base", "1"), ("notes", "  ")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "empty notes");
        let r = c
            .post(s.url(&format!("{base}/reviews/sign-off")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("base", "1"),
                ("notes", "Quarterly review: <b>all</b> owners confirmed"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.label);
        let v = head(&c, &s).await;
        assert_eq!(
            (v["number"].as_i64(), v["kind"].as_str()),
            (Some(2), Some("sign-off"))
        );
        let (_, page) = get(&c, &s.url(&format!("{base}/reviews?signed=2"))).await;
        assert!(page.contains("saved as version 2"));
        assert!(
            page.contains("Quarterly review: &#60;b&#62;all&#60;/b&#62; owners confirmed"),
            "escaped: {page}"
        );
        assert!(page.contains("<td>auditor@demo.example</td>"));
    }
}

#[tokio::test]
async fn static_assets_are_compiled_in_with_long_cache_headers() {
    for s in servers().await {
        let c = client(false);
        for (name, ty) in [
            ("htmx.min.js", "text/javascript"),
            ("app.js", "text/javascript"),
            ("app.css", "text/css"),
        ] {
            let r = c
                .get(s.url(&format!("/static/{name}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{name}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(ty)
            );
            assert!(
                r.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .contains("immutable")
            );
            assert!(!r.bytes().await.unwrap().is_empty());
        }
        let r = c.get(s.url("/static/../Cargo.toml")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = c.get(s.url("/static/nothing.js")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let htmx = c
            .get(s.url("/static/htmx.min.js"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(htmx.contains("version:\"2."), "htmx 2.x is vendored");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    for s in servers().await {
        let (c, dash) = sign_in(&s, "auditor@demo.example").await;
        let csrf = input(&dash, "csrf").unwrap();
        let r = c.post(s.url("/logout")).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "sign-out needs the token"
        );
        let r = c
            .post(s.url("/logout"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = c.get(s.url("/")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.label);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login")
        );
    }
}

/// A findings snapshot as `demarc ingest findings` writes it, from a one-result SARIF file.
fn snapshot(date: &str) -> String {
    use demarc_posture::{self as posture, snapshot};
    let sarif = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"checkov"}},
        "results":[{"ruleId":"CKV_AWS_18","level":"error",
        "message":{"text":"S3 bucket access logging is disabled"},
        "locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.tf"}}}]}]}]}"#;
    let mut found = Vec::new();
    posture::read_findings(
        sarif.as_bytes(),
        0,
        posture::ReadOptions::default(),
        &|f| f,
        &mut |f| {
            found.push(f);
            Ok(())
        },
        &mut |_| {},
    )
    .expect("the SARIF reads");
    assert_eq!(found.len(), 1);
    let mut out = Vec::new();
    snapshot::line(
        &snapshot::Header {
            schema: snapshot::SCHEMA.into(),
            as_of: date.parse().unwrap(),
            sources: vec!["scan.sarif".into()],
        },
        &mut out,
    );
    for f in &found {
        snapshot::line(f, &mut out);
    }
    snapshot::line(
        &snapshot::End {
            end: true,
            findings: 1,
            sources: vec![snapshot::SourceInfo {
                path: "scan.sarif".into(),
                format: None,
                findings: 1,
                bytes: sarif.len() as u64,
            }],
        },
        &mut out,
    );
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn scanner_findings_in_a_version_are_grouped_by_party() {
    for s in servers().await {
        let (c, _) = sign_in(&s, "editor@demo.example").await;
        let base = "/orgs/demo/estates/acme";
        let (_, before) = get(&c, &s.url(&format!("{base}/findings"))).await;
        assert!(
            before.contains("No scanner findings in this version"),
            "{}",
            s.label
        );

        // Version 2: version 1's files and a findings snapshot, through the API.
        let files: Value = c
            .get(s.url("/api/v1/orgs/demo/estates/acme/versions/1/files"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut files = files["files"].as_object().unwrap().clone();
        files.insert(
            ".demarc/findings/2026-01-01.ndjson".into(),
            Value::String(snapshot("2026-01-01")),
        );
        let (_, page) = get(&c, &s.url(base)).await;
        let r = c
            .post(s.url("/api/v1/orgs/demo/estates/acme/versions"))
            .header("x-csrf-token", input(&page, "csrf").unwrap())
            .json(&serde_json::json!({"base": 1, "message": "scanner findings", "files": files}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}: {}",
            s.label,
            r.text().await.unwrap()
        );

        let (status, after) = get(&c, &s.url(&format!("{base}/findings"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            after.contains("Snapshot of 2026-01-01: 1 open finding,"),
            "{}: {after}",
            s.label
        );
        assert!(after.contains("<h2>Scanner findings by party</h2>"));
        let (status, dash) = get(&c, &s.url("/")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the dashboard reads the snapshot too"
        );
        assert_csp_clean(&dash, "dashboard with findings");
    }
}
