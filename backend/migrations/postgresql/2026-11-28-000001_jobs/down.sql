DROP TABLE run_statements;
DROP TABLE job_runs;
DROP TABLE job_scripts;
DROP TABLE jobs;
