-- Scripts written since keep only their redacted text in sql_text: rolling back leaves them
-- shown but no longer runnable (their retry fails). Roll back only before new jobs exist.
ALTER TABLE run_statements DROP COLUMN notices_dropped;
ALTER TABLE job_scripts DROP COLUMN sql_sealed;
