-- +goose Up
-- The application's database role, and an audit log whose rows are chained
-- by hash so that an edit, a deletion or a truncated tail is detectable
-- (passd audit verify).
--
-- This migration runs as the schema's owner. The running application sets
-- its sessions' role to passd_app (PASSD_DB_ROLE), which may read and write
-- the tables it needs but may only append to the logs, and cannot touch the
-- chain's bookkeeping except through the trigger below.

-- passd_app is cluster-wide: several databases (a test run migrates many at
-- once) may try to create it at the same moment; the loser of that race
-- gets unique_violation rather than duplicate_object.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passd_app') THEN
        BEGIN
            CREATE ROLE passd_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END;
$$;
-- +goose StatementEnd

-- The chain. Row n carries the hash of row n-1 (prev_hash) and its own hash
-- over a canonical text of its content and prev_hash. chain_seq numbers the
-- rows without gaps, in the order they were appended.
ALTER TABLE audit_log
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea;

-- The hash of an audit row, defined once: the trigger writes it and
-- passd audit verify recomputes it. The canonical text is a JSON array
-- (json_build_array escapes every string, so no two rows share a text):
--   [chain_seq, id, "at in UTC, microseconds", actor_id, "actor", "action",
--    "entity", "entity_id", "before as jsonb text", "after as jsonb text",
--    "prev_hash in hex"]
-- hashed with SHA-256 over its UTF-8 bytes. at is written in UTC with a
-- fixed format, so the session's TimeZone or DateStyle cannot change it.
-- +goose StatementBegin
CREATE FUNCTION audit_log_hash(chain_seq bigint, id bigint, at timestamptz, actor_id bigint, actor text,
                               action text, entity text, entity_id text, before jsonb, after jsonb,
                               prev_hash bytea)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE
RETURN sha256(convert_to(json_build_array(
    chain_seq, id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor_id, actor,
    action, entity, entity_id, before::text, after::text, encode(prev_hash, 'hex'))::text, 'UTF8'));
-- +goose StatementEnd

-- One row: the last link of the chain. Its row lock, taken by the first
-- append of a transaction and held until the transaction ends, serialises
-- appends; and a deleted tail shows as a head beyond the last row.
CREATE TABLE audit_chain_head (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    chain_seq bigint NOT NULL CHECK (chain_seq >= 0),
    hash      bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- Chain the rows written before this migration, in id order. The
-- append-only trigger is set aside for this one fill of the new columns.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
-- +goose StatementBegin
DO $$
DECLARE
    r record;
    seq bigint := 0;
    last bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    h bytea;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        seq := seq + 1;
        h := audit_log_hash(seq, r.id, r.at, r.actor_id, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, last);
        UPDATE audit_log SET chain_seq = seq, prev_hash = last, hash = h WHERE id = r.id;
        last := h;
    END LOOP;
    INSERT INTO audit_chain_head (chain_seq, hash) VALUES (seq, last);
END;
$$;
-- +goose StatementEnd
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE audit_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq),
    ADD CONSTRAINT audit_log_hash_length CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32);

-- Every insert, whatever its path (one row, unnest of many, a future
-- caller), is chained here; values a caller puts in the chain columns are
-- overwritten. SECURITY DEFINER: the triggers run as the owner, the only
-- role that may read or write the head.
--
-- The row trigger links each row to the one before: the head, or for the
-- second and later rows of one statement the row the statement appended
-- last (visible to a row trigger, and beyond the head, which moves once
-- per statement). Moving the head per row instead would make a statement
-- of n rows walk n versions of the head row n times.
-- +goose StatementBegin
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    seq bigint;
    prev bytea;
    last_seq bigint;
    last_hash bytea;
BEGIN
    SELECT chain_seq, hash INTO seq, prev FROM audit_chain_head FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_chain_head has no row' USING ERRCODE = 'data_exception';
    END IF;
    SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_log
    WHERE chain_seq > seq ORDER BY chain_seq DESC LIMIT 1;
    IF FOUND THEN
        seq := last_seq;
        prev := last_hash;
    END IF;
    NEW.chain_seq := seq + 1;
    NEW.prev_hash := prev;
    NEW.hash := audit_log_hash(NEW.chain_seq, NEW.id, NEW.at, NEW.actor_id, NEW.actor, NEW.action, NEW.entity,
                               NEW.entity_id, NEW.before, NEW.after, NEW.prev_hash);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- +goose StatementBegin
CREATE FUNCTION audit_chain_advance() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE audit_chain_head h SET chain_seq = n.chain_seq, hash = n.hash
    FROM (SELECT chain_seq, hash FROM appended ORDER BY chain_seq DESC LIMIT 1) n;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_advance();

-- The head as of the caller's snapshot, for verification by a role that
-- may not read the head table itself.
-- +goose StatementBegin
CREATE FUNCTION audit_chain_head() RETURNS TABLE (chain_seq bigint, hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT chain_seq, hash FROM audit_chain_head $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_log_chain() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain_advance() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_head() TO passd_app;

-- What the application may do. Every table: read and write rows (never
-- TRUNCATE, never DDL); every sequence: use. Then the exceptions.
GRANT USAGE ON SCHEMA public TO passd_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO passd_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO passd_app;
-- Tables of later migrations get the same, when the same owner creates them.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO passd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO passd_app;

-- The logs are append-only for the application: besides their triggers,
-- it lacks the privileges to change or remove a row.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, journal_entries FROM passd_app;
-- patient_access_log comes with patient identity encryption (00003), which
-- this migration does not require.
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('public.patient_access_log') IS NOT NULL THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON public.patient_access_log FROM passd_app;
    END IF;
END;
$$;
-- +goose StatementEnd
-- The chain's bookkeeping is the trigger's alone.
REVOKE ALL ON audit_chain_head FROM passd_app, PUBLIC;
-- The migrations' own record: the application reads it (is the schema
-- current?) and never writes it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON goose_db_version FROM passd_app;
REVOKE ALL ON SEQUENCE goose_db_version_id_seq FROM passd_app;

-- +goose Down
-- The role is left in place: it is cluster-wide and other databases may
-- use it. Its privileges in this database go.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM passd_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM passd_app;
REVOKE ALL ON SCHEMA public FROM passd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM passd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM passd_app;
DROP FUNCTION audit_chain_head();
DROP TRIGGER audit_chain_advance ON audit_log;
DROP FUNCTION audit_chain_advance();
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP TABLE audit_chain_head;
ALTER TABLE audit_log DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash;
DROP FUNCTION audit_log_hash(bigint, bigint, timestamptz, bigint, text, text, text, text, jsonb, jsonb, bytea);
