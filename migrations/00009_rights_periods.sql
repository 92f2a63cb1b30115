-- +goose Up
-- Rights as a history of dated periods. Each CPAM decision is a row of
-- rights_decisions; an invoice is decided against the opened period in
-- force on its care date, and its claim keeps that period (id, regime,
-- reference) so that exports and pages never read the file's current
-- state. The patients.rights_* columns stay as the file's latest state,
-- for lists and filters.

CREATE TABLE rights_decisions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id        bigint NOT NULL REFERENCES patients (id),
    decision          text NOT NULL CHECK (decision IN ('opened', 'refused')),
    regime            text CHECK (regime IN ('puma', 'puma_css', 'ame')),
    effective_from    date,
    effective_to      date,
    reference         text CHECK (length(reference) BETWEEN 1 AND 64),
    caisse            text CHECK (caisse ~ '^[0-9]{3}$'),
    reason            text CHECK (length(reason) BETWEEN 1 AND 500),
    filed_on          date,
    decided_by        bigint REFERENCES users (id),
    decided_at        timestamptz NOT NULL,
    supersedes        bigint UNIQUE REFERENCES rights_decisions (id),
    superseded_at     timestamptz,
    superseded_by     bigint REFERENCES users (id),
    correction_reason text,
    CONSTRAINT rights_decisions_content CHECK (
        (decision = 'opened' AND regime IS NOT NULL AND effective_from IS NOT NULL AND reference IS NOT NULL AND reason IS NULL)
        OR (decision = 'refused' AND effective_from IS NULL AND effective_to IS NULL AND reference IS NULL AND reason IS NOT NULL)),
    CONSTRAINT rights_decisions_period_order CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT rights_decisions_superseded CHECK (
        (superseded_at IS NULL AND superseded_by IS NULL AND correction_reason IS NULL)
        OR (superseded_at IS NOT NULL AND length(correction_reason) > 0))
);
CREATE INDEX rights_decisions_patient_idx ON rights_decisions (patient_id, id);

-- A decision is never edited: the only change it may take, once, is being
-- marked superseded by a correction.
-- +goose StatementBegin
CREATE FUNCTION rights_decisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NULL
       OR (NEW.patient_id, NEW.decision, NEW.regime, NEW.effective_from, NEW.effective_to, NEW.reference, NEW.caisse,
           NEW.reason, NEW.filed_on, NEW.decided_by, NEW.decided_at, NEW.supersedes)
          IS DISTINCT FROM (OLD.patient_id, OLD.decision, OLD.regime, OLD.effective_from, OLD.effective_to, OLD.reference,
           OLD.caisse, OLD.reason, OLD.filed_on, OLD.decided_by, OLD.decided_at, OLD.supersedes) THEN
        RAISE EXCEPTION 'rights decision % is immutable', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'rights_decisions_immutable';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER rights_decisions_immutable BEFORE UPDATE ON rights_decisions
    FOR EACH ROW EXECUTE FUNCTION rights_decisions_immutable();
CREATE TRIGGER rights_decisions_no_delete BEFORE DELETE ON rights_decisions
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- The decisions taken before periods existed: each file's latest one, as
-- the file held it, decided by whoever recorded its last event.
INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, effective_to, reference, reason, filed_on,
                              decided_by, decided_at)
SELECT p.id, p.rights_status,
       CASE WHEN p.rights_status = 'opened' THEN p.rights_regime END,
       CASE WHEN p.rights_status = 'opened' THEN p.rights_effective_from END,
       CASE WHEN p.rights_status = 'opened' THEN p.rights_effective_to END,
       CASE WHEN p.rights_status = 'opened' THEN coalesce(nullif(p.rights_reference, ''), 'inconnue') END,
       CASE WHEN p.rights_status = 'refused' THEN coalesce(nullif(p.rights_reason, ''), 'inconnue') END,
       p.rights_filed_on,
       (SELECT e.actor_id FROM rights_events e WHERE e.patient_id = p.id AND e.kind = p.rights_status ORDER BY e.id DESC LIMIT 1),
       coalesce(p.rights_decided_at, p.created_at)
FROM patients p
WHERE p.rights_status IN ('opened', 'refused')
ORDER BY p.id;

-- The period that released a claim, kept with it.
ALTER TABLE claims
    ADD COLUMN rights_decision_id bigint REFERENCES rights_decisions (id),
    ADD COLUMN regime text CHECK (regime IN ('puma', 'puma_css', 'ame')),
    ADD COLUMN reference text;
ALTER TABLE claims DISABLE TRIGGER claims_forward_only;
UPDATE claims c SET rights_decision_id = d.id, regime = d.regime, reference = d.reference
FROM invoices i JOIN rights_decisions d ON d.patient_id = i.patient_id AND d.decision = 'opened'
WHERE i.id = c.invoice_id;
ALTER TABLE claims ENABLE TRIGGER claims_forward_only;
ALTER TABLE claims ADD CONSTRAINT claims_period CHECK (
    (rights_decision_id IS NULL) = (regime IS NULL) AND (regime IS NULL) = (reference IS NULL));
CREATE INDEX claims_rights_decision_idx ON claims (rights_decision_id) WHERE rights_decision_id IS NOT NULL;

-- What a claim claims, and the period that released it, never change.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION claims_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.amount <> OLD.amount OR NEW.rate <> OLD.rate
       OR (NEW.rights_decision_id, NEW.regime, NEW.reference) IS DISTINCT FROM (OLD.rights_decision_id, OLD.regime, OLD.reference)
       OR NOT ((OLD.status = 'queued' AND NEW.status = 'transmitted')
            OR (OLD.status = 'transmitted' AND NEW.status IN ('paid', 'rejected') AND NEW.batch_id = OLD.batch_id)) THEN
        RAISE EXCEPTION 'claim % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claims_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- The AME look-back (decree 54-883, art. 44-1: care up to 30 days before
-- the filing is covered) and how old a care date a provider may still
-- submit. NULL: the default.
ALTER TABLE settings
    ADD COLUMN ame_lookback_days int CHECK (ame_lookback_days BETWEEN 1 AND 365),
    ADD COLUMN submission_limit_days int CHECK (submission_limit_days BETWEEN 1 AND 3650);

-- Decisions are kept for ever: passd's role may not delete them.
REVOKE DELETE, TRUNCATE ON rights_decisions FROM passd_app;

-- +goose Down
ALTER TABLE settings DROP COLUMN submission_limit_days, DROP COLUMN ame_lookback_days;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION claims_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.amount <> OLD.amount OR NEW.rate <> OLD.rate
       OR NOT ((OLD.status = 'queued' AND NEW.status = 'transmitted')
            OR (OLD.status = 'transmitted' AND NEW.status IN ('paid', 'rejected') AND NEW.batch_id = OLD.batch_id)) THEN
        RAISE EXCEPTION 'claim % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claims_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
ALTER TABLE claims DROP COLUMN reference, DROP COLUMN regime, DROP COLUMN rights_decision_id;
DROP TABLE rights_decisions;
DROP FUNCTION rights_decisions_immutable();
