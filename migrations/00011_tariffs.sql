-- +goose Up
-- Tariff rules an admin keeps current: the acts catalogue (who may bill
-- what, and a plausibility ceiling), the drug table (CIP13 → class), rates
-- dated by care date, and invoices held for the coordinator's review.

-- A line's rate class is a provider kind (the act is priced as that kind's
-- acts) or a drug class. The CPAM's share of a line is the rate of its
-- regime and class in force on the care date.
-- +goose StatementBegin
CREATE FUNCTION rate_class_valid(c text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT c IN ('health_centre', 'general_practitioner', 'nurse', 'pharmacy', 'radiology', 'laboratory',
                 'drug_100', 'drug_65', 'drug_30', 'drug_15')
$$;
-- +goose StatementEnd

-- Rates: one row per change, never edited. The seeded rows are in force
-- from 2000-01-01: earlier than any care a PASS still bills.
ALTER TABLE rates RENAME COLUMN provider_kind TO rate_class;
ALTER TABLE rates
    DROP CONSTRAINT rates_pkey,
    DROP CONSTRAINT rates_provider_kind_check,
    ADD CONSTRAINT rates_rate_class_check CHECK (rate_class_valid(rate_class)),
    ADD COLUMN effective_from date NOT NULL DEFAULT '2000-01-01',
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN created_by bigint REFERENCES users (id),
    ADD COLUMN reason text NOT NULL DEFAULT 'DOMAIN.md (seed)' CHECK (length(reason) BETWEEN 1 AND 500),
    ADD PRIMARY KEY (regime, rate_class, effective_from);
ALTER TABLE rates ALTER COLUMN effective_from DROP DEFAULT, ALTER COLUMN reason DROP DEFAULT;
INSERT INTO rates (regime, rate_class, rate, effective_from, reason)
SELECT r.regime, 'drug_' || c.class,
       CASE WHEN r.regime = 'puma' THEN c.class / 100.0 ELSE 1.00 END,
       '2000-01-01', 'DOMAIN.md (seed)'
FROM (VALUES ('puma'), ('puma_css'), ('ame')) AS r (regime)
CROSS JOIN (VALUES (100), (65), (30), (15)) AS c (class);
CREATE TRIGGER rates_append_only BEFORE UPDATE OR DELETE ON rates
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON rates FROM passd_app;

-- The acts catalogue. A code in it may be billed only by the kinds it
-- lists; its rate class, when set, prices it whoever bills it (a lab act
-- in a health centre); a dispensing fee is priced as the drug line it
-- follows. Codes outside it are accepted by their format (billing.Tariff).
CREATE TABLE acts (
    -- a key (NGAP, pharmacy fees), a CCAM, NABM or LPP code; never a CIP13
    code           text PRIMARY KEY CHECK (code ~ '^([A-Z]{1,6}|[A-Z]{4}[0-9]{3}|[0-9]{4}|[0-9]{7})$'),
    label          text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    provider_kinds text[] NOT NULL CHECK (cardinality(provider_kinds) > 0 AND provider_kinds <@ ARRAY[
                       'health_centre', 'general_practitioner', 'nurse', 'pharmacy', 'radiology', 'laboratory']),
    rate_class     text CHECK (rate_class_valid(rate_class) AND rate_class NOT LIKE 'drug\_%'),
    max_unit_price numeric(12,2) CHECK (max_unit_price > 0),
    dispensing_fee boolean NOT NULL DEFAULT false,
    source         text NOT NULL DEFAULT '' CHECK (length(source) <= 200),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     bigint REFERENCES users (id),
    CHECK (NOT dispensing_fee OR rate_class IS NULL)
);
INSERT INTO acts (code, label, provider_kinds, rate_class, max_unit_price, dispensing_fee, source) VALUES
    ('G',   'Consultation de médecine générale',            '{general_practitioner,health_centre}', NULL, 30.00, false, 'DOMAIN.md: G = 30.00 € since 22 Dec 2024'),
    ('GS',  'Consultation de médecine générale (spécialiste en MG)', '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('VG',  'Visite à domicile de médecine générale',       '{general_practitioner,health_centre}', NULL, NULL, false, 'DOMAIN.md: NGAP keys'),
    ('C',   'Consultation',                                  '{general_practitioner,health_centre}', NULL, NULL, false, 'DOMAIN.md: NGAP keys'),
    ('CS',  'Consultation de spécialiste',                   '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('V',   'Visite à domicile',                             '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('VS',  'Visite à domicile de spécialiste',              '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('APC', 'Avis ponctuel de consultant',                   '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('TCG', 'Téléconsultation de médecine générale',         '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('TC',  'Téléconsultation',                              '{general_practitioner,health_centre}', NULL, NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('AMI', 'Acte médico-infirmier',                         '{nurse,health_centre}', 'nurse', 3.15, false, 'DOMAIN.md: AMI = 3.15 €'),
    ('AMX', 'Acte infirmier (patient dépendant)',            '{nurse,health_centre}', 'nurse', NULL, false, 'DOMAIN.md: NGAP keys'),
    ('AIS', 'Acte infirmier de soins',                       '{nurse,health_centre}', 'nurse', NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('IFD', 'Indemnité forfaitaire de déplacement',          '{nurse,health_centre}', 'nurse', 2.75, false, 'DOMAIN.md: IFD = 2.75 €'),
    ('IFA', 'Indemnité forfaitaire de déplacement (autre)',  '{nurse,health_centre}', 'nurse', NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('MCI', 'Majoration de coordination infirmière',         '{nurse,health_centre}', 'nurse', NULL, false, 'NGAP key passd accepted before the catalogue'),
    ('IK',  'Indemnité kilométrique',                        '{general_practitioner,nurse,health_centre}', NULL, NULL, false, 'DOMAIN.md: NGAP keys'),
    ('B',   'Acte de biologie (coefficient NABM × B)',       '{laboratory}', 'laboratory', NULL, false, 'DOMAIN.md: NABM "B" acts, B ≈ 0.27 € (uncertain: no ceiling)'),
    ('ZBQK002', 'Radiographie du thorax',                    '{radiology}', 'radiology', NULL, false, 'DOMAIN.md: ZBQK002 ≈ 21.28 € (uncertain: no ceiling)'),
    ('HD',  'Honoraire de dispensation (par boîte)',         '{pharmacy}', NULL, 1.02, true, 'DOMAIN.md: dispensing fee 1.02 € per box');

-- The drug table: a CIP13's reimbursement class. A CIP13 not listed takes
-- settings.default_drug_class (NULL: 65).
CREATE TABLE drugs (
    cip13      text PRIMARY KEY CHECK (cip13 ~ '^34009[0-9]{8}$'),
    label      text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    drug_class smallint NOT NULL CHECK (drug_class IN (100, 65, 30, 15)),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES users (id)
);

-- What a submission checks its lines against: the catalogue, the drug
-- table and the settings. Each process keeps a copy and names its version
-- in the statement that stores an invoice, which stores nothing when the
-- version has moved on since (the process reloads and tries again). The
-- triggers move it whatever changes them, so no writer can forget.
CREATE TABLE tariff_state (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 1
);
INSERT INTO tariff_state DEFAULT VALUES;
REVOKE INSERT, DELETE, TRUNCATE ON tariff_state FROM passd_app;
-- +goose StatementBegin
CREATE FUNCTION tariff_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tariff_state SET version = version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER acts_tariff_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON acts
    FOR EACH STATEMENT EXECUTE FUNCTION tariff_changed();
CREATE TRIGGER drugs_tariff_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON drugs
    FOR EACH STATEMENT EXECUTE FUNCTION tariff_changed();

-- The settings of the tariff: the convention's ceiling on an invoice's
-- total (NULL: 2 000.00), what a line or total over a ceiling gets
-- ('refuse': 422; 'review': held for the coordinator; NULL: refuse), and
-- the class of a CIP13 the drug table does not list (NULL: 65).
ALTER TABLE settings
    ADD COLUMN invoice_ceiling numeric(12,2) CHECK (invoice_ceiling > 0),
    ADD COLUMN over_ceiling text CHECK (over_ceiling IN ('refuse', 'review')),
    ADD COLUMN default_drug_class smallint CHECK (default_drug_class IN (100, 65, 30, 15));
CREATE TRIGGER settings_tariff_changed AFTER UPDATE ON settings
    FOR EACH ROW WHEN ((OLD.invoice_ceiling, OLD.over_ceiling, OLD.default_drug_class)
                       IS DISTINCT FROM (NEW.invoice_ceiling, NEW.over_ceiling, NEW.default_drug_class))
    EXECUTE FUNCTION tariff_changed();

-- Each line keeps the class it was priced in when submitted (a drug's
-- class can change later; the invoice does not). Lines stored before take
-- their provider's kind, a CIP13 the default drug class.
ALTER TABLE invoice_lines ADD COLUMN rate_class text CHECK (rate_class_valid(rate_class));
UPDATE invoice_lines l SET rate_class = CASE WHEN l.code ~ '^[0-9]{13}$' THEN 'drug_65' ELSE pr.kind END
FROM invoices i JOIN providers pr ON pr.id = i.provider_id
WHERE i.id = l.invoice_id;
ALTER TABLE invoice_lines ALTER COLUMN rate_class SET NOT NULL;

-- An invoice over a ceiling, under 'review', waits for the coordinator:
-- no job decides it while it is flagged (the check below holds the jobs
-- to it whatever they do).
ALTER TABLE invoices
    ADD COLUMN review_status text CHECK (review_status IN ('flagged', 'accepted')),
    ADD COLUMN review_reasons jsonb,
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN reviewed_by bigint REFERENCES users (id),
    ADD CONSTRAINT invoices_review_before_decision CHECK (review_status IS DISTINCT FROM 'flagged' OR status IN ('pending', 'cancelled')),
    ADD CONSTRAINT invoices_review_reasons CHECK ((review_status IS NULL) = (review_reasons IS NULL));
CREATE INDEX invoices_flagged_idx ON invoices (id) WHERE review_status = 'flagged' AND status = 'pending';

-- A claim keeps the rate of each of its invoice's lines (by position; 0
-- for a line the CPAM does not cover): lines of one invoice may be priced
-- in different classes. Claims made before keep their one rate.
ALTER TABLE claims
    ALTER COLUMN rate DROP NOT NULL,
    ADD COLUMN line_rates numeric(4,3)[] CHECK (0 <= ALL (line_rates) AND 1 >= ALL (line_rates)),
    ADD CONSTRAINT claims_one_rate_form CHECK (num_nonnulls(rate, line_rates) = 1);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION claims_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.amount <> OLD.amount
       OR (NEW.rate, NEW.line_rates) IS DISTINCT FROM (OLD.rate, OLD.line_rates)
       OR NEW.kind <> OLD.kind OR NEW.outcome_no <> OLD.outcome_no
       OR (NEW.rights_decision_id, NEW.regime, NEW.reference) IS DISTINCT FROM (OLD.rights_decision_id, OLD.regime, OLD.reference)
       OR NOT ((OLD.status = 'queued' AND NEW.status = 'transmitted')
            OR (OLD.status = 'transmitted' AND NEW.status IN ('paid', 'rejected') AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status IN ('queued', 'transmitted') AND NEW.status = 'cancelled' AND NEW.batch_id IS NOT DISTINCT FROM OLD.batch_id
                AND NEW.cancel_batch_id IS NULL)
            -- a cancelled transmitted claim goes into one claim batch's cancellations, once
            OR (OLD.status = 'cancelled' AND NEW.status = 'cancelled' AND OLD.cancel_batch_id IS NULL
                AND NEW.cancel_batch_id IS NOT NULL AND NEW.batch_id = OLD.batch_id AND NEW.cancelled_at = OLD.cancelled_at)) THEN
        RAISE EXCEPTION 'claim % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claims_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION claims_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.amount <> OLD.amount OR NEW.rate <> OLD.rate
       OR NEW.kind <> OLD.kind OR NEW.outcome_no <> OLD.outcome_no
       OR (NEW.rights_decision_id, NEW.regime, NEW.reference) IS DISTINCT FROM (OLD.rights_decision_id, OLD.regime, OLD.reference)
       OR NOT ((OLD.status = 'queued' AND NEW.status = 'transmitted')
            OR (OLD.status = 'transmitted' AND NEW.status IN ('paid', 'rejected') AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status IN ('queued', 'transmitted') AND NEW.status = 'cancelled' AND NEW.batch_id IS NOT DISTINCT FROM OLD.batch_id
                AND NEW.cancel_batch_id IS NULL)
            OR (OLD.status = 'cancelled' AND NEW.status = 'cancelled' AND OLD.cancel_batch_id IS NULL
                AND NEW.cancel_batch_id IS NOT NULL AND NEW.batch_id = OLD.batch_id AND NEW.cancelled_at = OLD.cancelled_at)) THEN
        RAISE EXCEPTION 'claim % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claims_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- Claims with line rates take the rate of their first line back.
ALTER TABLE claims DISABLE TRIGGER claims_forward_only;
UPDATE claims SET rate = greatest(line_rates[1], 0.001), line_rates = NULL WHERE line_rates IS NOT NULL;
ALTER TABLE claims ENABLE TRIGGER claims_forward_only;
ALTER TABLE claims DROP CONSTRAINT claims_one_rate_form, DROP COLUMN line_rates, ALTER COLUMN rate SET NOT NULL;
DROP INDEX invoices_flagged_idx;
ALTER TABLE invoices DROP CONSTRAINT invoices_review_before_decision, DROP CONSTRAINT invoices_review_reasons,
    DROP COLUMN review_status, DROP COLUMN review_reasons, DROP COLUMN reviewed_at, DROP COLUMN reviewed_by;
ALTER TABLE invoice_lines DROP COLUMN rate_class;
-- The trigger's WHEN names the columns: it goes first.
DROP TRIGGER settings_tariff_changed ON settings;
ALTER TABLE settings DROP COLUMN invoice_ceiling, DROP COLUMN over_ceiling, DROP COLUMN default_drug_class;
DROP TABLE drugs, acts, tariff_state;
DROP FUNCTION tariff_changed();
DROP TRIGGER rates_append_only ON rates;
GRANT UPDATE, DELETE, TRUNCATE ON rates TO passd_app;
DELETE FROM rates WHERE rate_class LIKE 'drug\_%' OR effective_from <> '2000-01-01';
ALTER TABLE rates DROP CONSTRAINT rates_pkey, DROP CONSTRAINT rates_rate_class_check,
    DROP COLUMN effective_from, DROP COLUMN created_at, DROP COLUMN created_by, DROP COLUMN reason;
ALTER TABLE rates RENAME COLUMN rate_class TO provider_kind;
ALTER TABLE rates ADD CONSTRAINT rates_provider_kind_check CHECK (provider_kind IN
        ('health_centre', 'general_practitioner', 'nurse', 'pharmacy', 'radiology', 'laboratory')),
    ADD PRIMARY KEY (regime, provider_kind);
DROP FUNCTION rate_class_valid(text);
