//! The estate document: what a team writes in YAML. Field docs become the JSON Schema
//! descriptions that `demarc schema` publishes, so editors can autocomplete them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::duration::Duration;
use crate::intern::{Sym, Tags};
use crate::span::Sp;

/// The five duties every control is broken into.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Duty {
    Configure,
    Patch,
    Monitor,
    Respond,
    Audit,
}

impl Duty {
    pub const ALL: [Duty; 5] = [
        Duty::Configure,
        Duty::Patch,
        Duty::Monitor,
        Duty::Respond,
        Duty::Audit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Duty::Configure => "configure",
            Duty::Patch => "patch",
            Duty::Monitor => "monitor",
            Duty::Respond => "respond",
            Duty::Audit => "audit",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// Accepts the duty (`patch`) or the verb people ask with (`patches`, `patching`).
    pub fn from_word(word: &str) -> Option<Duty> {
        let w = word.to_ascii_lowercase();
        let forms: [(Duty, [&str; 3]); 5] = [
            (Duty::Configure, ["configure", "configures", "configuring"]),
            (Duty::Patch, ["patch", "patches", "patching"]),
            (Duty::Monitor, ["monitor", "monitors", "monitoring"]),
            (Duty::Respond, ["respond", "responds", "responding"]),
            (Duty::Audit, ["audit", "audits", "auditing"]),
        ];
        forms
            .into_iter()
            .find(|(_, f)| f.contains(&w.as_str()))
            .map(|(d, _)| d)
    }
}

impl fmt::Display for Duty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of organisation a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartyKind {
    /// The organisation that owns the data and stays accountable.
    Customer,
    /// A cloud or SaaS provider whose service model decides the demarc line.
    Provider,
    /// A managed security service provider under contract.
    Mssp,
    /// Any other third party under contract (consultancy, outsourcer, subcontractor).
    Vendor,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Customer => "customer",
            PartyKind::Provider => "provider",
            PartyKind::Mssp => "mssp",
            PartyKind::Vendor => "vendor",
        }
    }
}

/// One or more strings; YAML may write either `x` or `[x, y]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for OneOrMany {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OneOrMany".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        })
    }
}

/// Who a duty is given to: a party (`shieldco`), a team of a party (`acme/dba`), or, in
/// overrides only, the keyword `provider` (whichever party provides the asset's service).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(into = "String")]
#[schemars(with = "String")]
pub struct Target {
    pub party: String,
    pub team: Option<String>,
}

