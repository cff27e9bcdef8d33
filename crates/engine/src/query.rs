//! The query API: every consumer (CLI, reports, the server) asks a [`Resolution`] these
//! questions instead of reaching into its tables. Each answer is computed from the kept
//! result in time independent of the estate's size (a binary search and a scan of one
//! table's cells).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, Control};
use demarc_model::{Asset, Duration, Duty, Estate, suggest};

use crate::analyse::{AnalyseOptions, Analysis};
use crate::cell::{Basis, Cell};
use crate::resolve::{Resolution, ServiceKind};
use crate::rules::{RuleId, RuleKind};

/// An asset of a resolution (its position in the estate). Cheap to copy; only meaningful
/// for the resolution it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetIx(pub(crate) u32);

impl AssetIx {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The cells shared by assets that look alike to every rule. Renderers use it to format a
/// table's cells once for all of its assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableId(pub(crate) usize);

impl TableId {
    pub fn index(self) -> usize {
        self.0
    }
}

/// Why a question about an asset, control and duty has no cell to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApplicable {
    /// No asset has this id.
    UnknownAsset {
        id: String,
        suggestion: Option<String>,
    },
    /// The catalog has no such control.
    UnknownControl {
        id: String,
        suggestion: Option<String>,
    },
    /// The control exists but has no such duty.
    NoSuchDuty {
        control: String,
        duty: Duty,
        duties: Vec<Duty>,
    },
    /// The control's layer is not part of the service's model (endpoints on a managed
    /// database, say).
    LayerNotInModel {
        control: String,
        layer: String,
        service: String,
        model: String,
    },
    /// No control that applies to the asset has this duty (nobody patches a SaaS tenant's
    /// hypervisor from the customer's side, say).
    NoDutyOnAsset {
        asset: String,
        service: String,
        duty: Duty,
    },
    /// The control is limited to some models, and the service's model is not one of them
    /// (database engine patching on IaaS, say).
    NotForModel {
        control: String,
        service: String,
        model: String,
        applies_to: Vec<String>,
    },
}

impl fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotApplicable::UnknownAsset { id, .. } => write!(f, "unknown asset `{id}`"),
            NotApplicable::UnknownControl { id, .. } => write!(f, "unknown control `{id}`"),
            NotApplicable::NoSuchDuty { control, duty, .. } => {
                write!(f, "control `{control}` has no `{duty}` duty")
            }
            NotApplicable::NoDutyOnAsset {
                asset,
                service,
                duty,
            } => write!(
                f,
                "no control that applies to `{asset}` ({service}) has a `{duty}` duty"
            ),
            NotApplicable::LayerNotInModel {
                control, service, ..
            }
            | NotApplicable::NotForModel {
                control, service, ..
            } => write!(
                f,
                "control `{control}` does not apply to service `{service}`"
            ),
        }
    }
}

impl NotApplicable {
    /// What the user can do about it, in one line.
    pub fn help(&self) -> String {
        match self {
            NotApplicable::UnknownAsset { suggestion, .. } => match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "list the estate's assets with `demarc matrix`".into(),
            },
            NotApplicable::UnknownControl { suggestion, .. } => match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "list controls with `demarc catalog list controls`".into(),
            },
            NotApplicable::NoSuchDuty { duties, .. } => format!(
                "its duties are {}",
                duties
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            NotApplicable::NoDutyOnAsset { .. } => {
                "see the asset's duties with `demarc matrix --asset ID`".into()
            }
            NotApplicable::LayerNotInModel { layer, model, .. } => format!(
                "its layer `{layer}` is not part of the `{model}` service model, so nobody on either side has this duty"
            ),
            NotApplicable::NotForModel {
                model, applies_to, ..
            } => format!(
                "it applies only to the {} models, not `{model}`",
                applies_to.join(", ")
            ),
        }
    }
}

