//! Cron expressions and time zones: parsing that names the bad field, and the pure
//! [`next_fires`] every other part of schedules uses (the engine, the API's `next_runs`, the
//! preview). Matching is on the zone's wall clock (croner matches naive local times); turning
//! a local time into an instant is done here, with the DST rules AutoDB promises:
//!
//! - a local time that does not exist (spring forward) fires once, at the first valid instant
//!   after it (the end of the gap; several matches inside one gap fire once);
//! - a local time that happens twice (fall back) fires once, at its first occurrence.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use crate::services::error::{Error, Msg, Result};

const FIELDS: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];
const NICKNAMES: [&str; 6] = [
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
];
/// Most matches looked at for one [`next_fires`] call (matches inside a DST gap collapse).
const MAX_STEPS: usize = 100_000;

/// A checked cron expression: five fields or one of the `@` nicknames.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    cron: Cron,
}

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

impl CronExpr {
    /// Parses `text`; a bad expression is a 422 on `cron` naming the field at fault.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |m: Msg| Error::unprocessable("cron", m.with("text", text));
        if text.starts_with('@') {
            if !NICKNAMES.iter().any(|n| n.eq_ignore_ascii_case(text)) {
                let names = NICKNAMES[..5].join(" ");
                return Err(bad(Msg::new(
                    "cron_nickname",
                    format!("`{text}` is not one of {names}"),
                )
                .with("names", names)));
            }
        } else {
            let fields: Vec<&str> = text.split_whitespace().collect();
            if fields.len() != 5 {
                let names = NICKNAMES[..5].join(" ");
                return Err(bad(Msg::new(
                    "cron_fields",
                    format!(
                        "must have 5 fields (minute hour day-of-month month day-of-week) or be \
                         one of {names}; got {} field(s)",
                        fields.len()
                    ),
                )
                .with("names", names)
                .with("count", fields.len())));
            }
            if let Err(e) = parser().parse(text) {
                // Which field: each alone, the others `*`.
                for (i, f) in fields.iter().enumerate() {
                    let mut probe = ["*"; 5];
                    probe[i] = f;
                    if let Err(e) = parser().parse(&probe.join(" ")) {
                        return Err(bad(Msg::new(
                            "cron_field",
                            format!("field {} ({}) `{f}` is invalid: {e}", i + 1, FIELDS[i]),
                        )
                        .with("n", i + 1)
                        .with("name", FIELDS[i])
                        .with("value", *f)
                        .with("detail", e.to_string())));
                    }
                }
                return Err(bad(invalid(text, &e)));
            }
        }
        let cron = parser().parse(text).map_err(|e| bad(invalid(text, &e)))?;
        let me = Self {
            text: text.to_string(),
            cron,
        };
        // `0 0 30 2 *` parses but never comes.
        if next_fires(&me, Tz::UTC, Utc::now(), 1).is_empty() {
            return Err(bad(Msg::new("cron_never", format!("`{text}` never fires"))));
        }
        Ok(me)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn invalid(text: &str, e: &impl std::fmt::Display) -> Msg {
    Msg::new("cron_invalid", format!("`{text}` is invalid: {e}")).with("detail", e.to_string())
}

/// An IANA zone name (`Europe/Berlin`); unknown → 422 on `timezone`.
pub fn parse_zone(name: &str) -> Result<Tz> {
    Tz::from_str(name.trim()).map_err(|_| {
        Error::unprocessable(
            "timezone",
            Msg::new(
                "not_a_zone",
                format!("`{name}` is not an IANA time zone name (e.g. Europe/Berlin, UTC)"),
            )
            .with("name", name),
        )
    })
}

/// The instant a matching local time fires at (the DST rules above).
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Tz>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(a, b) => Some(a.min(b)),
        LocalResult::None => {
            // In a gap: the first local time after it that exists is the gap's end. Gaps are
            // whole minutes and at most a day (Samoa, 2011).
            let mut m = local;
            for _ in 0..(26 * 60) {
                m += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&m).earliest() {
                    return Some(t);
                }
            }
            None
        }
    }
}

