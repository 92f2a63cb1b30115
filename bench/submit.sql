-- The SQL that one POST /api/v1/invoices commits (billing.Store.CreateInvoice
-- without an Idempotency-Key: first the patient's check, claims.Store.Attested,
-- which reads the file by its number and its sealed birth date, that passd
-- opens and compares with the one sent (pgbench only reads it); then one
-- statement, in its own transaction, looks up that file again by its id, the
-- submission limit and the deadline days, checks that the tariff and the
-- provider's kind it priced the lines with are still the database's and
-- that the provider is still active, and writes the invoice, its lines with
-- their rate classes, its audit row and, for a file with a rights decision,
-- the change the release job will read), for pgbench -M prepared: PostgreSQL's own limit
-- for the same work, which `make bench` sets passd against.
--
-- Variables (pgbench -D; cmd/passd-bench sets them from the seeded data):
--   patients      how many patient files; file numbers run 1..patients
--   file_prefix   PASS-YYYY- (pgbench cannot build a string, so the file
--                 number is made in the lookup: the same index probe)
--   provider_id, user_id, actor   the provider and its user
--   care_date     YYYY-MM-DD; default_days  PASSD_DEADLINE_DAYS (90)
--   tariff_version, provider_kind  tariff_state.version and the provider's
--                 kind as seeded: what passd's copy of the tariff names
-- The three lines are cmd/passd-bench's (loadgen.go submitLines), with the
-- rate classes billing.Tariff.Price gives them for a pharmacy; within every
-- ceiling, so never held for review (review_status and review_reasons
-- NULL). The integration test checks that both sides store the same rows.
\set patient random(1, :patients)
\set ref random(1, 999999999999)
SELECT id AS patient_id, coalesce(birth_date_enc, '') AS birth_date_enc FROM patients
WHERE file_number = :file_prefix || lpad(:patient::text, 6, '0') \gset
WITH patient AS (
    SELECT id FROM patients WHERE id = :patient_id
      AND :care_date::date >= current_date - coalesce((SELECT submission_limit_days FROM settings), 1095)
      AND (SELECT version FROM tariff_state) = :tariff_version
      AND (SELECT kind FROM providers WHERE id = :provider_id AND deactivated_at IS NULL) = :provider_kind
), inv AS (
    INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by, created_at,
                          review_status, review_reasons)
    SELECT :provider_id, patient.id, 'PGB-' || :client_id::text || '-' || :ref::text, :care_date::date,
           :care_date::date + coalesce(nullif((SELECT deadline_days FROM settings), 0), :default_days::int), 52.75, :user_id, now(),
           NULL, NULL::jsonb
    FROM patient
    ON CONFLICT ON CONSTRAINT invoices_external_ref_key DO NOTHING
    RETURNING id, patient_id, deadline, created_at
), changed AS (
    INSERT INTO rights_changes (patient_id, changed_at)
    SELECT inv.patient_id, now() FROM inv WHERE EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = inv.patient_id)
    ON CONFLICT (patient_id) DO UPDATE SET seq = nextval('rights_changes_seq'), changed_at = EXCLUDED.changed_at
), lines AS (
    INSERT INTO invoice_lines (invoice_id, position, code, label, quantity, unit_price, rate_class)
    SELECT inv.id, u.* FROM inv, unnest('{1,2,3}'::int[], '{3400930000007,HD,1131930}'::text[],
        '{"Médicament","Honoraire de dispensation","Dispositif médical"}'::text[],
        '{2,2,1}'::int[], '{18.60,1.02,13.51}'::numeric[], '{drug_65,drug_65,pharmacy}'::text[]) AS u
), logged AS (
    INSERT INTO audit_log (actor_id, actor, action, entity, entity_id, before, after)
    SELECT :user_id, :actor, 'invoice.create', 'invoice', inv.id::text, NULL, jsonb_build_object(
        'care_date', :care_date::text,
        'external_ref', 'PGB-' || :client_id::text || '-' || :ref::text,
        'provider_id', :provider_id::text,
        'status', 'pending',
        'total', '52.75') || jsonb_build_object('deadline', to_char(inv.deadline, 'YYYY-MM-DD'))
    FROM inv
)
SELECT id, deadline, created_at FROM inv;
