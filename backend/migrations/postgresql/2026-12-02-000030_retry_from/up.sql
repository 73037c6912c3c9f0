-- Issue 13: a retry may start a run past the statements an earlier attempt already ran
-- (engines without transactional DDL commit each statement). The index of its first statement.
ALTER TABLE job_runs ADD COLUMN first_statement INTEGER NOT NULL DEFAULT 0;
