-- +goose Up
-- Finding a file by part of a name, by birth date or by part of its
-- number, over identity the database holds only sealed.
--
-- Names and birth dates are searched through a keyed blind index: for
-- each file, the HMAC (under the ring's lookup key, which never reaches
-- the database) of each trigram of its folded last and first names, of
-- each of them whole and of its birth date, cut to 32 bits. A search looks up the terms of what was
-- typed, then passd opens the candidates and keeps those that match: the
-- cut makes false positives possible, and they cost only a decryption.
-- passd writes the terms wherever it seals identity (a new file, the
-- sealing of pending files, key rotation), so they never go stale.
CREATE TABLE patient_search_terms (
    patient_id bigint  NOT NULL REFERENCES patients (id),
    term       integer NOT NULL,
    PRIMARY KEY (term, patient_id)
);
-- Rebuilding a file's terms deletes them by file.
CREATE INDEX patient_search_terms_patient_idx ON patient_search_terms (patient_id);

-- Files sealed before this migration have no terms yet: passd (migrate or
-- serve, which hold the key) writes them at start, as it seals pending
-- identity, and clears the flag.
ALTER TABLE patients ADD COLUMN search_pending boolean NOT NULL DEFAULT false;
UPDATE patients SET search_pending = true WHERE NOT identity_pending;
CREATE INDEX patients_search_pending_idx ON patients (id) WHERE search_pending;

-- The file number is not identity: it is searched in clear, by any part
-- of it (LIKE '%…%'), through a trigram index. pg_trgm ships with
-- PostgreSQL (contrib) and is a trusted extension: the database's owner
-- may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX patients_file_number_trgm_idx ON patients USING gin (file_number gin_trgm_ops);

-- Search results and the work list show each file's last invoice, read
-- through invoices_patient_care_idx (migration 00016).

-- +goose Down
-- pg_trgm stays: it holds no data, and it may have been there before.
DROP INDEX patients_file_number_trgm_idx;
DROP INDEX patients_search_pending_idx;
ALTER TABLE patients DROP COLUMN search_pending;
DROP TABLE patient_search_terms;
