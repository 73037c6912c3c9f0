-- Issue 10: grants, temporary access to a database account that is always taken back.
-- A policy says which account of which target may be lent, how, for how long, and to whom.
CREATE TABLE grant_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    target_id BIGINT NOT NULL,
    -- The database account lent (PostgreSQL role; MySQL/MariaDB 'user' or 'user@host').
    account TEXT NOT NULL,
    -- 'swap' (the account's own password is swapped) or 'personal' (a throwaway login).
    mode TEXT NOT NULL,
    max_duration_s BIGINT NOT NULL,
    -- JSON array of the AutoDB roles that may ask.
    roles TEXT NOT NULL,
    kill_sessions BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One grant. Intent first: the sealed original verifier, the sealed temporary verifier, the
-- account's saved state and the session watermark are written before the account is changed.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    policy_id BIGINT NOT NULL,
    target_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    login TEXT NOT NULL,
    mode TEXT NOT NULL,
    kill_sessions BOOLEAN NOT NULL,
    requested_by BIGINT NOT NULL,
    requested_by_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    restore_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    -- Sealed (AES-256-GCM) like target passwords; a verifier is not the password, but sealed anyway.
    original_sealed TEXT,
    temp_sealed TEXT NOT NULL,
    -- JSON: the account's expiry/lock state before the grant, re-applied after.
    saved_state TEXT,
    -- PostgreSQL: the target's now() before the change; MariaDB: CONNECTION_ID() then.
    session_watermark TEXT,
    next_attempt_at TIMESTAMP
);
CREATE INDEX grants_status ON grants (status);
CREATE INDEX grants_requested_by ON grants (requested_by);
-- Swap mode: at most one open grant per target and account, whatever the process.
CREATE UNIQUE INDEX grants_one_open_swap ON grants (target_id, account)
    WHERE mode = 'swap' AND status IN ('pending', 'active', 'restoring', 'restore_failed');
