-- Opportunities read by pipeline and stage (the board, SPEC §7) and in creation order (an
-- opportunity export's keyset, as contacts (location_id, created_at, id)).
CREATE INDEX opportunities_board ON opportunities (location_id, pipeline_id, stage_id, updated_at);
CREATE INDEX opportunities_created ON opportunities (location_id, created_at, id);
