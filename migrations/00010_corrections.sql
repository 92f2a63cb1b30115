-- +goose Up
-- Corrections: a rights decision corrected, or one recorded late, decides
-- again the invoices it touches. Nothing settled is edited: the invoice's
-- earlier outcomes are kept in invoice_outcomes, a claim or a payout no
-- longer owed is cancelled (a reversing journal transaction), a claim the
-- CPAM paid becomes a refund due to it, a payout the régie paid becomes a
-- recovery from the provider. Each outcome is numbered (outcome_no): the
-- claim and the payout an outcome made carry its number, so that an
-- outcome has at most one of each.

-- The invoice's earlier outcomes, written by the trigger below when an
-- outcome is replaced, never by hand.
CREATE TABLE invoice_outcomes (
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    outcome_no      int NOT NULL CHECK (outcome_no >= 1),
    status          text NOT NULL CHECK (status IN ('released', 'city_due')),
    decision_reason text NOT NULL,
    cpam_amount     numeric(12,2) NOT NULL,
    city_amount     numeric(12,2) NOT NULL,
    decided_at      timestamptz NOT NULL,
    cause           text,
    replaced_at     timestamptz NOT NULL,
    PRIMARY KEY (invoice_id, outcome_no)
);
CREATE TRIGGER invoice_outcomes_append_only BEFORE UPDATE OR DELETE ON invoice_outcomes
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON invoice_outcomes FROM passd_app;

-- outcome_no: the number of the invoice's current outcome (its earlier
-- ones are in invoice_outcomes); outcome_cause: why it was decided again.
ALTER TABLE invoices
    ADD COLUMN outcome_no int NOT NULL DEFAULT 1 CHECK (outcome_no >= 1),
    ADD COLUMN outcome_cause text CHECK (length(outcome_cause) BETWEEN 1 AND 500);
-- A re-decision reads a file's decided invoices: by patient, not by a walk
-- of every released or city_due invoice.
CREATE INDEX invoices_decided_patient_idx ON invoices (patient_id, id) WHERE status IN ('released', 'city_due');

-- An invoice leaves pending once (its first outcome). A decided invoice
-- (released or city_due) may be decided again, one outcome at a time
-- (outcome_no + 1): the outcome it replaces is kept in invoice_outcomes by
-- this trigger, whatever the caller.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION invoices_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.total <> OLD.total OR NEW.care_date <> OLD.care_date OR NEW.provider_id <> OLD.provider_id
       OR NEW.patient_id <> OLD.patient_id THEN
        RAISE EXCEPTION 'invoice % is immutable except for its decision', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_decided_once';
    END IF;
    IF OLD.status = 'pending' AND NEW.outcome_no = OLD.outcome_no AND NEW.outcome_cause IS NULL THEN
        RETURN NEW;
    END IF;
    IF OLD.status IN ('released', 'city_due') AND NEW.status IN ('released', 'city_due')
       AND NEW.outcome_no = OLD.outcome_no + 1 AND NEW.outcome_cause IS NOT NULL THEN
        INSERT INTO invoice_outcomes (invoice_id, outcome_no, status, decision_reason, cpam_amount, city_amount, decided_at,
                                      cause, replaced_at)
        VALUES (OLD.id, OLD.outcome_no, OLD.status, OLD.decision_reason, OLD.cpam_amount, OLD.city_amount, OLD.decided_at,
                OLD.outcome_cause, NEW.decided_at);
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'invoice % is already % (outcome %)', OLD.id, OLD.status, OLD.outcome_no
        USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_decided_once';
END;
$$;
-- +goose StatementEnd

-- Claims: a recovery claim asks the CPAM for its share of care the city
-- had paid; a claim no longer owed is cancelled (queued: it is never sent;
-- transmitted: the next claim batch carries a cancellation line for it,
-- cancel_batch_id).
ALTER TABLE claims
    ADD COLUMN kind text NOT NULL DEFAULT 'claim' CHECK (kind IN ('claim', 'recovery')),
    ADD COLUMN outcome_no int NOT NULL DEFAULT 1,
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancel_batch_id bigint REFERENCES claim_batches (id),
    DROP CONSTRAINT claims_invoice_key,
    DROP CONSTRAINT claims_status_check,
    ADD CONSTRAINT claims_status_check CHECK (status IN ('queued', 'transmitted', 'paid', 'rejected', 'cancelled')),
    DROP CONSTRAINT claims_state,
    ADD CONSTRAINT claims_state CHECK (
        (status = 'queued' AND batch_id IS NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'transmitted' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_amount > 0 AND paid_amount <= amount AND paid_on IS NOT NULL
            AND rejection_reason IS NULL AND settled_at IS NOT NULL)
        OR (status = 'rejected' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL
            AND length(rejection_reason) > 0 AND settled_at IS NOT NULL)
        OR (status = 'cancelled' AND cancelled_at IS NOT NULL AND paid_amount IS NULL AND settled_at IS NULL
            AND (cancel_batch_id IS NULL OR batch_id IS NOT NULL))),
    ADD CONSTRAINT claims_cancelled_only CHECK (status = 'cancelled' OR (cancelled_at IS NULL AND cancel_batch_id IS NULL));
