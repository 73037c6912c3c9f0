-- Issue 13: the job list shows how many targets each job runs on. A job's targets never change
-- once it is written (a retry runs the same ones), so the count is written with the job rather
-- than counted from its runs for every listed job.
ALTER TABLE jobs ADD COLUMN target_count INTEGER NOT NULL DEFAULT 0;

UPDATE jobs SET target_count = (
    SELECT COUNT(DISTINCT r.target_id) FROM job_runs r WHERE r.job_id = jobs.id);
