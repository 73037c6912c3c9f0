ALTER TABLE job_runs DROP COLUMN first_statement;
