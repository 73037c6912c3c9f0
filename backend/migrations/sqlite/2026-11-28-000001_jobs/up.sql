CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error', 'cancelled')),
    on_error TEXT NOT NULL CHECK (on_error IN ('continue', 'stop')),
    transactional BOOLEAN NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    current_script INTEGER NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_by_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE job_scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    sql_text TEXT NOT NULL,
    target_selector TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error', 'cancelled')),
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (job_id, idx)
);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    script_idx INTEGER NOT NULL,
    target_id BIGINT NOT NULL,
    target_name TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error', 'cancelled')),
    statements_done INTEGER NOT NULL DEFAULT 0,
    statements_total INTEGER,
    error TEXT,
    error_code TEXT,
    error_line INTEGER,
    claimed_by TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX job_runs_job ON job_runs (job_id, script_idx);
CREATE INDEX job_runs_status ON job_runs (status, id);

CREATE TABLE run_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    line INTEGER NOT NULL,
    sql_text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'error', 'cancelled', 'skipped')),
    rows_affected BIGINT,
    rows_returned BIGINT,
    notices TEXT NOT NULL DEFAULT '[]',
    duration_ms REAL NOT NULL,
    error_code TEXT,
    error_message TEXT,
    started_at TIMESTAMP NOT NULL
);
CREATE INDEX run_statements_run ON run_statements (run_id, idx);
