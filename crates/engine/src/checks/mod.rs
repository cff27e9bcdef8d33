//! The built-in gap checks, one module per family. Each declares the codes it reports; the
//! registry is [`builtin`]. A new family is a new module and one line here; a check from
//! another crate goes through [`crate::analyse_with_checks`] instead.

pub(crate) mod acceptance;
mod attestation;
mod compliance_scope;
pub mod drift;
mod evidence;
mod expiry;
mod hygiene;
mod incidents;
mod ownership;
mod review;

use crate::analyse::Check;

pub use acceptance::ACCEPTANCE_UNMATCHED;
pub use compliance_scope::{OUT_OF_SCOPE, SCOPE_UNKNOWN};
pub(crate) use evidence::{Facts as EvidenceFacts, walk as evidence_walk};
pub use hygiene::{FUTURE_DATE, UNMATCHED_RULE};
pub use incidents::{INCIDENT_REPEATED, INCIDENT_REVIEW_OPEN};

/// The built-in checks, in the order they run (the order does not change the result: gaps
/// are sorted at the end).
pub fn builtin() -> [&'static dyn Check; 9] {
    [
        &ownership::Ownership,
        &expiry::Expiry,
        &attestation::Attestations,
        &review::Reviews,
        &evidence::Evidence,
        &hygiene::Hygiene,
        &acceptance::Acceptances,
        &compliance_scope::ComplianceScope,
        &incidents::Incidents,
    ]
}
