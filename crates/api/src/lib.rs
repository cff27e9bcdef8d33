//! The public JSON contract of demarc: the only types that become JSON.
//!
//! Engine types never derive `Serialize`; a command's JSON is one of the owned, versioned types
//! here, converted from the engine's results. The same types will serve the REST API and the
//! policy (Rego) input. Every type serializes, deserializes (so consumers and tests can read
//! it back) and derives a JSON Schema (`demarc schema check`, …).
//!
//! **Stability (v1):** fields are added, never renamed or removed; enum values are never
//! renamed. Schema snapshots in `tests/` fail on any change, so a change is always a decision.
//!
//! ```
//! let schema = demarc_api::schema("check").unwrap();
//! assert_eq!(schema["title"], "CheckV1");
//! ```

pub mod annex;
pub mod compliance;
pub mod findings;
pub mod inventory;
pub mod server;
pub mod v1;

pub use annex::*;
pub use compliance::*;
pub use findings::*;
pub use inventory::*;
pub use server::*;
pub use v1::*;

/// The names of the output shapes whose schema `demarc schema NAME` prints.
pub const SCHEMAS: [&str; 24] = [
    "check",
    "cells",
    "cell",
    "gap",
    "triage",
    "callsheet",
    "explain",
    "drill",
    "drill-scenario",
    "compliance",
    "compliance-cross",
    "requirement",
    "evidence",
    "audit-pack",
    "annex",
    "annex-diff",
    "incidents",
    "inventory",
    "policy",
    "ingest",
    "drift",
    "findings",
    "finding",
    "findings-ingest",
];

/// The JSON Schema of one output shape, by name (see [`SCHEMAS`]).
pub fn schema(name: &str) -> Option<serde_json::Value> {
    let s = match name {
        "check" => schemars::schema_for!(v1::CheckV1),
        "cells" => schemars::schema_for!(v1::CellsV1),
        "cell" | "explain" => schemars::schema_for!(v1::CellV1),
        "gap" => schemars::schema_for!(v1::GapV1),
        "triage" => schemars::schema_for!(v1::TriageV1),
        "callsheet" => schemars::schema_for!(v1::CallSheetV1),
        "drill" => schemars::schema_for!(v1::DrillV1),
        "drill-scenario" => schemars::schema_for!(v1::DrillScenarioV1),
        "compliance" => schemars::schema_for!(compliance::ComplianceV1),
        "compliance-cross" => schemars::schema_for!(compliance::ComplianceCrossV1),
        "requirement" => schemars::schema_for!(compliance::RequirementV1),
        "evidence" => schemars::schema_for!(compliance::EvidenceRegisterV1),
        "audit-pack" => schemars::schema_for!(compliance::AuditPackV1),
        "annex" => schemars::schema_for!(annex::AnnexV1),
        "annex-diff" => schemars::schema_for!(annex::AnnexDiffV1),
        "incidents" => schemars::schema_for!(annex::IncidentsV1),
        "inventory" => schemars::schema_for!(inventory::InventoryV1),
        "policy" => schemars::schema_for!(inventory::PolicyV1),
        "ingest" => schemars::schema_for!(inventory::IngestV1),
        "drift" => schemars::schema_for!(inventory::DriftV1),
        "findings" => schemars::schema_for!(findings::FindingsV1),
        "finding" => schemars::schema_for!(findings::FindingV1),
        "findings-ingest" => schemars::schema_for!(findings::FindingsIngestV1),
        _ => return None,
    };
    serde_json::to_value(s).ok()
}
