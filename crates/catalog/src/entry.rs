//! Responsibility entries as the catalog holds them: an owner written by hand, or the facts
//! about the provider's feature from which the owner of every duty is derived (see
//! "Facts and the derivation rule" in docs/catalog-format.md).

use std::collections::BTreeMap;
use std::fmt;

use demarc_model::{Duty, Owner, Source};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// What the provider's documentation says about the feature behind one control on one
/// service: `feature:` in a control entry.
///
/// Written as a shorthand (`enforced`, `default-on`, `off-by-default`, `unsupported`) or as
/// `{supported, default_on, enforced}`; omitted keys default to `supported: true`,
/// `enforced: false` and `default_on: <enforced>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Feature {
    /// The service offers the feature at all.
    pub supported: bool,
    /// It is on for a new resource without the customer doing anything.
    pub default_on: bool,
    /// The provider keeps it on: the customer cannot turn it off or weaken it.
    pub enforced: bool,
}

impl Feature {
    /// Always on; the customer cannot turn it off (e.g. platform-key encryption of S3 objects).
    pub const ENFORCED: Feature = Feature {
        supported: true,
        default_on: true,
        enforced: true,
    };
    /// On for new resources, but the customer can turn it off or change it.
    pub const DEFAULT_ON: Feature = Feature {
        supported: true,
        default_on: true,
        enforced: false,
    };
    /// Offered, but off until the customer turns it on.
    pub const OFF_BY_DEFAULT: Feature = Feature {
        supported: true,
        default_on: false,
        enforced: false,
    };
    /// Not offered: the customer must compensate by other means.
    pub const UNSUPPORTED: Feature = Feature {
        supported: false,
        default_on: false,
        enforced: false,
    };

    /// The derivation rule: who owns `duty` of a control whose feature has these facts.
    ///
    /// | facts | configure | patch | monitor, respond, audit |
    /// |---|---|---|---|
    /// | enforced | provider | provider | provider |
    /// | on by default, customer can change it | shared | provider | customer |
    /// | off by default | customer | provider | customer |
    /// | not supported | customer | customer | customer |
    pub fn owner_for(self, duty: Duty) -> Owner {
        if !self.supported {
            return Owner::Customer;
        }
        if self.enforced {
            return Owner::Provider;
        }
        match duty {
            Duty::Configure if self.default_on => Owner::Shared,
            Duty::Configure => Owner::Customer,
            // The feature's implementation is the provider's software.
            Duty::Patch => Owner::Provider,
            // Only the customer knows whether its setting is still what it intends.
            Duty::Monitor | Duty::Respond | Duty::Audit => Owner::Customer,
        }
    }

    /// The shorthand name of these facts.
    pub fn label(self) -> &'static str {
        match (self.supported, self.enforced, self.default_on) {
            (false, _, _) => "unsupported",
            (true, true, _) => "enforced",
            (true, false, true) => "default-on",
            (true, false, false) => "off-by-default",
        }
    }

    /// In words, for explanations.
    pub fn describe(self) -> &'static str {
        match self.label() {
            "unsupported" => "the service does not offer it, so the customer compensates",
            "enforced" => "the provider enforces it and it cannot be turned off",
            "default-on" => "on by default, and the customer can change or turn it off",
            _ => "offered but off until the customer turns it on",
        }
    }

    fn from_label(s: &str) -> Option<Feature> {
        Some(match s {
            "enforced" => Feature::ENFORCED,
            "default-on" => Feature::DEFAULT_ON,
            "off-by-default" => Feature::OFF_BY_DEFAULT,
            "unsupported" => Feature::UNSUPPORTED,
            _ => return None,
        })
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A responsibility entry of a model or service, for a layer or a control.
///
/// Either `owner:` is written (with optional per-duty exceptions in `duties:`), or `feature:`
/// gives the facts and [`Feature::owner_for`] derives the owner of each duty; `duties:` still
/// overrides single duties the facts cannot express.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The written owner; with `feature:`, the derived owner of `configure` (for listings).
    pub owner: Owner,
    pub provider: Option<String>,
    pub customer: Option<String>,
    /// Duties whose owner is written explicitly and differs from `owner`/the facts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duties: BTreeMap<Duty, Owner>,
    /// The facts the owner is derived from, when the entry gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
    /// The provider page this entry follows, when it is not the service's own `source:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// What decided the owner of one duty in an [`Entry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `owner:` as written.
    Owner,
    /// An explicit `duties:` exception.
    Duty,
    /// Derived from `feature:` by the documented rule.
    Facts(Feature),
}

impl Entry {
    pub fn owner_for(&self, duty: Duty) -> Owner {
        self.decide(duty).0
    }

