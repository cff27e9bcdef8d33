//! Durations written the way people write them in contracts: `30d`, `1h`, `2w`, `15m`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A length of time, kept in minutes (the finest unit an SLA is written in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    minutes: u64,
}

impl Duration {
    /// The longest duration an estate may write: 100 years. Longer ones are refused when
    /// parsed, so date arithmetic on them cannot leave the calendar.
    pub const MAX: Duration = Duration {
        minutes: 100 * 365 * 24 * 60,
    };
    /// `days` days (saturating, so a huge count cannot overflow).
    pub const fn from_days(days: u64) -> Self {
        Duration {
            minutes: days.saturating_mul(24 * 60),
        }
    }
    pub const fn from_minutes(minutes: u64) -> Self {
        Duration { minutes }
    }
    pub fn minutes(self) -> u64 {
        self.minutes
    }
    /// Whole days, rounded down; what date arithmetic (expiry, review age) uses.
    pub fn days(self) -> i64 {
        (self.minutes / (24 * 60)) as i64
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let bad = || {
            format!("`{s}` is not a duration: write a number and a unit, e.g. 30d, 12h, 2w, 15m")
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        let per = match unit {
            "m" | "min" => 1,
            "h" => 60,
            "d" => 24 * 60,
            "w" => 7 * 24 * 60,
            "y" => 365 * 24 * 60,
            _ => return Err(bad()),
        };
        match n.checked_mul(per) {
            Some(minutes) if minutes <= Duration::MAX.minutes => Ok(Duration { minutes }),
            _ => Err(format!("`{s}` is too long: the limit is {}", Duration::MAX)),
        }
    }
}

/// For `valid_for` and `review_cadence`, where no time at all makes no sense: a duration that
/// is more than zero.
pub(crate) fn nonzero<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    let v: Duration = s.parse().map_err(serde::de::Error::custom)?;
    if v.minutes == 0 {
        return Err(serde::de::Error::custom(format!(
            "`{}` is no time at all: give a duration of at least 1d, e.g. 90d",
            s.trim()
        )));
    }
    Ok(v)
}

/// [`nonzero`] for an optional field.
pub(crate) fn nonzero_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    nonzero(d).map(Some)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes;
        let (n, unit) = if m == 0 {
            (0, "m")
        } else if m.is_multiple_of(7 * 24 * 60) && !m.is_multiple_of(365 * 24 * 60) {
            (m / (7 * 24 * 60), "w")
        } else if m.is_multiple_of(365 * 24 * 60) {
            (m / (365 * 24 * 60), "y")
        } else if m.is_multiple_of(24 * 60) {
            (m / (24 * 60), "d")
        } else if m.is_multiple_of(60) {
            (m / 60, "h")
        } else {
            (m, "m")
        };
        write!(f, "{n}{unit}")
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(m|min|h|d|w|y)$",
            "description": "A duration such as 30d, 12h, 2w or 15m."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_contract_durations() {
        for (text, minutes, shown) in [
            ("30d", 30 * 1440, "30d"),
            ("1h", 60, "1h"),
            ("2w", 14 * 1440, "2w"),
            ("15m", 15, "15m"),
            ("90d", 90 * 1440, "90d"),
            ("1y", 365 * 1440, "1y"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.minutes(), minutes, "{text}");
            assert_eq!(d.to_string(), shown);
        }
    }

    #[test]
    fn rejects_durations_without_a_known_unit() {
        for bad in ["30", "d", "3 days", "-1d", "1.5h", "99999999999999999999d"] {
            let err = bad.parse::<Duration>().unwrap_err();
            assert!(err.contains(bad.trim()), "{err}");
        }
    }

    #[test]
    fn durations_are_bounded_at_100_years() {
        assert_eq!("100y".parse::<Duration>().unwrap(), Duration::MAX);
        assert_eq!("36500d".parse::<Duration>().unwrap(), Duration::MAX);
        for (bad, shown) in [
            ("300000y", "`300000y` is too long: the limit is 100y"),
            ("101y", "`101y` is too long: the limit is 100y"),
            ("36501d", "`36501d` is too long: the limit is 100y"),
            (
                "18446744073709551615m",
                "`18446744073709551615m` is too long",
            ),
        ] {
            let err = bad.parse::<Duration>().unwrap_err();
            assert!(err.starts_with(shown), "{err}");
        }
        assert_eq!(Duration::from_days(u64::MAX).minutes(), u64::MAX);
    }
}
