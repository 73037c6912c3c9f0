-- The audit log becomes a hash chain (docs/SECURITY.md, "The audit chain"). Each new entry
-- carries `hash`: SHA-256 over its canonical encoding and the previous entry's hash
-- (store/audit.rs). Entries written before this migration keep hash NULL: they are counted
-- in the head as "before the chain began" and are not protected by it.
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- The chain head: one row, updated in the same transaction as every append. Its row lock
-- (PostgreSQL) or the write lock (SQLite) serializes appenders; its last id and hash anchor
-- the tail, so deleting the newest entry is seen.
CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chain_start_id BIGINT NOT NULL,
    pre_chain_rows BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, chain_start_id, pre_chain_rows, last_id, last_hash)
SELECT 1, COALESCE(MAX(id), 0) + 1, COUNT(*), COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000'
FROM audit_log;

-- No entry joins the log unchained, whatever code holds a connection.
CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL
BEGIN SELECT RAISE(ABORT, 'audit_log entries must carry their chain hash'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'audit_chain is the anchor of the audit log'); END;
CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE ON audit_chain
WHEN NEW.last_id < OLD.last_id OR NEW.chain_start_id <> OLD.chain_start_id
  OR NEW.pre_chain_rows <> OLD.pre_chain_rows OR NEW.id <> OLD.id
BEGIN SELECT RAISE(ABORT, 'audit_chain only moves forward'); END;