/// The next `n` fire times strictly after `after`, in `tz`. Fewer when the expression stops
/// matching (croner searches up to the year 5000).
pub fn next_fires(cron: &CronExpr, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
    let mut out: Vec<DateTime<Tz>> = Vec::with_capacity(n);
    let mut cursor = after.with_timezone(&tz).naive_local();
    for _ in 0..MAX_STEPS {
        if out.len() >= n {
            break;
        }
        let Ok(local) = cron.cron.find_next_occurrence(&cursor, false) else {
            break;
        };
        cursor = local;
        let Some(at) = resolve(tz, local) else {
            continue;
        };
        // Matches inside one gap resolve to the same instant; a repeated local time met from
        // its second occurrence resolves to the first, which is already past.
        if at.with_timezone(&Utc) > after && out.last().is_none_or(|l| at > *l) {
            out.push(at);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    fn fires(cron: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
        let c = CronExpr::parse(cron).expect("cron");
        next_fires(&c, parse_zone(zone).expect("zone"), utc(after), n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect()
    }

    /// The same fire times computed independently: Python's `zoneinfo` (the system's zone
    /// database, not chrono-tz's), walking the wall clock minute by minute.
    fn python_fires(minutes: &str, hours: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
        let script = r#"
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
minutes, hours, zone, after, n = sys.argv[1:6]
minutes = set(map(int, minutes.split(','))) if minutes != '*' else set(range(60))
hours = set(map(int, hours.split(','))) if hours != '*' else set(range(24))
z = ZoneInfo(zone); n = int(n)
after = datetime.fromisoformat(after).astimezone(timezone.utc)
def exists(w):
    return w.replace(tzinfo=z).astimezone(timezone.utc).astimezone(z).replace(tzinfo=None) == w
def instant(w):
    while not exists(w):
        w += timedelta(minutes=1)
    # fold=0: the first occurrence of a repeated time.
    return w.replace(tzinfo=z, fold=0).astimezone(timezone.utc)
wall = after.astimezone(z).replace(tzinfo=None, second=0, microsecond=0)
out = []
while len(out) < n:
    wall += timedelta(minutes=1)
    if wall.minute in minutes and wall.hour in hours:
        t = instant(wall)
        if t > after and (not out or t > out[-1]):
            out.append(t)
print('\n'.join(t.astimezone(z).isoformat() for t in out))
"#;
        let out = std::process::Command::new("python3")
            .args(["-c", script, minutes, hours, zone, after, &n.to_string()])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .lines()
            .map(String::from)
            .collect()
    }

    fn agree(
        cron: &str,
        minutes: &str,
        hours: &str,
        zone: &str,
        after: &str,
        n: usize,
    ) -> Vec<String> {
        let ours = fires(cron, zone, after, n);
        let theirs = python_fires(minutes, hours, zone, after, n);
        assert_eq!(ours, theirs, "{cron} in {zone} after {after}");
        ours
    }

    #[test]
    fn berlin_spring_forward_fires_a_missing_time_once_at_the_end_of_the_gap() {
        // 2026-03-29 02:00 CET → 03:00 CEST: 02:30 does not exist.
        let got = agree(
            "30 2 * * *",
            "30",
            "2",
            "Europe/Berlin",
            "2026-03-27T12:00:00Z",
            3,
        );
        assert_eq!(
            got,
            [
                "2026-03-28T02:30:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-30T02:30:00+02:00"
            ]
        );
        // Every 15 minutes: the four times inside the gap are one fire at 03:00.
        let got = agree(
            "*/15 * * * *",
            "0,15,30,45",
            "*",
            "Europe/Berlin",
            "2026-03-29T00:40:00Z",
            4,
        );
        assert_eq!(
            got,
            [
                "2026-03-29T01:45:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:15:00+02:00",
                "2026-03-29T03:30:00+02:00"
            ]
        );
    }

    #[test]
    fn berlin_fall_back_fires_a_repeated_time_once_at_its_first_occurrence() {
        // 2026-10-25 03:00 CEST → 02:00 CET: 02:30 happens twice.
        let got = agree(
            "30 2 * * *",
            "30",
            "2",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            2,
        );
        assert_eq!(
            got,
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        );
        let got = agree(
            "0,30 * * * *",
            "0,30",
            "*",
            "Europe/Berlin",
            "2026-10-24T23:10:00Z",
            5,
        );
        assert_eq!(
            got,
            [
                "2026-10-25T01:30:00+02:00",
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:30:00+02:00",
                "2026-10-25T03:00:00+01:00",
                "2026-10-25T03:30:00+01:00"
            ]
        );
        // Asked from inside the second occurrence: the repeated times are not fired again.
        let got = agree(
            "0,30 * * * *",
            "0,30",
            "*",
            "Europe/Berlin",
            "2026-10-25T01:10:00Z",
            2,
        );
        assert_eq!(
            got,
            ["2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00"]
        );
    }

    #[test]
    fn new_york_both_transitions_follow_the_same_rules() {
        // 2026-03-08 02:00 EST → 03:00 EDT.
        let got = agree(
            "30 2 * * *",
            "30",
            "2",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            2,
        );
        assert_eq!(
            got,
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
        );
        // 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice.
        let got = agree(
            "30 1 * * *",
            "30",
            "1",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            2,
        );
        assert_eq!(
            got,
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
        agree(
            "*/20 * * * *",
            "0,20,40",
            "*",
            "America/New_York",
            "2026-11-01T04:30:00Z",
            8,
        );
        agree(
            "*/20 * * * *",
            "0,20,40",
            "*",
            "America/New_York",
            "2026-03-08T06:30:00Z",
            8,
        );
    }

    #[test]
    fn shanghai_has_no_transition_and_fires_on_its_fixed_offset() {
        let got = agree(
            "0 9 * * *",
            "0",
            "9",
            "Asia/Shanghai",
            "2026-03-08T00:00:00Z",
            2,
        );
        assert_eq!(
            got,
            ["2026-03-08T09:00:00+08:00", "2026-03-09T09:00:00+08:00"]
        );
        agree(
            "15 * * * *",
            "15",
            "*",
            "Asia/Shanghai",
            "2026-10-31T15:50:00Z",
            30,
        );
    }

    #[test]
    fn nicknames_and_five_fields_parse_and_bad_fields_are_named() {
        for ok in [
            "@hourly",
            "@daily",
            "@weekly",
            "@monthly",
            "@yearly",
            "* * * * *",
            "0 9 * * MON-FRI",
        ] {
            assert!(CronExpr::parse(ok).is_ok(), "{ok}");
        }
        let err = |s: &str| match CronExpr::parse(s) {
            Err(Error::Unprocessable { field, message }) => {
                assert_eq!(field, "cron");
                assert!(message.reason.is_some(), "{message:?}");
                message.text
            }
            other => panic!("{s}: {other:?}"),
        };
        assert!(err("61 * * * *").contains("field 1 (minute)"));
        assert!(err("0 25 * * *").contains("field 2 (hour)"));
        assert!(err("0 0 * 13 *").contains("field 4 (month)"));
        assert!(err("* * * *").contains("5 fields"));
        assert!(err("0 * * * * *").contains("5 fields"));
        assert!(err("@often").contains("@hourly"));
        assert!(err("0 0 30 2 *").contains("never"));
        assert!(matches!(
            parse_zone("Mars/Olympus"),
            Err(Error::Unprocessable { field, .. }) if field == "timezone"
        ));
        let h = fires("@hourly", "UTC", "2026-01-01T00:30:00Z", 2);
        assert_eq!(
            h,
            ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]
        );
    }
}
