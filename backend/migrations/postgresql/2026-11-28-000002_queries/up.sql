-- A separate, least-privilege account per target for read-only queries (optional).
ALTER TABLE targets ADD COLUMN query_username TEXT;
ALTER TABLE targets ADD COLUMN query_password_enc TEXT;

CREATE TABLE queries (
    id BIGSERIAL PRIMARY KEY,
    sql_text TEXT NOT NULL,
    target_selector TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error', 'cancelled')),
    row_limit INTEGER NOT NULL,
    timeout_s INTEGER NOT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    runner TEXT,
    heartbeat_at TIMESTAMP,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_by_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX queries_owner ON queries (created_by, id);
CREATE INDEX queries_open ON queries (finished_at, id);

CREATE TABLE query_results (
    id BIGSERIAL PRIMARY KEY,
    query_id BIGINT NOT NULL REFERENCES queries (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL,
    target_name TEXT NOT NULL,
    stmt_idx INTEGER NOT NULL,
    line INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error', 'cancelled')),
    columns_json TEXT NOT NULL DEFAULT '[]',
    rows_json TEXT NOT NULL DEFAULT '[]',
    truncated BOOLEAN NOT NULL DEFAULT FALSE,
    truncated_by TEXT,
    row_count BIGINT NOT NULL DEFAULT 0,
    duration_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    error TEXT,
    error_code TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (query_id, target_id, stmt_idx)
);