impl Target {
    pub fn party(party: &str) -> Self {
        Target {
            party: party.to_string(),
            team: None,
        }
    }
    pub fn team(party: &str, team: &str) -> Self {
        Target {
            party: party.to_string(),
            team: Some(team.to_string()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.team {
            Some(t) => write!(f, "{}/{}", self.party, t),
            None => f.write_str(&self.party),
        }
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.to_string()
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let valid = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.split_once('/') {
            Some((p, t)) if valid(p) && valid(t) => Ok(Target::team(p, t)),
            None if valid(s) => Ok(Target::party(s)),
            _ => Err(format!(
                "`{s}` is not a party or team: write `party` or `party/team`, e.g. `acme/dba`"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Which assets a rule covers. Every criterion given must match; an empty scope covers all
/// assets. `service` and `env` take globs (`aws:*`) or lists of them; `data` matches an asset
/// that holds any of the listed classifications; `tags` must all match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Sp<OneOrMany>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Sp<OneOrMany>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Sp<String>>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.service.is_none()
            && self.env.is_none()
            && self.data.is_empty()
            && self.tags.is_empty()
            && self.assets.is_empty()
    }
    /// Both scopes at once (a template owner's scope inside the scope a template is applied
    /// with): each criterion comes from whichever scope gives it, and tags from both. `Err`
    /// names a criterion both give (with different values), which has no single meaning.
    pub fn within(&self, outer: &Scope) -> Result<Scope, &'static str> {
        fn pick<T: Clone + PartialEq>(
            a: &Option<T>,
            b: &Option<T>,
            what: &'static str,
        ) -> Result<Option<T>, &'static str> {
            match (a, b) {
                (Some(x), Some(y)) if x != y => Err(what),
                (Some(x), _) | (None, Some(x)) => Ok(Some(x.clone())),
                (None, None) => Ok(None),
            }
        }
        fn list<T: Clone + PartialEq>(
            a: &[T],
            b: &[T],
            what: &'static str,
        ) -> Result<Vec<T>, &'static str> {
            match (a.is_empty(), b.is_empty()) {
                (false, false) if a != b => Err(what),
                (false, _) => Ok(a.to_vec()),
                _ => Ok(b.to_vec()),
            }
        }
        let mut tags = outer.tags.clone();
        for (k, v) in &self.tags {
            if tags.get(k).is_some_and(|o| o != v) {
                return Err("tags");
            }
            tags.insert(k.clone(), v.clone());
        }
        let service = pick(
            &self.service.as_ref().map(|s| s.value.clone()),
            &outer.service.as_ref().map(|s| s.value.clone()),
            "service",
        )?;
        let env = pick(
            &self.env.as_ref().map(|s| s.value.clone()),
            &outer.env.as_ref().map(|s| s.value.clone()),
            "env",
        )?;
        let with_loc =
            |v: Option<OneOrMany>, a: &Option<Sp<OneOrMany>>, b: &Option<Sp<OneOrMany>>| {
                v.map(|value| Sp {
                    value,
                    loc: a.as_ref().or(b.as_ref()).map(|s| s.loc).unwrap_or_default(),
                })
            };
        let ids = |v: &[Sp<String>]| v.iter().map(|a| a.value.clone()).collect::<Vec<_>>();
        list(&ids(&self.assets), &ids(&outer.assets), "assets")?;
        Ok(Scope {
            service: with_loc(service, &self.service, &outer.service),
            env: with_loc(env, &self.env, &outer.env),
            data: list(&self.data, &outer.data, "data")?,
            tags,
            assets: if self.assets.is_empty() {
                outer.assets.clone()
            } else {
                self.assets.clone()
            },
        })
    }
    /// How narrowly the scope selects assets; the more specific of two rules wins.
    pub fn specificity(&self) -> u32 {
        let mut s = 0;
        if !self.assets.is_empty() {
            s += 8;
        }
        // A literal service list is narrower than a glob such as `aws:*`.
        if let Some(svc) = &self.service {
            s += if svc.0.iter().any(|p| p.contains(['*', '?', '['])) {
                1
            } else {
                2
            };
        }
        if self.env.is_some() {
            s += 1;
        }
        if !self.data.is_empty() {
            s += 1;
        }
        s += self.tags.len() as u32;
        s
    }
}

/// An attestation a provider holds (an audit report or certificate the customer relies on).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// Framework id from the catalog, e.g. `soc2`, `iso27001`, `pci-dss`, `fedramp`.
    pub framework: Sp<String>,
    /// End of the period a report covers (SOC 2 type II); it is relied on for 12 months after.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub period_end: Option<NaiveDate>,
    /// Date a certificate or authorization stops being valid.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub expires: Option<NaiveDate>,
    /// Where the report or certificate is kept.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// The services the report or certificate covers, as service ids or globs (`aws:s3`,
    /// `aws:*`). Leave out when it covers every service the provider lists in scope for the
    /// program.
    #[serde(default)]
    pub services: Vec<Sp<String>>,
    /// A bridge (gap) letter that carries a report past its period while the next one is
    /// written.
    #[serde(default)]
    pub bridge_letter: Option<BridgeLetter>,
}

/// A provider's letter that vouches for its controls between a report's period end and the
/// next report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BridgeLetter {
    /// The last day the letter covers.
    #[serde(deserialize_with = "crate::input::date")]
    pub until: NaiveDate,
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
}

impl Attestation {
    /// The last day the attestation can be relied on: the certificate's expiry, or twelve
    /// months after the report's period end, extended by a bridge letter.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        let base = match (self.expires, self.period_end) {
            (Some(e), _) => Some(e),
            // A period ending in the calendar's last year is relied on to its end.
            (None, Some(p)) => Some(
                p.checked_add_months(chrono::Months::new(12))
                    .unwrap_or(NaiveDate::MAX),
            ),
            (None, None) => None,
        };
        match (base, &self.bridge_letter) {
            (Some(b), Some(l)) => Some(b.max(l.until)),
            (b, _) => b,
        }
    }
}

/// Someone to call.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Team {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Who to escalate to if this team does not respond in time, in order.
    #[serde(default)]
    pub escalation: Vec<String>,
}

/// A party's reliance on another party for some layers (a SaaS vendor hosted on an IaaS).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunsOn {
    pub party: Sp<String>,
    /// Catalog layer ids the other party performs; default: the three physical layers.
    #[serde(default)]
    pub layers: Vec<Sp<String>>,
}

