//! The dashboard: across every estate the user can see, the gaps by severity, reviews due,
//! contracts, attestations and evidence that expire or have expired, and what is overdue by
//! party.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use demarc_compliance::evidence::Currency;

use super::estate::{SEVERITIES, date_status, review_due, severity_str};
use super::{Layout, UiResult, Viewer, filters, render};
use crate::access::{self, EstateAccess};
use crate::api::{At, opened};
use crate::error::ApiError;
use crate::state::AppState;

pub struct EstateLine {
    pub org: String,
    pub name: String,
    pub href: String,
    pub role: &'static str,
    pub head: i64,
    pub counts: Vec<usize>,
    pub total: usize,
    pub accepted: usize,
    pub error: Option<String>,
}

pub struct DueItem {
    pub estate: String,
    pub href: String,
    pub what: String,
    pub party: String,
    pub date: String,
    pub status: &'static str,
}

pub struct PartyLine {
    pub party: String,
    pub count: usize,
    pub what: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    l: Layout,
    severities: [&'static str; 5],
    estates: Vec<EstateLine>,
    overdue: Vec<PartyLine>,
    sections: Vec<Section>,
}

pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub items: Vec<DueItem>,
}

/// What one estate adds to the dashboard's lists.
#[derive(Default)]
struct Lists {
    reviews: Vec<DueItem>,
    expiring: Vec<DueItem>,
    evidence: Vec<DueItem>,
    /// Open post-incident reviews (DM019) and duties that failed again (DM020).
    incidents: Vec<DueItem>,
    /// party → what is overdue there.
    overdue: BTreeMap<String, Vec<String>>,
}

fn collect(
    res: &demarc_engine::Resolution,
    name: &str,
    href: &str,
    gaps: &demarc_engine::Analysis,
    out: &mut Lists,
) {
    let e = res.estate();
    let as_of = res.as_of();
    let warn = e.settings.expiry_warning.days();
    let item = |what: String, party: String, date: String, status: &'static str| DueItem {
        estate: name.to_string(),
        href: href.to_string(),
        what,
        party,
        date,
        status,
    };
    let (last, due) = review_due(e);
    let status = if due <= as_of {
        "overdue"
    } else if (due - as_of).num_days() <= 30 {
        "due soon"
    } else {
        "scheduled"
    };
    out.reviews.push(item(
        match last {
            Some(d) => format!("last review {d}"),
            None => "never reviewed".into(),
        },
        res.accountable().to_string(),
        due.to_string(),
        status,
    ));
    if status == "overdue" {
        out.overdue
            .entry(res.accountable().to_string())
            .or_default()
            .push(format!("{name}: review"));
    }
    for k in &e.contracts {
        let st = date_status(k.expires, as_of, warn);
        if st == "in force" {
            continue;
        }
        out.expiring.push(item(
            format!("contract {}", k.id.as_str()),
            k.party.value.clone(),
            k.expires.map(|d| d.to_string()).unwrap_or_default(),
            st,
        ));
        if st == "expired" {
            out.overdue
                .entry(k.party.value.clone())
                .or_default()
                .push(format!("{name}: contract {}", k.id.as_str()));
        }
    }
    for (pid, party) in &e.parties {
        for at in &party.attestations {
            let st = date_status(at.expires, as_of, warn);
            if st == "in force" {
                continue;
            }
            out.expiring.push(item(
                format!("{} attestation", at.framework.as_str()),
                pid.clone(),
                at.expires.map(|d| d.to_string()).unwrap_or_default(),
                st,
            ));
            if st == "expired" {
                out.overdue
                    .entry(pid.clone())
                    .or_default()
                    .push(format!("{name}: {} attestation", at.framework.as_str()));
            }
        }
    }
    let reg = demarc_compliance::evidence::register(res, &BTreeMap::new(), warn);
    for en in &reg.entries {
        let st = match en.currency {
            Currency::Current => continue,
            Currency::Expiring => "expiring",
            Currency::Expired => "expired",
        };
        let party = if en.renew_by.is_empty() {
            "nobody named".to_string()
        } else {
            en.renew_by.join(", ")
        };
        out.evidence.push(item(
            format!(
                "{} for {}{}",
                en.reference,
                en.control,
                en.asset
                    .as_ref()
                    .map(|a| format!(" on {a}"))
                    .unwrap_or_default()
            ),
            party.clone(),
            en.valid_until.to_string(),
            st,
        ));
        if st == "expired" {
            out.overdue
                .entry(party)
                .or_default()
                .push(format!("{name}: evidence {}", en.reference));
        }
    }
    // Incidents nobody signed off are the customer's to close.
    for g in gaps.gaps.iter().filter(|g| g.code == "DM019") {
        out.overdue
            .entry(res.accountable().to_string())
            .or_default()
            .push(format!("{name}: {}", g.title));
    }
    for g in gaps
        .gaps
        .iter()
        .filter(|g| g.code == "DM019" || g.code == "DM020")
    {
        out.incidents.push(DueItem {
            estate: name.to_string(),
            href: format!("{href}/findings"),
            what: g.title.clone(),
            party: res.accountable().to_string(),
            date: res.as_of().to_string(),
            status: if g.code == "DM019" {
                "review open"
            } else {
                "repeated failure"
            },
        });
    }
}

