-- Aesthetix schema, version 17: inbound webhooks (SPEC §12). A location's secret URL
-- `/hooks/{token}`; only the token's SHA-256 is kept, as for API keys.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX webhooks_location ON webhooks (location_id);
