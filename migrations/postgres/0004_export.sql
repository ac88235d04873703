-- Aesthetix schema, version 4: contact export (SPEC §10).
-- Version 1 already has `files`, `notifications` and `scheduled_exports`, unused until now;
-- this migration gives them what an export needs. Same tables and columns on both backends.

-- A stored file belongs to the job that made it. `stored_name` is generated (never a name a
-- user gave), relative to the file store `data-dir/files/`; `original_name` is the name a
-- download gives the file.
ALTER TABLE files ADD COLUMN job_id BIGINT REFERENCES jobs(id) ON DELETE CASCADE;
CREATE INDEX files_job ON files (job_id);
-- The sweep looks for files past their expiry that are still on disk.
CREATE INDEX files_expiry ON files (expires_at) WHERE deleted_at IS NULL;

-- "Your export is ready": what kind of notice, and the job it is about. A notice without a
-- user is for every admin of the location (exports started by the CLI or a schedule).
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'info';
ALTER TABLE notifications ADD COLUMN job_id BIGINT REFERENCES jobs(id) ON DELETE CASCADE;
CREATE INDEX notifications_location ON notifications (location_id, id);

-- Scheduled exports (beyond the reference): a daily or weekly export of a Smart List.
ALTER TABLE scheduled_exports RENAME TO export_schedules;
ALTER TABLE export_schedules ADD COLUMN last_job_id BIGINT;
CREATE INDEX export_schedules_due ON export_schedules (next_run_at);

-- The run of a schedule a job is: one job per schedule and due time, enforced here as well
-- as by the compare-and-set on `next_run_at` that starts it.
ALTER TABLE jobs ADD COLUMN schedule_id BIGINT;
ALTER TABLE jobs ADD COLUMN scheduled_for BIGINT;
CREATE UNIQUE INDEX jobs_schedule_run ON jobs (schedule_id, scheduled_for);
