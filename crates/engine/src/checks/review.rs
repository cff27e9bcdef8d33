//! Is the model still looked at? Reviews out of cadence (DM008) and assets added since the
//! last review (DM009).

use std::collections::BTreeSet;

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, codes, text};
use crate::resolve::Resolution;

pub struct Reviews;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::REVIEW_STALE,
        name: "review-stale",
        severity: "medium",
        summary: "the model was never reviewed, or not within `review_cadence`",
    },
    CodeInfo {
        code: codes::ADDED_SINCE_REVIEW,
        name: "added-since-review",
        severity: "low",
        summary: "assets were added after the last review",
    },
];

impl Check for Reviews {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let cadence = estate.settings.review_cadence;
        // One identity whether the model was never reviewed or only long ago: both mean the
        // same thing to fix, and a baseline that accepted one must not miss the other's return.
        let hit = || Hit {
            code: codes::REVIEW_STALE,
            key: "review".into(),
            severity: Severity::Medium,
            members: Members::None,
            cells_per_member: 0,
        };
        let Some(last) = estate.reviews.iter().max_by_key(|r| r.date) else {
            out.hit(
                hit(),
                || Draft {
                    title: text("the responsibility model has never been reviewed"),
                    fix: text("review it with the owners and record `reviews: [{date: YYYY-MM-DD, by: name}]`"),
                    control: None,
                },
                [],
            );
            return;
        };
        let age = res.as_of.signed_duration_since(last.date).num_days();
        // A template's own, stricter cadence, for the assets it is applied to.
        for (name, t) in &estate.templates {
            let Some(tc) = t.review_cadence else { continue };
            if age <= tc.days() {
                continue;
            }
            let classes: Vec<u32> = res
                .prepared
                .classes
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.templates
                        .iter()
                        .any(|&a| estate.apply[a as usize].template.as_str() == name)
                })
                .map(|(i, _)| i as u32)
                .collect();
            if classes.is_empty() {
                continue;
            }
            let at = estate.cite(t.loc);
            out.hit(
                Hit {
                    code: codes::REVIEW_STALE,
                    key: format!("review:template:{name}"),
                    severity: Severity::Medium,
                    members: Members::Classes(&classes),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "assets under template `{name}` were last reviewed {age} days ago ({}); the template's cadence is {tc}",
                        last.date
                    )),
                    fix: text("review who owns these assets' duties and add the review to `reviews`"),
                    control: None,
                },
                [format!("template {name}: review_cadence = {tc} at {at}")],
            );
        }
        if age > cadence.days() {
            out.hit(
                hit(),
                || Draft {
                    title: text(format!(
                        "last review was {age} days ago ({} by {}); the cadence is {cadence}",
                        last.date, last.by
                    )),
                    fix: text("review the model with its owners and add the review to `reviews`"),
                    control: None,
                },
                [format!("settings.review_cadence = {cadence}")],
            );
        }
        let added: Vec<u32> = res
            .prepared
            .order
            .iter()
            .copied()
            .filter(|&i| {
                estate.assets[i as usize]
                    .added
                    .is_some_and(|d| d > last.date)
            })
            .collect();
        if added.is_empty() {
            return;
        }
        let services: BTreeSet<&str> = added
            .iter()
            .map(|&i| estate.assets[i as usize].service.as_str())
            .collect();
        let services = services.into_iter().collect::<Vec<_>>().join(", ");
        let n = added.len();
        let last_date = last.date;
        out.hit(
            Hit {
                code: codes::ADDED_SINCE_REVIEW,
                key: "assets".into(),
                severity: Severity::Low,
                members: Members::Assets(&added),
                cells_per_member: 0,
            },
            || Draft {
                title: text(format!(
                    "{} ({services}) {} added after the last review on {last_date}",
                    if n == 1 {
                        "1 asset".to_string()
                    } else {
                        format!("{n} assets")
                    },
                    if n == 1 { "was" } else { "were" }
                )),
                fix: text("review who owns the new assets' duties and record the review"),
                control: None,
            },
            [],
        );
    }
}
