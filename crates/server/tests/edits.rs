//! Edits through the API on both databases: each makes a version of the right kind by the
//! signed-in user, changes only the server's own file (or the contract's), changes what the
//! engine computes, and is refused cleanly when stale, forbidden or invalid.

use demarc_server::testing::{PASSWORD, TestServer, servers};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACME: &str = "/api/v1/orgs/demo/estates/acme";

struct User {
    c: reqwest::Client,
    csrf: String,
}

async fn login(s: &TestServer, email: &str) -> User {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(s.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}: login {email}", s.label);
    let me: Value = r.json().await.unwrap();
    User {
        c,
        csrf: me["csrf"].as_str().unwrap().to_string(),
    }
}

impl User {
    async fn get(&self, s: &TestServer, path: &str) -> (StatusCode, Value) {
        let r = self.c.get(s.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .c
            .post(s.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn texts(files: &Value) -> serde_json::Map<String, Value> {
    files["files"].as_object().unwrap().clone()
}

async fn head(s: &TestServer, u: &User, estate: &str) -> i64 {
    let (_, e) = u.get(s, estate).await;
    e["head"].as_i64().unwrap()
}

#[tokio::test]
async fn accepting_a_gap_makes_an_accept_version_that_the_gaps_show() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let (_, gaps) = ed.get(&s, &format!("{ACME}/gaps")).await;
        let gap = gaps["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["accepted"].is_null() && g["code"] == "DM003")
            .unwrap_or_else(|| panic!("{}: acme has an unaccepted DM003: {gaps}", s.label))
            .clone();
        let key = gap["key"].as_str().unwrap();
        let expires = today() + chrono::Days::new(180);
        // A key that is no gap is refused with the keys of that code.
        let (st, body) = ed
            .post(
                &s,
                &format!("{ACME}/acceptances"),
                json!({"base": 1, "gap": "DM003:no-such-control", "reason": "r", "expires": expires}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{}: {body}", s.label);
        assert!(
            body["error"]["help"].as_str().unwrap().contains(key),
            "{body}"
        );
        let (st, body) = ed
            .post(
                &s,
                &format!("{ACME}/acceptances"),
                json!({"base": 1, "gap": key, "reason": "split agreed verbally; contract change pending", "expires": expires}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {body}", s.label);
        assert_eq!(body["version"]["number"], 2);
        assert_eq!(body["version"]["kind"], "accept");
        assert_eq!(body["version"]["author"], "editor@demo.example");
        assert_eq!(body["changed"], json!(["server/acceptances.yaml"]));

        // The gap is now accepted, with the reason and the editor as approver.
        let (_, gaps) = ed.get(&s, &format!("{ACME}/gaps")).await;
        let now = gaps["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .unwrap();
        assert_eq!(
            now["accepted"]["reason"], "split agreed verbally; contract change pending",
            "{}: {now}",
            s.label
        );
        assert_eq!(now["accepted"]["approved_by"], "editor@demo.example");

        // The history names the edit; version 2's files are version 1's plus the new file.
        let (_, versions) = ed.get(&s, &format!("{ACME}/versions")).await;
        assert_eq!(versions["items"][0]["kind"], "accept");
        assert_eq!(versions["items"][0]["author"], "editor@demo.example");
        let (_, v1) = ed.get(&s, &format!("{ACME}/versions/1/files")).await;
        let (_, v2) = ed.get(&s, &format!("{ACME}/versions/2/files")).await;
        let mut f2 = texts(&v2);
        let added = f2.remove("server/acceptances.yaml").unwrap();
        assert_eq!(f2, texts(&v1), "{}: the other files are unchanged", s.label);
        let added = added.as_str().unwrap();
        assert!(added.contains("\naccepted:\n  - {"), "{added}");
        assert!(added.contains(&format!("\"gap\":\"{key}\"")), "{added}");

        // The diff of the two versions reports the acceptance and no responsibility change.
        let (st, d) = ed.get(&s, &format!("{ACME}/diff")).await;
        assert_eq!(st, StatusCode::OK, "{d}");
        assert_eq!((d["from"].as_i64(), d["to"].as_i64()), (Some(1), Some(2)));
        assert_eq!(d["gaps_accepted"], json!([key]));
        assert_eq!(d["cells_changed"], 0);

        // The same base again is stale: 409, and nothing is stored.
        let (st, body) = ed
            .post(
                &s,
                &format!("{ACME}/acceptances"),
                json!({"base": 1, "gap": key, "reason": "again", "expires": expires}),
            )
            .await;
        assert_eq!(st, StatusCode::CONFLICT, "{}: {body}", s.label);
        assert_eq!(body["error"]["code"], "conflict");
        // No base at all: 428.
        let (st, _) = ed
            .post(
                &s,
                &format!("{ACME}/acceptances"),
                json!({"gap": key, "reason": "again", "expires": expires}),
            )
            .await;
        assert_eq!(st, StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(head(&s, &ed, ACME).await, 2);
    }
}

#[tokio::test]
async fn reviews_are_signed_off_by_auditors_only() {
    for s in servers().await {
        let auditor = login(&s, "auditor@demo.example").await;
        let editor = login(&s, "editor@demo.example").await;
        let client = login(&s, "client@demo.example").await;
        let (st, before) = auditor.get(&s, &format!("{ACME}/reviews")).await;
        assert_eq!(st, StatusCode::OK, "{before}");
        assert_eq!(before["reviews"][0]["by"], "jane@acme.example");
        assert_eq!(before["cadence"], "90d");

        let body = json!({"base": 1, "notes": "quarterly review", "incidents": []});
        let (st, e) = editor
            .post(&s, &format!("{ACME}/reviews"), body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{}: {e}", s.label);
        let (st, _) = client
            .post(&s, &format!("{ACME}/reviews"), body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{}", s.label);
        let (st, _) = client
            .post(
                &s,
                "/api/v1/orgs/demo/estates/startup-saas/reviews",
                body.clone(),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{}", s.label);
        let future = today() + chrono::Days::new(2);
        let (st, e) = auditor
            .post(
                &s,
                &format!("{ACME}/reviews"),
                json!({"base": 1, "date": future}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("future"));

        let (st, v) = auditor.post(&s, &format!("{ACME}/reviews"), body).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "sign-off");
        assert_eq!(v["version"]["author"], "auditor@demo.example");
        let (_, after) = auditor.get(&s, &format!("{ACME}/reviews")).await;
        assert_eq!(after["reviews"][0]["by"], "auditor@demo.example");
        assert_eq!(after["reviews"][0]["notes"], "quarterly review");
        assert_eq!(after["reviews"][0]["date"], json!(today()));
        assert_eq!(after["last"], json!(today()));
        assert_eq!(after["overdue"], false, "{after}");
        assert!(
            !after["gaps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["code"] == "DM008"),
            "{after}"
        );
    }
}

#[tokio::test]
async fn ending_a_contract_lapses_its_clauses_and_the_diff_shows_the_cells() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let date = today();
        let (st, e) = ed
            .post(
                &s,
                &format!("{ACME}/contracts/no-such-contract/end"),
                json!({"base": 1, "date": date}),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
        assert!(
            e["error"]["help"]
                .as_str()
                .unwrap()
                .contains("shieldco-msa")
        );
        let shieldco = |v: i64| format!("{ACME}/matrix?version={v}&party=shieldco&per_page=1");
        let (_, m1) = ed.get(&s, &shieldco(1)).await;
        let before = m1["total"].as_u64().unwrap();
        assert!(before > 0, "{m1}");

        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/contracts/shieldco-msa/end"),
                json!({"base": 1, "date": date}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "end-contract");
        assert_eq!(v["changed"], json!(["contracts.yaml"]));
        let (_, files) = ed.get(&s, &format!("{ACME}/versions/2/files")).await;
        let text = files["files"]["contracts.yaml"].as_str().unwrap();
        assert!(
            text.contains(&format!(
                "  - id: shieldco-msa\n    party: shieldco\n    effective: 2026-01-01\n    expires: {date}\n"
            )),
            "{text}"
        );

        // The clauses no longer count: shieldco holds fewer cells, and the diff lists them.
        let (_, m2) = ed.get(&s, &shieldco(2)).await;
        assert!(m2["total"].as_u64().unwrap() < before, "{m2}");
        let (_, d) = ed
            .get(&s, &format!("{ACME}/diff?from=1&to=2&limit=100000"))
            .await;
        let cells = d["cells"].as_array().unwrap();
        assert!(!cells.is_empty(), "{d}");
        assert_eq!(d["cells_changed"].as_u64().unwrap() as usize, cells.len());
        let lost = cells.iter().filter(|c| {
            c["before"]["responsible"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().starts_with("shieldco"))
                && !c["after"]["responsible"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r.as_str().unwrap().starts_with("shieldco"))
        });
        assert_eq!(
            lost.count() as u64,
            before - m2["total"].as_u64().unwrap(),
            "{}: every cell shieldco lost is in the diff",
            s.label
        );
        assert!(
            d["gaps_opened"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["code"] == "DM004"),
            "{}: the lapsed clauses are reported: {}",
            s.label,
            d["gaps_opened"]
        );
        // The duties fall back to acme, unassigned: requirements they carried stop being
        // ready for the estate's frameworks.
        assert!(d["notes"].is_null(), "{}", d["notes"]);
        assert!(
            d["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["framework"] == "pci-dss"
                    && r["ready_before"] == true
                    && r["ready_after"] == false),
            "{}",
            d["requirements"]
        );
        assert!(
            !d["gaps_opened"].to_string().contains("/tmp/"),
            "bases cite estate paths"
        );
    }
}

#[tokio::test]
async fn an_edit_that_breaks_the_estate_is_422_and_a_good_one_changes_the_cell() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let (st, e) = ed
            .post(
                &s,
                &format!("{ACME}/assignments"),
                json!({"base": 1, "asset": "crm-sync-db", "controls": ["backup"], "to": "nobody/dba"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{}: {e}", s.label);
        assert_eq!(e["error"]["code"], "invalid_estate");
        let d = e["error"]["diagnostics"][0].as_str().unwrap();
        assert!(d.starts_with("server/assignments.yaml:"), "{d}");
        assert_eq!(head(&s, &ed, ACME).await, 1, "nothing stored");
        // A body with a typo'd field is a 400 naming it.
        let (st, e) = ed
            .post(
                &s,
                &format!("{ACME}/assignments"),
                json!({"base": 1, "asset": "crm-sync-db", "contrls": ["backup"], "to": "acme/dba"}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(e["error"]["message"].as_str().unwrap().contains("contrls"));

        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/assignments"),
                json!({"base": 1, "asset": "crm-sync-db", "controls": ["backup"], "duties": ["configure"], "to": "acme/dba", "note": "DBA takes the backups back from dbcare: \"now\" # {not: a comment}\n\u{7f}"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "assign");
        assert_eq!(
            v["version"]["message"],
            "assign backup (configure) on crm-sync-db to acme/dba"
        );
        let cell = |n: i64| {
            format!("{ACME}/explain?version={n}&asset=crm-sync-db&control=backup&duty=configure")
        };
        let (_, c1) = ed.get(&s, &cell(1)).await;
        let (_, c2) = ed.get(&s, &cell(2)).await;
        let teams = |c: &Value| -> Vec<String> {
            c["responsible"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    format!(
                        "{}/{}",
                        r["party"].as_str().unwrap(),
                        r["team"].as_str().unwrap_or("")
                    )
                })
                .collect()
        };
        assert!(!teams(&c1).contains(&"acme/dba".to_string()), "{c1}");
        assert!(teams(&c2).contains(&"acme/dba".to_string()), "{c2}");
        assert_eq!(c1["unassigned"], true);
        assert_eq!(c2["unassigned"], false);
        // The auditor may read it all but not edit.
        let auditor = login(&s, "auditor@demo.example").await;
        let (st, _) = auditor
            .post(
                &s,
                &format!("{ACME}/assignments"),
                json!({"base": 2, "asset": "crm-sync-db", "to": "acme/dba"}),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_audit_log_records_each_edit_and_stays_chained() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/evidence"),
                json!({"base": 1, "control": "backup", "asset": "crm-sync-db", "ref": "https://backup.acme.example/crm-sync", "valid_for": "90d"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        let (_, files) = ed.get(&s, &format!("{ACME}/versions/2/files")).await;
        assert!(
            files["files"]["server/evidence.yaml"]
                .as_str()
                .unwrap()
                .contains(&format!("\"collected\":\"{}\"", today()))
        );
        let (st, _) = ed
            .post(
                &s,
                "/api/v1/orgs/demo/estates/startup-saas/contracts/x/end",
                json!({"base": 1, "date": today()}),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        let admin = login(&s, "admin@demo.example").await;
        let (st, log) = admin
            .get(&s, "/api/v1/orgs/demo/audit-log?limit=1000")
            .await;
        assert_eq!(st, StatusCode::OK, "{log}");
        let creates: Vec<(&str, &str, &str)> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "version.create")
            .map(|e| {
                (
                    e["estate"].as_str().unwrap(),
                    e["detail"]["kind"].as_str().unwrap(),
                    e["actor"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            creates.last(),
            Some(&("acme", "evidence", "editor@demo.example")),
            "{}: {creates:?}",
            s.label
        );
        assert_eq!(
            creates.iter().filter(|c| c.1 == "demo").count(),
            3,
            "the three example estates"
        );
        // Paging after the last entry gives nothing; `after` pages forward.
        let last = log.as_array().unwrap().last().unwrap()["seq"]
            .as_i64()
            .unwrap();
        let (_, rest) = admin
            .get(&s, &format!("/api/v1/orgs/demo/audit-log?after={last}"))
            .await;
        assert_eq!(rest, json!([]));
        let (st, _) = ed.get(&s, "/api/v1/orgs/demo/audit-log").await;
        assert_eq!(st, StatusCode::FORBIDDEN, "editors do not read the log");
        let client = login(&s, "client@demo.example").await;
        let (st, _) = client.get(&s, "/api/v1/orgs/demo/audit-log").await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let auditor = login(&s, "auditor@demo.example").await;
        let (st, _) = auditor.get(&s, "/api/v1/orgs/demo/audit-log").await;
        assert_eq!(st, StatusCode::OK);
        match s.state.store.verify_log().await.unwrap() {
            demarc_store::LogCheck::Intact { entries, .. } => assert!(entries > 4),
            broken => panic!("{}: {broken:?}", s.label),
        }
    }
}

#[tokio::test]
async fn ingested_inventory_and_findings_become_versions_that_drift_and_findings_read() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let (st, e) = ed.get(&s, &format!("{ACME}/drift")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
        assert!(e["error"]["help"].as_str().unwrap().contains("inventory"));
        let (st, _) = ed.get(&s, &format!("{ACME}/findings")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        let content = "{\"id\": \"found-bucket\", \"service\": \"aws:s3\", \"env\": \"prod\"}\n";
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/inventory"),
                json!({"base": 1, "content": content, "name": "discovered.jsonl"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "ingest-inventory");
        let changed = v["changed"].as_array().unwrap();
        assert!(!changed.is_empty());
        assert!(
            changed
                .iter()
                .all(|p| p.as_str().unwrap().starts_with(".demarc/inventory/")),
            "{changed:?}"
        );
        assert_eq!(v["summary"]["assets"], 1, "{}", v["summary"]);
        let (_, m) = ed
            .get(&s, &format!("{ACME}/matrix?asset=found-bucket&per_page=1"))
            .await;
        assert!(m["total"].as_u64().unwrap() > 0, "{m}");
        let (st, drift) = ed.get(&s, &format!("{ACME}/drift")).await;
        assert_eq!(st, StatusCode::OK, "{drift}");
        assert_eq!(drift["schema"], "demarc.drift/v1");
        assert!(
            changed.iter().any(|p| p
                .as_str()
                .unwrap()
                .ends_with(drift["snapshot"].as_str().unwrap())),
            "{drift}"
        );
        let (st, d) = ed.get(&s, &format!("{ACME}/diff")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(d["assets_added"], json!(["found-bucket"]));

        // Bad exports are 422 and store nothing.
        let (st, e) = ed
            .post(
                &s,
                &format!("{ACME}/findings"),
                json!({"base": 2, "content": "not json"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let prowler = include_str!("../../cli/tests/fixtures/findings/acme-prowler.ocsf.json");
        let n = serde_json::from_str::<Value>(prowler)
            .unwrap()
            .as_array()
            .unwrap()
            .len();
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/findings"),
                json!({"base": 2, "content": prowler, "name": "prowler.ocsf.json"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "ingest-findings");
        assert_eq!(
            v["changed"],
            json!([format!(".demarc/findings/{}.ndjson", today())])
        );
        assert_eq!(v["summary"]["snapshot"]["sources"][0]["findings"], n);
        let (st, f) = ed.get(&s, &format!("{ACME}/findings?all=true")).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(f["schema"], "demarc.findings/v1");
        assert_eq!(f["findings"].as_array().unwrap().len(), n);
        assert_eq!(f["summary"], v["summary"]["summary"]);
        assert_eq!(head(&s, &ed, ACME).await, 3);
    }
}

#[tokio::test]
async fn an_incident_recorded_through_the_server_opens_a_review_that_a_sign_off_closes() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        let au = login(&s, "auditor@demo.example").await;
        let day = today();
        let base = head(&s, &ed, ACME).await;
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/incidents"),
                json!({"base": base, "id": "INC-SRV-1", "date": day, "assets": ["order-exports"],
                       "summary": "access logs were off when the bucket was read", "control": "storage-access-logging",
                       "duty": "configure", "changes": ["logging turned on"]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        assert_eq!(v["version"]["kind"], "incident");
        assert_eq!(v["changed"], json!(["server/incidents.yaml"]));
        // The engine resolves who held the duty that day; the bucket's logging had no named
        // owner, so it is a responsibility failure, not an execution failure.
        let (_, inc) = ed.get(&s, &format!("{ACME}/incidents")).await;
        let one = inc["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "INC-SRV-1")
            .unwrap_or_else(|| panic!("{}: {inc}", s.label))
            .clone();
        assert_eq!(one["failure"], "responsibility", "{one}");
        assert_eq!(one["holders"][0]["unassigned"], true, "{one}");
        assert_eq!(one["review_open"], true, "{one}");
        assert_eq!(
            one["at"], "server/incidents.yaml:4",
            "located in the server's file: {one}"
        );
        assert_eq!(
            one["repeats"],
            json!(["INC-2026-011"]),
            "the same duty failed on the same bucket in October: {one}"
        );
        let (_, gaps) = ed.get(&s, &format!("{ACME}/gaps")).await;
        let key = "DM019:incident:INC-SRV-1";
        assert!(
            gaps["gaps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["key"] == key),
            "{}: the review is open",
            s.label
        );
        // A sign-off that lists it closes it.
        let base = head(&s, &ed, ACME).await;
        let (st, _) = au
            .post(
                &s,
                &format!("{ACME}/reviews"),
                json!({"base": base, "notes": "post-incident review", "incidents": ["INC-SRV-1"]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, gaps) = ed.get(&s, &format!("{ACME}/gaps")).await;
        assert!(
            !gaps["gaps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["key"] == key),
            "{}: closed",
            s.label
        );
        // A client viewer reads incidents but cannot record one.
        let cl = login(&s, "client@demo.example").await;
        let (st, _) = cl.get(&s, &format!("{ACME}/incidents")).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = cl
            .post(&s, &format!("{ACME}/incidents"), json!({"base": 1, "id": "X", "date": day, "assets": ["order-exports"], "summary": "s", "control": "backup", "duty": "configure"}))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn policy_checks_over_an_ingested_plan_become_findings() {
    for s in servers().await {
        let ed = login(&s, "editor@demo.example").await;
        // No inventory yet: the policy checks have nothing to read.
        let (st, e) = ed
            .post(
                &s,
                &format!("{ACME}/findings"),
                json!({"base": 1, "policy": true}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{}: {e}", s.label);
        assert!(
            e["error"]["help"].as_str().unwrap().contains("inventory"),
            "{e}"
        );
        let (st, e) = ed
            .post(&s, &format!("{ACME}/findings"), json!({"base": 1}))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

        let plan = include_str!("../../ingest/tests/fixtures/tfplan.json");
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/inventory"),
                json!({"base": 1, "content": plan, "name": "plan.json"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        let (st, v) = ed
            .post(
                &s,
                &format!("{ACME}/findings"),
                json!({"base": 2, "policy": true}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", s.label);
        let src = &v["summary"]["snapshot"]["sources"][0];
        assert_eq!(src["format"], "rego", "{src}");
        assert!(src["findings"].as_u64().unwrap() > 0, "{src}");
        let (st, f) = ed.get(&s, &format!("{ACME}/findings?all=true")).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        let list = f["findings"].as_array().unwrap();
        assert!(!list.is_empty());
        assert!(
            list.iter()
                .all(|x| x["tool"] == "demarc-policy" && x["control_via"] == "rule"),
            "{f}"
        );
        // An SSH port open to the internet on a plan resource: acme's platform team holds
        // `configure` for AWS networking, so the finding goes to it.
        let ssh = list
            .iter()
            .find(|x| x["check"] == "DMP007" && x["asset"] == "aws_security_group.ssh")
            .unwrap_or_else(|| panic!("{f}"));
        assert_eq!(ssh["route"], "responsible");
        assert_eq!(ssh["owner"], "acme/platform");
    }
}
