//! The responsibility annex: the schedule of a contract with one party (an MSSP, a vendor, or
//! an internal team's service agreement), drafted from the resolved model so it cannot
//! disagree with it. Per system (assets grouped by service and environment, and by the duties
//! the party holds on them): the party's duties per control with cadence and SLA, what the
//! customer keeps on the same controls, the logs shared, the escalation path, the evidence due,
//! and the annex's own review cadence. A duty the model gives the party that no clause of its
//! contracts decides is "to be agreed"; a clause that decides nothing "covers no system".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use demarc_model::{Duration, Duty, Target, add_days};

use crate::cell::{Assignee, Cell, Role};
use crate::query::{AssetIx, Contact};
use crate::resolve::Resolution;
use crate::rules::RuleKind;

/// One duty the party holds on a system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnnexDuty {
    pub control: String,
    pub control_name: String,
    pub duty: Duty,
    pub sla: Option<Duration>,
    pub cadence: Option<Duration>,
    /// The clause of the party's contract that decides it (`contract shieldco-msa §4.1`).
    pub clause: Option<String>,
    /// The rule (or catalog entry) that decides it, as basis lines name it.
    pub decided_by: String,
    /// Where the deciding rule is written.
    pub at: Option<String>,
    /// No clause of the party's contracts decides it: an assignment, override or the catalog
    /// gives it to the party.
    pub to_be_agreed: bool,
    /// The others responsible for the same cell (a shared duty).
    pub shared_with: Vec<String>,
    /// Who performs it on the party's behalf (a subcontractor).
    pub via: Vec<String>,
    /// Others that rules of the same rank also name.
    pub contested: Vec<String>,
}

/// A duty on one of the party's controls that someone else keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeptDuty {
    pub control: String,
    pub duty: Duty,
    /// The customer's parties and teams on it (`acme/platform`, `acme (unassigned)`).
    pub who: Vec<String>,
    /// Nobody is named on the customer's side.
    pub unassigned: bool,
    /// The provider holds (part of) it.
    pub provider: Vec<String>,
}

/// Assets of one service and environment on which the party holds the same duties.
#[derive(Debug, Clone)]
pub struct AnnexSystem {
    pub service: String,
    pub env: Option<String>,
    pub provider: Option<String>,
    pub assets: Vec<String>,
    pub duties: Vec<AnnexDuty>,
    /// What the customer (and the provider) keep on the controls the party works on.
    pub keeps: Vec<KeptDuty>,
}

/// One clause of the party's contracts and what it decides in the model.
#[derive(Debug, Clone)]
pub struct AnnexClause {
    pub id: String,
    pub text: String,
    pub controls: Vec<String>,
    pub duties: Vec<Duty>,
    pub sla: BTreeMap<Duty, Duration>,
    pub cadence: Option<Duration>,
    /// Assets on which it decides at least one duty.
    pub assets: usize,
    /// Asset × control × duty cells it decides.
    pub cells: usize,
    pub active: bool,
    /// `ended 2026-06-30`, `takes effect 2027-01-01`, when not in force.
    pub state: Option<String>,
}

/// A contract of the party.
#[derive(Debug, Clone)]
pub struct AnnexContract {
    pub id: String,
    pub reference: Option<String>,
    pub effective: Option<NaiveDate>,
    pub expires: Option<NaiveDate>,
    pub clauses: Vec<AnnexClause>,
}

/// One log that flows to or from the party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogShare {
    pub control: String,
    pub control_name: String,
    /// Who turns the log on and keeps it on (the control's configure duty): the source.
    pub from: Vec<String>,
    /// Nobody is named to turn it on.
    pub from_unassigned: bool,
    /// Who reads it (the control's monitor duty): the recipient.
    pub to: Vec<String>,
    /// How often it is read or handed over: the monitor cell's cadence, else the party's own
    /// cadence on the control; `None` when nothing is written.
    pub every: Option<Duration>,
    pub assets: Vec<String>,
}

