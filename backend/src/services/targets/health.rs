//! Targets' health: each target's last connection check — a person's test
//! (`POST /api/targets/{id}/test`) or the periodic check — stored on the target, and the
//! periodic check as a kind of work (`target_health`) on the one engine.
//!
//! With `targets.health_interval_s` set, one sweep item (subject 0) comes back every interval;
//! executing it queues one check item per target (none for a target whose check still waits or
//! runs), in the recorder's transaction that ends the sweep. Checks run in the query lane, at
//! most `targets.health_parallel` at once in a process and one per target; each connects within
//! `engine.connect_timeout_s` and runs one trivial query. A target that is down or refuses the
//! login is recorded as failed with the database's message. A change of state (ok ⇄ failed) is
//! audited; a check that finds what the last one found is not.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::{spec_from_row, TargetAccess, TestResult};
use crate::connectors::{self, DbError};
use crate::services::audit::{self, Event};
use crate::services::Ctx;
use crate::store::target_health::{self as rows, HealthFields, SWEEP, WORK_KIND};
use crate::store::targets::TargetRow;
use crate::store::work::{self as items, Item, NewItem};
use crate::store::{self, StoreError, WriteTx};
use crate::work::{self, Control, Lane};

/// Who the periodic check's audit entries name.
const CHECKER: &str = "autodb:health-check";

/// A target's last connection check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetHealth {
    pub ok: bool,
    pub checked_at: DateTime<Utc>,
    /// The trivial query's round trip, when the check got that far.
    pub latency_ms: Option<f64>,
    /// What the server said it is (e.g. `10.11.6-MariaDB-0+deb12u1`).
    pub server_version: Option<String>,
    /// The database's own error when the check failed.
    pub error: Option<DbError>,
}

/// The stored health of a target; `None` when it was never checked.
pub fn of_row(row: &TargetRow) -> Option<TargetHealth> {
    Some(TargetHealth {
        ok: row.health_ok?,
        checked_at: row.health_checked_at?.and_utc(),
        latency_ms: row.health_latency_ms,
        server_version: row.health_server_version.clone(),
        error: row
            .health_error
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
    })
}

fn fields(result: &TestResult) -> HealthFields {
    HealthFields {
        health_ok: Some(result.ok),
        health_checked_at: Some(store::now()),
        health_latency_ms: result.ok.then_some(result.rtt_ms),
        health_server_version: result.server_version.clone(),
        health_error: result
            .error
            .as_ref()
            .and_then(|e| serde_json::to_string(e).ok()),
    }
}

/// Stores a check's outcome on the target (nothing when it was deleted meanwhile). Returns the
/// state it replaced: `Some(None)` never checked, `None` no such target.
pub fn record(
    tx: &mut WriteTx<'_>,
    id: i64,
    result: &TestResult,
) -> Result<Option<Option<bool>>, StoreError> {
    rows::record(tx, id, &fields(result))
}

/// Connects with the test's limits and runs the trivial query (on the calling thread: a pool
/// thread), as a result.
pub fn probe(spec: Result<connectors::ConnectSpec, DbError>) -> TestResult {
    match spec.and_then(|s| connectors::probe(&s)) {
        Ok((version, rtt)) => TestResult {
            ok: true,
            server_version: Some(version),
            rtt_ms: rtt.as_secs_f64() * 1000.0,
            error: None,
        },
        Err(e) => TestResult {
            ok: false,
            server_version: None,
            rtt_ms: 0.0,
            error: Some(e),
        },
    }
}

/// The periodic check as a kind of work.
pub struct HealthChecks {
    pub access: TargetAccess,
    pub connect_timeout: Duration,
    /// 0: off (a sweep item left from before ends without coming back).
    pub interval: Duration,
    pub parallel: usize,
}

/// A sweep ended: queue the round's checks and the next sweep.
struct Swept {
    interval: Duration,
}

