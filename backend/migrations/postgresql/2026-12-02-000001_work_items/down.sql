DROP TABLE work_items;
ALTER TABLE job_runs DROP COLUMN late_status;
ALTER TABLE job_runs DROP COLUMN late_error;