/// Evidence the party must provide for one control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDue {
    pub control: String,
    pub control_name: String,
    /// The party's duties on the control.
    pub duties: Vec<Duty>,
    /// Proven once for the organisation rather than per asset.
    pub organisation: bool,
    /// The cadence the party's clause sets for the control, if any.
    pub cadence: Option<Duration>,
    pub assets: Vec<String>,
    /// The first day current evidence stops counting (the next delivery is due by then).
    pub next_due: Option<NaiveDate>,
    /// Assets whose evidence has run out.
    pub expired: Vec<String>,
    /// Assets with no evidence on file.
    pub missing: Vec<String>,
}

/// What a contract's clauses leave out of the party's duties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub service: String,
    pub env: Option<String>,
    pub assets: Vec<String>,
    pub control: String,
    pub duty: Duty,
    pub decided_by: String,
}

/// `--compare`: the party's duties that no clause of one contract covers.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub contract: String,
    pub left_out: Vec<LeftOut>,
    /// Clauses of the contract that cover none of the party's duties.
    pub unused: Vec<String>,
}

/// The annex for one party.
#[derive(Debug, Clone)]
pub struct Annex {
    pub party: String,
    pub team: Option<String>,
    pub name: String,
    pub kind: String,
    pub customer: String,
    pub customer_name: String,
    pub contracts: Vec<AnnexContract>,
    pub systems: Vec<AnnexSystem>,
    pub logs: Vec<LogShare>,
    /// The party's contacts (its team, then the party).
    pub contacts: Vec<Contact>,
    /// The customer's teams that keep duties on the party's controls.
    pub customer_contacts: Vec<Contact>,
    /// In order; the accountable customer is last.
    pub escalation: Vec<String>,
    pub evidence: Vec<EvidenceDue>,
    pub review_cadence: Duration,
    pub last_review: Option<NaiveDate>,
    /// When the annex (with the model) is next reviewed: the last review plus the cadence, or
    /// the analysis date when it was never reviewed.
    pub next_review: NaiveDate,
}

impl Annex {
    /// Duties marked "to be agreed", counted per system line.
    pub fn to_be_agreed(&self) -> usize {
        self.systems
            .iter()
            .map(|s| s.duties.iter().filter(|d| d.to_be_agreed).count())
            .sum()
    }
}