-- One claim per outcome of an invoice.
CREATE UNIQUE INDEX claims_invoice_outcome_key ON claims (invoice_id, outcome_no);
-- The cancellations the next claim batch must carry.
CREATE INDEX claims_cancel_pending_idx ON claims (id) WHERE status = 'cancelled' AND batch_id IS NOT NULL AND cancel_batch_id IS NULL;
CREATE INDEX claims_cancel_batch_idx ON claims (cancel_batch_id, id) WHERE cancel_batch_id IS NOT NULL;

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

-- A claim batch may carry cancellations only.
ALTER TABLE claim_batches
    DROP CONSTRAINT claim_batches_claim_count_check,
    DROP CONSTRAINT claim_batches_total_check,
    ADD CONSTRAINT claim_batches_claim_count_check CHECK (claim_count >= 0),
    ADD CONSTRAINT claim_batches_total_check CHECK (total >= 0),
    ADD COLUMN cancellation_count int NOT NULL DEFAULT 0 CHECK (cancellation_count >= 0),
    ADD CONSTRAINT claim_batches_not_empty CHECK (claim_count + cancellation_count > 0);

-- Payouts: a payout still due that is no longer owed is cancelled. The
-- outcome that made a decision payout is kept with it; an outcome makes
-- at most one.
ALTER TABLE payouts
    ADD COLUMN outcome_no int NOT NULL DEFAULT 1,
    ADD COLUMN cancelled_at timestamptz,
    DROP CONSTRAINT payouts_invoice_reason_key,
    DROP CONSTRAINT payouts_status_check,
    ADD CONSTRAINT payouts_status_check CHECK (status IN ('due', 'batched', 'approved', 'paid', 'cancelled')),
    DROP CONSTRAINT payouts_state,
    ADD CONSTRAINT payouts_state CHECK (
        (status = 'due' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status IN ('batched', 'approved') AND batch_id IS NOT NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_on IS NOT NULL AND cancelled_at IS NULL)
        OR (status = 'cancelled' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NOT NULL));
DROP INDEX payouts_one_decision_payout;
CREATE UNIQUE INDEX payouts_one_decision_payout ON payouts (invoice_id, outcome_no)
    WHERE reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed');
-- What the CPAM did not pay of a claim is owed once.
CREATE UNIQUE INDEX payouts_one_per_claim ON payouts (claim_id) WHERE claim_id IS NOT NULL;
CREATE INDEX payouts_invoice_idx ON payouts (invoice_id, id);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payouts_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.provider_id <> OLD.provider_id OR NEW.amount <> OLD.amount
       OR NEW.reason <> OLD.reason OR NEW.outcome_no <> OLD.outcome_no
       OR NOT ((OLD.status = 'due' AND NEW.status = 'batched')
            OR (OLD.status = 'batched' AND NEW.status = 'due')
            OR (OLD.status = 'batched' AND NEW.status = 'approved' AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status = 'approved' AND NEW.status = 'paid' AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status = 'due' AND NEW.status = 'cancelled')) THEN
        RAISE EXCEPTION 'payout % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- A claim the CPAM paid for care the city now owes: the city refunds it.
CREATE TABLE cpam_refunds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices (id),
    claim_id    bigint NOT NULL UNIQUE REFERENCES claims (id),
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    created_at  timestamptz NOT NULL
);
CREATE INDEX cpam_refunds_invoice_idx ON cpam_refunds (invoice_id);
CREATE TRIGGER cpam_refunds_append_only BEFORE UPDATE OR DELETE ON cpam_refunds
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON cpam_refunds FROM passd_app;