/// An organisation with a stake in the estate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub kind: PartyKind,
    pub name: String,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Who to escalate to at this party, in order.
    #[serde(default)]
    pub escalation: Vec<String>,
    #[serde(default)]
    pub teams: BTreeMap<String, Team>,
    #[serde(default)]
    pub attestations: Vec<Attestation>,
    /// Catalog provider ids this party stands for (default: the party's own key), e.g. `[microsoft]`.
    #[serde(default)]
    pub provides: Vec<Sp<String>>,
    /// Parties this one relies on to run some of its layers.
    #[serde(default)]
    pub runs_on: Vec<RunsOn>,
}

/// One clause of a contract: what the party does, for which assets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: Sp<String>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub scope: Scope,
    /// Control ids; empty means every control.
    #[serde(default)]
    pub controls: Vec<Sp<String>>,
    /// Duties; empty means every duty.
    #[serde(default)]
    pub duties: Vec<Duty>,
    /// Response times per duty, e.g. `{respond: 1h}`.
    #[serde(default)]
    pub sla: BTreeMap<Duty, Duration>,
    #[serde(default)]
    pub cadence: Option<Duration>,
    /// A clause can end before its contract does.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub expires: Option<NaiveDate>,
    /// A subcontractor that does the work on the contracted party's behalf.
    #[serde(default)]
    pub performed_by: Option<Sp<String>>,
}

/// A signed agreement with a third party; its clauses put duties in writing.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub id: Sp<String>,
    pub party: Sp<String>,
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub effective: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub expires: Option<NaiveDate>,
    /// Where the signed document lives.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub clauses: Vec<Clause>,
}

/// A customer-internal owner, written down.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub controls: Vec<Sp<String>>,
    #[serde(default)]
    pub duties: Vec<Duty>,
    /// One owner, or several who share the duty (then write `split`).
    pub to: Sp<Targets>,
    /// For a duty given to several owners: what each one does.
    #[serde(default)]
    pub split: BTreeMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// An explicit decision that beats every other rule (e.g. "we turned off the provider's
/// automated backups; the DBA team owns them"). A reason is required.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub controls: Vec<Sp<String>>,
    #[serde(default)]
    pub duties: Vec<Duty>,
    /// A party, a team, several of them, or `provider`.
    pub to: Sp<Targets>,
    #[serde(default)]
    pub split: BTreeMap<String, String>,
    pub reason: String,
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub expires: Option<NaiveDate>,
}

/// One target or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Targets(#[schemars(with = "OneOrMany")] pub Vec<Target>);

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = OneOrMany::deserialize(d)?;
        if raw.0.is_empty() {
            return Err(serde::de::Error::custom(
                "`to` needs at least one party or team",
            ));
        }
        raw.0
            .iter()
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect::<Result<Vec<_>, _>>()
            .map(Targets)
    }
}

/// A thing the customer runs on a service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub id: Sp<String>,
    /// Catalog service id (`aws:ec2`), a generic model (`iaas`), or a service the estate defines.
    pub service: Sp<Sym>,
    #[serde(default)]
    pub env: Option<Sym>,
    /// Data classifications it holds, e.g. `[pii, pci, phi]`.
    #[serde(default)]
    pub data: Vec<Sym>,
    #[serde(default)]
    pub tags: Tags,
    /// For a generic-model service: the party that provides it.
    #[serde(default)]
    pub provider: Option<Sp<Sym>>,
    /// When it joined the estate; assets added after the last review are flagged.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub added: Option<NaiveDate>,
    #[serde(default)]
    pub description: Option<String>,
    /// The asset's id outside demarc: an ARN, a Terraform address, an Azure resource ID, …
    #[serde(default)]
    pub external_id: Option<String>,
    /// Cloud account, subscription or project it lives in.
    #[serde(default)]
    pub account: Option<Sym>,
    /// Region or location, e.g. `eu-west-1`.
    #[serde(default)]
    pub region: Option<Sym>,
    /// The service's mode, where the split changes with a setting (e.g. `container-image` for
    /// `aws:lambda`); leave out for the provider's default. `demarc catalog show SERVICE`
    /// lists a service's modes.
    #[serde(default)]
    pub mode: Option<Sym>,
    /// When a discovery tool first saw it.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub first_seen: Option<NaiveDate>,
    /// When a discovery tool last saw it.
    #[serde(default, deserialize_with = "crate::input::date_opt")]
    pub last_seen: Option<NaiveDate>,
}