/// The explanation of one cell: the cell, its asset and control, and the step that decided it.
#[derive(Debug, Clone)]
pub struct Explanation<'r> {
    pub asset: &'r Asset,
    pub control: &'r Control,
    pub cell: &'r Arc<Cell>,
    pub accountable: &'r str,
    /// The basis step that decided the cell (see [`Cell::decisive`]).
    pub decisive: Option<&'r Basis>,
}

/// Someone to call about a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub party: String,
    pub team: Option<String>,
    pub name: String,
    pub contact: Option<String>,
    pub phone: Option<String>,
}

/// Who to call about one cell, how fast they must answer, and who next if they do not.
#[derive(Debug, Clone)]
pub struct Triage {
    pub asset: String,
    pub control: String,
    pub duty: Duty,
    pub cell: Arc<Cell>,
    pub accountable: String,
    pub contacts: Vec<Contact>,
    pub sla: Option<Duration>,
    /// Escalation steps in order; the accountable customer is always last.
    pub escalation: Vec<String>,
}

/// Evidence status of one class × control: see [`Resolution::evidence_coverage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceCoverage<'r> {
    /// Position in [`Resolution::classes`].
    pub class: usize,
    pub control: &'r str,
    /// Proven once for the whole organisation rather than per asset.
    pub organisation: bool,
    pub assets: usize,
    /// Assets with no evidence on file.
    pub missing: usize,
    /// Assets whose evidence is out of date.
    pub expired: usize,
}

/// One class of assets: see [`Resolution::classes`].
#[derive(Debug, Clone, Copy)]
pub struct ClassInfo<'r> {
    pub table: TableId,
    /// The catalog service the table resolves (a mode's variant is `<service>#<mode>`).
    pub service: &'r str,
    /// Estate party key of the provider, or the catalog provider id when the estate has none.
    pub provider: Option<&'r str>,
    pub kind: ServiceKind,
    pub env: Option<&'r str>,
    /// Data classes, sorted and without duplicates.
    pub data: &'r [demarc_model::Sym],
    /// Number of assets in the class.
    pub assets: usize,
    members: &'r [u32],
}

impl<'r> ClassInfo<'r> {
    /// The assets of the class, in id order.
    pub fn members(&self) -> impl ExactSizeIterator<Item = AssetIx> + 'r {
        self.members.iter().map(|&i| AssetIx(i))
    }
}

/// How an asset's service is understood: what the catalog knows of it and who provides it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo<'r> {
    pub service: &'r str,
    pub kind: ServiceKind,
    pub model: Option<&'r str>,
    pub provider: Option<&'r str>,
    /// The provider is a party of the estate (not only a catalog provider id).
    pub provider_declared: bool,
}

/// A rule of the estate, as the engine compiled it.
#[derive(Debug, Clone)]
pub struct RuleInfo<'r> {
    pub id: &'r RuleId,
    pub kind: RuleKind,
    pub name: &'r str,
    /// `file:line` where it is written.
    pub at: String,
    pub active: bool,
    pub ends: Option<NaiveDate>,
}

impl Resolution {
    pub fn estate(&self) -> &Estate {
        &self.prepared.estate
    }
    pub fn catalog(&self) -> &Catalog {
        &self.prepared.catalog
    }
    /// The catalog, shared.
    pub fn catalog_arc(&self) -> &Arc<Catalog> {
        &self.prepared.catalog
    }
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The party that stays accountable for every cell: the estate's customer.
    pub fn accountable(&self) -> &str {
        &self.prepared.estate.customer
    }

