-- Aesthetix schema, version 20: the requests of the last minute of each API key and inbound
-- webhook (SPEC §12: more than 60 a minute are refused with 429).
--
-- Kept in the database, as failed logins are (version 7), so that every web process of a
-- deployment counts the same requests: with the count in each process's memory, two web
-- processes behind a balancer let 120 a minute through. A row per accepted request; a
-- source's rows older than the minute are deleted as its new requests arrive.

CREATE TABLE source_requests (
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX source_requests_window ON source_requests (location_id, source, at);
