-- +goose Up
-- What exists is switched off, never deleted: a user who leaves is
-- disabled (every token stops at once, the history keeps their name), a
-- provider that leaves the programme is deactivated (no new invoice; what
-- the city owes it is still paid). Both come back the same way.
ALTER TABLE users ADD COLUMN disabled_at timestamptz,
    ADD COLUMN disabled_by bigint REFERENCES users (id),
    ADD CONSTRAINT users_disabled_by CHECK ((disabled_at IS NULL) = (disabled_by IS NULL));
ALTER TABLE providers ADD COLUMN deactivated_at timestamptz;

-- +goose Down
ALTER TABLE providers DROP COLUMN deactivated_at;
ALTER TABLE users DROP COLUMN disabled_by, DROP COLUMN disabled_at;