    /// Number of assets.
    pub fn asset_count(&self) -> usize {
        self.prepared.order.len()
    }
    /// Every asset, in id order.
    pub fn assets(&self) -> impl ExactSizeIterator<Item = AssetIx> + '_ {
        self.prepared.order.iter().map(|&i| AssetIx(i))
    }
    /// The asset with this id.
    pub fn find_asset(&self, id: &str) -> Result<AssetIx, NotApplicable> {
        let assets = &self.prepared.estate.assets;
        self.prepared
            .order
            .binary_search_by(|&i| assets[i as usize].id.as_str().cmp(id))
            .map(|p| AssetIx(self.prepared.order[p]))
            .map_err(|_| NotApplicable::UnknownAsset {
                id: id.to_string(),
                suggestion: suggest(id, assets.iter().map(|a| a.id.as_str())).map(str::to_string),
            })
    }
    pub fn asset(&self, a: AssetIx) -> &Asset {
        &self.prepared.estate.assets[a.index()]
    }
    /// The table an asset's cells come from.
    pub fn table_of(&self, a: AssetIx) -> TableId {
        TableId(self.prepared.classes[self.prepared.asset_class[a.index()] as usize].table)
    }
    pub fn table_count(&self) -> usize {
        self.tables.len()
    }
    pub fn class_count(&self) -> usize {
        self.prepared.classes.len()
    }
    /// Every class of assets (assets that look the same to every rule), with its table and
    /// the attributes it shares: the unit a rollup counts in, so a compliance summary costs
    /// classes × cells, not assets × cells.
    pub fn classes(&self) -> impl ExactSizeIterator<Item = ClassInfo<'_>> + '_ {
        self.prepared.classes.iter().map(|c| {
            let key = &self.prepared.keys[c.table];
            let t = &self.tables[c.table];
            ClassInfo {
                table: TableId(c.table),
                service: &key.service,
                provider: t.provider.as_deref(),
                kind: t.kind,
                env: c.env.as_deref(),
                data: &c.data,
                assets: c.members.len(),
                members: &c.members,
            }
        })
    }
    /// What the evidence on file says for every class × control that needs evidence where
    /// someone other than the provider does the work; `class` indexes [`Resolution::classes`].
    /// Counted exactly as the evidence gaps (DM010, DM011) count.
    pub fn evidence_coverage(&self) -> Vec<EvidenceCoverage<'_>> {
        let mut out = Vec::new();
        crate::checks::evidence_walk(self, false, |class_idx, class, ci, facts| {
            let control = &self.prepared.catalog.controls[ci];
            let n = class.members.len();
            let (missing, expired) = match facts {
                crate::checks::EvidenceFacts::Organisation(s) => match s {
                    Some(true) => (n, 0),
                    Some(false) => (0, n),
                    None => (0, 0),
                },
                crate::checks::EvidenceFacts::Assets {
                    missing,
                    expired,
                    all_missing,
                } => {
                    if all_missing {
                        (n, 0)
                    } else {
                        (missing.len(), expired.len())
                    }
                }
                crate::checks::EvidenceFacts::Counts { missing, expired } => (missing, expired),
            };
            out.push(EvidenceCoverage {
                class: class_idx,
                control: &control.id,
                organisation: control.organisation,
                assets: n,
                missing,
                expired,
            });
        });
        out
    }
    /// The cells of a table, in catalog control order then duty order.
    pub fn table_cells(&self, t: TableId) -> &[Arc<Cell>] {
        &self.tables[t.0].cells
    }
    /// Every cell of an asset, in catalog control order then duty order.
    pub fn cells_of(&self, a: AssetIx) -> &[Arc<Cell>] {
        self.table_cells(self.table_of(a))
    }
    /// The control a cell is about.
    pub fn control_of(&self, cell: &Cell) -> &Control {
        &self.prepared.catalog.controls[cell.control]
    }
    /// How the asset's service is understood.
    pub fn service_of(&self, a: AssetIx) -> ServiceInfo<'_> {
        let t = &self.tables[self.table_of(a).0];
        ServiceInfo {
            service: &self.asset(a).service,
            kind: t.kind,
            model: t.model.as_deref(),
            provider: t.provider.as_deref(),
            provider_declared: t.provider_declared,
        }
    }
    /// The number of asset × control × duty cells.
    pub fn cell_count(&self) -> usize {
        self.prepared
            .classes
            .iter()
            .map(|c| c.members.len() * self.tables[c.table].cells.len())
            .sum()
    }
    /// The estate's rules, in content order.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> + '_ {
        self.prepared
            .rules
            .iter()
            .zip(&self.states)
            .map(|(r, s)| RuleInfo {
                id: &r.id,
                kind: r.kind,
                name: &r.name,
                at: self.prepared.estate.cite(r.at),
                active: s.active,
                ends: r.ends,
            })
    }

    /// The id of the estate rule that decided a cell's customer side (or, for an override,
    /// the whole cell); `None` when the catalog alone decided it.
    pub fn deciding_rule(&self, cell: &Cell) -> Option<&RuleId> {
        cell.rule.map(|r| &self.prepared.rules[r].id)
    }
    /// The rules that would have decided the cell but are out of their dates (an ended
    /// contract), by content id.
    pub fn lapsed_rules<'a>(&'a self, cell: &'a Cell) -> impl Iterator<Item = &'a RuleId> + 'a {
        cell.lapsed.iter().map(|&r| &self.prepared.rules[r].id)
    }
    /// The position of the cell's control in the catalog's controls.
    pub fn control_index(&self, cell: &Cell) -> usize {
        cell.control
    }

    /// The control with this id, or why there is none.
    pub fn find_control(&self, id: &str) -> Result<&Control, NotApplicable> {
        let catalog = self.catalog();
        catalog
            .control(id)
            .ok_or_else(|| NotApplicable::UnknownControl {
                id: id.to_string(),
                suggestion: suggest(id, catalog.controls.iter().map(|c| c.id.as_str()))
                    .map(str::to_string),
            })
    }

    /// The cell for (asset, control, duty), or a typed reason why the question has none.
    pub fn cell(&self, a: AssetIx, control: &str, duty: Duty) -> Result<&Arc<Cell>, NotApplicable> {
        let ctl = self.find_control(control)?;
        if !ctl.duties.contains(&duty) {
            return Err(NotApplicable::NoSuchDuty {
                control: control.to_string(),
                duty,
                duties: ctl.duties.clone(),
            });
        }
        let ci = self.catalog().control_position(control);
        if let Some(c) = self
            .cells_of(a)
            .iter()
            .find(|c| Some(c.control) == ci && c.duty == duty)
        {
            return Ok(c);
        }
        Err(self.why_not(a, ctl))
    }

    /// Why a control that exists has no cells on an asset.
    fn why_not(&self, a: AssetIx, ctl: &Control) -> NotApplicable {
        let info = self.service_of(a);
        let model = info.model.unwrap_or("unknown").to_string();
        let in_model = info
            .model
            .and_then(|m| self.catalog().model(m))
            .is_some_and(|m| m.layers.contains_key(&ctl.layer));
        if in_model && !ctl.applies_to.is_empty() {
            NotApplicable::NotForModel {
                control: ctl.id.clone(),
                service: info.service.to_string(),
                model,
                applies_to: ctl.applies_to.clone(),
            }
        } else {
            NotApplicable::LayerNotInModel {
                control: ctl.id.clone(),
                layer: ctl.layer.clone(),
                service: info.service.to_string(),
                model,
            }
        }
    }

    /// Explains one cell: who, accountable, and the chain of rules that decided it.
    pub fn explain(
        &self,
        a: AssetIx,
        control: &str,
        duty: Duty,
    ) -> Result<Explanation<'_>, NotApplicable> {
        let cell = self.cell(a, control, duty)?;
        Ok(Explanation {
            asset: self.asset(a),
            control: self.control_of(cell),
            cell,
            accountable: self.accountable(),
            decisive: cell.decisive(),
        })
    }

    /// Who does `duty` on an asset: one cell per control that has the duty and applies to the
    /// asset, or only `control`'s. Asking for a duty the control does not have, or a control
    /// that does not apply, is an error, never an empty answer.
    pub fn who(
        &self,
        a: AssetIx,
        duty: Duty,
        control: Option<&str>,
    ) -> Result<Vec<&Arc<Cell>>, NotApplicable> {
        if let Some(c) = control {
            return self.cell(a, c, duty).map(|c| vec![c]);
        }
        let cells: Vec<&Arc<Cell>> = self.cells_of(a).iter().filter(|c| c.duty == duty).collect();
        if cells.is_empty() {
            let asset = self.asset(a);
            return Err(NotApplicable::NoDutyOnAsset {
                asset: asset.id.value.clone(),
                service: asset.service.to_string(),
                duty,
            });
        }
        Ok(cells)
    }

    /// The duty to triage when none is given: respond, else monitor, else the control's first.
    pub fn triage_duty(&self, control: &str) -> Result<Duty, NotApplicable> {
        let ctl = self.find_control(control)?;
        Ok([Duty::Respond, Duty::Monitor]
            .into_iter()
            .find(|d| ctl.duties.contains(d))
            .or_else(|| ctl.duties.first().copied())
            .unwrap_or(Duty::Respond))
    }

    /// Who to call about a control on an asset: the responsible parties (and whoever works
    /// for them), their contacts, the SLA, and the escalation path ending with the
    /// accountable customer.
    pub fn triage(
        &self,
        a: AssetIx,
        control: &str,
        duty: Option<Duty>,
    ) -> Result<Triage, NotApplicable> {
        let duty = match duty {
            Some(d) => d,
            None => self.triage_duty(control)?,
        };
        let cell = self.cell(a, control, duty)?.clone();
        let estate = self.estate();
        let mut contacts = Vec::new();
        let mut escalation = Vec::new();
        let mut push_party = |party: &str, team: Option<&str>| {
            let Some(p) = estate.parties.get(party) else {
                contacts.push(Contact {
                    party: party.to_string(),
                    team: None,
                    name: party.to_string(),
                    contact: None,
                    phone: None,
                });
                return;
            };
            let t = team.and_then(|t| p.teams.get(t));
            contacts.push(Contact {
                party: party.to_string(),
                team: team.map(str::to_string),
                name: t
                    .and_then(|t| t.name.clone())
                    .unwrap_or_else(|| match team {
                        Some(tm) => format!("{} / {tm}", p.name),
                        None => p.name.clone(),
                    }),
                contact: t
                    .and_then(|t| t.contact.clone())
                    .or_else(|| p.contact.clone()),
                phone: t.and_then(|t| t.phone.clone()).or_else(|| p.phone.clone()),
            });
            if let Some(t) = t {
                escalation.extend(t.escalation.iter().map(|e| format!("{party}: {e}")));
            }
            escalation.extend(p.escalation.iter().map(|e| format!("{party}: {e}")));
        };
        for r in &cell.responsible {
            push_party(&r.party, r.team.as_deref());
            for v in &r.via {
                push_party(v, None);
            }
        }
        // The accountable customer is always the last step of an escalation.
        if let Some(cust) = estate.parties.get(estate.customer.as_str()) {
            escalation.extend(
                cust.escalation
                    .iter()
                    .map(|e| format!("{}: {e}", estate.customer.value)),
            );
            escalation.push(format!(
                "{}: {} (accountable){}",
                estate.customer.value,
                cust.name,
                cust.contact
                    .as_ref()
                    .map(|c| format!(" <{c}>"))
                    .unwrap_or_default()
            ));
        }
        // A party can reach the list twice (the customer's own team is responsible, or two
        // sides of a shared cell run on the same IaaS): keep each once, first place wins.
        let mut seen = HashSet::new();
        escalation.retain(|e| seen.insert(e.clone()));
        let mut seen = HashSet::new();
        contacts.retain(|c| seen.insert((c.party.clone(), c.team.clone())));
        Ok(Triage {
            asset: self.asset(a).id.value.clone(),
            control: control.to_string(),
            duty,
            sla: cell.sla,
            cell,
            accountable: self.accountable().to_string(),
            contacts,
            escalation,
        })
    }

    /// The gaps: what is missing, contested, expired or unproven.
    pub fn gaps(&self, options: AnalyseOptions) -> Analysis {
        crate::analyse::analyse_with(self, options)
    }
}
