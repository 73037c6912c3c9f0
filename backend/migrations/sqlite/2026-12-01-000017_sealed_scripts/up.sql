-- Issue 8 (safety): a job script is kept sealed (AES-256-GCM, like target passwords) for
-- execution, and sql_text holds its redacted text for display. NULL: a script written before
-- this migration, whose sql_text is the executable text (shown redacted).
ALTER TABLE job_scripts ADD COLUMN sql_sealed TEXT;
-- Notices past the caps (engine.max_notice*) are counted, not kept.
ALTER TABLE run_statements ADD COLUMN notices_dropped BIGINT NOT NULL DEFAULT 0;