-- What the régie paid a provider and is no longer owed: deducted from the
-- provider's next payout batch (offset_batch_id, set when drafted, cleared
-- if that batch is cancelled) or, past the settings' recovery_offset_days,
-- listed for a titre de recettes.
CREATE TABLE provider_recoveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    provider_id     bigint NOT NULL REFERENCES providers (id),
    outcome_no      int NOT NULL,
    amount          numeric(12,2) NOT NULL CHECK (amount > 0),
    created_at      timestamptz NOT NULL,
    offset_batch_id bigint REFERENCES payout_batches (id),
    UNIQUE (invoice_id, outcome_no)
);
CREATE INDEX provider_recoveries_open_idx ON provider_recoveries (provider_id, id) WHERE offset_batch_id IS NULL;
CREATE INDEX provider_recoveries_batch_idx ON provider_recoveries (offset_batch_id) WHERE offset_batch_id IS NOT NULL;
CREATE TRIGGER provider_recoveries_no_delete BEFORE DELETE ON provider_recoveries
    FOR EACH ROW EXECUTE FUNCTION append_only();
-- +goose StatementBegin
CREATE FUNCTION provider_recoveries_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.invoice_id, NEW.provider_id, NEW.outcome_no, NEW.amount, NEW.created_at)
       IS DISTINCT FROM (OLD.invoice_id, OLD.provider_id, OLD.outcome_no, OLD.amount, OLD.created_at) THEN
        RAISE EXCEPTION 'recovery % is fixed but for the batch it is offset in', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'provider_recoveries_fixed';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER provider_recoveries_fixed BEFORE UPDATE ON provider_recoveries
    FOR EACH ROW EXECUTE FUNCTION provider_recoveries_fixed();
REVOKE DELETE, TRUNCATE ON provider_recoveries FROM passd_app;

-- A batch pays the net of its payouts less the recoveries offset in it,
-- fixed when drafted as its total is.
ALTER TABLE payout_batches
    ADD COLUMN offset_total numeric(12,2) NOT NULL DEFAULT 0 CHECK (offset_total >= 0),
    ADD CONSTRAINT payout_batches_offset_under_total CHECK (offset_total <= total);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payout_batches_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.total <> OLD.total OR NEW.payout_count <> OLD.payout_count OR NEW.offset_total <> OLD.offset_total
       OR NOT ((OLD.status = 'draft' AND NEW.status IN ('submitted', 'cancelled'))
            OR (OLD.status = 'submitted' AND NEW.status IN ('approved', 'cancelled'))
            OR (OLD.status = 'approved' AND NEW.status = 'paid')) THEN
        RAISE EXCEPTION 'payout batch % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- The journal gains what the city owes the CPAM back.
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_account_check,
    ADD CONSTRAINT journal_entries_account_check
        CHECK (account IN ('cpam_receivable', 'provider_payable', 'pass_expense', 'regie_bank', 'cpam_payable'));
CREATE INDEX journal_entries_claim_idx ON journal_entries (claim_id) WHERE claim_id IS NOT NULL;
CREATE INDEX journal_entries_payout_idx ON journal_entries (payout_id) WHERE payout_id IS NOT NULL;
CREATE INDEX journal_entries_reverses_idx ON journal_entries (reverses) WHERE reverses IS NOT NULL;

-- Patients whose rights changed (a decision, a correction) or who got a
-- new invoice while decided, since the release job last looked: release
-- decides only their invoices. seq changes at each change, so that the
-- job removes only the changes it has seen.
CREATE SEQUENCE rights_changes_seq;
CREATE TABLE rights_changes (
    patient_id bigint PRIMARY KEY REFERENCES patients (id),
    seq        bigint NOT NULL DEFAULT nextval('rights_changes_seq'),
    changed_at timestamptz NOT NULL
);
INSERT INTO rights_changes (patient_id, changed_at)
SELECT DISTINCT i.patient_id, now() FROM invoices i
WHERE i.status = 'pending' AND EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = i.patient_id);

-- Days a recovery waits for a payout batch to be offset in before it is
-- listed for a titre de recettes. NULL: 60.
ALTER TABLE settings
    ADD COLUMN recovery_offset_days int CHECK (recovery_offset_days BETWEEN 1 AND 365);

