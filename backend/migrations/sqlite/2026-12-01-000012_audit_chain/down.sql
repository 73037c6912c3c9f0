DROP TRIGGER audit_chain_forward_only;
DROP TRIGGER audit_chain_no_delete;
DROP TRIGGER audit_log_chained;
DROP TABLE audit_chain;
ALTER TABLE audit_log DROP COLUMN hash;
