-- +goose Up
-- Patient identity encrypted at rest, looked up by keyed hash, and the log
-- of every read of it.
--
-- Each identity column becomes a sealed value ("v1.<key id>.<base64>",
-- AES-256-GCM, see package keyring) bound to its column and row; the NIR is
-- found and kept unique by its HMAC-SHA-256 under a lookup key. The
-- database never holds the keys, so this migration cannot encrypt: the
-- identity of files opened before it moves to patients_unsealed, and
-- passd (migrate or serve, which hold the key) seals it at start and
-- empties that table. On a database created after this migration it is
-- always empty.

ALTER TABLE patients
    ADD COLUMN identity_key     text,
    ADD COLUMN last_name_enc    text,
    ADD COLUMN first_name_enc   text,
    ADD COLUMN birth_date_enc   text,
    ADD COLUMN nir_enc          text,
    ADD COLUMN nir_hash         bytea,
    -- true only for files opened before this migration, until passd seals
    -- them; a file opened since is sealed when it is inserted.
    ADD COLUMN identity_pending boolean NOT NULL DEFAULT false;

CREATE TABLE patients_unsealed (
    id         bigint PRIMARY KEY REFERENCES patients (id),
    last_name  text NOT NULL,
    first_name text NOT NULL,
    birth_date date NOT NULL,
    nir        text
);
INSERT INTO patients_unsealed (id, last_name, first_name, birth_date, nir)
SELECT id, last_name, first_name, birth_date, nir FROM patients;
UPDATE patients SET identity_pending = true;

DROP INDEX patients_nir_key;
ALTER TABLE patients
    DROP COLUMN last_name,
    DROP COLUMN first_name,
    DROP COLUMN birth_date,
    DROP COLUMN nir,
    -- A sealed file names the key of its values, and every value names the
    -- same key: rotation finds what to re-encrypt by identity_key alone.
    ADD CONSTRAINT patients_identity_sealed CHECK (
        (identity_pending AND identity_key IS NULL AND last_name_enc IS NULL AND first_name_enc IS NULL
            AND birth_date_enc IS NULL AND nir_enc IS NULL AND nir_hash IS NULL)
        OR (NOT identity_pending AND identity_key IS NOT NULL AND last_name_enc IS NOT NULL
            AND first_name_enc IS NOT NULL AND birth_date_enc IS NOT NULL
            AND identity_key ~ '^[A-Za-z0-9_-]{1,32}$'
            AND starts_with(last_name_enc, 'v1.' || identity_key || '.')
            AND starts_with(first_name_enc, 'v1.' || identity_key || '.')
            AND starts_with(birth_date_enc, 'v1.' || identity_key || '.')
            AND (nir_enc IS NULL) = (nir_hash IS NULL)
            AND (nir_enc IS NULL OR starts_with(nir_enc, 'v1.' || identity_key || '.'))
            AND (nir_hash IS NULL OR octet_length(nir_hash) = 32)));
-- One file per NIR, enforced on the keyed hash.
CREATE UNIQUE INDEX patients_nir_hash_key ON patients (nir_hash) WHERE nir_hash IS NOT NULL;
-- rotate-key walks the files by id and skips those under the current key.
CREATE INDEX patients_identity_key_idx ON patients (identity_key, id);

-- Who read a file's identity, when, and for what. Written before the
-- identity leaves passd, in the statement or transaction that reads it;
-- never updated or deleted.
CREATE TABLE patient_access_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    user_id    bigint REFERENCES users (id),
    user_name  text NOT NULL CHECK (length(user_name) > 0),
    patient_id bigint NOT NULL REFERENCES patients (id),
    purpose    text NOT NULL CHECK (purpose IN ('patient.create', 'patient.read', 'patient.list',
        'patient.rights_request', 'patient.rights_decision', 'claim_batch.export', 'reminders.list'))
);
CREATE INDEX patient_access_log_patient_idx ON patient_access_log (patient_id, id);
CREATE TRIGGER patient_access_log_append_only BEFORE UPDATE OR DELETE ON patient_access_log
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER patient_access_log_no_truncate BEFORE TRUNCATE ON patient_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- +goose Down
-- Going back puts identity in plaintext again, which only passd could
-- decrypt: refused once any file is sealed.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM patients WHERE NOT identity_pending) THEN
        RAISE EXCEPTION 'patient identity is encrypted; migrating below version 3 would lose it';
    END IF;
END;
$$;
-- +goose StatementEnd
DROP TABLE patient_access_log;
DROP INDEX patients_identity_key_idx;
DROP INDEX patients_nir_hash_key;
ALTER TABLE patients DROP CONSTRAINT patients_identity_sealed,
    ADD COLUMN last_name text, ADD COLUMN first_name text, ADD COLUMN birth_date date, ADD COLUMN nir text;
UPDATE patients p SET last_name = u.last_name, first_name = u.first_name, birth_date = u.birth_date, nir = u.nir
FROM patients_unsealed u WHERE u.id = p.id;
ALTER TABLE patients ALTER COLUMN last_name SET NOT NULL, ALTER COLUMN first_name SET NOT NULL,
    ALTER COLUMN birth_date SET NOT NULL,
    DROP COLUMN identity_key, DROP COLUMN last_name_enc, DROP COLUMN first_name_enc, DROP COLUMN birth_date_enc,
    DROP COLUMN nir_enc, DROP COLUMN nir_hash, DROP COLUMN identity_pending;
CREATE UNIQUE INDEX patients_nir_key ON patients (nir) WHERE nir IS NOT NULL;
DROP TABLE patients_unsealed;
