-- The submit benchmark's lean yardstick (issue 18 §3), for pgbench -M
-- prepared on bench/lean_schema.sql: the same rows as bench/submit.sql
-- writes (one invoice, its 3 lines, its audit row) in one statement and
-- one transaction, but nothing else: no lookup of the patient's file, no
-- submission limit, deadline days, tariff or provider's kind read, no
-- rights change noted; the patient is a number drawn at random. Set
-- against bench/submit.sql, it is what passd's schema and its statement's
-- checks cost; set against passd, what everything passd does costs.
--
-- Variables (pgbench -D; cmd/passd-bench passes bench/submit.sql's, of
-- which this reads patients, provider_id, user_id, actor, care_date and
-- default_days).
\set patient random(1, :patients)
\set ref random(1, 999999999999)
WITH inv AS (
    INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by, created_at,
                          review_status, review_reasons)
    VALUES (:provider_id, :patient, 'LEAN-' || :client_id::text || '-' || :ref::text, :care_date::date,
            :care_date::date + :default_days::int, 52.75, :user_id, now(), NULL, NULL::jsonb)
    RETURNING id, deadline, created_at
), lines AS (
    INSERT INTO invoice_lines (invoice_id, position, code, label, quantity, unit_price, rate_class)
    SELECT inv.id, u.* FROM inv, unnest('{1,2,3}'::int[], '{3400930000007,HD,1131930}'::text[],
        '{"Médicament","Honoraire de dispensation","Dispositif médical"}'::text[],
        '{2,2,1}'::int[], '{18.60,1.02,13.51}'::numeric[], '{drug_65,drug_65,pharmacy}'::text[]) AS u
), logged AS (
    INSERT INTO audit_log (actor_id, actor, action, entity, entity_id, before, after)
    SELECT :user_id, :actor, 'invoice.create', 'invoice', inv.id::text, NULL, jsonb_build_object(
        'care_date', :care_date::text,
        'external_ref', 'LEAN-' || :client_id::text || '-' || :ref::text,
        'provider_id', :provider_id::text,
        'status', 'pending',
        'total', '52.75') || jsonb_build_object('deadline', to_char(inv.deadline, 'YYYY-MM-DD'))
    FROM inv
)
SELECT id, deadline, created_at FROM inv;
