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

/// Reads a timestamp: RFC 3339 (`2026-09-03T01:40:00Z`, `…+02:00`), or without seconds
/// (`2026-09-03T01:40Z`), or without an offset (`2026-09-03 01:40`, taken as UTC). The result
/// is in UTC.
pub fn parse_timestamp(s: &str) -> Result<chrono::NaiveDateTime, String> {
    let shown: String = s.chars().take(40).collect();
    let bad = || {
        format!(
            "`{shown}` is not a timestamp: write YYYY-MM-DDTHH:MM[:SS] with `Z` or an offset such as `+02:00` (UTC when none is given), e.g. 2026-09-03T01:40Z"
        )
    };
    // The date part is read strictly first, so a bad date says what is wrong with it.
    if s.len() < 16 || !s.is_char_boundary(10) {
        return Err(bad());
    }
    parse_date(&s[..10])?;
    let t = s.replacen(' ', "T", 1);
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(&t) {
        return Ok(d.naive_utc());
    }
    // RFC 3339 without seconds: insert `:00` before the offset.
    if t.len() >= 16 && t.is_char_boundary(16) {
        let (head, tail) = t.split_at(16);
        if tail.starts_with(['Z', 'z', '+', '-'])
            && let Ok(d) = chrono::DateTime::parse_from_rfc3339(&format!("{head}:00{tail}"))
        {
            return Ok(d.naive_utc());
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(&t, f) {
            return Ok(d);
        }
    }
    Err(bad())
}

/// An optional timestamp (with `#[serde(default)]`); see [`parse_timestamp`].
pub(crate) fn timestamp_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Sp<chrono::NaiveDateTime>>, D::Error> {
    let v = Sp::<ScalarText>::deserialize(d)?;
    let result = match v.value.0 {
        Ok(text) => parse_timestamp(text.trim()),
        Err(found) => Err(format!(
            "expected a timestamp (YYYY-MM-DDTHH:MMZ), found {found}"
        )),
    };
    Ok(Some(Sp::at(
        result.unwrap_or_else(|m| {
            defer(v.loc.line, v.loc.column, m);
            NaiveDate::MIN.and_hms_opt(0, 0, 0).expect("midnight")
        }),
        v.loc,
    )))
}
