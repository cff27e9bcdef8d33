//! Shared strings for the values a large estate repeats on every asset (service ids,
//! environments, data classes, tag keys and values).
//!
//! A million assets name perhaps a hundred distinct services and a dozen tag values. Keeping
//! one copy of each, and keeping tags in a sorted slice instead of a tree map, is most of the
//! difference between a 1.4 GB and a few-hundred-MB estate in memory.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of shared strings: equal strings interned in one `Interner` share one allocation.
///
/// Callers create one and pass it to whatever loads an estate ([`crate::load_path`],
/// [`crate::load_sources_with`], a future ingest crate), so every loader interns into the
/// same set. It is a plain value: nothing is global, and dropping it frees only the set's
/// own references (the `Sym`s handed out stay valid).
#[derive(Debug, Clone, Default)]
pub struct Interner {
    set: HashSet<Arc<str>>,
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }
    /// The shared `Sym` for `s`, allocating it the first time `s` is seen.
    pub fn intern(&mut self, s: &str) -> Sym {
        match self.set.get(s) {
            Some(a) => Sym(a.clone()),
            None => {
                let a: Arc<str> = Arc::from(s);
                self.set.insert(a.clone());
                Sym(a)
            }
        }
    }
    /// Makes `sym` share this set's allocation for its text (adding it if new). Used when
    /// values were parsed against another set, e.g. on a worker thread.
    pub fn adopt(&mut self, sym: &mut Sym) {
        match self.set.get(sym.as_str()) {
            Some(a) => {
                if !Arc::ptr_eq(a, &sym.0) {
                    sym.0 = a.clone();
                }
            }
            None => {
                self.set.insert(sym.0.clone());
            }
        }
    }
    /// How many distinct strings it holds.
    pub fn len(&self) -> usize {
        self.set.len()
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
    /// Runs `f` with this interner installed for [`Sym`]'s `Deserialize` on this thread.
    ///
    /// This is the one bridge between the explicit interner and serde: serde gives a
    /// `Deserialize` impl no context, so while serde-saphyr parses one estate file the
    /// caller's set is *moved* into a thread-local and moved back when `f` returns (or
    /// unwinds). Outside such a call the thread-local is empty and `Sym` deserialises to an
    /// unshared string, so nothing leaks from one load to another. Inventory rows do not use
    /// this: they call [`Interner::intern`] directly.
    pub(crate) fn scoped<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Restore<'a>(&'a mut Interner, Option<HashSet<Arc<str>>>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let set = INSTALLED.with(|i| i.borrow_mut().take());
                self.0.set = set.unwrap_or_default();
                // Put back whatever was installed before (nested scopes do not happen in the
                // loader, but a scope must never lose another's set).
                if let Some(outer) = self.1.take() {
                    INSTALLED.with(|i| *i.borrow_mut() = Some(outer));
                }
            }
        }
        let set = std::mem::take(&mut self.set);
        let outer = INSTALLED.with(|i| i.borrow_mut().replace(set));
        let _restore = Restore(self, outer);
        f()
    }
}

thread_local! {
    // Holds the caller's interner only during `Interner::scoped`; see there.
    static INSTALLED: RefCell<Option<HashSet<Arc<str>>>> = const { RefCell::new(None) };
}

/// An immutable, cheaply cloned string that compares, hashes and orders as its text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(Arc<str>);

impl Sym {
    /// A `Sym` that owns its text (shares nothing); use [`Interner::intern`] to share.
    pub fn new(s: &str) -> Sym {
        Sym(Arc::from(s))
    }
    /// Interns with the scoped interner if one is installed on this thread (see
    /// [`Interner::scoped`]), else owns its text.
    fn from_parse(s: &str) -> Sym {
        INSTALLED.with(|i| match i.borrow_mut().as_mut() {
            Some(set) => match set.get(s) {
                Some(a) => Sym(a.clone()),
                None => {
                    let a: Arc<str> = Arc::from(s);
                    set.insert(a.clone());
                    Sym(a)
                }
            },
            None => Sym(Arc::from(s)),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::new(s)
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Sym;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sym, E> {
                Ok(Sym::from_parse(v))
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for Sym {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "String".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(g)
    }
}

/// An asset's tags: a map of key to value kept as a slice sorted by key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tags(pub(crate) Box<[(Sym, Sym)]>);

impl Tags {
    /// Tags from pairs already made `Sym`s (interned by the caller); a key given twice keeps
    /// its last value.
    pub fn from_syms(mut v: Vec<(Sym, Sym)>) -> Tags {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Sym, Sym)> = Vec::with_capacity(v.len());
        for p in v {
            match out.last_mut() {
                Some(last) if last.0 == p.0 => *last = p,
                _ => out.push(p),
            }
        }
        Tags(out.into_boxed_slice())
    }
    /// Tags from pairs; a key given twice keeps its last value.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Tags {
        // Stable sort, then keep the last of equal keys, as a map insert would.
        Tags::from_syms(
            pairs
                .into_iter()
                .map(|(k, v)| (Sym::new(k.as_ref()), Sym::new(v.as_ref())))
                .collect(),
        )
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tag names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut pairs: Vec<(Sym, Sym)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Sym, Sym>()? {
                    if pairs.iter().any(|(x, _)| *x == k) {
                        return Err(serde::de::Error::custom(format!(
                            "tag `{k}` is given twice; keep one value"
                        )));
                    }
                    pairs.push((k, v));
                }
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Tags(pairs.into_boxed_slice()))
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for Tags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tags".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": {"type": "string"}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation_in_one_interner() {
        let mut i = Interner::new();
        let (a, b) = (i.intern("aws:ec2"), i.intern("aws:ec2"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(i.len(), 1);
        let (c, d) = (Sym::new("aws:ec2"), Sym::new("aws:ec2"));
        assert!(!Arc::ptr_eq(&c.0, &d.0));
        assert_eq!(a, c);
        let mut e = Sym::new("aws:ec2");
        i.adopt(&mut e);
        assert!(Arc::ptr_eq(&a.0, &e.0));
    }

    #[test]
    fn a_scoped_interner_is_used_by_serde_and_then_removed() {
        let mut i = Interner::new();
        let pre = i.intern("prod");
        let parsed: Vec<Sym> =
            i.scoped(|| serde_json::from_str(r#"["prod","dev","dev"]"#).unwrap());
        assert!(Arc::ptr_eq(&pre.0, &parsed[0].0));
        assert!(Arc::ptr_eq(&parsed[1].0, &parsed[2].0));
        assert_eq!(i.len(), 2, "the set comes back with what the parse added");
        // Outside the scope nothing is installed: parsed strings share nothing.
        let after: Vec<Sym> = serde_json::from_str(r#"["dev","dev"]"#).unwrap();
        assert!(!Arc::ptr_eq(&after[0].0, &after[1].0));
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn tags_look_up_by_key_and_keep_the_last_duplicate() {
        let t = Tags::from_pairs([("team", "web"), ("patch", "self"), ("team", "data")]);
        assert_eq!(t.get("team"), Some("data"));
        assert_eq!(t.get("patch"), Some("self"));
        assert_eq!(t.get("owner"), None);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            vec![("patch", "self"), ("team", "data")]
        );
    }
}
