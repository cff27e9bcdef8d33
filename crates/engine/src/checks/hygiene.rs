//! Mistakes that silently switch other checks off: rules whose scope matches no asset
//! (DM014), and dates after the analysis date that make a review, evidence or attestation look
//! current for years (DM015).

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, text};
use crate::resolve::Resolution;

pub struct Hygiene;

pub const UNMATCHED_RULE: &str = "DM014";
pub const FUTURE_DATE: &str = "DM015";

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: UNMATCHED_RULE,
        name: "rule-unmatched",
        severity: "low",
        summary: "a clause, assignment or override in force matches no asset (often a typo in its scope)",
    },
    CodeInfo {
        code: FUTURE_DATE,
        name: "future-date",
        severity: "medium",
        summary: "a review, evidence, attestation or asset date lies after the analysis date",
    },
];

impl Check for Hygiene {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let prepared = &res.prepared;
        let mut matched = vec![false; prepared.rules.len()];
        for k in &prepared.keys {
            for &r in &k.rules {
                matched[r] = true;
            }
        }
        for (i, rule) in prepared.rules.iter().enumerate() {
            // A rule that has ended is DM004's (at `info` when it covers nothing).
            if matched[i] || res.states[i].ended.is_some() {
                continue;
            }
            let name = rule.title();
            out.hit(
                Hit {
                    code: UNMATCHED_RULE,
                    key: rule.id.to_string(),
                    severity: Severity::Low,
                    members: Members::None,
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!("{name} matches no asset, so it decides nothing")),
                    fix: text("check its scope against the assets (a misspelt tag value, env or service id is the usual cause), or remove the rule"),
                    control: None,
                },
                [format!("{} at {}", rule.title(), estate.cite(rule.at))],
            );
        }

        let as_of = res.as_of;
        let mut future = |key: String, what: String, at: String| {
            out.hit(
                Hit {
                    code: FUTURE_DATE,
                    key,
                    severity: Severity::Medium,
                    members: Members::None,
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!("{what} is after the analysis date {as_of}, so it is treated as current and hides staleness")),
                    fix: text("correct the date (a mistyped year is the usual cause), or analyse as of a later date with --as-of"),
                    control: None,
                },
                [at],
            );
        };
        for r in &estate.reviews {
            if r.date > as_of {
                future(
                    format!("review:{}", r.date),
                    format!("review by {} dated {}", r.by, r.date),
                    "reviews".to_string(),
                );
            }
        }
        for e in &estate.evidence {
            if e.collected > as_of {
                let subject = e.asset.as_ref().map(|a| a.value.as_str()).unwrap_or("*");
                future(
                    format!("evidence:{}:{subject}", e.control.value),
                    format!(
                        "evidence for {} ({}) collected {}",
                        e.control.value,
                        e.asset
                            .as_ref()
                            .map(|a| a.value.clone())
                            .unwrap_or_else(|| "all assets".into()),
                        e.collected
                    ),
                    estate.cite(e.loc),
                );
            }
        }
        for (key, p) in &estate.parties {
            for a in &p.attestations {
                if let Some(end) = a.period_end.filter(|d| *d > as_of) {
                    future(
                        format!("attestation:{key}:{}", a.framework.value),
                        format!("{key}'s {} report period ending {end}", a.framework.value),
                        estate.cite(a.framework.loc),
                    );
                }
            }
        }
        let added: Vec<&str> = estate
            .assets
            .iter()
            .filter(|a| a.added.is_some_and(|d| d > as_of))
            .map(|a| a.id.as_str())
            .collect();
        if !added.is_empty() {
            let mut ids = added.clone();
            ids.sort_unstable();
            let shown = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            let more = if ids.len() > 5 {
                format!(" and {} more", ids.len() - 5)
            } else {
                String::new()
            };
            future(
                "asset-added".into(),
                format!("the `added` date of {shown}{more}"),
                "assets".to_string(),
            );
        }
    }
}
