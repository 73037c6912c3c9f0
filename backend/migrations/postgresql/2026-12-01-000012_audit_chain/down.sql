DROP TABLE audit_chain;
DROP FUNCTION audit_chain_forward_only();
DROP TRIGGER audit_log_chained ON audit_log;
DROP FUNCTION audit_log_chained();
ALTER TABLE audit_log DROP COLUMN hash;
