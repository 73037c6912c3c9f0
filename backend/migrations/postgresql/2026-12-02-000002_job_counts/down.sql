DROP INDEX job_runs_page;
ALTER TABLE job_runs DROP COLUMN latest;
ALTER TABLE job_scripts DROP COLUMN n_cancelled;
ALTER TABLE job_scripts DROP COLUMN n_error;
ALTER TABLE job_scripts DROP COLUMN n_success;
ALTER TABLE job_scripts DROP COLUMN n_running;
ALTER TABLE job_scripts DROP COLUMN n_waiting;
