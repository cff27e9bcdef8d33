//! Typed catalog ids, framework requirement ids normalised at load, and mapping relations.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Cheap to clone (a shared `Arc<str>`); compares, hashes and serialises as the plain
        /// string, and `Borrow<str>` lets maps keyed by it be looked up with a `&str`.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(id: &str) -> Self {
                $name(Arc::from(id))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::new(s)
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(Arc::from(s))
            }
        }
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }
    };
}

id_type!(
    /// A control id (`os-patching`).
    ControlId
);
id_type!(
    /// A named service id (`aws:ec2`).
    ServiceId
);
id_type!(
    /// A layer id (`physical-host`).
    LayerId
);
id_type!(
    /// A generic service model id (`iaas`).
    ModelId
);
id_type!(
    /// A framework id (`nist-800-53`).
    FrameworkId
);
id_type!(
    /// A requirement id in one framework, normalised at load (see [`IdScheme`]): NIST SP
    /// 800-53 ids in OSCAL form (`ac-2`, `ac-2.1`, `ac-2_smt.a`), other frameworks as written
    /// without surrounding blanks (`A.8.8`, `164.308(a)(1)`).
    RequirementId
);

/// How a framework's requirement ids are written and normalised (`id_scheme:` in
/// frameworks.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdScheme {
    /// Kept as written, trimmed.
    #[default]
    AsWritten,
    /// NIST SP 800-53 control, enhancement and statement-part ids, in OSCAL form.
    #[serde(rename = "nist-800-53")]
    Nist80053,
}

impl IdScheme {
    /// Normalises one id of this scheme, or says why it is malformed.
    pub fn normalise(self, raw: &str) -> Result<RequirementId, String> {
        match self {
            IdScheme::AsWritten => {
                let t = raw.trim();
                if t.is_empty() {
                    Err("a requirement id is empty".into())
                } else {
                    Ok(RequirementId::new(t))
                }
            }
            IdScheme::Nist80053 => normalise_nist_800_53(raw).map(RequirementId::from),
        }
    }

    /// How people write a normalised id of this scheme: `AC-2(1)(a)` for `ac-2.1_smt.a`;
    /// other schemes as stored. Normalising the label gives the id back (a bare statement,
    /// `ac-2_smt`, is labelled as its control).
    pub fn label(self, id: &RequirementId) -> String {
        match self {
            IdScheme::AsWritten => id.to_string(),
            IdScheme::Nist80053 => nist_800_53_label(id.as_str()),
        }
    }
}

/// `ac-2.1_smt.a.1` → `AC-2(1)(a)(1)`: the conventional way to write an OSCAL-form id.
pub fn nist_800_53_label(oscal: &str) -> String {
    let (base, parts) = oscal.split_once("_smt").unwrap_or((oscal, ""));
    let mut out = match base.split_once('.') {
        Some((control, enhancement)) => format!("{}({enhancement})", control.to_ascii_uppercase()),
        None => base.to_ascii_uppercase(),
    };
    for p in parts.split('.').filter(|p| !p.is_empty()) {
        out.push_str(&format!("({p})"));
    }
    out
}