/// Proof that a control was carried out.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub control: Sp<String>,
    /// The asset it covers; leave out for evidence that covers every asset (an org-wide review).
    #[serde(default)]
    pub asset: Option<Sp<String>>,
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(deserialize_with = "crate::input::date")]
    pub collected: NaiveDate,
    /// How long it counts after `collected` (default 365d; at least 1d, at most 100y).
    #[serde(default, deserialize_with = "crate::duration::nonzero_opt")]
    pub valid_for: Option<Duration>,
    /// What it is: a link, a file, a provider's attestation report, a system export.
    #[serde(default)]
    pub kind: Option<EvidenceKind>,
    /// Who provides it: a party key or `party/team`.
    #[serde(default)]
    pub provided_by: Option<Sp<String>>,
    /// Framework requirements it supports, as `framework:id` (`soc2:CC6.1`).
    #[serde(default)]
    pub requirements: Vec<Sp<String>>,
    /// A file kept with the estate, relative to the estate file; it is hashed and a change is
    /// reported.
    #[serde(default)]
    pub file: Option<Sp<String>>,
    /// The SHA-256 of `file` when it was collected (64 hex digits).
    #[serde(default)]
    pub sha256: Option<Sp<String>>,
}

/// The kind of a piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    Link,
    File,
    /// A provider's attestation report (SOC 2 report, ISO certificate, FedRAMP package).
    Attestation,
    /// An export from a system (a configuration dump, a log extract).
    Export,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Link => "link",
            EvidenceKind::File => "file",
            EvidenceKind::Attestation => "attestation",
            EvidenceKind::Export => "export",
        }
    }
}

impl Evidence {
    /// Evidence without `valid_for` is relied on for a year, the usual audit period.
    pub const DEFAULT_VALIDITY: Duration = Duration::from_days(365);

    /// The first day the evidence no longer counts. Saturates at [`NaiveDate::MAX`] (evidence
    /// collected at the calendar's end counts to its end) instead of overflowing.
    pub fn valid_until(&self) -> NaiveDate {
        let d = self.valid_for.unwrap_or(Self::DEFAULT_VALIDITY);
        add_days(self.collected, d)
    }
}

/// `date + d` in whole days, saturating at [`NaiveDate::MAX`]: the one way the model adds a
/// duration to a date, so no estate content can make it overflow.
pub fn add_days(date: NaiveDate, d: Duration) -> NaiveDate {
    date.checked_add_days(chrono::Days::new(d.days().max(0) as u64))
        .unwrap_or(NaiveDate::MAX)
}

/// `date - d` in whole days, saturating at [`NaiveDate::MIN`].
pub fn sub_days(date: NaiveDate, d: Duration) -> NaiveDate {
    date.checked_sub_days(chrono::Days::new(d.days().max(0) as u64))
        .unwrap_or(NaiveDate::MIN)
}

/// A review of the responsibility model by someone who signs for it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    #[serde(deserialize_with = "crate::input::date")]
    pub date: NaiveDate,
    pub by: String,
    #[serde(default)]
    pub notes: Option<String>,
    /// Incidents (ids under `incidents:`) this review signs off: it closes their post-incident
    /// review (DM019). The review must not be dated before the incident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Sp<String>>,
}

/// An incident recorded against the map: a duty that failed on some assets, when it was
/// detected and responded to, and what changed because of it. `demarc incidents` resolves who
/// held the duty on the incident's date; it stays an open post-incident review (DM019) until a
/// review lists it under `incidents:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// A unique id, e.g. `INC-2026-007`.
    pub id: Sp<String>,
    /// The day it happened (or began).
    #[serde(deserialize_with = "crate::input::date")]
    pub date: NaiveDate,
    /// The assets it concerned (at least one).
    pub assets: Vec<Sp<String>>,
    /// What happened, in a sentence or two.
    pub summary: String,
    /// The control whose duty failed.
    pub control: Sp<String>,
    /// The duty that failed (configure, patch, monitor, respond, audit).
    pub duty: Duty,
    /// When it began: `2026-09-03T01:40Z`, `2026-09-03T01:40:00+02:00` or `2026-09-03 01:40`
    /// (UTC when no offset is given).
    #[serde(default, deserialize_with = "crate::input::timestamp_opt")]
    #[schemars(with = "Option<String>")]
    pub started: Option<Sp<chrono::NaiveDateTime>>,
    /// When it was detected (same forms as `started`).
    #[serde(default, deserialize_with = "crate::input::timestamp_opt")]
    #[schemars(with = "Option<String>")]
    pub detected: Option<Sp<chrono::NaiveDateTime>>,
    /// When the response began (same forms as `started`).
    #[serde(default, deserialize_with = "crate::input::timestamp_opt")]
    #[schemars(with = "Option<String>")]
    pub responded: Option<Sp<chrono::NaiveDateTime>>,
    /// The changes it led to (to the map, to contracts, to tooling).
    #[serde(default)]
    pub changes: Vec<String>,
    /// Where the post-incident review write-up is kept (a link or document id).
    #[serde(default)]
    pub review: Option<String>,
}

