DROP TABLE query_results;
DROP TABLE queries;
ALTER TABLE targets DROP COLUMN query_password_enc;
ALTER TABLE targets DROP COLUMN query_username;
