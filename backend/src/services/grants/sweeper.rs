//! Taking grants back, as a kind of work (`grant_restore`): one item per grant, due at its
//! expiry (extend moves it, end makes it due now). The engine claims each item once across
//! processes, and re-queues it when its holder dies (`requeue_lapsed`), so a restore a crash
//! interrupted is taken up again; every step is idempotent.
//!
//! Restore = compare-and-set on the target: the original goes back only if the account still
//! has the temporary verifier (else `conflict`: nothing is overwritten, admins are told), is
//! read back, the saved state is re-applied, then the sessions opened since the watermark are
//! ended. A target that cannot be reached: `restore_failed`, tried again with capped backoff
//! for ever.

use std::time::Duration;

use serde_json::json;

use super::lifecycle::verifiers;
use super::target::{self, Restored, State};
use super::{Mode, Status};
use crate::config::GrantSettings;
use crate::connectors::{self, Engine};
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Result};
use crate::services::targets::{spec_from_row, TargetAccess};
use crate::store::grants::{self as rows, Change, GrantRow, WORK_KIND};
use crate::store::work::{self as items, Item, NewItem};
use crate::store::{self, targets, Store, StoreError, WriteTx};
use crate::work::{self, Control, Lane};

/// Who the sweeper's audit entries name.
const SWEEPER: &str = "autodb:grant-sweeper";

pub struct GrantRestores {
    pub access: TargetAccess,
    pub settings: GrantSettings,
    pub connect_timeout: Duration,
}

/// After the item: nothing more, or a new item due at `at` (a retry, or an expiry moved).
struct Next {
    at: Option<chrono::NaiveDateTime>,
    target_id: Option<i64>,
}

impl work::End for Next {
    fn record(&self, tx: &mut WriteTx<'_>, item: &Item, fenced: bool) -> Result<(), StoreError> {
        // A late end: the reaper re-queued the item already.
        let (true, Some(at)) = (fenced, self.at) else {
            return Ok(());
        };
        items::enqueue(
            tx,
            &[NewItem {
                kind: WORK_KIND,
                group_id: item.group_id,
                subject_id: item.subject_id,
                target_id: self.target_id.or(item.target_id),
                run_after: at,
                created_at: store::now(),
            }],
        )
        .map(|_| ())
    }
}

impl work::Kind for GrantRestores {
    fn name(&self) -> &'static str {
        WORK_KIND
    }

    /// The control lane, beside cancels: a lane saturated by queries must not hold back
    /// taking access back. A pass is short (one connect, a few statements, bounded by the
    /// connect timeout), so cancels wait at most that long behind it.
    fn lane(&self) -> Lane {
        Lane::Control
    }

    fn per_target(&self) -> usize {
        usize::MAX
    }

    fn start(&self, _: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        Ok(items.to_vec())
    }

    fn execute(&self, item: &Item, ctl: &Control) -> Box<dyn work::End> {
        let next = match self.sweep(ctl.store(), item.subject_id) {
            Ok(at) => at,
            Err(e) => {
                log::error!(
                    "grant {}: the sweeper could not record a step: {e}",
                    item.subject_id
                );
                // Tried again shortly: a store hiccup must not leave an account lent.
                Some(store::now() + chrono::Duration::seconds(5))
            }
        };
        Box::new(Next {
            at: next,
            target_id: item.target_id,
        })
    }

    fn lapsed(&self, _: &mut WriteTx<'_>, _: &Item) -> Result<(), StoreError> {
        Ok(())
    }

    fn requeue_lapsed(&self) -> bool {
        true
    }
}

fn backoff(attempts: i32, max_s: u64) -> chrono::Duration {
    let s = 1u64
        .checked_shl(u32::try_from(attempts.clamp(0, 30)).unwrap_or(30))
        .unwrap_or(u64::MAX)
        .min(max_s.max(1));
    chrono::Duration::seconds(i64::try_from(s).unwrap_or(300))
}

/// What the target work came to.
enum Outcome {
    /// Taken back (or found already taken back); sessions ended.
    Done {
        restored: bool,
        sessions: u64,
    },
    Conflict,
    Unreachable(String),
}