/// A service the catalog does not know, described by the estate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomService {
    /// The generic model it follows: on-prem, iaas, caas, paas, faas, dbaas or saas.
    pub model: Sp<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Party that provides it.
    #[serde(default)]
    pub provider: Option<Sp<String>>,
    /// The document that says how responsibility is split: free text, or
    /// `{title, url | file + sha256, checked}` as in the catalog.
    #[serde(default)]
    pub source: Option<crate::ServiceSource>,
    /// Layers whose owner differs from the model, as in a catalog service.
    #[serde(default)]
    pub layers: BTreeMap<Sp<String>, crate::Entry>,
    /// Controls whose owner differs from the layer or model, as in a catalog service.
    #[serde(default)]
    pub controls: BTreeMap<Sp<String>, crate::Entry>,
    /// The compliance programs (catalog `programs.yaml` ids) the provider has this service in
    /// scope for, as in a catalog service.
    #[serde(default)]
    pub programs: Vec<Sp<String>>,
}

/// A named set of responsibilities for a class of assets (a data class such as `pii`, a risk
/// tier such as `tier-1`), applied with `apply:` instead of being repeated per workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    #[serde(default)]
    pub description: Option<String>,
    /// Owners, written as assignments. Each becomes an assignment for the assets the template
    /// is applied to (its own `scope`, if any, narrows that further).
    #[serde(default)]
    pub owners: Vec<Sp<Assignment>>,
    /// How often the model must be reviewed for these assets (at least 1d, at most 100y);
    /// stricter than `settings.review_cadence` for a sensitive class.
    #[serde(default, deserialize_with = "crate::duration::nonzero_opt")]
    pub review_cadence: Option<Duration>,
    /// Controls that need evidence on these assets, besides those the catalog flags.
    #[serde(default)]
    pub require_evidence: Vec<Sp<String>>,
}

/// Applies a template to the assets a scope selects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    /// Key of a template under `templates:`.
    pub template: Sp<String>,
    /// Which assets, e.g. `{data: [pii]}` or `{tags: {tier: "1"}}`.
    #[serde(default)]
    pub scope: Scope,
}

/// A risk acceptance: a gap the organisation knowingly lives with until `expires`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The gap's key (`DM003:waf`) as `demarc check --format json` prints it; `*` matches
    /// any run of characters (`DM010:*`).
    pub gap: Sp<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who signed for it.
    pub approved_by: String,
    /// The day the acceptance ends and the gap counts again.
    pub expires: NaiveDate,
}

/// Settings that tune the analysis.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How often the model must be reviewed (default 90d; at least 1d, at most 100y).
    #[serde(
        default = "default_cadence",
        deserialize_with = "crate::duration::nonzero"
    )]
    pub review_cadence: Duration,
    /// Frameworks the customer is held to; providers must attest to them.
    #[serde(default)]
    pub frameworks: Vec<Sp<String>>,
    /// Controls that need evidence besides those the catalog flags.
    #[serde(default)]
    pub require_evidence: Vec<Sp<String>>,
    /// Warn this long before a contract or attestation ends (default 30d).
    #[serde(default = "default_warning")]
    pub expiry_warning: Duration,
    /// Catalog overlay directories (relative to this file): provider models imported or
    /// written for this estate, in the built-in catalog's format (docs/catalog-format.md).
    #[serde(default)]
    pub catalog: Vec<Sp<String>>,
}

fn default_cadence() -> Duration {
    Duration::from_days(90)
}
fn default_warning() -> Duration {
    Duration::from_days(30)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            review_cadence: default_cadence(),
            frameworks: Vec::new(),
            require_evidence: Vec::new(),
            expiry_warning: default_warning(),
            catalog: Vec::new(),
        }
    }
}

