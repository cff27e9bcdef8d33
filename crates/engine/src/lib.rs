//! The demarc engine: resolution and gap analysis, as pure functions over owned data.
//!
//! [`Prepared::new`] compiles an estate's policy (rules, scope matchers, asset classes) once;
//! [`Prepared::resolve`] decides, for every asset × applicable control × duty, who is
//! responsible (the provider, a customer team, an MSSP, or a split), that the customer stays
//! accountable, and the chain of rules that decided it. The result is an owned
//! [`Resolution`] (`Send + Sync`, in an `Arc`, carrying the estate and catalog it was computed
//! with) that answers questions through a small query API: [`Resolution::cell`] (or why there
//! is none: [`NotApplicable`]), [`Resolution::explain`], [`Resolution::who`],
//! [`Resolution::triage`] and [`Resolution::gaps`]. Nothing here does I/O or reads the clock:
//! the analysis date is an argument, so results reproduce in CI and audits.
//!
//! Precedence, highest first: estate override → contract clause → customer assignment →
//! service-specific catalog entry → generic service model → default (customer, assumed).
//! The catalog draws the demarc line (provider, customer or shared); contract clauses and
//! assignments say who performs the customer's side. Only an override moves the line itself.
//!
//! ```
//! use std::sync::Arc;
//! use demarc_catalog::Catalog;
//! use demarc_engine::{AnalyseOptions, resolve};
//! use demarc_model::Duty;
//! let estate = demarc_model::load_sources(vec![("e.yaml".into(), "version: 1\nestate: demo\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\nassets:\n  - {id: vm1, service: aws:ec2}\n".into())]).unwrap();
//! let res = resolve(Arc::new(estate), Arc::new(Catalog::builtin().clone()), chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
//! let vm = res.find_asset("vm1").unwrap();
//! assert!(res.cell(vm, "os-patching", Duty::Patch).unwrap().unassigned);
//! // Guest OS patching has no `configure` duty: a typed "no", never an empty answer.
//! assert!(matches!(
//!     res.cell(vm, "os-patching", Duty::Configure),
//!     Err(demarc_engine::NotApplicable::NoSuchDuty { .. })
//! ));
//! assert!(res.gaps(AnalyseOptions::default()).gaps.iter().any(|g| g.code == "DM001"));
//! ```

mod analyse;
mod annex;
mod callsheet;
mod cell;
mod checks;
mod drill;
mod incidents;
mod query;
mod resolve;
mod rules;
mod scope;

pub use analyse::{
    Accepted, AnalyseOptions, Analysis, Check, CodeInfo, Draft, Findings, Gap, GapRef, GroupText,
    Grouping, Hit, Members, Severity, Summary, Text, analyse, analyse_with, analyse_with_checks,
    codes, text,
};
pub use annex::{
    Annex, AnnexClause, AnnexContract, AnnexDuty, AnnexSystem, Comparison, EvidenceDue, KeptDuty,
    LeftOut, LogShare, log_controls,
};
pub use callsheet::{CallEntry, CallReason, CallSheet};
pub use cell::{Assignee, Basis, BasisKind, Cell, Ownership, Role};
pub use checks::drift::{Drift, DriftFacts};
pub use drill::{
    Drill, DrillCall, DutyLine, Inject, LogLine, Need, OwnerGroup, ProviderLine, Scenario,
    ScenarioError, Targets, builtin_scenario, builtin_scenarios,
};
pub use incidents::{FailureKind, IncidentFacts, IncidentHolder, SignOff, Timing};
pub use query::{
    AssetIx, ClassInfo, Contact, EvidenceCoverage, Explanation, NotApplicable, RuleInfo,
    ServiceInfo, TableId, Triage,
};
pub use resolve::{Prepared, Resolution, ServiceKind, ownership, resolve};
pub use rules::{RuleId, RuleKind};
