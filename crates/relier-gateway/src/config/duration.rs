//! Human-friendly durations: `"30s"`, `"8h"`, `"30d"`, `"1h30m"`, `"500ms"`, `"2w"`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Nothing but spaces.
    #[error("empty duration")]
    Empty,
    /// A part does not start with a number.
    #[error("{text:?}: expected a number, e.g. \"30s\", \"8h\", \"30d\"")]
    ExpectedNumber {
        /// The whole duration.
        text: String,
    },
    /// A number beyond `u128`.
    #[error("{text:?}: number too large")]
    NumberTooLarge {
        /// The whole duration.
        text: String,
    },
    /// A number without a unit.
    #[error("{text:?}: missing unit (ms, s, m, h, d, w), e.g. \"{number}s\"")]
    MissingUnit {
        /// The whole duration.
        text: String,
        /// The number without a unit.
        number: u128,
    },
    /// A unit not in the list.
    #[error("{text:?}: unknown unit {unit:?} (ms, s, m, h, d, w)")]
    UnknownUnit {
        /// The whole duration.
        text: String,
        /// The unit.
        unit: String,
    },
    /// More milliseconds than `u64` holds.
    #[error("{text:?}: too large")]
    TooLarge {
        /// The whole duration.
        text: String,
    },
}

/// Parses a duration: one or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`, `d`, `w`
/// (also `sec`, `min`, `hour(s)`, `day(s)`, `week(s)`), optionally separated by spaces.
/// A bare `0` is zero.
///
/// # Errors
/// [`DurationError`], saying what is wrong.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        if num.is_empty() {
            return Err(DurationError::ExpectedNumber {
                text: text.to_owned(),
            });
        }
        let n: u128 = num.parse().map_err(|_| DurationError::NumberTooLarge {
            text: text.to_owned(),
        })?;
        let tail = tail.trim_start();
        let unit_len = tail
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_len);
        let ms: u128 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            "" => {
                return Err(DurationError::MissingUnit {
                    text: text.to_owned(),
                    number: n,
                });
            }
            other => {
                return Err(DurationError::UnknownUnit {
                    text: text.to_owned(),
                    unit: other.to_owned(),
                });
            }
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| DurationError::TooLarge {
                text: text.to_owned(),
            })?;
        rest = after;
    }
    let ms = u64::try_from(total).map_err(|_| DurationError::TooLarge {
        text: text.to_owned(),
    })?;
    Ok(Duration::from_millis(ms))
}

/// serde: a duration string.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// serde: an optional duration string.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| parse(&s).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse("30d").unwrap(), Duration::from_secs(30 * 86400));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("2w").unwrap(), Duration::from_secs(14 * 86400));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert_eq!(parse("10 minutes").unwrap(), Duration::from_secs(600));
        for bad in ["", "s", "10", "10x", "-5s", "1.5h", "h1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("999999999999999999999999w").is_err());
    }
}