/// Normalises a NIST SP 800-53 id to its OSCAL form, case-insensitively: `AC-2` → `ac-2`,
/// `AC-02` → `ac-2`, `AC-2(1)` and `AC-2.1` → `ac-2.1`, statement parts `AC-2a`, `AC-2(a)`,
/// `AC-2 a.1` and `ac-2_smt.a.1` → `ac-2_smt.a` / `ac-2_smt.a.1`, `AC-2(1)(a)` →
/// `ac-2.1_smt.a`. The spellings of FedRAMP's workbooks are accepted too: `AC-02 (01)`
/// (a space before the enhancement) and `AC-2 a.` (a part ending with a full stop). Normalising a normalised id returns it unchanged.
pub fn normalise_nist_800_53(raw: &str) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!(
            "`{raw}` is not a NIST SP 800-53 id ({why}); write it like AC-2, AC-2(1) or AC-2a"
        ))
    };
    let s = raw.trim().to_ascii_lowercase();
    let b = s.as_bytes();
    if b.len() < 4 || !b[0].is_ascii_lowercase() || !b[1].is_ascii_lowercase() || b[2] != b'-' {
        return bad("expected a two-letter family, a hyphen and a number");
    }
    let mut i = 3;
    let digits = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start || *i - start > 4 {
            return None;
        }
        s[start..*i].parse().ok()
    };
    let Some(number) = digits(&mut i).filter(|n| *n > 0) else {
        return bad("expected a control number after the family");
    };
    let mut out = format!("{}-{number}", &s[..2]);
    // FedRAMP's workbooks write a space before an enhancement: `AC-02 (01)`.
    if b.get(i) == Some(&b' ')
        && b.get(i + 1) == Some(&b'(')
        && b.get(i + 2).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
    }
    // An enhancement: `(1)` or `.1`.
    if i < b.len() && (b[i] == b'(' || b[i] == b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        let open = b[i] == b'(';
        i += 1;
        let Some(e) = digits(&mut i).filter(|n| *n > 0) else {
            return bad("enhancement number");
        };
        if open {
            if b.get(i) != Some(&b')') {
                return bad("unclosed parenthesis");
            }
            i += 1;
        }
        out.push_str(&format!(".{e}"));
    }
    if i == b.len() {
        return Ok(out);
    }
    // A statement part: `_smt` then `.a.1`, or `a`, `(a)`, ` a.1`, `(a)(1)`.
    let mut tokens: Vec<String> = Vec::new();
    let rest = &s[i..];
    let (explicit, mut j) = match rest.strip_prefix("_smt") {
        Some(_) => (true, i + 4),
        None => (false, i),
    };
    while j < b.len() {
        match b[j] {
            b'.' | b' ' if j + 1 < b.len() => j += 1,
            // A part written as a list item ends with a full stop: `AC-2 a.`.
            b'.' if !tokens.is_empty() => break,
            b'(' => {
                let Some(close) = s[j..].find(')') else {
                    return bad("unclosed parenthesis");
                };
                let t = &s[j + 1..j + close];
                tokens.push(t.to_string());
                j += close + 1;
                continue;
            }
            c if c.is_ascii_alphanumeric() => {
                let alpha = c.is_ascii_lowercase();
                let start = j;
                while j < b.len()
                    && (if alpha {
                        b[j].is_ascii_lowercase()
                    } else {
                        b[j].is_ascii_digit()
                    })
                {
                    j += 1;
                }
                tokens.push(s[start..j].to_string());
                continue;
            }
            _ => return bad("unexpected character"),
        }
        if explicit && !b[j].is_ascii_alphanumeric() {
            return bad("expected a part after `.`");
        }
    }
    if tokens.is_empty() && !explicit {
        return bad("trailing characters");
    }
    for (k, t) in tokens.iter_mut().enumerate() {
        let letters = !t.is_empty() && t.bytes().all(|c| c.is_ascii_lowercase());
        let numbers = !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) && t.len() <= 4;
        if k == 0 && !letters {
            return bad("a statement part starts with a letter");
        }
        if !letters && !numbers {
            return bad("a statement part is letters or digits");
        }
        if numbers {
            let n: u32 = t.parse().unwrap_or(0);
            if n == 0 {
                return bad("a numbered part starts at 1");
            }
            *t = n.to_string();
        }
    }
    out.push_str("_smt");
    for t in tokens {
        out.push('.');
        out.push_str(&t);
    }
    Ok(out)
}

/// How a control relates to a framework requirement, in the set-theory terms of NIST IR 8477
/// and OSCAL mappings, read "the control is <relation> the requirement".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Same scope.
    Equivalent,
    /// The control covers part of the requirement.
    Subset,
    /// The control covers all of the requirement and more.
    Superset,
    /// They overlap; neither contains the other. The default for a plain id.
    #[default]
    Intersects,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Equivalent => "equivalent",
            Relation::Subset => "subset",
            Relation::Superset => "superset",
            Relation::Intersects => "intersects",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One requirement a control maps to, with how it relates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Mapping {
    pub requirement: RequirementId,
    pub relation: Relation,
}

impl fmt::Display for Mapping {
    /// `AC-2` style ids print as written in the catalog's normal form; a relation other than
    /// the default is shown after the id: `ac-2.1 (subset)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.relation == Relation::default() {
            write!(f, "{}", self.requirement)
        } else {
            write!(f, "{} ({})", self.requirement, self.relation)
        }
    }
}
