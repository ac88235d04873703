-- Aesthetix schema, version 19: importing contacts and opportunities in one file (SPEC §7).
-- A line of an opportunities import names the opportunity it wrote beside its contact
-- (`record_id`): the report's and the error log's Opportunity ID. Empty for every other
-- import. An opportunity's changes are journalled in `journal` (entity 'opportunity').
ALTER TABLE job_lines ADD COLUMN opportunity_id BIGINT;
