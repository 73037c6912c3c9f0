-- Issue 11: schedules. A schedule fires a job body on a cron expression in an IANA zone; each
-- fire is a row with a unique (schedule_id, scheduled_for), so it happens once whatever number
-- of AutoDB processes share the store, and across restarts.
CREATE TABLE schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    overlap TEXT NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
    misfire TEXT NOT NULL CHECK (misfire IN ('skip', 'run_once')),
    -- The body of POST /api/jobs: sealed (it may hold password literals) and redacted for display.
    job_sealed TEXT NOT NULL,
    job_shown TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    owner_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- The time the schedule's waiting work item fires for (NULL: disabled). A fire moves it on
    -- with a compare-and-set, in the transaction that records the fire.
    next_fire_at TIMESTAMP,
    last_fired_at TIMESTAMP,
    last_job_id BIGINT,
    -- The one fire waiting for the previous job to end (overlap 'queue').
    queued_fire_id BIGINT
);

CREATE TABLE schedule_fires (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id BIGINT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    scheduled_for TIMESTAMP NOT NULL,
    fired_at TIMESTAMP NOT NULL,
    job_id BIGINT,
    outcome TEXT NOT NULL CHECK (outcome IN ('started', 'skipped_overlap', 'queued', 'skipped_misfire', 'refused')),
    message TEXT,
    UNIQUE (schedule_id, scheduled_for)
);
CREATE INDEX schedule_fires_newest ON schedule_fires (schedule_id, scheduled_for DESC);

-- The schedule that started the job (cleared when the schedule is deleted).
ALTER TABLE jobs ADD COLUMN schedule_id BIGINT;
