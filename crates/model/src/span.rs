//! Source locations that survive merging many files into one estate.

use std::cell::Cell;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a value was written: source index (into [`crate::Estate::sources`]), 1-based line
/// and column. Kept as three `u32`s because every asset carries several of them.
///
/// A line or column of 0 means "not known" (a diagnostic about a whole file). The default
/// `Loc` has the file index [`Loc::UNKNOWN_FILE`], which resolves to [`crate::Origin::Unknown`],
/// never to the first file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

impl Loc {
    /// The file index of a value whose place is not known (built in code, not read from a file).
    pub const UNKNOWN_FILE: u32 = u32::MAX;
    /// A place that is not known.
    pub const UNKNOWN: Loc = Loc {
        file: Loc::UNKNOWN_FILE,
        line: 0,
        column: 0,
    };
    pub const fn new(file: u32, line: u32, column: u32) -> Loc {
        Loc { file, line, column }
    }
    pub fn is_unknown(self) -> bool {
        self.file == Loc::UNKNOWN_FILE
    }
}

impl Default for Loc {
    fn default() -> Self {
        Loc::UNKNOWN
    }
}

thread_local! {
    // serde gives a `Deserialize` impl no context, so the loader parks the index of the file
    // being parsed here while serde-saphyr runs; `Sp` stamps it on every location it records.
    // Outside a parse it holds `UNKNOWN_FILE`, so a stray `Sp` never claims to be in file 0.
    static CURRENT_FILE: Cell<u32> = const { Cell::new(Loc::UNKNOWN_FILE) };
}

/// Runs `f` with `file` recorded as the file every `Sp` parsed inside it came from.
pub(crate) fn with_file<R>(file: u32, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT_FILE.with(|c| c.replace(file));
    let result = f();
    CURRENT_FILE.with(|c| c.set(previous));
    result
}

/// A value with the place it was written, so errors can point at `file:line:column`.
///
/// Equality, ordering and hashing look at the value only: two estates that say the same
/// thing in different files are the same estate.
#[derive(Clone, Default)]
pub struct Sp<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> Sp<T> {
    pub fn new(value: T) -> Self {
        Sp {
            value,
            loc: Loc::default(),
        }
    }
    pub fn at(value: T, loc: Loc) -> Self {
        Sp { value, loc }
    }
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Sp<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Sp<T> {}
impl<T: PartialOrd> PartialOrd for Sp<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}
impl<T: Ord> Ord for Sp<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}
impl<T: std::hash::Hash> std::hash::Hash for Sp<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let loc = Loc {
            file: CURRENT_FILE.with(|c| c.get()),
            line: s.referenced.line() as u32,
            column: s.referenced.column() as u32,
        };
        Ok(Sp {
            value: s.value,
            loc,
        })
    }
}

impl<T: Serialize> Serialize for Sp<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(g)
    }
}
