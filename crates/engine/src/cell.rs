//! What resolution produces for one asset × control × duty.

use demarc_model::{Duration, Duty, Origin};

use crate::rules::RuleId;

/// CSA CCM SSRM ownership of a cell, from the customer's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ownership {
    /// The cloud service provider performs it; the customer inherits it.
    CspOwned,
    /// The customer performs it with its own teams.
    CscOwned,
    /// Provider and customer each do part of it.
    Shared,
    /// Outsourced by the customer to a third party (an MSSP or vendor) under contract.
    ThirdParty,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::CspOwned => "csp-owned",
            Ownership::CscOwned => "csc-owned",
            Ownership::Shared => "shared",
            Ownership::ThirdParty => "third-party",
        }
    }
    /// FedRAMP control origination wording for the same fact.
    pub fn origination(self) -> &'static str {
        match self {
            Ownership::CspOwned => "inherited",
            Ownership::CscOwned => "customer responsibility",
            Ownership::Shared => "shared",
            Ownership::ThirdParty => "customer responsibility (outsourced)",
        }
    }
}

/// The kind of party doing a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Provider,
    Customer,
    Mssp,
    Vendor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Customer => "customer",
            Role::Mssp => "mssp",
            Role::Vendor => "vendor",
        }
    }
}

/// One party (or team) responsible for a cell or for its side of a shared cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub party: String,
    pub team: Option<String>,
    pub role: Role,
    /// Named in writing (contract, assignment, override or provider document).
    pub named: bool,
    /// What this side does, for a shared cell.
    pub does: Option<String>,
    /// Who actually performs the work on this party's behalf, in order (a subcontractor,
    /// or the IaaS a SaaS vendor runs on).
    pub via: Vec<String>,
    /// False when the party is only known from the catalog (no party in the estate).
    pub declared: bool,
}

impl Assignee {
    /// `acme/dba`, `shieldco`, `vendor → aws`.
    pub fn label(&self) -> String {
        let mut s = match &self.team {
            Some(t) => format!("{}/{}", self.party, t),
            None => self.party.clone(),
        };
        for v in &self.via {
            s.push_str(" → ");
            s.push_str(v);
        }
        s
    }
}

/// The kind of rule a basis step cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BasisKind {
    Override,
    Contract,
    Assignment,
    ServiceCatalog,
    GenericModel,
    Default,
    /// A rule that matched but lost to a more specific or higher-precedence one.
    Superseded,
    /// A rule that would have matched but has expired or is not yet in effect.
    Lapsed,
}

impl BasisKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BasisKind::Override => "override",
            BasisKind::Contract => "contract",
            BasisKind::Assignment => "assignment",
            BasisKind::ServiceCatalog => "service-catalog",
            BasisKind::GenericModel => "generic-model",
            BasisKind::Default => "default",
            BasisKind::Superseded => "superseded",
            BasisKind::Lapsed => "lapsed",
        }
    }
}

/// One step of the chain of rules behind a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    pub kind: BasisKind,
    /// What the rule says, with a readable name (e.g. `contract shieldco-msa §4.2`). Shared:
    /// every cell that cites the same rule the same way holds one copy of its text (a clause
    /// can quote up to 16 KiB, and thousands of cells may cite it).
    pub rule: std::sync::Arc<str>,
    /// The estate rule's content-derived id; `None` for catalog and default steps.
    pub rule_id: Option<RuleId>,
    /// `file:line` of the rule in the estate.
    pub at: Option<String>,
    /// Where the rule or catalog entry comes from: an estate file and line, an inventory
    /// record, an overlay file, or built-in catalog data.
    pub origin: Origin,
    /// The public document behind a catalog entry.
    pub url: Option<String>,
}

/// The resolution of one control × duty for every asset of a class.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Index into the catalog's controls; use [`crate::Resolution::control_of`].
    pub(crate) control: usize,
    pub duty: Duty,
    pub ownership: Ownership,
    pub responsible: Vec<Assignee>,
    /// No document decided this cell: the customer is responsible by default.
    pub assumed: bool,
    /// The customer's side has nobody named in writing.
    pub unassigned: bool,
    /// Other parties or teams that rules of the same rank name for this cell.
    pub contested: Vec<String>,
    /// Shared between owners without a written split of what each does.
    pub unsplit: bool,
    pub basis: Vec<Basis>,
    /// Response time from the deciding contract clause.
    pub sla: Option<Duration>,
    pub cadence: Option<Duration>,
    /// Index of the rule that decided the customer's side, if any.
    pub(crate) rule: Option<usize>,
    /// Indices of expired rules that would otherwise have applied.
    pub(crate) lapsed: Vec<usize>,
}

impl Cell {
    /// The basis step that decided the cell: the override, contract clause or assignment that
    /// applied, else the catalog (or default) step that drew the line.
    pub fn decisive(&self) -> Option<&Basis> {
        self.basis
            .iter()
            .rev()
            .find(|b| {
                matches!(
                    b.kind,
                    BasisKind::Override | BasisKind::Contract | BasisKind::Assignment
                )
            })
            .or_else(|| self.basis.first())
    }
    /// True when nobody is named, owners contest it, or a share has no written split.
    pub fn has_problem(&self) -> bool {
        self.unassigned || self.unsplit || !self.contested.is_empty()
    }
    /// Everyone responsible, joined for one table cell: `aws + acme/dba`.
    pub fn responsible_label(&self) -> String {
        self.responsible
            .iter()
            .map(|a| {
                if a.named {
                    a.label()
                } else {
                    format!("{} (unassigned)", a.label())
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}