-- +goose Down
ALTER TABLE settings DROP COLUMN recovery_offset_days;
DROP TABLE rights_changes;
DROP SEQUENCE rights_changes_seq;
DROP INDEX journal_entries_claim_idx, journal_entries_payout_idx, journal_entries_reverses_idx;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_account_check,
    ADD CONSTRAINT journal_entries_account_check CHECK (account IN ('cpam_receivable', 'provider_payable', 'pass_expense', 'regie_bank'));
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payout_batches_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.total <> OLD.total OR NEW.payout_count <> OLD.payout_count
       OR NOT ((OLD.status = 'draft' AND NEW.status IN ('submitted', 'cancelled'))
            OR (OLD.status = 'submitted' AND NEW.status IN ('approved', 'cancelled'))
            OR (OLD.status = 'approved' AND NEW.status = 'paid')) THEN
        RAISE EXCEPTION 'payout batch % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
ALTER TABLE payout_batches DROP CONSTRAINT payout_batches_offset_under_total, DROP COLUMN offset_total;
DROP TABLE provider_recoveries;
DROP FUNCTION provider_recoveries_fixed();
DROP TABLE cpam_refunds;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payouts_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.provider_id <> OLD.provider_id OR NEW.amount <> OLD.amount
       OR NEW.reason <> OLD.reason
       OR NOT ((OLD.status = 'due' AND NEW.status = 'batched')
            OR (OLD.status = 'batched' AND NEW.status = 'due')
            OR (OLD.status = 'batched' AND NEW.status = 'approved' AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status = 'approved' AND NEW.status = 'paid' AND NEW.batch_id = OLD.batch_id)) THEN
        RAISE EXCEPTION 'payout % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
DROP INDEX payouts_invoice_idx, payouts_one_per_claim, payouts_one_decision_payout;
CREATE UNIQUE INDEX payouts_one_decision_payout ON payouts (invoice_id)
    WHERE reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed');
ALTER TABLE payouts DROP CONSTRAINT payouts_state, DROP CONSTRAINT payouts_status_check,
    ADD CONSTRAINT payouts_status_check CHECK (status IN ('due', 'batched', 'approved', 'paid')),
    ADD CONSTRAINT payouts_state CHECK (
        (status = 'due' AND batch_id IS NULL AND paid_on IS NULL)
        OR (status IN ('batched', 'approved') AND batch_id IS NOT NULL AND paid_on IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_on IS NOT NULL)),
    ADD CONSTRAINT payouts_invoice_reason_key UNIQUE (invoice_id, reason),
    DROP COLUMN cancelled_at, DROP COLUMN outcome_no;
ALTER TABLE claim_batches DROP CONSTRAINT claim_batches_not_empty, DROP COLUMN cancellation_count,
    DROP CONSTRAINT claim_batches_claim_count_check, DROP CONSTRAINT claim_batches_total_check,
    ADD CONSTRAINT claim_batches_claim_count_check CHECK (claim_count > 0),
    ADD CONSTRAINT claim_batches_total_check CHECK (total > 0);
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
DROP INDEX claims_cancel_batch_idx, claims_cancel_pending_idx, claims_invoice_outcome_key;
ALTER TABLE claims DROP CONSTRAINT claims_cancelled_only, DROP CONSTRAINT claims_state, DROP CONSTRAINT claims_status_check,
    ADD CONSTRAINT claims_status_check CHECK (status IN ('queued', 'transmitted', 'paid', 'rejected')),
    ADD CONSTRAINT claims_state CHECK (
        (status = 'queued' AND batch_id IS NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'transmitted' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_amount > 0 AND paid_amount <= amount AND paid_on IS NOT NULL
            AND rejection_reason IS NULL AND settled_at IS NOT NULL)
        OR (status = 'rejected' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL
            AND length(rejection_reason) > 0 AND settled_at IS NOT NULL)),
    ADD CONSTRAINT claims_invoice_key UNIQUE (invoice_id),
    DROP COLUMN cancel_batch_id, DROP COLUMN cancelled_at, DROP COLUMN outcome_no, DROP COLUMN kind;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION invoices_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'invoice % is already %', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_decided_once';
    END IF;
    IF NEW.total <> OLD.total OR NEW.care_date <> OLD.care_date OR NEW.provider_id <> OLD.provider_id
       OR NEW.patient_id <> OLD.patient_id THEN
        RAISE EXCEPTION 'invoice % is immutable except for its decision', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_decided_once';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
DROP INDEX invoices_decided_patient_idx;
ALTER TABLE invoices DROP COLUMN outcome_cause, DROP COLUMN outcome_no;
DROP TABLE invoice_outcomes;
