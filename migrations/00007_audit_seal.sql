-- +goose Up
-- Deferred sealing of the audit chain (issue 6).
--
-- Under 00004 a row trigger chained each audit row as it was inserted,
-- holding the lock of the one-row head until the inserting transaction
-- committed: every audited write of the system (each invoice submitted,
-- each sweep batch for its whole length) took turns on that lock, and
-- commits could not be grouped.
--
-- Now a row is inserted unsealed (chain_seq, prev_hash and hash NULL), with
-- no lock and no trigger work, and audit_seal() chains the committed rows
-- afterwards, in batches, in the order it seals them. passd serve runs it
-- every 200 ms (audit.RunSealer). The chain keeps its meaning and its hash
-- (audit_log_hash, unchanged): rows chained by 00004 stay as they are and
-- the head continues from them.
--
-- What this gives up: a row deleted by the owner before it is sealed leaves
-- no trace. The application's role can neither delete nor update a row, nor
-- set the chain columns.

DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP TRIGGER audit_chain_advance ON audit_log;
DROP FUNCTION audit_chain_advance();

ALTER TABLE audit_log
    ALTER COLUMN chain_seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    -- A row is unsealed or sealed, never half of it.
    ADD CONSTRAINT audit_log_sealed_whole CHECK (
        (chain_seq IS NULL) = (prev_hash IS NULL) AND (chain_seq IS NULL) = (hash IS NULL));

-- The sealer's work list: small, as it holds only the rows appended since
-- the last seal.
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE chain_seq IS NULL;

-- The log stays append-only, with one exception: sealing, a row whose
-- chain columns go from NULL to set while every other column stays as it
-- was. The exception is the trigger's WHEN clause rather than a test in its
-- function, so that sealing a row costs an expression, not a PL/pgSQL call.
-- (Only the owner may UPDATE at all; the application seals through
-- audit_seal().)
DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log FOR EACH ROW
    WHEN (NOT (OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
               AND (NEW.id, NEW.at, NEW.actor_id, NEW.actor, NEW.action, NEW.entity, NEW.entity_id, NEW.before, NEW.after)
                   IS NOT DISTINCT FROM
                   (OLD.id, OLD.at, OLD.actor_id, OLD.actor, OLD.action, OLD.entity, OLD.entity_id, OLD.before, OLD.after)))
    EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log FOR EACH ROW
    EXECUTE FUNCTION audit_log_append_only();

-- Seal up to max_rows committed unsealed rows, in id order, after the
-- head, and return how many. One sealer at a time: the head's row lock,
-- taken with SKIP LOCKED, so that a second sealer (another replica) returns
-- 0 at once instead of queueing. The hashes are chained in a loop into
-- arrays, then written by one UPDATE. A row committed late with a lower id
-- than rows already sealed is sealed by a later call, further on: the
-- chain's order is the order of sealing (chain_seq), not id.
--
-- Run in a READ COMMITTED transaction (the default), each query sees what
-- was committed when it started: the rows another sealer sealed just before
-- this one took the head are not sealed twice. Under REPEATABLE READ a seal
-- that raced another fails with a serialization error instead.
-- +goose StatementBegin
CREATE FUNCTION audit_seal(max_rows int) RETURNS int LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    seq bigint;
    last bytea;
    r record;
    n int := 0;
    ids bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    IF max_rows IS NULL OR max_rows < 1 THEN
        RAISE EXCEPTION 'audit_seal: max_rows must be at least 1, not %', max_rows USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT chain_seq, hash INTO seq, last FROM audit_chain_head FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT FROM audit_chain_head) THEN
            RAISE EXCEPTION 'audit_chain_head has no row' USING ERRCODE = 'data_exception';
        END IF;
        RETURN 0; -- another sealer holds the head
    END IF;
    FOR r IN SELECT id, at, actor_id, actor, action, entity, entity_id, before, after
             FROM audit_log WHERE chain_seq IS NULL ORDER BY id LIMIT max_rows LOOP
        n := n + 1;
        ids[n] := r.id;
        prevs[n] := last;
        last := audit_log_hash(seq + n, r.id, r.at, r.actor_id, r.actor, r.action, r.entity, r.entity_id,
                               r.before, r.after, last);
        hashes[n] := last;
    END LOOP;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    UPDATE audit_log a SET chain_seq = seq + u.k, prev_hash = u.prev_hash, hash = u.hash
    FROM unnest(ids, prevs, hashes) WITH ORDINALITY AS u (id, prev_hash, hash, k)
    WHERE a.id = u.id;
    UPDATE audit_chain_head SET chain_seq = seq + n, hash = last;
    RETURN n;
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_seal(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_seal(int) TO passd_app;

-- The application names only the content of a row: not its chain columns,
-- nor its time (the database's clock) or id.
REVOKE INSERT ON audit_log FROM passd_app;
GRANT INSERT (actor_id, actor, action, entity, entity_id, before, after) ON audit_log TO passd_app;

-- +goose Down
-- Back to chaining at insert: first seal every row, with the head and then
-- the log locked so that no sealer or writer comes between (the head
-- first, the order audit_seal takes them in).
LOCK TABLE audit_chain_head IN EXCLUSIVE MODE;
LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE;
-- +goose StatementBegin
DO $$
BEGIN
    WHILE audit_seal(10000) > 0 LOOP
    END LOOP;
END;
$$;
-- +goose StatementEnd

REVOKE INSERT ON audit_log FROM passd_app;
GRANT INSERT ON audit_log TO passd_app;
DROP FUNCTION audit_seal(int);

DROP TRIGGER audit_log_append_only_delete ON audit_log;
DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

DROP INDEX audit_log_unsealed_idx;
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_sealed_whole,
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;

-- 00004's triggers, as they were.
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
REVOKE ALL ON FUNCTION audit_log_chain() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain_advance() FROM PUBLIC;
