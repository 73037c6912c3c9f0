//! The time schedules go by: the real clock in production, a hand-set one in tests, so no test
//! waits for real minutes.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests set and advance; unset, it follows the real one.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Option<DateTime<Utc>>>);

impl ManualClock {
    pub fn set(&self, t: Option<DateTime<Utc>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = Some(t.unwrap_or_else(Utc::now) + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(Utc::now)
    }
}

/// The zone of schedules that name none: `server.timezone`, else the machine's (`TZ`, then
/// `/etc/timezone`, then the `/etc/localtime` link), else UTC.
pub fn default_zone(configured: &str) -> chrono_tz::Tz {
    let named = |s: &str| {
        s.trim()
            .trim_start_matches(':')
            .parse::<chrono_tz::Tz>()
            .ok()
    };
    if let Some(z) = named(configured) {
        return z;
    }
    if let Some(z) = std::env::var("TZ").ok().as_deref().and_then(named) {
        return z;
    }
    if let Some(z) = std::fs::read_to_string("/etc/timezone")
        .ok()
        .as_deref()
        .and_then(named)
    {
        return z;
    }
    std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|p| {
            let p = p.to_string_lossy().into_owned();
            p.split_once("zoneinfo/").and_then(|(_, name)| named(name))
        })
        .unwrap_or(chrono_tz::Tz::UTC)
}
