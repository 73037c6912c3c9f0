-- What the query account may do beyond reading (checked at save and before each use), and the
-- admin's decision to run queries through it anyway. Findings: a JSON array; NULL = unchecked.
ALTER TABLE targets ADD COLUMN trusted_for_queries BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN query_account_findings TEXT;
ALTER TABLE targets ADD COLUMN query_account_checked_at TIMESTAMP;
ALTER TABLE targets ADD COLUMN query_account_check_error TEXT;
