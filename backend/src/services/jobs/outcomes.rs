//! Job outcomes per day, for the home page's chart: how many jobs ended in success, error or
//! cancellation on each of the last `days` days, days counted in the viewer's time zone.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::services::error::{Error, Msg, Result};
use crate::services::schedules::cron::parse_zone;
use crate::services::{Action, Actor, Ctx};
use crate::store::jobs as rows;

pub const MAX_DAYS: i64 = 90;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayOutcomes {
    /// The local date, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub success: i64,
    pub error: i64,
    pub cancelled: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcomes {
    /// The zone the days are counted in.
    pub timezone: String,
    /// Oldest first; every day present, today last.
    pub days: Vec<DayOutcomes>,
}

/// The last `days` local days up to `now` (today included) and their outcomes.
pub fn count(
    ended: &[(String, DateTime<Utc>)],
    zone: Tz,
    now: DateTime<Utc>,
    days: i64,
) -> Vec<DayOutcomes> {
    let today = now.with_timezone(&zone).date_naive();
    let first = today - Duration::days(days - 1);
    let mut out: Vec<DayOutcomes> = (0..days)
        .map(|i| DayOutcomes {
            date: first + Duration::days(i),
            ..DayOutcomes::default()
        })
        .collect();
    for (status, at) in ended {
        let date = at.with_timezone(&zone).date_naive();
        let Ok(i) = usize::try_from((date - first).num_days()) else {
            continue;
        };
        let Some(day) = out.get_mut(i) else { continue };
        match status.as_str() {
            "success" => day.success += 1,
            "error" => day.error += 1,
            "cancelled" => day.cancelled += 1,
            _ => {}
        }
    }
    out
}

/// The start of the local day `days - 1` days before today, as an instant.
fn window_start(zone: Tz, now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let first = now.with_timezone(&zone).date_naive() - Duration::days(days - 1);
    let midnight = first.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A midnight skipped by a DST change: the earliest time that day that exists.
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| now - Duration::days(days))
}

pub async fn outcomes(ctx: &Ctx, actor: &Actor, days: i64, timezone: &str) -> Result<Outcomes> {
    actor.require_to(Action::Read)?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::validation("days", Msg::between(1, MAX_DAYS)));
    }
    let zone = parse_zone(timezone)?;
    let now = ctx.clock.now();
    let since = window_start(zone, now, days).naive_utc();
    let ended = ctx.store.run(move |c| rows::ended_since(c, since)).await?;
    let ended: Vec<(String, DateTime<Utc>)> =
        ended.into_iter().map(|(s, at)| (s, at.and_utc())).collect();
    Ok(Outcomes {
        timezone: zone.name().to_string(),
        days: count(&ended, zone, now, days),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn jobs_count_on_their_local_day_and_every_day_is_present() {
        let ended = vec![
            ("success".to_string(), at("2026-12-01T15:30:00Z")), // 23:30 in Shanghai
            ("error".to_string(), at("2026-12-01T16:30:00Z")),   // 00:30 the next day there
            ("cancelled".to_string(), at("2026-12-03T01:00:00Z")),
            ("success".to_string(), at("2026-11-20T01:00:00Z")), // before the window
        ];
        let now = at("2026-12-03T02:00:00Z");
        let shanghai: Tz = "Asia/Shanghai".parse().expect("zone");
        let days = count(&ended, shanghai, now, 3);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(
            days,
            vec![
                DayOutcomes {
                    date: d("2026-12-01"),
                    success: 1,
                    ..Default::default()
                },
                DayOutcomes {
                    date: d("2026-12-02"),
                    error: 1,
                    ..Default::default()
                },
                DayOutcomes {
                    date: d("2026-12-03"),
                    cancelled: 1,
                    ..Default::default()
                },
            ]
        );
        let utc = count(&ended, Tz::UTC, now, 3);
        assert_eq!(
            (utc[0].success, utc[0].error),
            (1, 1),
            "both on Dec 1 in UTC"
        );
    }

    #[test]
    fn the_window_starts_at_local_midnight() {
        let shanghai: Tz = "Asia/Shanghai".parse().expect("zone");
        assert_eq!(
            window_start(shanghai, at("2026-12-03T02:00:00Z"), 3),
            at("2026-11-30T16:00:00Z")
        );
    }
}
