ALTER TABLE jobs DROP COLUMN target_count;
