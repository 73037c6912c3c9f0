//! Schedule fires as a kind of work (`schedule_fire`) on the one engine. Each enabled schedule
//! has one waiting item (subject 0) whose `run_after` is its `next_fire_at`; a queued fire has
//! one more (subject: the fire's id) that looks again every few seconds until the previous job
//! ends. Executing an item runs `fire.rs` on the engine's control lane; a lapsed item is
//! claimed again (a fire is idempotent: its compare-and-set and unique row make a second try
//! a no-op).
//!
//! The kinds are built before the [`Ctx`] (the engine is part of it), while a fire needs the
//! whole context (it submits a job as `POST /api/jobs` does). So the kind holds a [`Slot`]
//! that `Application::build` fills with the finished context and its runtime ([`attach`]),
//! before the engine starts; an item met before that is simply tried again a little later.

use std::sync::{Arc, OnceLock};

use chrono::Duration;

use super::fire::{self, Handled};
use crate::services::Ctx;
use crate::store::schedules::{self as rows, WORK_KIND};
use crate::store::work::{self as items, Item};
use crate::store::{StoreError, WriteTx};
use crate::work::{Control, End, Kind, Lane};

/// The context and runtime a fire runs with, set once the context is built. (The context
/// holds the engine, which holds this kind: a cycle, as long-lived as the engine's loops.)
#[derive(Clone, Default)]
pub struct Slot(Arc<OnceLock<(Ctx, tokio::runtime::Handle)>>);

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Slot(set)"
        } else {
            "Slot(empty)"
        })
    }
}

/// A failed fire (store unreachable) is tried again after this long.
const RETRY: Duration = Duration::seconds(10);
/// An item that came before its time (another process's clock) waits at least this long.
const NOT_BEFORE: Duration = Duration::seconds(1);

#[derive(Debug, Default)]
pub struct ScheduleFires {
    pub slot: Slot,
}

/// Gives the kind its context; call it on the runtime that serves the context, before the
/// engine starts.
pub fn attach(ctx: &Ctx) {
    let _ = ctx
        .schedule_slot
        .0
        .set((ctx.clone(), tokio::runtime::Handle::current()));
}

/// An executed fire item: ends, or comes back as a new item at `again`.
struct Again(Option<chrono::NaiveDateTime>);

impl End for Again {
    fn record(&self, tx: &mut WriteTx<'_>, item: &Item, fenced: bool) -> Result<(), StoreError> {
        // Not fenced: the reaper re-queued the item already.
        if let (true, Some(at)) = (fenced, self.0) {
            items::enqueue(
                tx,
                &[items::NewItem {
                    kind: WORK_KIND,
                    group_id: item.group_id,
                    subject_id: item.subject_id,
                    target_id: None,
                    run_after: at,
                    created_at: crate::store::now(),
                }],
            )?;
        }
        Ok(())
    }
}

async fn handle(ctx: &Ctx, item: &Item) -> crate::services::error::Result<Handled> {
    let now = ctx.clock.now();
    let (id, subject, item_id) = (item.group_id, item.subject_id, item.id);
    if subject != 0 {
        return fire::fire_queued(ctx, id, subject, now).await;
    }
    match fire::fire_next(ctx, id, now).await? {
        // Early (another process's clock), or left from before an edit: it comes back at the
        // schedule's time unless the schedule has its waiting item already.
        Handled::NotYet(t) => {
            let other = ctx
                .store
                .run(move |c| rows::other_waiting(c, id, item_id))
                .await?;
            Ok(if other {
                Handled::Done
            } else {
                Handled::NotYet(t)
            })
        }
        h => Ok(h),
    }
}

impl Kind for ScheduleFires {
    fn name(&self) -> &'static str {
        WORK_KIND
    }

    fn lane(&self) -> Lane {
        Lane::Control
    }

    fn per_target(&self) -> usize {
        usize::MAX
    }

    fn start(&self, _tx: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        Ok(items.to_vec())
    }

    fn execute(&self, item: &Item, _ctl: &Control) -> Box<dyn End> {
        let later = |d: Duration| Some(crate::store::now() + d);
        let Some((ctx, rt)) = self.slot.0.get() else {
            return Box::new(Again(later(RETRY)));
        };
        let again = match rt.block_on(handle(ctx, item)) {
            Ok(Handled::Done) => None,
            Ok(Handled::NotYet(t)) => Some(t.naive_utc().max(crate::store::now() + NOT_BEFORE)),
            Ok(Handled::Waiting) => later(fire::QUEUE_RECHECK),
            Err(e) => {
                log::warn!("schedule {}: fire failed, trying again: {e}", item.group_id);
                later(RETRY)
            }
        };
        Box::new(Again(again))
    }

    fn lapsed(&self, _tx: &mut WriteTx<'_>, _item: &Item) -> Result<(), StoreError> {
        Ok(())
    }

    fn requeue_lapsed(&self) -> bool {
        true
    }
}
