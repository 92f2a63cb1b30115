-- +goose Up
-- The observer: an elected official, the ARS, the CPAM's management, who
-- reads the programme's figures (aggregates only) and nothing else.
ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('provider', 'coordinator', 'cpam_referent', 'finance', 'admin', 'observer'));

-- +goose Down
DELETE FROM tokens WHERE user_id IN (SELECT id FROM users WHERE role = 'observer');
ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('provider', 'coordinator', 'cpam_referent', 'finance', 'admin'));
