-- Issue 9: a run's end costs O(1) in its job's size. Each script keeps counts of its runs'
-- LATEST attempts by status, kept right by every transition in the same transaction, so the
-- job advances and ends from the counts instead of reloading every run; and each run says
-- whether it is the latest attempt of its (script, target), so `superseded` needs no scan.
ALTER TABLE job_scripts ADD COLUMN n_waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_scripts ADD COLUMN n_running INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_scripts ADD COLUMN n_success INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_scripts ADD COLUMN n_error INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_scripts ADD COLUMN n_cancelled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN latest BOOLEAN NOT NULL DEFAULT TRUE;

UPDATE job_runs SET latest = NOT EXISTS (
    SELECT 1 FROM job_runs o
    WHERE o.job_id = job_runs.job_id AND o.script_idx = job_runs.script_idx
      AND o.target_id = job_runs.target_id AND o.attempt > job_runs.attempt);

UPDATE job_scripts SET
    n_waiting = (SELECT COUNT(*) FROM job_runs r WHERE r.job_id = job_scripts.job_id
                 AND r.script_idx = job_scripts.idx AND r.latest AND r.status = 'waiting'),
    n_running = (SELECT COUNT(*) FROM job_runs r WHERE r.job_id = job_scripts.job_id
                 AND r.script_idx = job_scripts.idx AND r.latest AND r.status = 'running'),
    n_success = (SELECT COUNT(*) FROM job_runs r WHERE r.job_id = job_scripts.job_id
                 AND r.script_idx = job_scripts.idx AND r.latest AND r.status = 'success'),
    n_error = (SELECT COUNT(*) FROM job_runs r WHERE r.job_id = job_scripts.job_id
               AND r.script_idx = job_scripts.idx AND r.latest AND r.status = 'error'),
    n_cancelled = (SELECT COUNT(*) FROM job_runs r WHERE r.job_id = job_scripts.job_id
                   AND r.script_idx = job_scripts.idx AND r.latest AND r.status = 'cancelled');

-- The paged runs of a job (GET /api/jobs/{id}/runs) in their order.
CREATE INDEX job_runs_page ON job_runs (job_id, script_idx, target_name, attempt);
