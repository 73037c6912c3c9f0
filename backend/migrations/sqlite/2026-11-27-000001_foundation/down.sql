DROP TABLE target_tags;
DROP TABLE targets;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
