ALTER TABLE targets DROP COLUMN health_error;
ALTER TABLE targets DROP COLUMN health_server_version;
ALTER TABLE targets DROP COLUMN health_latency_ms;
ALTER TABLE targets DROP COLUMN health_checked_at;
ALTER TABLE targets DROP COLUMN health_ok;