    /// The owner of `duty` and what decided it: an explicit `duties:` exception, then the
    /// facts, then `owner:`.
    pub fn decide(&self, duty: Duty) -> (Owner, Decision) {
        if let Some(o) = self.duties.get(&duty) {
            return (*o, Decision::Duty);
        }
        if let Some(f) = self.feature {
            return (f.owner_for(duty), Decision::Facts(f));
        }
        (self.owner, Decision::Owner)
    }

    /// A side the entry gives to someone must say what that side does. `duties` are the duties
    /// the entry is read for (a control's duties; `None` for a layer: every duty it names).
    pub fn check_texts(&self, duties: Option<&[Duty]>) -> Result<(), String> {
        let owners: Vec<Owner> = match duties {
            Some(ds) => ds.iter().map(|&d| self.owner_for(d)).collect(),
            None => std::iter::once(self.owner)
                .chain(self.duties.values().copied())
                .collect(),
        };
        let need_p = owners
            .iter()
            .any(|o| matches!(o, Owner::Provider | Owner::Shared));
        let need_c = owners
            .iter()
            .any(|o| matches!(o, Owner::Customer | Owner::Shared));
        let empty = |t: &Option<String>| t.as_deref().is_none_or(|s| s.trim().is_empty());
        let why = match self.feature {
            Some(f) => format!(" (with `feature: {f}`)"),
            None => String::new(),
        };
        if need_p && empty(&self.provider) {
            return Err(format!(
                "says the provider does something{why} but not what (`provider:` text)"
            ));
        }
        if need_c && empty(&self.customer) {
            return Err(format!(
                "says the customer does something{why} but not what (`customer:` text)"
            ));
        }
        Ok(())
    }
}

impl From<demarc_model::Entry> for Entry {
    fn from(e: demarc_model::Entry) -> Self {
        Entry {
            owner: e.owner,
            provider: e.provider,
            customer: e.customer,
            duties: e.duties,
            feature: None,
            source: None,
        }
    }
}

/// The written form of an entry: a bare owner, or a mapping with `owner:` or `feature:`.
#[derive(Clone)]
pub(crate) struct RawEntry(pub Entry);

/// The written form of `feature:`: a shorthand or `{supported, default_on, enforced}`.
struct RawFeature(Feature);

impl<'de> Deserialize<'de> for RawFeature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            #[serde(default)]
            supported: Option<bool>,
            #[serde(default)]
            default_on: Option<bool>,
            #[serde(default)]
            enforced: Option<bool>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFeature;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "enforced, default-on, off-by-default, unsupported or {supported, default_on, enforced}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFeature, E> {
                Feature::from_label(v).map(RawFeature).ok_or_else(|| {
                    E::custom(format!(
                        "unknown feature `{v}`: write enforced, default-on, off-by-default or unsupported"
                    ))
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawFeature, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let supported = f.supported.unwrap_or(true);
                let enforced = f.enforced.unwrap_or(false);
                let default_on = f.default_on.unwrap_or(enforced);
                if !supported && (enforced || default_on) {
                    return Err(de::Error::custom(
                        "a feature that is not supported cannot be on by default or enforced",
                    ));
                }
                if enforced && !default_on {
                    return Err(de::Error::custom(
                        "an enforced feature is always on: drop `default_on: false`",
                    ));
                }
                Ok(RawFeature(Feature {
                    supported,
                    default_on,
                    enforced,
                }))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            #[serde(default)]
            owner: Option<Owner>,
            #[serde(default)]
            feature: Option<RawFeature>,
            #[serde(default)]
            provider: Option<String>,
            #[serde(default)]
            customer: Option<String>,
            #[serde(default)]
            duties: BTreeMap<Duty, Owner>,
            #[serde(default)]
            source: Option<Source>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "an owner (provider, customer, shared) or {owner | feature, provider, customer, duties, source}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawEntry, E> {
                let owner = Owner::deserialize(de::value::StrDeserializer::<E>::new(v))?;
                Ok(RawEntry(Entry {
                    owner,
                    provider: None,
                    customer: None,
                    duties: BTreeMap::new(),
                    feature: None,
                    source: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawEntry, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let feature = f.feature.map(|r| r.0);
                let owner = match (f.owner, feature) {
                    (Some(_), Some(_)) => {
                        return Err(de::Error::custom(
                            "an entry has `owner:` or `feature:`, not both; the owner is derived from the feature (use `duties:` for an exception)",
                        ));
                    }
                    (None, None) => {
                        return Err(de::Error::custom(
                            "an entry needs `owner:` (provider, customer, shared) or `feature:` (the facts the owner is derived from)",
                        ));
                    }
                    (Some(o), None) => o,
                    (None, Some(ft)) => ft.owner_for(Duty::Configure),
                };
                Ok(RawEntry(Entry {
                    owner,
                    provider: f.provider,
                    customer: f.customer,
                    duties: f.duties,
                    feature,
                    source: f.source,
                }))
            }
        }
        d.deserialize_any(V)
    }
}
