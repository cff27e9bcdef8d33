//! Drift between what the estate declares and what discovery found (DM021–DM025).
//!
//! The engine never reads snapshots: the caller (`demarc-ingest`) compares the latest
//! inventory snapshot with the estate and with the snapshot before it and passes the result
//! in as [`DriftFacts`], plain ids and dates. [`Drift`] turns the facts into gaps with the
//! same identities, severities and grouping as every other check, through
//! [`crate::analyse_with_checks`]. It is not in [`super::builtin`] (it needs facts), but its
//! codes are in [`crate::codes::all`].

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, text};
use crate::resolve::Resolution;

pub const UNDECLARED: &str = "DM021";
pub const MISSING: &str = "DM022";
pub const UNMAPPED_TYPE: &str = "DM023";
pub const CHANGED: &str = "DM024";
pub const NEW_SERVICE: &str = "DM025";

pub(crate) const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: UNDECLARED,
        name: "undeclared-asset",
        severity: "medium; high in a production env or with regulated data",
        summary: "discovery found an asset the estate does not declare",
    },
    CodeInfo {
        code: MISSING,
        name: "missing-asset",
        severity: "low",
        summary: "a declared asset is not in the latest inventory snapshot",
    },
    CodeInfo {
        code: UNMAPPED_TYPE,
        name: "unmapped-resource-type",
        severity: "low",
        summary: "discovered resources have a type no catalog service lists",
    },
    CodeInfo {
        code: CHANGED,
        name: "asset-changed",
        severity: "medium",
        summary: "an asset's service, env or data class changed since the previous snapshot",
    },
    CodeInfo {
        code: NEW_SERVICE,
        name: "unreviewed-service",
        severity: "medium",
        summary: "a service first seen after the latest review: a review is due",
    },
];

/// What the caller found by comparing snapshots, in ids the estate knows.
#[derive(Debug, Clone, Default)]
pub struct DriftFacts {
    /// Asset ids in the latest snapshot that no estate file declares.
    pub undeclared: Vec<String>,
    /// Declared asset ids absent from the latest snapshot.
    pub missing: Vec<String>,
    /// `(format, type, count)` of resources no catalog service lists.
    pub unmapped: Vec<(String, String, u64)>,
    /// `(asset id, field, before, after)` for each change since the previous snapshot.
    pub changed: Vec<(String, String, String, String)>,
    /// `(service, first seen, asset ids)` for services first seen after the latest review
    /// (or never reviewed).
    pub new_services: Vec<(String, NaiveDate, Vec<String>)>,
    /// The snapshot the facts come from (for the basis).
    pub snapshot: String,
}

/// The drift check over [`DriftFacts`].
pub struct Drift(pub DriftFacts);

impl Drift {
    /// The codes drift reports.
    pub fn all_codes() -> &'static [CodeInfo] {
        CODES
    }
}

impl Check for Drift {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let catalog = res.catalog();
        let index: HashMap<&str, u32> = estate
            .assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.value.as_str(), i as u32))
            .collect();
        let ix = |id: &str| index.get(id).copied();
        let snap = format!("inventory snapshot {}", self.0.snapshot);
        for id in &self.0.undeclared {
            let Some(i) = ix(id) else { continue };
            let a = &estate.assets[i as usize];
            let exposed = a
                .env
                .as_deref()
                .is_some_and(|e| catalog.is_production_env(e))
                || a.data.iter().any(|d| catalog.is_regulated_data(d));
            let what = a.external_id.clone().unwrap_or_else(|| a.id.value.clone());
            let service = a.service.value.to_string();
            out.hit(
                Hit {
                    code: UNDECLARED,
                    key: format!("drift:undeclared:{service}"),
                    severity: if exposed {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    members: Members::Assets(&[i]),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "discovery found `{service}` assets nobody declared (such as {what})"
                    )),
                    fix: text(
                        "declare them under `assets:` with an owner (or give a declared asset their `external_id`), or decommission them",
                    ),
                    control: Some("asset-inventory".into()),
                },
                [snap.clone()],
            );
        }
        for id in &self.0.missing {
            let Some(i) = ix(id) else { continue };
            let at = estate.cite(estate.assets[i as usize].id.loc);
            out.hit(
                Hit {
                    code: MISSING,
                    key: format!("drift:missing:{id}"),
                    severity: Severity::Low,
                    members: Members::Assets(&[i]),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "declared asset `{id}` is not in the latest inventory snapshot"
                    )),
                    fix: text(
                        "remove the asset from the estate if it is gone, or ingest the inventory that covers it",
                    ),
                    control: Some("asset-inventory".into()),
                },
                [format!("declared at {at}"), snap.clone()],
            );
        }
        for (format, ty, count) in &self.0.unmapped {
            out.hit(
                Hit {
                    code: UNMAPPED_TYPE,
                    key: format!("drift:unmapped:{format}:{ty}"),
                    severity: Severity::Low,
                    members: Members::None,
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "{count} discovered resource{} of {format} type `{ty}` map to no catalog service",
                        if *count == 1 { "" } else { "s" }
                    )),
                    fix: text(format!(
                        "add `{ty}` to the `resource_types.{format}` of the service it stands for (a catalog overlay), so its responsibilities are drawn"
                    )),
                    control: Some("asset-inventory".into()),
                },
                [snap.clone()],
            );
        }
        for (id, field, before, after) in &self.0.changed {
            let Some(i) = ix(id) else { continue };
            out.hit(
                Hit {
                    code: CHANGED,
                    key: format!("drift:changed:{id}:{field}"),
                    severity: Severity::Medium,
                    members: Members::Assets(&[i]),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "asset `{id}` changed its {field} from `{before}` to `{after}` since the previous snapshot"
                    )),
                    fix: text(
                        "check that the rules and contracts that cover it still fit, and record it in the estate",
                    ),
                    control: Some("configuration-drift".into()),
                },
                [snap.clone()],
            );
        }
        let last_review = estate.reviews.iter().map(|r| r.date).max();
        for (service, first, ids) in &self.0.new_services {
            let members: Vec<u32> = ids.iter().filter_map(|id| ix(id)).collect();
            let since = match last_review {
                Some(d) => format!("after the latest review ({d})"),
                None => "and the model was never reviewed".to_string(),
            };
            out.hit(
                Hit {
                    code: NEW_SERVICE,
                    key: format!("drift:new-service:{service}"),
                    severity: Severity::Medium,
                    members: Members::Assets(&members),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "service `{service}` was first seen on {first}, {since}: a review is due"
                    )),
                    fix: text(
                        "review who owns the new service's duties and add the review to `reviews`",
                    ),
                    control: None,
                },
                [snap.clone()],
            );
        }
    }
}
