//! Scopes compiled once and evaluated per equivalence class of assets, not per asset.

use std::collections::BTreeSet;

use demarc_model::{Asset, Scope, Sym};
use globset::{Glob, GlobSet, GlobSetBuilder};

/// The attributes of an asset that any scope can look at. Assets with equal signatures are
/// resolved once: that is what makes a million assets cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signature<'e> {
    pub service: &'e str,
    pub env: Option<&'e str>,
    pub data: Vec<&'e str>,
    /// Values of the tag keys that some scope mentions, in [`TagKeys`] order.
    pub tags: Vec<Option<&'e str>>,
    /// The asset id, only when some scope names assets explicitly and names this one.
    pub id: Option<&'e str>,
    /// The asset's own `provider:`, if it sets one.
    pub provider: Option<&'e str>,
    /// The service mode the asset selects, if any.
    pub mode: Option<&'e str>,
}

/// The tag keys and asset ids that scopes mention; everything else cannot change a result.
pub struct Projection<'e> {
    pub tag_keys: Vec<&'e str>,
    pub named_assets: BTreeSet<&'e str>,
}

impl<'e> Projection<'e> {
    pub fn new(scopes: impl Iterator<Item = &'e Scope>) -> Self {
        let mut keys = BTreeSet::new();
        let mut named = BTreeSet::new();
        for s in scopes {
            keys.extend(s.tags.keys().map(String::as_str));
            named.extend(s.assets.iter().map(|a| a.value.as_str()));
        }
        Projection {
            tag_keys: keys.into_iter().collect(),
            named_assets: named,
        }
    }

    pub fn signature(&self, a: &'e Asset) -> Signature<'e> {
        let mut data: Vec<&str> = a.data.iter().map(Sym::as_str).collect();
        data.sort_unstable();
        data.dedup();
        Signature {
            service: &a.service.value,
            env: a.env.as_deref(),
            data,
            tags: self.tag_keys.iter().map(|k| a.tags.get(k)).collect(),
            id: self
                .named_assets
                .contains(a.id.as_str())
                .then_some(a.id.as_str()),
            provider: a.provider.as_ref().map(|p| p.value.as_str()),
            mode: a.mode.as_deref(),
        }
    }
}

/// A compiled scope.
pub struct Matcher {
    service: Option<GlobSet>,
    env: Option<GlobSet>,
    data: Vec<String>,
    tags: Vec<(usize, String)>,
    assets: Option<BTreeSet<String>>,
}

fn globs(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // Validation rejected bad patterns already; a literal fallback keeps this total.
        let g =
            Glob::new(p).unwrap_or_else(|_| Glob::new(&globset::escape(p)).expect("escaped glob"));
        b.add(g);
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

impl Matcher {
    pub fn new(scope: &Scope, projection: &Projection) -> Matcher {
        Matcher {
            service: scope.service.as_ref().map(|s| globs(&s.value.0)),
            env: scope.env.as_ref().map(|s| globs(&s.value.0)),
            data: scope.data.clone(),
            tags: scope
                .tags
                .iter()
                .map(|(k, v)| {
                    let i = projection
                        .tag_keys
                        .iter()
                        .position(|x| x == k)
                        .expect("projection covers every scope tag key");
                    (i, v.clone())
                })
                .collect(),
            assets: (!scope.assets.is_empty())
                .then(|| scope.assets.iter().map(|a| a.value.clone()).collect()),
        }
    }

    pub fn matches(&self, sig: &Signature) -> bool {
        if let Some(s) = &self.service
            && !s.is_match(sig.service)
        {
            return false;
        }
        if let Some(e) = &self.env {
            match sig.env {
                Some(env) if e.is_match(env) => {}
                _ => return false,
            }
        }
        if !self.data.is_empty() && !self.data.iter().any(|d| sig.data.contains(&d.as_str())) {
            return false;
        }
        if !self
            .tags
            .iter()
            .all(|(i, v)| sig.tags[*i] == Some(v.as_str()))
        {
            return false;
        }
        if let Some(a) = &self.assets {
            match sig.id {
                Some(id) if a.contains(id) => {}
                _ => return false,
            }
        }
        true
    }
}
