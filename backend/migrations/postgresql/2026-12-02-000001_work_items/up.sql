-- Issue 9: one engine for all background work. A work item is one unit the engine claims and
-- runs (a job run, a query's target; later a grant restore, a schedule fire). Items live only
-- while they wait or run: the subject's own rows (job_runs, query_results) keep the history.
CREATE TABLE work_items (
    id BIGSERIAL PRIMARY KEY,
    -- What runs it: 'job_run', 'query_target', ...
    kind TEXT NOT NULL,
    -- The job or query it belongs to: cancels and counts work on the group.
    group_id BIGINT NOT NULL,
    -- The row it works on (job_runs.id; queries.id for a query's target).
    subject_id BIGINT NOT NULL,
    -- The target database, for the per-target limit (NULL: none).
    target_id BIGINT,
    -- 'waiting' or 'running'.
    status TEXT NOT NULL DEFAULT 'waiting',
    -- Not claimed before this time.
    run_after TIMESTAMP NOT NULL,
    -- The claiming process and its fencing token: every claim increments the token, and a
    -- renewal, an end or a reap only counts with the token it was claimed with.
    claimed_by TEXT,
    token BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX work_items_claim ON work_items (status, run_after, id);
CREATE INDEX work_items_group ON work_items (kind, group_id);
CREATE INDEX work_items_lease ON work_items (status, lease_until);

-- Runs already waiting on their job's current script, and runs executing now (reaped by their
-- lease like any other item), become items.
INSERT INTO work_items (kind, group_id, subject_id, target_id, status, run_after, claimed_by,
                        token, lease_until, created_at)
SELECT 'job_run', r.job_id, r.id, r.target_id, r.status, r.created_at, r.claimed_by,
       CASE WHEN r.status = 'running' THEN 1 ELSE 0 END, r.lease_until, r.created_at
FROM job_runs r JOIN jobs j ON j.id = r.job_id
WHERE (r.status = 'waiting' AND r.script_idx = j.current_script AND j.cancel_requested = FALSE)
   OR r.status = 'running';

-- Queries were run by the process that accepted them, unclaimed: one still open now cannot be
-- resumed by the new engine, so it ends as interrupted.
UPDATE query_results SET status = 'error',
       error = 'interrupted: AutoDB was upgraded during this query',
       finished_at = CURRENT_TIMESTAMP
WHERE status IN ('waiting', 'running');
UPDATE queries SET status = 'error', finished_at = CURRENT_TIMESTAMP WHERE finished_at IS NULL;

-- A run's end that arrived after the reaper had ended it (its process lost its lease): kept
-- as what really happened, beside the recorded (reaped) status.
ALTER TABLE job_runs ADD COLUMN late_status TEXT;
ALTER TABLE job_runs ADD COLUMN late_error TEXT;
