ALTER TABLE targets DROP COLUMN query_account_check_error;
ALTER TABLE targets DROP COLUMN query_account_checked_at;
ALTER TABLE targets DROP COLUMN query_account_findings;
ALTER TABLE targets DROP COLUMN trusted_for_queries;
