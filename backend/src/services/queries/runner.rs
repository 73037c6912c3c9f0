//! A query's targets as a kind of work (`crate::work`): one item per target, executed on the
//! engine's pool in the queries lane: connect with the target's query account, open a
//! transaction the database keeps read-only, run each statement keeping the first page of rows,
//! and ALWAYS roll back. Each statement's result is written as soon as it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{account, classify, functions};
use crate::config::QuerySettings;
use crate::connectors::{
    self, Canceller, Cell, Column, DbError, DbErrorKind, RowSink, TargetConnection,
};
use crate::domain::Outcome;
use crate::services::error::{Error, Result};
use crate::services::targets::{query_spec, TargetAccess};
use crate::store::queries::{self as rows, ResultEnd};
use crate::store::work::Item;
use crate::store::{targets, Store, StoreError, WriteTx};
use crate::work::{self, Control, Lane};

/// What the reaper writes on a target whose process stopped renewing its lease.
const INTERRUPTED: &str =
    "interrupted: AutoDB restarted (or its process stopped) during this query";

/// The kind of work that runs a query on one target.
pub struct QueryTargets {
    pub access: TargetAccess,
    pub settings: QuerySettings,
    pub connect_timeout: Duration,
}

/// Something a connection's canceller is handed to, and that says when to stop: the engine's
/// [`Control`] for a query, the export's own flag for a re-run.
pub(crate) trait Stoppable {
    fn set_canceller(&self, c: Option<Arc<dyn Canceller>>);
    fn cancelled(&self) -> bool;
}

impl Stoppable for Control {
    fn set_canceller(&self, c: Option<Arc<dyn Canceller>>) {
        Control::set_canceller(self, c);
    }
    fn cancelled(&self) -> bool {
        self.stopped().is_some()
    }
}

impl work::Kind for QueryTargets {
    fn name(&self) -> &'static str {
        rows::WORK_KIND
    }

    fn lane(&self) -> Lane {
        Lane::Queries
    }

    fn per_target(&self) -> usize {
        usize::MAX
    }

    fn start(&self, tx: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        let mut started = vec![];
        for item in items {
            let target = item.target_id.unwrap_or_default();
            if rows::start_target(tx, item.group_id, target)? {
                started.push(item.clone());
            }
        }
        Ok(started)
    }

    fn execute(&self, item: &Item, ctl: &Control) -> Box<dyn work::End> {
        let (query_id, target_id) = (item.group_id, item.target_id.unwrap_or_default());
        if let Err(e) = self.run(ctl.store(), query_id, target_id, ctl) {
            log::error!("query {query_id}, target {target_id}: {e}");
            let why = format!("AutoDB could not run this: {e}");
            fail_all(ctl, query_id, target_id, Outcome::Error, why, None);
        }
        Box::new(TargetEnded)
    }

    fn lapsed(&self, tx: &mut WriteTx<'_>, item: &Item) -> Result<(), StoreError> {
        let target = item.target_id.unwrap_or_default();
        rows::interrupt_target(tx, item.group_id, target, INTERRUPTED).map(|_| ())
    }
}

/// Each statement's result is written as it ends; the end itself adds nothing (a late one is
/// discarded by the results' own compare-and-set).
struct TargetEnded;

impl work::End for TargetEnded {
    fn record(&self, _: &mut WriteTx<'_>, _: &Item, _: bool) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The first page of a result, kept as the JSON text it is stored as (never as a Vec of rows),
/// bounded by rows and by bytes.
pub(super) struct PageSink {
    pub columns: Vec<Column>,
    pub json: String,
    pub rows: i64,
    limit: i64,
    max_bytes: usize,
    /// The limit `max_bytes` stands for, named when it cuts.
    bytes_limit: &'static str,
    pub truncated_by: Option<&'static str>,
}

impl PageSink {
    pub fn new(limit: i64, max_bytes: usize) -> Self {
        Self {
            columns: vec![],
            json: String::from("["),
            rows: 0,
            limit,
            max_bytes,
            bytes_limit: "max_result_bytes",
            truncated_by: None,
        }
    }

    /// At most `left` bytes when that is less than the statement's own cap: what is left of
    /// the query's share (`query.max_query_result_bytes`).
    pub fn within_query_budget(mut self, left: usize) -> Self {
        if left < self.max_bytes {
            self.max_bytes = left;
            self.bytes_limit = "max_query_result_bytes";
        }
        self
    }

    pub fn finish(mut self) -> (String, String, i64, Option<&'static str>) {
        self.json.push(']');
        let columns = serde_json::to_string(
            &self
                .columns
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "type": c.type_name}))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| "[]".into());
        (columns, self.json, self.rows, self.truncated_by)
    }
}