pub async fn page(State(state): State<AppState>, Viewer(p): Viewer) -> UiResult<Response> {
    let mine: Vec<String> = state
        .store
        .memberships(&p.user.id)
        .await?
        .into_iter()
        .map(|m| m.org_id)
        .collect();
    let mut estates = Vec::new();
    let mut lists = Lists::default();
    for o in state.store.orgs().await? {
        if !p.user.superadmin && !mine.contains(&o.id) {
            continue;
        }
        for (row, role) in access::visible_estates(&state, &p, &o).await? {
            let a = EstateAccess {
                org: o.clone(),
                estate: row,
                role,
            };
            let href = format!("/orgs/{}/estates/{}", o.slug, a.estate.slug);
            let mut line = EstateLine {
                org: o.name.clone(),
                name: a.estate.name.clone(),
                href: href.clone(),
                role: role.as_str(),
                head: a.estate.head,
                counts: vec![0; 5],
                total: 0,
                accepted: 0,
                error: None,
            };
            // One estate that does not open is a line on the dashboard, not a broken page.
            match opened(&state, &a, &At::default()).await {
                Ok((_, o)) => {
                    let name = a.estate.name.clone();
                    let h = href.clone();
                    let (analysis, part) = tokio::task::spawn_blocking(move || {
                        let res = o.res();
                        let analysis = o.analysis();
                        let mut part = Lists::default();
                        collect(res, &name, &h, &analysis, &mut part);
                        // Scanner findings past their SLA, by the party that must fix them;
                        // a damaged snapshot is for the Findings tab to report.
                        if let Ok(Some(f)) = o.findings_by_party() {
                            for g in f.groups.iter().filter(|g| g.overdue > 0) {
                                part.overdue.entry(g.key.clone()).or_default().push(format!(
                                    "{name}: {} overdue finding{}",
                                    g.overdue,
                                    if g.overdue == 1 { "" } else { "s" }
                                ));
                            }
                        }
                        (analysis, part)
                    })
                    .await
                    .map_err(ApiError::internal)?;
                    for g in &analysis.gaps {
                        let s = severity_str(g.severity.into());
                        if let Some(i) = SEVERITIES.iter().position(|x| *x == s) {
                            line.counts[i] += 1;
                        }
                        if g.accepted.is_some() {
                            line.accepted += 1;
                        }
                    }
                    line.total = analysis.gaps.len();
                    lists.reviews.extend(part.reviews);
                    lists.expiring.extend(part.expiring);
                    lists.evidence.extend(part.evidence);
                    lists.incidents.extend(part.incidents);
                    for (k, v) in part.overdue {
                        lists.overdue.entry(k).or_default().extend(v);
                    }
                }
                Err(e) => line.error = Some(e.message),
            }
            estates.push(line);
        }
    }
    let by_date = |a: &DueItem, b: &DueItem| a.date.cmp(&b.date);
    lists.reviews.sort_by(by_date);
    lists.expiring.sort_by(by_date);
    lists.evidence.sort_by(by_date);
    let overdue = lists
        .overdue
        .into_iter()
        .map(|(party, v)| PartyLine {
            party,
            count: v.len(),
            what: v.join("; "),
        })
        .collect();
    Ok(render(&Dashboard {
        l: Layout::new("Dashboard", &p),
        severities: SEVERITIES,
        estates,
        overdue,
        sections: vec![
            Section {
                id: "reviews-h",
                title: "Reviews due",
                items: lists.reviews,
            },
            Section {
                id: "expiring-h",
                title: "Contracts and attestations expiring",
                items: lists.expiring,
            },
            Section {
                id: "evidence-h",
                title: "Evidence expiring",
                items: lists.evidence,
            },
            Section {
                id: "incidents-h",
                title: "Incidents: open post-incident reviews and repeated failures",
                items: lists.incidents,
            },
        ],
    }))
}
