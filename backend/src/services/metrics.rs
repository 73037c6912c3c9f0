//! `/metrics`: what the store holds, counted now, with the process's recorded metrics.

use super::error::Error;
use super::Ctx;
use crate::metrics::Snapshot;

/// The text exposition of every metric. The caller has checked `Action::ReadMetrics`.
pub async fn scrape(ctx: &Ctx) -> Result<String, Error> {
    let counts = ctx
        .store
        .run(|c| Ok::<_, Error>(crate::store::stats::counts(c)?))
        .await?;
    // Finished items leave the table: the queue of every kind is shown, 0 when empty.
    let mut work_items = counts.work_items;
    for kind in ctx.work.kind_names() {
        for status in [crate::store::work::WAITING, crate::store::work::RUNNING] {
            if !work_items.iter().any(|(k, s, _)| k == kind && s == status) {
                work_items.push((kind.to_string(), status.to_string(), 0));
            }
        }
    }
    let snapshot = Snapshot {
        version: env!("CARGO_PKG_VERSION").into(),
        release: crate::release::release().into(),
        pools: vec![
            ("api", ctx.store.pool_state()),
            ("engine", ctx.work.store().pool_state()),
        ],
        jobs: counts.jobs,
        job_runs: counts.job_runs,
        queries: counts.queries,
        query_results: counts.query_results,
        work_items,
        grants: counts.grants,
        grant_restore_failures: counts.grant_restore_failures,
        schedule_fires: counts.schedule_fires,
    };
    Ok(crate::metrics::render(&snapshot))
}
