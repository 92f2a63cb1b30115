-- +goose Up
-- How many invoices and payouts are in each status, and for how much, kept
-- by triggers so that GET /metrics reads a handful of rows instead of
-- counting millions of invoices at each scrape.
--
-- The triggers APPEND deltas (kind, status, +n, +amount) rather than update
-- one row per status: one hot row would queue every concurrent invoice
-- submission behind it. The reader folds the deltas (sum … GROUP BY) and,
-- once they pile up, status_counts_compact() replaces them by one row per
-- status. The application appends and reads (it may neither change nor
-- remove a row); compaction is the owner's function, SECURITY DEFINER.
--
-- The triggers are per statement, with transition tables: a sweep deciding
-- a batch of 1,000 invoices appends a few rows, not 2,000.
CREATE TABLE status_counts (
    kind   text NOT NULL CHECK (kind IN ('invoice', 'payout')),
    status text NOT NULL,
    n      bigint NOT NULL,
    -- Unbounded: an overflow here would refuse the invoice itself.
    amount numeric NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION invoices_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'invoice', status, count(*), sum(total) FROM new_rows GROUP BY status;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION invoices_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'invoice', status, sum(n), sum(amount)
    FROM (SELECT status, -1 AS n, -total AS amount FROM old_rows
          UNION ALL
          SELECT status, 1, total FROM new_rows) AS moves
    GROUP BY status
    HAVING sum(n) <> 0 OR sum(amount) <> 0;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION invoices_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'invoice', status, -count(*), -sum(total) FROM old_rows GROUP BY status;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION payouts_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'payout', status, count(*), sum(amount) FROM new_rows GROUP BY status;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION payouts_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'payout', status, sum(n), sum(amount)
    FROM (SELECT status, -1 AS n, -amount AS amount FROM old_rows
          UNION ALL
          SELECT status, 1, amount FROM new_rows) AS moves
    GROUP BY status
    HAVING sum(n) <> 0 OR sum(amount) <> 0;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION payouts_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT 'payout', status, -count(*), -sum(amount) FROM old_rows GROUP BY status;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- A TRUNCATE has no transition table: the kind's counts start again from
-- zero, keeping one row per status so that every status still shows.
-- +goose StatementBegin
CREATE FUNCTION status_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text := CASE TG_TABLE_NAME WHEN 'invoices' THEN 'invoice' ELSE 'payout' END;
BEGIN
    WITH gone AS (DELETE FROM status_counts WHERE kind = k RETURNING status)
    INSERT INTO status_counts (kind, status, n, amount)
    SELECT DISTINCT k, status, 0, 0 FROM gone;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER invoices_count_insert AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_count_insert();
CREATE TRIGGER invoices_count_update AFTER UPDATE ON invoices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_count_update();
CREATE TRIGGER invoices_count_delete AFTER DELETE ON invoices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_count_delete();
CREATE TRIGGER invoices_count_truncate AFTER TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION status_counts_truncated();
CREATE TRIGGER payouts_count_insert AFTER INSERT ON payouts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_count_insert();
CREATE TRIGGER payouts_count_update AFTER UPDATE ON payouts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_count_update();
CREATE TRIGGER payouts_count_delete AFTER DELETE ON payouts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_count_delete();
CREATE TRIGGER payouts_count_truncate AFTER TRUNCATE ON payouts
    FOR EACH STATEMENT EXECUTE FUNCTION status_counts_truncated();

-- The counts of the rows already there, one row per status (zero for a
-- status no row has yet). The triggers exist already and their table
-- locks wait for writers that started before: nothing is counted twice
-- or missed.
INSERT INTO status_counts (kind, status, n, amount)
SELECT 'invoice', s.status, count(i.id), coalesce(sum(i.total), 0)
FROM (VALUES ('pending'), ('released'), ('city_due'), ('cancelled')) AS s (status)
LEFT JOIN invoices i ON i.status = s.status
GROUP BY s.status;
INSERT INTO status_counts (kind, status, n, amount)
SELECT 'payout', s.status, count(p.id), coalesce(sum(p.amount), 0)
FROM (VALUES ('due'), ('batched'), ('approved'), ('paid')) AS s (status)
LEFT JOIN payouts p ON p.status = s.status
GROUP BY s.status;

-- Replaces the deltas by one row per status, and returns how many rows it
-- folded (0 when another session is compacting: its transaction-level
-- lock makes this one step aside rather than wait). Deltas appended by
-- transactions this statement cannot see yet stay as they are, so the
-- sums never change.
-- +goose StatementBegin
CREATE FUNCTION status_counts_compact() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('passd.status_counts.compact', 0)) THEN
        RETURN 0;
    END IF;
    WITH gone AS (DELETE FROM status_counts RETURNING kind, status, n, amount),
         folded_rows AS (
             INSERT INTO status_counts (kind, status, n, amount)
             SELECT kind, status, sum(n), sum(amount) FROM gone GROUP BY kind, status
             RETURNING 1)
    SELECT count(*) INTO folded FROM gone;
    RETURN folded;
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION invoices_count_insert(), invoices_count_update(), invoices_count_delete(),
    payouts_count_insert(), payouts_count_update(), payouts_count_delete(), status_counts_truncated(),
    status_counts_compact() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION status_counts_compact() TO passd_app;

-- The application appends deltas (through the triggers, as itself) and
-- reads them; it never changes or removes one. (It got all four through
-- the default privileges of migration 00004.)
REVOKE UPDATE, DELETE, TRUNCATE ON status_counts FROM passd_app;

-- +goose Down
DROP FUNCTION status_counts_compact();
DROP TRIGGER payouts_count_truncate ON payouts;
DROP TRIGGER payouts_count_delete ON payouts;
DROP TRIGGER payouts_count_update ON payouts;
DROP TRIGGER payouts_count_insert ON payouts;
DROP TRIGGER invoices_count_truncate ON invoices;
DROP TRIGGER invoices_count_delete ON invoices;
DROP TRIGGER invoices_count_update ON invoices;
DROP TRIGGER invoices_count_insert ON invoices;
DROP FUNCTION status_counts_truncated();
DROP FUNCTION payouts_count_delete();
DROP FUNCTION payouts_count_update();
DROP FUNCTION payouts_count_insert();
DROP FUNCTION invoices_count_delete();
DROP FUNCTION invoices_count_update();
DROP FUNCTION invoices_count_insert();
DROP TABLE status_counts;