impl GrantRestores {
    /// One pass over one grant. Returns when to look again (`None`: never).
    fn sweep(&self, store: &Store, id: i64) -> Result<Option<chrono::NaiveDateTime>> {
        let Some(g) = store.run_blocking(|c| rows::get(c, id))? else {
            return Ok(None);
        };
        let status: Status = g.status.parse().map_err(Error::internal)?;
        let now = store::now();
        if status.is_terminal() {
            return Ok(None);
        }
        if status == Status::Active && g.expires_at > now {
            return Ok(Some(g.expires_at));
        }
        if status == Status::RestoreFailed && g.next_attempt_at.is_some_and(|t| t > now) {
            return Ok(g.next_attempt_at);
        }
        let was_pending = status == Status::Pending;
        let started = store.write_blocking(|tx| {
            let change = Change {
                status: Some(Status::Restoring.as_str().into()),
                ..Change::default()
            };
            let moved = rows::transition(tx, id, &Status::sources(Status::Restoring), &change)?;
            if moved && status != Status::Restoring {
                let event = Event::ok("restoring", "grant", id).with(json!({"from": status}));
                audit::record(tx, None, Some(SWEEPER), None, event)?;
            }
            Ok::<_, Error>(moved)
        })?;
        if !started {
            return Ok(None);
        }
        let outcome = self.on_target(store, &g);
        let (to, event, next) = match outcome {
            Outcome::Done { restored, sessions } => {
                let to = if was_pending {
                    Status::Failed
                } else {
                    Status::Ended
                };
                let detail = json!({"restored": restored, "sessions_ended": sessions});
                let action = if was_pending { "fail" } else { "restore" };
                (to, Event::ok(action, "grant", id).with(detail), None)
            }
            Outcome::Conflict => {
                log::warn!(
                    "grant {id}: the account {} was changed by someone else during the grant; \
                     AutoDB left it as it is",
                    g.account
                );
                let detail = json!({"account": g.account, "message":
                    "the account was changed by someone else during the grant; not overwritten"});
                (
                    Status::Conflict,
                    Event::ok("conflict", "grant", id).with(detail).failed(),
                    None,
                )
            }
            Outcome::Unreachable(why) => {
                log::warn!("grant {id}: taking it back failed, will retry: {why}");
                let at = now + backoff(g.restore_attempts + 1, self.settings.retry_max_s);
                let detail = json!({"error": why, "attempt": g.restore_attempts + 1,
                    "next_attempt_at": at.and_utc()});
                let event = Event::ok("restore_failed", "grant", id)
                    .with(detail)
                    .failed();
                (Status::RestoreFailed, event, Some((at, why)))
            }
        };
        store.write_blocking(|tx| {
            let end = (to != Status::RestoreFailed).then(store::now);
            let change = Change {
                status: Some(to.as_str().into()),
                ended_at: end.map(Some),
                restore_attempts: next.as_ref().map(|_| g.restore_attempts + 1),
                last_error: next.as_ref().map(|(_, why)| Some(why.clone())),
                next_attempt_at: Some(next.as_ref().map(|(at, _)| *at)),
                ..Change::default()
            };
            if rows::transition(tx, id, &[Status::Restoring.as_str()], &change)? {
                audit::record(tx, None, Some(SWEEPER), None, event)?;
            }
            Ok::<_, Error>(())
        })?;
        Ok(next.map(|(at, _)| at))
    }

    fn on_target(&self, store: &Store, g: &GrantRow) -> Outcome {
        let target_id = g.target_id;
        let row = match store.run_blocking(|c| targets::row(c, target_id)) {
            Ok(Some(r)) => r,
            Ok(None) => return Outcome::Unreachable("the target no longer exists".into()),
            Err(e) => return Outcome::Unreachable(e.to_string()),
        };
        let spec = match spec_from_row(
            &row,
            &self.access,
            self.connect_timeout,
            Some(self.connect_timeout.max(Duration::from_secs(10))),
        ) {
            Ok(s) => s,
            Err(e) => return Outcome::Unreachable(e.to_string()),
        };
        let engine = spec.engine;
        let (original, temp) = match verifiers(&self.access.secrets, g) {
            Ok(v) => v,
            Err(e) => return Outcome::Unreachable(e),
        };
        let state: State = g
            .saved_state
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let run = || -> std::result::Result<Outcome, connectors::DbError> {
            let mut conn = connectors::connect(&spec)?;
            let c = conn.as_mut();
            if g.mode == Mode::Personal.as_str() {
                let existed = target::drop_personal(c, engine, &g.login)?;
                return Ok(Outcome::Done {
                    restored: existed,
                    sessions: 0,
                });
            }
            let Some(original) = &original else {
                return Ok(Outcome::Unreachable(
                    "the grant has no saved original verifier".into(),
                ));
            };
            let found = target::restore(c, engine, &g.account, original, &temp, &state)?;
            if found == Restored::Conflict {
                return Ok(Outcome::Conflict);
            }
            // Restore first, then end the sessions the temporary password opened.
            let sessions = if g.kill_sessions && engine != Engine::Oracle {
                target::kill(c, engine, &g.login, g.session_watermark.as_deref())?
            } else {
                0
            };
            Ok(Outcome::Done {
                restored: found == Restored::Restored,
                sessions,
            })
        };
        match run() {
            Ok(o) => o,
            Err(e) => Outcome::Unreachable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_doubling_up_to_the_cap_and_never_stop() {
        let s: Vec<i64> = (1..=12).map(|n| backoff(n, 300).num_seconds()).collect();
        assert_eq!(s, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
        assert_eq!(backoff(10_000, 300).num_seconds(), 300);
        assert_eq!(backoff(3, 1).num_seconds(), 1);
    }
}
