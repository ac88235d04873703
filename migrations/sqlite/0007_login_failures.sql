-- Aesthetix schema, version 7: failed logins, for login throttling (SPEC §13.2).
--
-- After 10 failed logins for one email, or from one address, within 15 minutes, further
-- attempts are refused with 429 until the window passes. A row per failure, kept in the
-- database so that every web process of a deployment counts the same failures; rows older
-- than the window are deleted as new failures arrive. Not location-scoped: a login happens
-- before anyone is known to belong to a location (the email is stored as its lower case,
-- as users are found by it).

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_key TEXT NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email_key, at);
CREATE INDEX login_failures_address ON login_failures (address, at);
