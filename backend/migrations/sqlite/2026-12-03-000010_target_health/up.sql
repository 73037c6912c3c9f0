-- Each target's last connection check (a person's test, or the periodic check of
-- targets.health_interval_s): NULL health_ok = never checked. health_error is the database's
-- error as JSON ({"kind", "code", "message"}), never a password.
ALTER TABLE targets ADD COLUMN health_ok BOOLEAN;
ALTER TABLE targets ADD COLUMN health_checked_at TIMESTAMP;
ALTER TABLE targets ADD COLUMN health_latency_ms REAL;
ALTER TABLE targets ADD COLUMN health_server_version TEXT;
ALTER TABLE targets ADD COLUMN health_error TEXT;
