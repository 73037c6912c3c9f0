ALTER TABLE jobs DROP COLUMN schedule_id;
DROP TABLE schedule_fires;
DROP TABLE schedules;
DELETE FROM work_items WHERE kind = 'schedule_fire';