/// One YAML file of an estate. A directory's files are merged: maps by key, lists appended.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "demarc estate",
    description = "A demarc estate: who is responsible for what."
)]
pub struct EstateDoc {
    /// Format version; must be 1.
    #[serde(default, deserialize_with = "crate::input::version")]
    pub version: Option<Sp<u32>>,
    /// Name of the estate.
    #[serde(default)]
    pub estate: Option<Sp<String>>,
    /// Key of the customer party: owns the data, always accountable.
    #[serde(default)]
    pub customer: Option<Sp<String>>,
    #[serde(default)]
    pub settings: Option<Sp<Settings>>,
    /// What the estate offers its own customers, when it is a cloud service offering.
    #[serde(default)]
    pub offering: Option<Sp<Offering>>,
    #[serde(default)]
    pub parties: BTreeMap<String, Sp<Party>>,
    #[serde(default)]
    pub services: BTreeMap<String, Sp<CustomService>>,
    #[serde(default)]
    pub contracts: Vec<Sp<Contract>>,
    #[serde(default)]
    pub assignments: Vec<Sp<Assignment>>,
    #[serde(default)]
    pub overrides: Vec<Sp<Override>>,
    #[serde(default)]
    pub assets: Vec<Asset>,
    #[serde(default)]
    pub evidence: Vec<Sp<Evidence>>,
    #[serde(default)]
    pub reviews: Vec<Review>,
    /// Incidents recorded against the map (see docs/incidents.md).
    #[serde(default)]
    pub incidents: Vec<Sp<Incident>>,
    /// Named responsibility templates (by data class or risk tier).
    #[serde(default)]
    pub templates: BTreeMap<String, Sp<Template>>,
    /// Which assets each template applies to.
    #[serde(default)]
    pub apply: Vec<Sp<Apply>>,
    /// Gaps accepted as risks, with reason, approver and expiry.
    #[serde(default)]
    pub accepted: Vec<Sp<Acceptance>>,
    /// Inventory files (JSON Lines `.jsonl`/`.ndjson` or `.csv`) whose assets join this
    /// estate's, relative to this file.
    #[serde(default)]
    pub inventory: Vec<Sp<String>>,
}

#[cfg(test)]
mod tests {
    use super::Duty;

    #[test]
    fn duties_are_asked_for_with_their_verbs_and_only_those() {
        assert_eq!(Duty::from_word("patches"), Some(Duty::Patch));
        assert_eq!(Duty::from_word("Patching"), Some(Duty::Patch));
        assert_eq!(Duty::from_word("configures"), Some(Duty::Configure));
        assert_eq!(Duty::from_word("audit"), Some(Duty::Audit));
        assert_eq!(Duty::from_word("responds"), Some(Duty::Respond));
        assert_eq!(Duty::from_word("patchs"), None);
        assert_eq!(Duty::from_word("monitores"), None);
        assert_eq!(Duty::from_word("owns"), None);
    }
}

/// The cloud service offering an estate is, for the documents a provider publishes about its
/// own service (FedRAMP 20x package, OSCAL SSP): every field optional; what is missing is
/// reported when a document needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Offering {
    /// The offering's name (default: the estate's name).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub acronym: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// An `https://` URL.
    #[serde(default)]
    pub website: Option<Sp<String>>,
    /// An `https://` URL of the provider's logo.
    #[serde(default)]
    pub logo: Option<Sp<String>>,
    /// The FedRAMP package id, once assigned.
    #[serde(default)]
    pub fedramp_id: Option<String>,
    /// Service models: `IaaS`, `PaaS`, `SaaS`.
    #[serde(default)]
    pub service_models: Vec<Sp<String>>,
    /// `Public Cloud`, `Government-Only Cloud`, `Hybrid Cloud`, `Community Cloud`,
    /// `Government Community Cloud`.
    #[serde(default)]
    pub deployment_model: Option<Sp<String>>,
    /// Where the package overview is published (an `https://` URL).
    #[serde(default)]
    pub package_url: Option<Sp<String>>,
    #[serde(default)]
    pub contacts: Vec<OfferingContact>,
}

/// A contact of the offering (`type`: Security, Sales, Support, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferingContact {
    #[serde(rename = "type")]
    pub kind: Sp<String>,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The service models an offering may name.
pub const SERVICE_MODELS: [&str; 3] = ["IaaS", "PaaS", "SaaS"];
/// The deployment models an offering may name (FedRAMP's list).
pub const DEPLOYMENT_MODELS: [&str; 5] = [
    "Public Cloud",
    "Government-Only Cloud",
    "Hybrid Cloud",
    "Community Cloud",
    "Government Community Cloud",
];