impl RowSink for PageSink {
    fn columns(&mut self, columns: &[Column]) {
        self.columns = columns.to_vec();
    }

    fn row(&mut self, row: Vec<Cell>) -> bool {
        if self.rows >= self.limit {
            self.truncated_by = Some("row_limit");
            return false;
        }
        let Ok(text) = serde_json::to_string(&row) else {
            return false;
        };
        if self.json.len() + text.len() + 2 > self.max_bytes {
            self.truncated_by = Some(self.bytes_limit);
            return false;
        }
        if self.rows > 0 {
            self.json.push(',');
        }
        self.json.push_str(&text);
        self.rows += 1;
        true
    }
}

/// Ends every result of the target that has not ended yet.
fn fail_all(
    ctl: &Control,
    query_id: i64,
    target_id: i64,
    status: Outcome,
    message: String,
    code: Option<String>,
) {
    let ended = ctl.store().write_blocking(|c| {
        let open: Vec<i32> = rows::results(c, query_id)?
            .into_iter()
            .filter(|r| r.target_id == target_id && r.finished_at.is_none())
            .map(|r| r.stmt_idx)
            .collect();
        for idx in open {
            let end = ResultEnd::failed(status, message.clone(), code.clone());
            rows::finish_result(c, query_id, target_id, idx, end)?;
        }
        Ok::<_, Error>(())
    });
    if let Err(e) = ended {
        log::error!("query {query_id}: cannot record its end: {e}");
    }
    ctl.changed();
}

impl QueryTargets {
    fn run(&self, store: &Store, query_id: i64, target_id: i64, run: &Control) -> Result<()> {
        let (query, target, targets_in_query) = store.run_blocking(|c| {
            let q = rows::query(c, query_id)?.ok_or(Error::NotFound("query"))?;
            let t = targets::by_id(c, target_id)?.map(|(t, _)| t);
            let ids: std::collections::BTreeSet<i64> = rows::results(c, query_id)?
                .iter()
                .map(|r| r.target_id)
                .collect();
            Ok::<_, Error>((q, t, ids.len().max(1)))
        })?;
        let cancelled = || Stoppable::cancelled(run);
        if query.cancel_requested || cancelled() {
            fail_all(
                run,
                query_id,
                target_id,
                Outcome::Cancelled,
                "cancelled".into(),
                None,
            );
            return Ok(());
        }
        let Some(target) = target else {
            let msg = "the target no longer exists".to_string();
            fail_all(run, query_id, target_id, Outcome::Error, msg, None);
            return Ok(());
        };
        run.changed();
        let timeout = Duration::from_secs(u64::try_from(query.timeout_s).unwrap_or(1));
        let spec = match query_spec(&self.access, &target, self.connect_timeout, timeout) {
            Ok(s) => s,
            Err(e) => {
                fail_all(run, query_id, target_id, Outcome::Error, e.message, e.code);
                return Ok(());
            }
        };
        // Classified at submission; again here, for exactly the text this engine will be sent.
        let statements = match classify::classify(spec.engine, &query.sql_text) {
            Ok(s) => s,
            Err(why) => {
                fail_all(run, query_id, target_id, Outcome::Error, why.text, None);
                return Ok(());
            }
        };
        let mut conn = match open_read_only(&spec, run, &statements, target.trusted_for_queries) {
            Ok(c) => c,
            Err(e) => {
                let status = if cancelled() {
                    Outcome::Cancelled
                } else {
                    Outcome::Error
                };
                fail_all(run, query_id, target_id, status, e.message, e.code);
                return Ok(());
            }
        };
        let limit = i64::from(query.row_limit);
        let max_bytes = usize::try_from(self.settings.max_result_bytes).unwrap_or(usize::MAX);
        // The query's bytes are shared equally by its targets, so what the store keeps and a GET
        // answers stays within query.max_query_result_bytes whatever the number of statements.
        let mut budget = usize::try_from(self.settings.max_query_result_bytes)
            .unwrap_or(usize::MAX)
            / targets_in_query;
        let mut failed: Option<usize> = None;
        for (idx, stmt) in statements.iter().enumerate() {
            let end = if cancelled() {
                ResultEnd::failed(Outcome::Cancelled, "cancelled".into(), None)
            } else if let Some(n) = failed {
                ResultEnd::failed(
                    Outcome::Cancelled,
                    format!("not run: statement {} failed on this target", n + 1),
                    None,
                )
            } else {
                let sink = PageSink::new(limit, max_bytes).within_query_budget(budget);
                let end = execute(conn.as_mut(), &stmt.sql, sink, &cancelled);
                budget = budget.saturating_sub(end.rows_json.len());
                if end.outcome != Outcome::Success {
                    failed = Some(idx);
                }
                end
            };
            store.write_blocking(|c| {
                rows::finish_result(c, query_id, target_id, idx as i32, end).map(|_| ())
            })?;
            run.changed();
        }
        // Always rolled back: nothing a query did survives it, whatever it was.
        if let Err(e) = conn.rollback() {
            log::warn!("query {query_id}: rollback on target {target_id} failed: {e}");
        }
        Stoppable::set_canceller(run, None);
        Ok(())
    }
}

