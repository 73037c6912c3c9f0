//! Work items: the rows of the one background engine (`crate::work`). An item is one unit of
//! work of some kind (a job run, a query's target), claimed by one process at a time with a
//! compare-and-set, held under a lease, and fenced by a token that every claim increments: a
//! renewal, an end or a reap counts only with the token it was claimed with, so a process that
//! lost its lease can neither renew it nor record an end over the reaper's decision.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::Result;
use super::schema::work_items;
use super::{DbConn, WriteTx};

pub const WAITING: &str = "waiting";
pub const RUNNING: &str = "running";

/// Rows per INSERT: 6 values each, far inside SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters per statement.
const INSERT_BATCH: usize = 1000;
/// Candidates looked at per claim and kind.
const CANDIDATES: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = work_items)]
pub struct Item {
    pub id: i64,
    pub kind: String,
    pub group_id: i64,
    pub subject_id: i64,
    pub target_id: Option<i64>,
    pub token: i64,
}

/// `None` is written as NULL (not DEFAULT), so SQLite takes many rows in one INSERT.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = work_items, treat_none_as_default_value = false)]
pub struct NewItem<'a> {
    pub kind: &'a str,
    pub group_id: i64,
    pub subject_id: i64,
    pub target_id: Option<i64>,
    pub run_after: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// An [`Item`]'s columns, in its field order (a plain tuple works with every backend).
const COLUMNS: (
    work_items::id,
    work_items::kind,
    work_items::group_id,
    work_items::subject_id,
    work_items::target_id,
    work_items::token,
) = (
    work_items::id,
    work_items::kind,
    work_items::group_id,
    work_items::subject_id,
    work_items::target_id,
    work_items::token,
);

