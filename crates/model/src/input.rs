//! Values whose type errors are told in the user's words and collected rather than stopping
//! the parse: dates and the format version. A bad value is recorded with its place (see
//! [`take_deferred`]) and a placeholder is returned, so one run reports every such error of a
//! file instead of the first.

use std::cell::RefCell;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use crate::span::Sp;

thread_local! {
    static DEFERRED: RefCell<Vec<(u32, u32, String)>> = const { RefCell::new(Vec::new()) };
}

fn defer(line: u32, column: u32, message: String) {
    DEFERRED.with(|d| d.borrow_mut().push((line, column, message)));
}

/// The errors recorded since the last call, as (line, column, message).
pub(crate) fn take_deferred() -> Vec<(u32, u32, String)> {
    DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// A scalar as text, whatever YAML type it was read as (`2026`, `1.5`, `true`, `"x"`).
struct ScalarText(Result<String, String>);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value")
            }
            fn visit_str<E>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(Ok(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(Ok(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(Ok(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(Ok(v.to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(Ok(v.to_string())))
            }
            fn visit_unit<E>(self) -> Result<ScalarText, E> {
                Ok(ScalarText(Err("nothing".into())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ScalarText, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(ScalarText(Err("a list".into())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ScalarText, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ScalarText(Err("a mapping".into())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads `YYYY-MM-DD` with a four-digit year; the error says what is wrong in words.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        let shown: String = s.chars().take(40).collect();
        return Err(format!(
            "`{shown}` is not a date: write YYYY-MM-DD with a four-digit year, e.g. 2026-11-23"
        ));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        let month: u32 = s[5..7].parse().unwrap_or(0);
        if !(1..=12).contains(&month) {
            format!("`{s}` is not a date: month {month} does not exist")
        } else {
            format!("`{s}` is not a date: that month has no day {}", &s[8..10])
        }
    })
}

fn date_at<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let v = Sp::<ScalarText>::deserialize(d)?;
    let result = match v.value.0 {
        Ok(text) => parse_date(text.trim()),
        Err(found) => Err(format!("expected a date (YYYY-MM-DD), found {found}")),
    };
    Ok(result.unwrap_or_else(|m| {
        defer(v.loc.line, v.loc.column, m);
        NaiveDate::MIN
    }))
}

/// A required date.
pub(crate) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    date_at(d)
}

/// An optional date (with `#[serde(default)]`).
pub(crate) fn date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    date_at(d).map(Some)
}

/// `version`: the integer 1 (other integers are refused later, as unsupported versions).
pub(crate) fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Sp<u32>>, D::Error> {
    let v = Sp::<ScalarText>::deserialize(d)?;
    let n = match &v.value.0 {
        Ok(t) if !t.starts_with('+') => t.parse::<u32>().ok(),
        _ => None,
    };
    Ok(Some(Sp::at(
        n.unwrap_or_else(|| {
            let found = match &v.value.0 {
                Ok(t) => format!("`{}`", t.chars().take(40).collect::<String>()),
                Err(f) => f.clone(),
            };
            defer(
                v.loc.line,
                v.loc.column,
                format!("`version` must be the integer 1, found {found}"),
            );
            1
        }),
        v.loc,
    )))
}
