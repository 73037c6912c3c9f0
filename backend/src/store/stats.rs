//! Grouped counts of what the store holds, for `/metrics`: one `GROUP BY` per table, each a
//! handful of rows (statuses are a closed set).

use diesel::dsl::{count_star, sum};
use diesel::prelude::*;

use super::error::Result;
use super::schema::{grants, job_runs, jobs, queries, query_results, schedule_fires, work_items};
use super::DbConn;

#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub jobs: Vec<(String, i64)>,
    /// The latest attempt of each run.
    pub job_runs: Vec<(String, i64)>,
    pub queries: Vec<(String, i64)>,
    pub query_results: Vec<(String, i64)>,
    /// (kind, status, count)
    pub work_items: Vec<(String, String, i64)>,
    pub grants: Vec<(String, i64)>,
    /// Failed restore tries summed over every grant.
    pub grant_restore_failures: i64,
    /// By outcome.
    pub schedule_fires: Vec<(String, i64)>,
}

pub fn counts(c: &mut DbConn) -> Result<Counts> {
    Ok(Counts {
        jobs: jobs::table
            .group_by(jobs::status)
            .select((jobs::status, count_star()))
            .load(c)?,
        job_runs: job_runs::table
            .filter(job_runs::latest.eq(true))
            .group_by(job_runs::status)
            .select((job_runs::status, count_star()))
            .load(c)?,
        queries: queries::table
            .group_by(queries::status)
            .select((queries::status, count_star()))
            .load(c)?,
        query_results: query_results::table
            .group_by(query_results::status)
            .select((query_results::status, count_star()))
            .load(c)?,
        work_items: work_items::table
            .group_by((work_items::kind, work_items::status))
            .select((work_items::kind, work_items::status, count_star()))
            .load(c)?,
        grants: grants::table
            .group_by(grants::status)
            .select((grants::status, count_star()))
            .load(c)?,
        grant_restore_failures: grants::table
            .select(sum(grants::restore_attempts))
            .first::<Option<i64>>(c)?
            .unwrap_or(0),
        schedule_fires: schedule_fires::table
            .group_by(schedule_fires::outcome)
            .select((schedule_fires::outcome, count_star()))
            .load(c)?,
    })
}