/// The log controls: those a built-in drill scenario lists as logs an investigation needs.
/// One list, so the annex and the drills agree on what a log is.
pub fn log_controls() -> Vec<String> {
    let mut v: Vec<String> = crate::drill::builtin_scenarios()
        .into_iter()
        .flat_map(|s| s.logs)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn label(a: &Assignee) -> String {
    if a.named {
        a.label()
    } else {
        format!("{} (unassigned)", a.label())
    }
}

impl Resolution {
    fn party_matches(&self, who: &Target, a: &Assignee) -> bool {
        a.party == who.party && (who.team.is_none() || a.team == who.team)
    }

    /// The rule indices of the clauses of `party`'s contracts, by contract id.
    fn party_clauses(&self, party: &str) -> BTreeMap<usize, (String, String)> {
        let by_id: HashMap<&str, usize> = self
            .prepared
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == RuleKind::Clause)
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut out = BTreeMap::new();
        for c in &self.estate().contracts {
            if c.party.as_str() != party {
                continue;
            }
            for cl in &c.clauses {
                let id = format!("clause:{}/{}", c.id.value, cl.id.value);
                if let Some(&r) = by_id.get(id.as_str()) {
                    out.insert(r, (c.id.value.clone(), cl.id.value.clone()));
                }
            }
        }
        out
    }

    /// Checks `party` (`shieldco` or `acme/secops`) names a party (and team) of the estate;
    /// the error says what is wrong and what would be right.
    pub fn annex_party(&self, party: &str) -> Result<Target, String> {
        let t: Target = party.parse()?;
        let estate = self.estate();
        let Some(p) = estate.parties.get(&t.party) else {
            let (m, h) =
                demarc_model::unknown("party", &t.party, estate.parties.keys().map(String::as_str));
            return Err(format!("{m}\n  help: {h}"));
        };
        if let Some(team) = &t.team
            && !p.teams.contains_key(team)
        {
            let (m, h) = demarc_model::unknown(
                &format!("team of `{}`", t.party),
                team,
                p.teams.keys().map(String::as_str),
            );
            return Err(format!("{m}\n  help: {h}"));
        }
        Ok(t)
    }

    /// The annex for `who`, which must be a party (or team) of the estate
    /// ([`Resolution::annex_party`]).
    pub fn annex(&self, who: &Target) -> Annex {
        let estate = self.estate();
        let catalog = self.catalog();
        let clauses = self.party_clauses(&who.party);
        let party = estate.parties.get(&who.party);

        // Per table: the party's duty lines and what others keep on the same controls.
        type Lines = (Vec<AnnexDuty>, Vec<KeptDuty>);
        let mut per_table: HashMap<usize, std::sync::Arc<Lines>> = HashMap::new();
        let lines_of = |t: usize| -> Lines {
            let cells = &self.tables[t].cells;
            let mut duties = Vec::new();
            let mut controls = BTreeSet::new();
            for c in cells {
                let Some(me) = c.responsible.iter().find(|a| self.party_matches(who, a)) else {
                    continue;
                };
                controls.insert(c.control);
                let d = c.decisive();
                let clause = c
                    .rule
                    .filter(|r| clauses.contains_key(r))
                    .map(|r| self.prepared.rules[r].name.clone());
                duties.push(AnnexDuty {
                    control: catalog.controls[c.control].id.clone(),
                    control_name: catalog.controls[c.control].name.clone(),
                    duty: c.duty,
                    sla: c.sla,
                    cadence: c.cadence,
                    to_be_agreed: clause.is_none(),
                    clause,
                    decided_by: d.map(|b| b.rule.to_string()).unwrap_or_default(),
                    at: d.and_then(|b| b.at.clone()),
                    shared_with: c
                        .responsible
                        .iter()
                        .filter(|a| !self.party_matches(who, a))
                        .map(label)
                        .collect(),
                    via: me.via.clone(),
                    contested: c.contested.clone(),
                });
            }
            let keeps = cells
                .iter()
                .filter(|c| controls.contains(&c.control))
                .filter_map(|c| {
                    let others: Vec<&Assignee> = c
                        .responsible
                        .iter()
                        .filter(|a| !self.party_matches(who, a))
                        .collect();
                    let who_c: Vec<String> = others
                        .iter()
                        .filter(|a| a.role == Role::Customer)
                        .map(|a| label(a))
                        .collect();
                    let provider: Vec<String> = others
                        .iter()
                        .filter(|a| a.role == Role::Provider)
                        .map(|a| a.label())
                        .collect();
                    (!who_c.is_empty() || !provider.is_empty()).then(|| KeptDuty {
                        control: catalog.controls[c.control].id.clone(),
                        duty: c.duty,
                        unassigned: c.unassigned && !who_c.is_empty(),
                        who: who_c,
                        provider,
                    })
                })
                .collect();
            (duties, keeps)
        };

        // Systems: assets in id order, grouped by service, env and the lines they get.
        let mut groups: BTreeMap<(String, Option<String>, usize), AnnexSystem> = BTreeMap::new();
        let mut fingerprints: HashMap<String, usize> = HashMap::new();
        let mut table_fp: HashMap<usize, usize> = HashMap::new();
        for a in self.assets() {
            let t = self.table_of(a).index();
            let lines = per_table
                .entry(t)
                .or_insert_with(|| std::sync::Arc::new(lines_of(t)))
                .clone();
            if lines.0.is_empty() {
                continue;
            }
            let n = fingerprints.len();
            let fp = *table_fp
                .entry(t)
                .or_insert_with(|| *fingerprints.entry(format!("{lines:?}")).or_insert(n));
            let asset = self.asset(a);
            let key = (
                asset.service.to_string(),
                asset.env.as_ref().map(|e| e.to_string()),
                fp,
            );
            groups
                .entry(key)
                .or_insert_with(|| AnnexSystem {
                    service: asset.service.to_string(),
                    env: asset.env.as_ref().map(|e| e.to_string()),
                    provider: self.service_of(a).provider.map(str::to_string),
                    assets: Vec::new(),
                    duties: lines.0.clone(),
                    keeps: lines.1.clone(),
                })
                .assets
                .push(asset.id.value.clone());
        }
        let systems: Vec<AnnexSystem> = groups.into_values().collect();

        // Clauses: what each decides.
        let mut decided: HashMap<usize, (usize, usize)> = HashMap::new();
        let mut table_rules: HashMap<usize, BTreeMap<usize, usize>> = HashMap::new();
        for class in &self.prepared.classes {
            let rules = table_rules.entry(class.table).or_insert_with(|| {
                let mut m = BTreeMap::new();
                for c in &self.tables[class.table].cells {
                    if let Some(r) = c.rule.filter(|r| clauses.contains_key(r)) {
                        *m.entry(r).or_insert(0) += 1;
                    }
                }
                m
            });
            for (&r, &cells) in rules.iter() {
                let e = decided.entry(r).or_insert((0, 0));
                e.0 += class.members.len();
                e.1 += cells * class.members.len();
            }
        }
        let rule_of: HashMap<(String, String), usize> = clauses
            .iter()
            .map(|(&r, (c, cl))| ((c.clone(), cl.clone()), r))
            .collect();
        let contracts = estate
            .contracts
            .iter()
            .filter(|c| c.party.as_str() == who.party)
            .map(|c| AnnexContract {
                id: c.id.value.clone(),
                reference: c.reference.clone(),
                effective: c.effective,
                expires: c.expires,
                clauses: c
                    .clauses
                    .iter()
                    .map(|cl| {
                        let r = rule_of.get(&(c.id.value.clone(), cl.id.value.clone()));
                        let (assets, cells) =
                            r.and_then(|r| decided.get(r)).copied().unwrap_or((0, 0));
                        let st = r.map(|&r| self.states[r]);
                        AnnexClause {
                            id: cl.id.value.clone(),
                            text: cl.text.clone(),
                            controls: cl.controls.iter().map(|c| c.value.clone()).collect(),
                            duties: cl.duties.clone(),
                            sla: cl.sla.clone(),
                            cadence: cl.cadence,
                            assets,
                            cells,
                            active: st.is_some_and(|s| s.active),
                            state: st.and_then(|s| {
                                s.ended
                                    .map(|d| format!("ended {d}"))
                                    .or(s.starts.map(|d| format!("takes effect {d}")))
                            }),
                        }
                    })
                    .collect(),
            })
            .collect();

        // Logs: for every system and log control the party holds a duty on, who produces it
        // (configure) and who reads it (monitor).
        let logs_ids = log_controls();
        type LogKey = (String, Vec<String>, Vec<String>, Option<Duration>);
        let mut logs: BTreeMap<LogKey, LogShare> = BTreeMap::new();
        for s in &systems {
            let Ok(a) = self.find_asset(&s.assets[0]) else {
                continue;
            };
            let cells = self.cells_of(a);
            for l in &logs_ids {
                let Some(mine) = s.duties.iter().find(|d| &d.control == l) else {
                    continue;
                };
                let Some(ci) = catalog.control_position(l) else {
                    continue;
                };
                let ctl = &catalog.controls[ci];
                let first = if ctl.duties.contains(&Duty::Configure) {
                    Duty::Configure
                } else {
                    ctl.duties[0]
                };
                let find = |d: Duty| cells.iter().find(|c| c.control == ci && c.duty == d);
                let src: Option<&std::sync::Arc<Cell>> = find(first);
                let dst = find(Duty::Monitor);
                let from: Vec<String> = src
                    .map(|c| c.responsible.iter().map(label).collect())
                    .unwrap_or_default();
                let to: Vec<String> = dst
                    .map(|c| c.responsible.iter().map(label).collect())
                    .unwrap_or_default();
                let every = dst.and_then(|c| c.cadence).or(mine.cadence);
                logs.entry((l.clone(), from.clone(), to.clone(), every))
                    .or_insert_with(|| LogShare {
                        control: l.clone(),
                        control_name: ctl.name.clone(),
                        from_unassigned: src.is_some_and(|c| c.unassigned),
                        from,
                        to,
                        every,
                        assets: Vec::new(),
                    })
                    .assets
                    .extend(s.assets.iter().cloned());
            }
        }
        let logs: Vec<LogShare> = logs
            .into_values()
            .map(|mut l| {
                l.assets.sort();
                l
            })
            .collect();

        // Contacts and escalation: the party (its team first), the customer's teams that keep
        // duties on the same controls, then the customer's escalation, accountable last.
        let contact_of = |party: &str, team: Option<&str>| -> Contact {
            let p = estate.parties.get(party);
            let t = team.and_then(|t| p.and_then(|p| p.teams.get(t)));
            Contact {
                party: party.to_string(),
                team: team.map(str::to_string),
                name: t
                    .and_then(|t| t.name.clone())
                    .or_else(|| p.map(|p| p.name.clone()))
                    .unwrap_or_else(|| party.to_string()),
                contact: t
                    .and_then(|t| t.contact.clone())
                    .or_else(|| p.and_then(|p| p.contact.clone())),
                phone: t
                    .and_then(|t| t.phone.clone())
                    .or_else(|| p.and_then(|p| p.phone.clone())),
            }
        };
        let mut contacts = vec![contact_of(&who.party, who.team.as_deref())];
        if who.team.is_some() {
            contacts.push(contact_of(&who.party, None));
        }
        let mut escalation = Vec::new();
        if let Some(p) = party {
            if let Some(t) = who.team.as_ref().and_then(|t| p.teams.get(t)) {
                escalation.extend(t.escalation.iter().map(|e| format!("{}: {e}", who)));
            }
            escalation.extend(p.escalation.iter().map(|e| format!("{}: {e}", who.party)));
        }
        let customer = estate.customer.value.clone();
        let cust = estate.parties.get(&customer);
        let mut teams: BTreeSet<String> = BTreeSet::new();
        for s in &systems {
            for k in &s.keeps {
                for w in &k.who {
                    let w = w.trim_end_matches(" (unassigned)");
                    if let Some((p, t)) = w.split_once('/')
                        && p == customer
                        && !(who.party == p && who.team.as_deref() == Some(t))
                    {
                        teams.insert(t.to_string());
                    }
                }
            }
        }
        let customer_contacts: Vec<Contact> = teams
            .iter()
            .map(|t| contact_of(&customer, Some(t)))
            .collect();
        if let Some(c) = cust {
            for t in &teams {
                if let Some(tm) = c.teams.get(t) {
                    escalation.extend(tm.escalation.iter().map(|e| format!("{customer}/{t}: {e}")));
                }
            }
            escalation.extend(c.escalation.iter().map(|e| format!("{customer}: {e}")));
            escalation.push(format!(
                "{customer}: {} (accountable){}",
                c.name,
                c.contact
                    .as_ref()
                    .map(|x| format!(" <{x}>"))
                    .unwrap_or_default()
            ));
        }
        let mut seen = BTreeSet::new();
        escalation.retain(|e| seen.insert(e.clone()));

        // Evidence: controls the catalog or the settings flag, on the party's duties.
        let required: BTreeSet<&str> = estate
            .settings
            .require_evidence
            .iter()
            .map(|c| c.as_str())
            .collect();
        let mut ev: BTreeMap<String, EvidenceDue> = BTreeMap::new();
        for s in &systems {
            for d in &s.duties {
                let Some(ctl) = catalog.control(&d.control) else {
                    continue;
                };
                if !ctl.evidence && !required.contains(ctl.id.as_str()) {
                    continue;
                }
                let e = ev.entry(d.control.clone()).or_insert_with(|| EvidenceDue {
                    control: d.control.clone(),
                    control_name: d.control_name.clone(),
                    duties: Vec::new(),
                    organisation: ctl.organisation,
                    cadence: None,
                    assets: Vec::new(),
                    next_due: None,
                    expired: Vec::new(),
                    missing: Vec::new(),
                });
                if !e.duties.contains(&d.duty) {
                    e.duties.push(d.duty);
                }
                if d.clause.is_some() && d.cadence.is_some() {
                    e.cadence = e.cadence.min(d.cadence).or(d.cadence);
                }
                for a in &s.assets {
                    if !e.assets.contains(a) {
                        e.assets.push(a.clone());
                    }
                }
            }
        }
        for e in ev.values_mut() {
            e.duties.sort();
            e.assets.sort();
            for a in &e.assets {
                let best = estate
                    .evidence
                    .iter()
                    .filter(|x| {
                        x.control.as_str() == e.control
                            && x.collected <= self.as_of
                            && x.asset.as_ref().is_none_or(|y| y.as_str() == a)
                    })
                    .map(|x| x.valid_until())
                    .max();
                match best {
                    None => e.missing.push(a.clone()),
                    Some(u) if u <= self.as_of => e.expired.push(a.clone()),
                    Some(u) => e.next_due = Some(e.next_due.map_or(u, |n| n.min(u))),
                }
            }
        }

        let last_review = estate.reviews.iter().map(|r| r.date).max();
        let cadence = estate.settings.review_cadence;
        Annex {
            party: who.party.clone(),
            team: who.team.clone(),
            name: party
                .map(|p| match &who.team {
                    Some(t) => p
                        .teams
                        .get(t)
                        .and_then(|t| t.name.clone())
                        .unwrap_or_else(|| format!("{} / {t}", p.name)),
                    None => p.name.clone(),
                })
                .unwrap_or_else(|| who.to_string()),
            kind: match &who.team {
                Some(_) => "team".into(),
                None => party
                    .map(|p| p.kind.as_str().to_string())
                    .unwrap_or_default(),
            },
            customer_name: cust
                .map(|c| c.name.clone())
                .unwrap_or_else(|| customer.clone()),
            customer,
            contracts,
            systems,
            logs,
            contacts,
            customer_contacts,
            escalation,
            evidence: ev.into_values().collect(),
            review_cadence: cadence,
            last_review,
            next_review: last_review
                .map(|d| add_days(d, cadence))
                .unwrap_or(self.as_of),
        }
    }

    /// The duties of `annex` that no clause of `contract` covers, where `against` is the
    /// estate that holds the contract (this resolution's estate, or it with a drafted contract
    /// added: assets must be the same). A clause covers a duty when its scope matches the asset
    /// and it lists the control and duty (or lists none), whatever its dates.
    pub fn annex_compare(&self, annex: &Annex, against: &Resolution, contract: &str) -> Comparison {
        let prefix = format!("clause:{contract}/");
        let rules = &against.prepared.rules;
        let catalog = against.catalog();
        let mut used: BTreeSet<usize> = BTreeSet::new();
        type LeftKey = (String, Option<String>, String, Duty, String);
        let mut left: BTreeMap<LeftKey, Vec<String>> = BTreeMap::new();
        for s in &annex.systems {
            for id in &s.assets {
                let Ok(a) = against.find_asset(id) else {
                    continue;
                };
                let key = &against.prepared.keys[against.prepared.classes
                    [against.prepared.asset_class[AssetIx::index(a)] as usize]
                    .table];
                let mine: Vec<usize> = key
                    .rules
                    .iter()
                    .copied()
                    .filter(|&r| {
                        rules[r].kind == RuleKind::Clause
                            && rules[r].id.as_str().starts_with(&prefix)
                    })
                    .collect();
                for d in &s.duties {
                    let Some(ci) = catalog.control_position(&d.control) else {
                        continue;
                    };
                    let by: Vec<usize> = mine
                        .iter()
                        .copied()
                        .filter(|&r| rules[r].covers(ci, d.duty))
                        .collect();
                    if by.is_empty() {
                        left.entry((
                            s.service.clone(),
                            s.env.clone(),
                            d.control.clone(),
                            d.duty,
                            d.decided_by.clone(),
                        ))
                        .or_default()
                        .push(id.clone());
                    }
                    used.extend(by);
                }
            }
        }
        let unused = rules
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                r.kind == RuleKind::Clause
                    && r.id.as_str().starts_with(&prefix)
                    && !used.contains(i)
            })
            .map(|(_, r)| r.name.clone())
            .collect();
        Comparison {
            contract: contract.to_string(),
            left_out: left
                .into_iter()
                .map(
                    |((service, env, control, duty, decided_by), assets)| LeftOut {
                        service,
                        env,
                        assets,
                        control,
                        duty,
                        decided_by,
                    },
                )
                .collect(),
            unused,
        }
    }
}
