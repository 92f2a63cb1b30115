-- +goose Up
-- Browser sessions of the web pages (package web). A session is opened by
-- pasting a token; the cookie carries a random id, stored here only as its
-- SHA-256, so a database leak gives no usable session. A session lives
-- while its token does: revoking or expiring the token ends it too (the
-- lookup joins tokens). passd_app gets its privileges through the default
-- privileges of migration 00004.
CREATE TABLE web_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash         bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    token_id     bigint NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK (last_seen_at >= created_at AND expires_at > last_seen_at)
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