/// Adds items, in statements of at most [`INSERT_BATCH`] rows.
pub fn enqueue(tx: &mut WriteTx<'_>, items: &[NewItem<'_>]) -> Result<usize> {
    let mut n = 0;
    for chunk in items.chunks(INSERT_BATCH) {
        n += match &mut **tx {
            DbConn::Postgresql(pg) => diesel::insert_into(work_items::table)
                .values(chunk)
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(work_items::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(n)
}

/// Whether an item of `kind` is ready to claim: looked at before taking the write lock, as most
/// wake-ups find nothing.
pub fn any_ready(conn: &mut DbConn, kind: &str, now: NaiveDateTime) -> Result<bool> {
    let found: Option<i64> = work_items::table
        .filter(work_items::kind.eq(kind))
        .filter(work_items::status.eq(WAITING))
        .filter(work_items::run_after.le(now))
        .select(work_items::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// What a claim asks for, for one kind.
pub struct Claim<'a> {
    pub kind: &'a str,
    pub engine_id: &'a str,
    pub now: NaiveDateTime,
    pub lease_until: NaiveDateTime,
    pub want: usize,
    /// Targets at their limit in this process: their items are left for later.
    pub full_targets: &'a [i64],
}

#[derive(Debug, Clone, Queryable)]
struct Candidate {
    id: i64,
    target_id: Option<i64>,
}

/// Claims up to `want` ready items of one kind, at most `per_target(target)` more per target
/// (the closure counts what it allows). Each item is claimed by exactly one process: PostgreSQL
/// locks the candidates with `FOR UPDATE SKIP LOCKED`, SQLite has one writer, and the status
/// flip is a compare-and-set that increments the fencing token.
pub fn claim(
    tx: &mut WriteTx<'_>,
    c: &Claim<'_>,
    mut allow: impl FnMut(Option<i64>) -> bool,
) -> Result<Vec<Item>> {
    if c.want == 0 {
        return Ok(vec![]);
    }
    let query = work_items::table
        .filter(work_items::kind.eq(c.kind))
        .filter(work_items::status.eq(WAITING))
        .filter(work_items::run_after.le(c.now))
        .filter(
            work_items::target_id
                .is_null()
                .or(work_items::target_id.ne_all(c.full_targets)),
        )
        .order(work_items::id.asc())
        .limit(CANDIDATES)
        .select((work_items::id, work_items::target_id));
    let candidates: Vec<Candidate> = match &mut **tx {
        DbConn::Postgresql(pg) => query.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => query.load(lite)?,
    };
    let mut chosen = Vec::with_capacity(c.want.min(candidates.len()));
    for cand in candidates {
        if chosen.len() >= c.want {
            break;
        }
        if allow(cand.target_id) {
            chosen.push(cand.id);
        }
    }
    if chosen.is_empty() {
        return Ok(vec![]);
    }
    let conn: &mut DbConn = tx;
    diesel::update(
        work_items::table
            .filter(work_items::id.eq_any(&chosen))
            .filter(work_items::status.eq(WAITING)),
    )
    .set((
        work_items::status.eq(RUNNING),
        work_items::claimed_by.eq(Some(c.engine_id)),
        work_items::token.eq(work_items::token + 1),
        work_items::lease_until.eq(Some(c.lease_until)),
    ))
    .execute(conn)?;
    Ok(work_items::table
        .filter(work_items::id.eq_any(&chosen))
        .filter(work_items::status.eq(RUNNING))
        .filter(work_items::claimed_by.eq(c.engine_id))
        .order(work_items::id.asc())
        .select(Item::as_select())
        .load(conn)?)
}

/// What a renewal found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Renewal {
    /// Items whose lease now runs to the new time.
    pub renewed: Vec<i64>,
    /// Of those, the ones someone asked to cancel (from any process).
    pub cancel: Vec<i64>,
}

/// Extends the leases of the items this process holds, each with its token. An item missing
/// from `renewed` is no longer this holder's (reaped, or claimed again): it must stop.
pub fn renew(
    tx: &mut WriteTx<'_>,
    engine_id: &str,
    held: &[(i64, i64)],
    lease_until: NaiveDateTime,
) -> Result<Renewal> {
    let mut out = Renewal::default();
    let conn: &mut DbConn = tx;
    for chunk in held.chunks(INSERT_BATCH) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let mine = || {
            work_items::table
                .filter(work_items::id.eq_any(&ids))
                .filter(work_items::claimed_by.eq(engine_id))
                .filter(work_items::status.eq(RUNNING))
        };
        let found: Vec<(i64, i64, bool)> = mine()
            .select((
                work_items::id,
                work_items::token,
                work_items::cancel_requested,
            ))
            .load(conn)?;
        let current: Vec<i64> = found
            .iter()
            .filter(|(id, token, _)| chunk.contains(&(*id, *token)))
            .map(|(id, _, _)| *id)
            .collect();
        diesel::update(mine().filter(work_items::id.eq_any(&current)))
            .set(work_items::lease_until.eq(Some(lease_until)))
            .execute(conn)?;
        for (id, _, cancel) in found.iter().filter(|(id, _, _)| current.contains(id)) {
            out.renewed.push(*id);
            if *cancel {
                out.cancel.push(*id);
            }
        }
    }
    Ok(out)
}

/// Ends an item with the token it was claimed with: the compare-and-set that makes an end and
/// the reaper's decision exclusive. `false`: the item was no longer this holder's (a late end).
pub fn finish(tx: &mut WriteTx<'_>, id: i64, token: i64) -> Result<bool> {
    let n = diesel::delete(
        work_items::table
            .filter(work_items::id.eq(id))
            .filter(work_items::token.eq(token))
            .filter(work_items::status.eq(RUNNING)),
    )
    .execute(&mut **tx)?;
    Ok(n == 1)
}

/// Running items whose lease lapsed before `now`, locked for the reaper (PostgreSQL skips
/// those another reaper holds). With `all_but`, every running item not held by that process
/// (SQLite at start: one process owns the store, so nothing else can be running).
pub fn lapsed(
    tx: &mut WriteTx<'_>,
    now: NaiveDateTime,
    all_but: Option<&str>,
    limit: i64,
) -> Result<Vec<Item>> {
    let base = work_items::table
        .filter(work_items::status.eq(RUNNING))
        .order(work_items::id.asc())
        .limit(limit)
        .select(COLUMNS);
    let not_mine = |me: &str| {
        work_items::claimed_by
            .ne(me.to_string())
            .or(work_items::claimed_by.is_null())
    };
    let expired = work_items::lease_until.lt(now);
    Ok(match (all_but, &mut **tx) {
        (Some(me), DbConn::Postgresql(pg)) => base
            .filter(not_mine(me))
            .for_update()
            .skip_locked()
            .load(pg)?,
        (Some(me), DbConn::Sqlite(lite)) => base.filter(not_mine(me)).load(lite)?,
        (None, DbConn::Postgresql(pg)) => {
            base.filter(expired).for_update().skip_locked().load(pg)?
        }
        (None, DbConn::Sqlite(lite)) => base.filter(expired).load(lite)?,
    })
}

/// The reaper's decision for a lapsed item: gone (its subject is ended by its kind) or back to
/// waiting, to be claimed again with a new token. `false`: its holder renewed or ended it first.
pub fn reap(tx: &mut WriteTx<'_>, item: &Item, requeue: bool) -> Result<bool> {
    let this = work_items::table
        .filter(work_items::id.eq(item.id))
        .filter(work_items::token.eq(item.token))
        .filter(work_items::status.eq(RUNNING));
    let conn: &mut DbConn = tx;
    let n = if requeue {
        diesel::update(this)
            .set((
                work_items::status.eq(WAITING),
                work_items::claimed_by.eq(None::<String>),
                work_items::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?
    } else {
        diesel::delete(this).execute(conn)?
    };
    Ok(n == 1)
}

/// Cancels a group's items: running ones are marked so their holder cancels them at its next
/// renewal (returned: their item ids), waiting ones are removed (returned: their subjects).
///
/// Lock order: call it before taking the group's own row (job, query). Claims, ends and reaps
/// lock an item and then its group; marking first takes the same order, so they never wait on
/// each other in a circle.
pub fn cancel_group(tx: &mut WriteTx<'_>, kind: &str, group_id: i64) -> Result<Cancelled> {
    mark_cancel(tx, kind, group_id)?;
    let conn: &mut DbConn = tx;
    let group = || {
        work_items::table
            .filter(work_items::kind.eq(kind))
            .filter(work_items::group_id.eq(group_id))
    };
    let waiting: Vec<i64> = group()
        .filter(work_items::status.eq(WAITING))
        .select(work_items::subject_id)
        .load(conn)?;
    drop_waiting(tx, kind, group_id)?;
    let running = group()
        .filter(work_items::status.eq(RUNNING))
        .select(work_items::id)
        .load(&mut **tx)?;
    Ok(Cancelled { waiting, running })
}

/// Marks every item of a group to cancel (see [`cancel_group`] for the lock order).
pub fn mark_cancel(tx: &mut WriteTx<'_>, kind: &str, group_id: i64) -> Result<usize> {
    Ok(diesel::update(
        work_items::table
            .filter(work_items::kind.eq(kind))
            .filter(work_items::group_id.eq(group_id)),
    )
    .set(work_items::cancel_requested.eq(true))
    .execute(&mut **tx)?)
}

/// Removes a group's waiting items. Safe while holding the group's row: on PostgreSQL an item a
/// claim has locked is skipped, not waited for (the claim holds it and waits for the group's
/// row); its subject, no longer waiting, is not started and the claim ends the item. For the
/// store's own functions, inside their caller's write transaction.
pub(super) fn drop_waiting(conn: &mut DbConn, kind: &str, group_id: i64) -> Result<usize> {
    Ok(match conn {
        DbConn::Postgresql(pg) => diesel::sql_query(
            "DELETE FROM work_items WHERE id IN (SELECT id FROM work_items \
             WHERE kind = $1 AND group_id = $2 AND status = 'waiting' FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Text, _>(kind)
        .bind::<diesel::sql_types::BigInt, _>(group_id)
        .execute(pg)?,
        DbConn::Sqlite(lite) => diesel::delete(
            work_items::table
                .filter(work_items::kind.eq(kind))
                .filter(work_items::group_id.eq(group_id))
                .filter(work_items::status.eq(WAITING)),
        )
        .execute(lite)?,
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cancelled {
    /// Subjects of the waiting items removed.
    pub waiting: Vec<i64>,
    /// Running items, now marked to cancel.
    pub running: Vec<i64>,
}

/// How many items of `kind` wait or run (for metrics and tests).
pub fn count(conn: &mut DbConn, kind: &str) -> Result<(i64, i64)> {
    let of = |status: &str, conn: &mut DbConn| -> Result<i64> {
        Ok(work_items::table
            .filter(work_items::kind.eq(kind))
            .filter(work_items::status.eq(status))
            .count()
            .get_result(conn)?)
    };
    Ok((of(WAITING, conn)?, of(RUNNING, conn)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{now, Store, StoreUrl};

    fn store(dir: &std::path::Path) -> Store {
        let store = Store::open(&StoreUrl::Sqlite(dir.join("w.db")), 2, 5).expect("open");
        store.migrate().expect("migrate");
        store
    }

    fn item(kind: &str, subject: i64, target: Option<i64>) -> NewItem<'_> {
        NewItem {
            kind,
            group_id: 1,
            subject_id: subject,
            target_id: target,
            run_after: now(),
            created_at: now(),
        }
    }

    fn claim_as(store: &Store, engine: &str, want: usize, full: &[i64]) -> Vec<Item> {
        store
            .write_blocking(|tx| {
                claim(
                    tx,
                    &Claim {
                        kind: "k",
                        engine_id: engine,
                        now: now(),
                        lease_until: now() + chrono::Duration::seconds(30),
                        want,
                        full_targets: full,
                    },
                    |_| true,
                )
            })
            .expect("claim")
    }

    #[test]
    fn an_item_is_claimed_once_and_each_claim_has_a_new_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(dir.path());
        store
            .write_blocking(|tx| enqueue(tx, &[item("k", 10, Some(1)), item("k", 11, Some(2))]))
            .expect("enqueue");
        let first = claim_as(&store, "a", 1, &[]);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].token, 1);
        let second = claim_as(&store, "b", 5, &[]);
        assert_eq!(second.len(), 1, "the claimed item is not claimed again");
        assert_ne!(first[0].id, second[0].id);
        assert!(claim_as(&store, "c", 5, &[]).is_empty());
        // Reaped back to waiting, the item is claimed again with a new token; the old token
        // can neither renew nor end it.
        let old = first[0].clone();
        assert!(store
            .write_blocking(|tx| reap(tx, &old, true))
            .expect("reap"));
        let again = claim_as(&store, "b", 5, &[]);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].token, 2);
        let renewal = store
            .write_blocking(|tx| renew(tx, "a", &[(old.id, old.token)], now()))
            .expect("renew");
        assert!(renewal.renewed.is_empty(), "a stale token renews nothing");
        assert!(!store
            .write_blocking(|tx| finish(tx, old.id, old.token))
            .expect("finish"));
        assert!(store
            .write_blocking(|tx| finish(tx, again[0].id, again[0].token))
            .expect("finish"));
    }

    #[test]
    fn items_of_full_targets_are_left_and_others_are_claimed_past_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(dir.path());
        let many: Vec<NewItem<'_>> = (0..600).map(|i| item("k", i, Some(1))).collect();
        store
            .write_blocking(|tx| {
                enqueue(tx, &many)?;
                enqueue(tx, &[item("k", 1000, Some(2))])
            })
            .expect("enqueue");
        // 600 items on target 1 come first; with target 1 full, target 2's is still found.
        let got = claim_as(&store, "a", 10, &[1]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].target_id, Some(2));
    }

    #[test]
    fn enqueueing_ten_thousand_items_fits_the_parameter_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(dir.path());
        let many: Vec<NewItem<'_>> = (0..10_000).map(|i| item("k", i, Some(i))).collect();
        let n = store
            .write_blocking(|tx| enqueue(tx, &many))
            .expect("enqueue");
        assert_eq!(n, 10_000);
        assert_eq!(
            store.run_blocking(|c| count(c, "k")).expect("count"),
            (10_000, 0)
        );
    }

    #[test]
    fn cancelling_a_group_removes_its_waiting_items_and_marks_its_running_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(dir.path());
        store
            .write_blocking(|tx| enqueue(tx, &[item("k", 1, None), item("k", 2, None)]))
            .expect("enqueue");
        let running = claim_as(&store, "a", 1, &[]);
        let cancelled = store
            .write_blocking(|tx| cancel_group(tx, "k", 1))
            .expect("cancel");
        assert_eq!(cancelled.waiting, vec![2]);
        assert_eq!(cancelled.running, vec![running[0].id]);
        let renewal = store
            .write_blocking(|tx| renew(tx, "a", &[(running[0].id, running[0].token)], now()))
            .expect("renew");
        assert_eq!(renewal.renewed, vec![running[0].id]);
        assert_eq!(renewal.cancel, vec![running[0].id]);
    }
}
