//! Retry: a job's failed and cancelled runs run again as a new attempt, from where the caller
//! chooses. On engines where each statement commits (MySQL/MariaDB, Oracle, or any job not
//! `transactional`) running the whole script again repeats what already happened.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::audit::{self, Event};
use super::super::error::{Error, Msg, Result};
use super::super::{Actor, Ctx};
use super::{get, in_one_transaction, require_steer, Job};
use crate::connectors::Engine;
use crate::store::jobs::{self as rows, JobRow, Retried};
use crate::store::targets;

/// Where each retried run starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryFrom {
    /// At the statement that failed (a cancelled run: the first that did not finish).
    FailedStatement,
    /// After the statement that failed: it is skipped. A run that failed before reaching a
    /// statement (e.g. connecting) starts at its first unfinished one.
    NextStatement,
    /// The whole script (what a retry did before `from` existed).
    #[default]
    Start,
}

/// `POST /api/jobs/{id}/retry`. The body is optional: none, `{}` or no `from` is `start`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    /// Where each failed or cancelled run starts again; `start` unless given. A run that was
    /// one transaction (a `transactional` job on PostgreSQL or SQLite) was rolled back
    /// entirely, so it starts at its first statement whatever this says: nothing it ran is
    /// left, and refusing would make a mixed fleet impossible to retry in one request.
    pub from: Option<RetryFrom>,
}

/// The statement a retried run starts at.
pub fn first_statement(from: RetryFrom, rolled_back: bool, run: &Retried) -> i32 {
    if rolled_back {
        return 0;
    }
    match from {
        RetryFrom::Start => 0,
        RetryFrom::FailedStatement => run.unfinished,
        RetryFrom::NextStatement => run.failed.map_or(run.unfinished, |f| f + 1),
    }
}

pub async fn retry(ctx: &Ctx, actor: &Actor, id: i64, input: RetryInput) -> Result<Job> {
    require_steer(ctx, actor, id).await?;
    let from = input.from.unwrap_or_default();
    let a = actor.clone();
    ctx.store
        .write(move |c| {
            // Engines matter only for a transactional job retried past its start.
            let transactional = rows::job(c, id)?.is_some_and(|j| j.transactional);
            let engines: HashMap<i64, Engine> = if transactional && from != RetryFrom::Start {
                targets::list(c, &[])?
                    .into_iter()
                    .filter_map(|(t, _)| Some((t.id, t.engine.parse().ok()?)))
                    .collect()
            } else {
                HashMap::new()
            };
            let rule = |job: &JobRow, run: &Retried| {
                let rolled_back = engines
                    .get(&run.target_id)
                    .is_some_and(|e| in_one_transaction(job.transactional, *e));
                first_statement(from, rolled_back, run)
            };
            let n = match rows::retry(c, id, &rule)? {
                rows::Retry::Again { runs } => runs,
                rows::Retry::StillActive { status } => {
                    return Err(Error::conflict(
                        Msg::new("job_active", format!("job {id} is still {status}"))
                            .with("id", id)
                            .with("status", status.as_str()),
                    ))
                }
                rows::Retry::NothingFailed => {
                    return Err(Error::conflict(
                        Msg::new(
                            "job_nothing_failed",
                            format!("job {id} has no failed or cancelled runs"),
                        )
                        .with("id", id),
                    ))
                }
            };
            let from = serde_json::to_value(from).unwrap_or_default();
            let event = Event::ok("retry", "job", id).with(json!({"runs": n, "from": from}));
            audit::record(c, Some(&a), None, None, event)
        })
        .await?;
    ctx.jobs.changed(id);
    ctx.jobs.wake();
    get(ctx, actor, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(unfinished: i32, failed: Option<i32>) -> Retried {
        Retried {
            script_idx: 0,
            target_id: 1,
            first_statement: 0,
            unfinished,
            failed,
        }
    }

    #[test]
    fn each_choice_starts_where_it_says_and_a_rolled_back_run_at_the_top() {
        let failed_at_1 = run(1, Some(1));
        assert_eq!(first_statement(RetryFrom::Start, false, &failed_at_1), 0);
        assert_eq!(
            first_statement(RetryFrom::FailedStatement, false, &failed_at_1),
            1
        );
        assert_eq!(
            first_statement(RetryFrom::NextStatement, false, &failed_at_1),
            2
        );
        assert_eq!(
            first_statement(RetryFrom::NextStatement, true, &failed_at_1),
            0
        );
        // Failed before any statement (say, connecting): nothing to skip.
        assert_eq!(
            first_statement(RetryFrom::NextStatement, false, &run(3, None)),
            3
        );
    }
}