impl work::End for Swept {
    fn record(&self, tx: &mut WriteTx<'_>, item: &Item, fenced: bool) -> Result<(), StoreError> {
        // A late end: the reaper re-queued the sweep already. Off, or a second sweep (two
        // processes seeded one each): this one ends for good.
        if !fenced || self.interval.is_zero() || rows::other_sweep(tx, Some(item.id))? {
            return Ok(());
        }
        let now = store::now();
        let busy = rows::being_checked(tx)?;
        let mut new: Vec<NewItem<'_>> = rows::target_ids(tx)?
            .into_iter()
            .filter(|id| !busy.contains(id))
            .map(|id| NewItem {
                kind: WORK_KIND,
                group_id: id,
                subject_id: id,
                target_id: Some(id),
                run_after: now,
                created_at: now,
            })
            .collect();
        new.push(NewItem {
            kind: WORK_KIND,
            group_id: SWEEP,
            subject_id: SWEEP,
            target_id: None,
            run_after: now + chrono::Duration::from_std(self.interval).unwrap_or_default(),
            created_at: now,
        });
        items::enqueue(tx, &new).map(|_| ())
    }
}

/// A target was checked: its health is stored, and a change of state audited.
struct Checked(TestResult);

impl work::End for Checked {
    fn record(&self, tx: &mut WriteTx<'_>, item: &Item, fenced: bool) -> Result<(), StoreError> {
        if !fenced {
            return Ok(());
        }
        let id = item.subject_id;
        let result = &self.0;
        let Some(before) = record(tx, id, result)? else {
            return Ok(());
        };
        if before == Some(result.ok) {
            return Ok(());
        }
        let detail = json!({
            "ok": result.ok,
            "server_version": result.server_version,
            "error": result.error.as_ref().map(ToString::to_string),
        });
        let event = Event::ok("health", "target", id).with(detail);
        let event = if result.ok { event } else { event.failed() };
        audit::record_in_store(tx, None, Some(CHECKER), None, event)
    }
}

impl HealthChecks {
    fn check(&self, ctl: &Control, id: i64) -> TestResult {
        let row = match ctl
            .store()
            .run_blocking(|c| crate::store::targets::row(c, id))
        {
            Ok(Some(row)) => row,
            Ok(None) => return probe(Err(DbError::config("the target no longer exists"))),
            Err(e) => return probe(Err(DbError::internal(e.to_string()))),
        };
        // A check runs one trivial query: it never needs long.
        let statement = Some(self.connect_timeout.max(Duration::from_secs(5)));
        probe(spec_from_row(
            &row,
            &self.access,
            self.connect_timeout,
            statement,
        ))
    }
}

impl work::Kind for HealthChecks {
    fn name(&self) -> &'static str {
        WORK_KIND
    }

    /// Beside queries and people's tests, which wait on the same kind of connect.
    fn lane(&self) -> Lane {
        Lane::Queries
    }

    fn per_target(&self) -> usize {
        1
    }

    fn max_running(&self) -> usize {
        // The sweep takes a place too, for the moment it reads nothing.
        self.parallel.max(1)
    }

    fn start(&self, _: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        Ok(items.to_vec())
    }

    fn execute(&self, item: &Item, ctl: &Control) -> Box<dyn work::End> {
        if item.subject_id == SWEEP {
            return Box::new(Swept {
                interval: self.interval,
            });
        }
        Box::new(Checked(self.check(ctl, item.subject_id)))
    }

    fn lapsed(&self, _: &mut WriteTx<'_>, _: &Item) -> Result<(), StoreError> {
        Ok(())
    }

    /// A sweep must come back; a check tried again is harmless.
    fn requeue_lapsed(&self) -> bool {
        true
    }
}

/// With the periodic check on, makes sure a sweep is queued (due now): call before the engine
/// starts. Another process's sweep counts.
pub async fn seed(ctx: &Ctx) -> crate::services::error::Result<()> {
    if ctx.settings.targets.health_interval_s == 0 {
        return Ok(());
    }
    ctx.store
        .write(|tx| {
            if rows::other_sweep(tx, None)? {
                return Ok::<_, StoreError>(());
            }
            let now = store::now();
            items::enqueue(
                tx,
                &[NewItem {
                    kind: WORK_KIND,
                    group_id: SWEEP,
                    subject_id: SWEEP,
                    target_id: None,
                    run_after: now,
                    created_at: now,
                }],
            )
            .map(|_| ())
        })
        .await?;
    Ok(())
}
