//! Risk acceptances (`accepted:` in the estate): a gap the organisation knowingly lives with,
//! with a reason, an approver and an expiry date. An accepted gap stays in the output, marked,
//! and does not count for `--fail-on`; on its expiry date it is an open gap again, and
//! `expiry_warning` before that a DM005 says so. An acceptance that covers no gap is reported
//! (DM016): it is stale, or its key is mistyped and the gap it meant is still open.
//!
//! This runs on the finished gaps (it needs their keys), so [`Acceptances`] only declares the
//! code and [`apply`] is called by the analysis.

use chrono::NaiveDate;

use crate::analyse::{Accepted, Check, CodeInfo, Findings, Gap, Severity, codes};
use crate::resolve::Resolution;

pub const ACCEPTANCE_UNMATCHED: &str = "DM016";

pub struct Acceptances;

const CODES: &[CodeInfo] = &[CodeInfo {
    code: ACCEPTANCE_UNMATCHED,
    name: "acceptance-unmatched",
    severity: "low",
    summary: "a risk acceptance in force covers no gap (the gap is gone, or the key is mistyped)",
}];

impl Check for Acceptances {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }
    fn run<'r>(&self, _: &'r Resolution, _: &mut Findings<'r>) {}
}

/// `*` matches any run of characters; everything else literally.
pub(crate) fn matches(pattern: &str, key: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == key;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !key.starts_with(first) || key.len() < first.len() + last.len() || !key.ends_with(last) {
        return false;
    }
    let mut rest = &key[first.len()..key.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

fn plain_gap(
    code: &'static str,
    key: String,
    severity: Severity,
    title: String,
    fix: String,
    basis: Vec<String>,
) -> Gap {
    Gap {
        code,
        kind: codes::name(code),
        key: format!("{code}:{key}"),
        severity,
        title,
        control: None,
        duties: Vec::new(),
        assets: Vec::new(),
        asset_count: 0,
        cells: 0,
        basis,
        fix,
        group: None,
        controls: Vec::new(),
        members: Vec::new(),
        accepted: None,
        new: None,
        group_text: None,
    }
}

/// Marks the gaps that an acceptance in force covers, and reports acceptances that end soon
/// (DM005), have ended (in the gap's basis) or cover nothing (DM016).
pub(crate) fn apply(res: &Resolution, gaps: &mut Vec<Gap>) {
    let estate = res.estate();
    let as_of = res.as_of;
    let warn = estate.settings.expiry_warning;
    let mut extra = Vec::new();
    for acc in &estate.accepted {
        let pattern = acc.gap.as_str();
        let at = estate.cite(acc.loc);
        let in_force = as_of < acc.expires;
        let mut covered = 0;
        for g in gaps.iter_mut() {
            if !matches(pattern, &g.key) {
                continue;
            }
            if !in_force {
                g.basis.push(format!(
                    "risk acceptance `{pattern}` ended {} (approved by {}) at {at}",
                    acc.expires, acc.approved_by
                ));
                continue;
            }
            if g.accepted.is_some() {
                covered += 1;
                continue;
            }
            covered += 1;
            g.accepted = Some(Accepted {
                pattern: pattern.to_string(),
                reason: acc.reason.trim().to_string(),
                approved_by: acc.approved_by.trim().to_string(),
                expires: acc.expires,
                at: at.clone(),
            });
        }
        if !in_force {
            continue;
        }
        if covered == 0 {
            extra.push(plain_gap(
                ACCEPTANCE_UNMATCHED,
                pattern.to_string(),
                Severity::Low,
                format!("the risk acceptance of `{pattern}` covers no gap"),
                "remove it if the gap was fixed; otherwise copy the gap's `key` from `demarc check --format json` (a mistyped key leaves the gap open)".into(),
                vec![format!("accepted: `{pattern}` at {at}")],
            ));
        } else if days_until(as_of, acc.expires) <= warn.days() {
            extra.push(plain_gap(
                codes::EXPIRING,
                format!("accepted:{pattern}"),
                Severity::Low,
                format!(
                    "the risk acceptance of `{pattern}` ends on {} ({} days): the gap counts again then",
                    acc.expires,
                    days_until(as_of, acc.expires)
                ),
                "fix the gap, or review the risk and renew the acceptance with a new `expires` and approval".into(),
                vec![format!("accepted: `{pattern}` (approved by {}) at {at}", acc.approved_by)],
            ));
        }
    }
    gaps.extend(extra);
}

fn days_until(from: NaiveDate, to: NaiveDate) -> i64 {
    to.signed_duration_since(from).num_days()
}