/// Connects and opens the read-only transaction, registering the canceller so a cancel reaches
/// the statement in the database; then, before anything of the user's runs, checks what the
/// account may do (it can have changed since the target was saved: [`account::guard`]) and asks
/// the target what the statements call ([`functions::check`]). A refusal carries the code
/// [`account::UNSAFE_CODE`] or [`functions::REFUSED_CODE`].
pub(crate) fn open_read_only(
    spec: &connectors::ConnectSpec,
    run: &dyn Stoppable,
    statements: &[classify::Checked],
    trusted_for_queries: bool,
) -> std::result::Result<Box<dyn TargetConnection>, DbError> {
    let mut conn = connectors::connect(spec)?;
    run.set_canceller(Some(conn.canceller()));
    if run.cancelled() {
        return Err(DbError::new(DbErrorKind::Cancelled, None, "cancelled"));
    }
    conn.begin_read_only()?;
    if let Err(e) = account::guard(conn.as_mut(), trusted_for_queries) {
        let _ = conn.rollback();
        return Err(e);
    }
    if let Err(why) = functions::check(conn.as_mut(), spec.engine, statements) {
        let _ = conn.rollback();
        let code = Some(functions::REFUSED_CODE.to_string());
        return Err(DbError::new(DbErrorKind::Statement, code, why));
    }
    Ok(conn)
}

fn execute(
    conn: &mut dyn TargetConnection,
    sql: &str,
    mut sink: PageSink,
    cancelled: &dyn Fn() -> bool,
) -> ResultEnd {
    let clock = Instant::now();
    let result = conn.execute(sql, &mut sink);
    let duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(out) => {
            let (columns_json, rows_json, row_count, truncated_by) = sink.finish();
            ResultEnd {
                outcome: Outcome::Success,
                columns_json,
                rows_json,
                truncated: out.truncated,
                truncated_by: truncated_by.filter(|_| out.truncated),
                row_count,
                duration_ms,
                error: None,
                error_code: None,
            }
        }
        Err(e) => {
            let status = if e.kind == DbErrorKind::Cancelled || cancelled() {
                Outcome::Cancelled
            } else {
                Outcome::Error
            };
            ResultEnd {
                duration_ms,
                ..ResultEnd::failed(status, e.message, e.code)
            }
        }
    }
}
