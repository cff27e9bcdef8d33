//! demarc's compliance layer: framework requirement catalogs (NIST SP 800-53 and its
//! baselines from OSCAL, FedRAMP 20x indicators, and the licensed frameworks as ids with our
//! own titles), and the rollup that projects a resolved estate onto a framework: for every
//! requirement, who carries it (inherited from a provider, the customer's teams, an MSSP,
//! shared), whether an attestation backs the inherited part, and whether the evidence is in.
//!
//! Pure like the engine: no I/O and no clock. File hashes for the evidence register are
//! computed by the caller and passed in.

pub mod frameworks;
pub mod ksi;
pub mod oscal;

pub use frameworks::{
    Baseline, ChoiceError, Library, Requirement, RequirementKind, RequirementSet,
};
pub use oscal::OscalError;
