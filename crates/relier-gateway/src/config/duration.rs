//! Human-friendly durations: `"30s"`, `"8h"`, `"30d"`, `"1h30m"`, `"500ms"`, `"2w"`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses a duration: one or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`, `d`, `w`
/// (also `sec`, `min`, `hour(s)`, `day(s)`, `week(s)`), optionally separated by spaces.
/// A bare `0` is zero.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration".into());
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
            return Err(format!(
                "{text:?}: expected a number, e.g. \"30s\", \"8h\", \"30d\""
            ));
        }
        let n: u128 = num
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
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
                return Err(format!(
                    "{text:?}: missing unit (ms, s, m, h, d, w), e.g. \"{n}s\""
                ));
            }
            other => {
                return Err(format!(
                    "{text:?}: unknown unit {other:?} (ms, s, m, h, d, w)"
                ));
            }
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?}: too large"))?;
        rest = after;
    }
    let ms = u64::try_from(total).map_err(|_| format!("{text:?}: too large"))?;
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
