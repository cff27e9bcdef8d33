//! The demarc engine: resolution and gap analysis, as pure functions.
//!
//! [`resolve`] decides, for every asset × applicable control × duty, who is responsible (the
//! provider, a customer team, an MSSP, or a split), that the customer stays accountable, and
//! the chain of rules that decided it. [`analyse`] finds what is missing. Neither does I/O or
//! reads the clock: the analysis date is an argument, so results reproduce in CI and audits.
//!
//! Precedence, highest first: estate override → contract clause → customer assignment →
//! service-specific catalog entry → generic service model → default (customer, assumed).
//! The catalog draws the demarc line (provider, customer or shared); contract clauses and
//! assignments say who performs the customer's side. Only an override moves the line itself.
//!
//! ```
//! use demarc_catalog::Catalog;
//! use demarc_engine::{analyse, resolve};
//! let estate = demarc_model::load_sources(vec![("e.yaml".into(), "version: 1\nestate: demo\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\nassets:\n  - {id: vm1, service: aws:ec2}\n".into())]).unwrap();
//! let res = resolve(&estate, Catalog::builtin(), chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
//! let patch = res.cells_of(0).iter().find(|c| res.control(c).id == "os-patching" && c.duty == demarc_model::Duty::Patch).unwrap();
//! assert!(patch.unassigned);
//! assert!(analyse(&res).gaps.iter().any(|g| g.code == "DM001"));
//! ```

mod analyse;
mod cell;
mod resolve;
mod scope;

pub use analyse::{AnalyseOptions, Analysis, Gap, Severity, Summary, analyse, analyse_with, codes};
pub use cell::{Assignee, Basis, BasisKind, Cell, Ownership, Role};
pub use resolve::{Class, Resolution, Rule, RuleKind, ServiceKind, Table, ownership, resolve};
