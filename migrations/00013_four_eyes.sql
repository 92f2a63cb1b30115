-- +goose Up
-- No one person can move the city's money (issue 15). Each rule below is
-- held by the database as well as by the code, so that a forgotten check
-- in a handler cannot open a path to a transfer.

-- 1. People, not tokens. A credential an admin issues for someone else
-- (a new finance or admin user's first token, or any reset) works only
-- once a second admin, neither its issuer nor its holder, confirms it.
ALTER TABLE tokens
    ADD COLUMN issued_by          bigint REFERENCES users (id),
    ADD COLUMN needs_confirmation boolean NOT NULL DEFAULT false,
    ADD COLUMN confirmed_at       timestamptz,
    ADD COLUMN confirmed_by       bigint REFERENCES users (id),
    ADD CONSTRAINT tokens_confirmation CHECK (
        (confirmed_at IS NULL) = (confirmed_by IS NULL)
        AND (confirmed_by IS NULL OR needs_confirmation)
        AND (NOT needs_confirmation OR issued_by IS NOT NULL)),
    ADD CONSTRAINT tokens_four_eyes CHECK (confirmed_by <> issued_by AND confirmed_by <> user_id);
CREATE INDEX tokens_awaiting_idx ON tokens (id) WHERE needs_confirmation AND confirmed_at IS NULL AND revoked_at IS NULL;

-- A payout batch is approved by finance, never by an admin; a batch that
-- goes over the annual budget carries an admin's override, given before
-- the approval with its reason, by someone who did not prepare it.
ALTER TABLE payout_batches
    ADD COLUMN budget_override_by     bigint REFERENCES users (id),
    ADD COLUMN budget_override_at     timestamptz,
    ADD COLUMN budget_override_reason text CHECK (length(budget_override_reason) BETWEEN 1 AND 500),
    ADD CONSTRAINT payout_batches_override_complete CHECK (
        (budget_override_by IS NULL) = (budget_override_at IS NULL)
        AND (budget_override_by IS NULL) = (budget_override_reason IS NULL)),
    ADD CONSTRAINT payout_batches_override_four_eyes CHECK (budget_override_by <> prepared_by AND budget_override_by <> approved_by);

-- +goose StatementBegin
CREATE FUNCTION payout_batches_approval_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'approved' AND OLD.status = 'submitted' THEN
        IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.approved_by AND role = 'finance') THEN
            RAISE EXCEPTION 'payout batch % can only be approved by a finance user', OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_approval_roles';
        END IF;
        IF NEW.budget_override AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.budget_override_by AND role = 'admin') THEN
            RAISE EXCEPTION 'payout batch % goes over the budget without an admin''s override', OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_approval_roles';
        END IF;
    END IF;
    IF NEW.budget_override_by IS DISTINCT FROM OLD.budget_override_by AND OLD.budget_override_by IS NOT NULL THEN
        RAISE EXCEPTION 'the budget override of payout batch % is recorded once', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_approval_roles';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payout_batches_approval_roles BEFORE UPDATE ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION payout_batches_approval_roles();

-- A submitted batch takes its override without moving.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payout_batches_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.total <> OLD.total OR NEW.payout_count <> OLD.payout_count OR NEW.offset_total <> OLD.offset_total
       OR NOT ((OLD.status = 'draft' AND NEW.status IN ('submitted', 'cancelled'))
            OR (OLD.status = 'submitted' AND NEW.status IN ('approved', 'cancelled'))
            OR (OLD.status = 'approved' AND NEW.status = 'paid')
            OR (OLD.status = 'submitted' AND NEW.status = 'submitted' AND OLD.budget_override_by IS NULL
                AND NEW.budget_override_by IS NOT NULL)) THEN
        RAISE EXCEPTION 'payout batch % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- 2. Bank details under four eyes. A change of a provider's (or the
-- régie's, provider_id NULL) name, IBAN or BIC is a pending row that
-- another person confirms; only then does it reach providers or settings,
-- and only through a confirmed row: the tables point at the change that
-- set their details, and a trigger refuses details that differ from it.
CREATE TABLE bank_detail_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id  bigint REFERENCES providers (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    iban         text NOT NULL,
    bic          text NOT NULL,
    old_name     text,
    old_iban     text,
    old_bic      text,
    -- NULL: recorded by the operator's CLI or this migration.
    requested_by bigint REFERENCES users (id),
    requested_at timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected')),
    decided_by   bigint REFERENCES users (id),
    decided_at   timestamptz,
    reason       text CHECK (length(reason) BETWEEN 1 AND 500),
    CONSTRAINT bank_detail_changes_decided CHECK ((status = 'pending') = (decided_at IS NULL)),
    -- The requester may withdraw (reject) its own request, never confirm it.
    CONSTRAINT bank_detail_changes_four_eyes CHECK (status <> 'confirmed' OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX bank_detail_changes_one_pending ON bank_detail_changes (coalesce(provider_id, 0)) WHERE status = 'pending';
CREATE INDEX bank_detail_changes_provider_idx ON bank_detail_changes (provider_id, id);
-- +goose StatementBegin
CREATE FUNCTION bank_detail_changes_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR (NEW.provider_id, NEW.name, NEW.iban, NEW.bic, NEW.old_name, NEW.old_iban, NEW.old_bic,
        NEW.requested_by, NEW.requested_at) IS DISTINCT FROM (OLD.provider_id, OLD.name, OLD.iban, OLD.bic, OLD.old_name,
        OLD.old_iban, OLD.old_bic, OLD.requested_by, OLD.requested_at) THEN
        RAISE EXCEPTION 'bank detail change % is decided once and never edited', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bank_detail_changes_decided_once';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER bank_detail_changes_decided_once BEFORE UPDATE ON bank_detail_changes
    FOR EACH ROW EXECUTE FUNCTION bank_detail_changes_decided_once();
CREATE TRIGGER bank_detail_changes_no_delete BEFORE DELETE ON bank_detail_changes
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE DELETE, TRUNCATE ON bank_detail_changes FROM passd_app;

-- Every provider and the régie as they stand are taken as confirmed.
INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
SELECT id, name, iban, bic, created_at, 'confirmed', created_at FROM providers ORDER BY id;
INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
SELECT NULL, regie_name, regie_iban, regie_bic, coalesce(updated_at, now()), 'confirmed', coalesce(updated_at, now())
FROM settings WHERE regie_name IS NOT NULL AND regie_iban IS NOT NULL AND regie_bic IS NOT NULL;

-- bank_change_id NULL: a provider whose details nobody has confirmed yet,
-- to whom no payout can be batched.
ALTER TABLE providers ADD COLUMN bank_change_id bigint REFERENCES bank_detail_changes (id);
UPDATE providers p SET bank_change_id = c.id FROM bank_detail_changes c WHERE c.provider_id = p.id;
ALTER TABLE settings ADD COLUMN regie_bank_change_id bigint REFERENCES bank_detail_changes (id);
UPDATE settings SET regie_bank_change_id = (SELECT id FROM bank_detail_changes WHERE provider_id IS NULL);

-- +goose StatementBegin
CREATE FUNCTION providers_confirmed_bank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.bank_change_id IS NULL AND OLD.bank_change_id IS NOT NULL THEN
        RAISE EXCEPTION 'provider % keeps its confirmed bank details', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'providers_confirmed_bank';
    END IF;
    IF NEW.bank_change_id IS NULL THEN
        -- Unconfirmed: the details typed at creation wait for their
        -- confirmation, and cannot change but through it.
        IF TG_OP = 'UPDATE' AND (NEW.name, NEW.iban, NEW.bic) IS DISTINCT FROM (OLD.name, OLD.iban, OLD.bic) THEN
            RAISE EXCEPTION 'provider %''s bank details change only through a confirmed change', OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'providers_confirmed_bank';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank_detail_changes c WHERE c.id = NEW.bank_change_id AND c.provider_id = NEW.id
                   AND c.status = 'confirmed' AND (c.name, c.iban, c.bic) = (NEW.name, NEW.iban, NEW.bic)) THEN
        RAISE EXCEPTION 'provider %''s bank details change only through a confirmed change', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'providers_confirmed_bank';
    END IF;
    RETURN NEW;
END;
$$;
CREATE FUNCTION settings_confirmed_bank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.regie_name, NEW.regie_iban, NEW.regie_bic, NEW.regie_bank_change_id)
       IS NOT DISTINCT FROM (OLD.regie_name, OLD.regie_iban, OLD.regie_bic, OLD.regie_bank_change_id) THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank_detail_changes c WHERE c.id = NEW.regie_bank_change_id AND c.provider_id IS NULL
                   AND c.status = 'confirmed' AND (c.name, c.iban, c.bic) = (NEW.regie_name, NEW.regie_iban, NEW.regie_bic)) THEN
        RAISE EXCEPTION 'the régie''s bank details change only through a confirmed change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'settings_confirmed_bank';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER providers_confirmed_bank BEFORE UPDATE ON providers
    FOR EACH ROW EXECUTE FUNCTION providers_confirmed_bank();
CREATE TRIGGER settings_confirmed_bank BEFORE UPDATE ON settings
    FOR EACH ROW EXECUTE FUNCTION settings_confirmed_bank();

-- A payout goes into a batch only for a provider whose details are
-- confirmed.
-- +goose StatementBegin
CREATE FUNCTION payouts_batch_confirmed_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'batched' AND OLD.status IS DISTINCT FROM 'batched'
       AND NOT EXISTS (SELECT 1 FROM providers WHERE id = NEW.provider_id AND bank_change_id IS NOT NULL) THEN
        RAISE EXCEPTION 'payout % goes to provider % whose bank details nobody has confirmed', NEW.id, NEW.provider_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_batch_confirmed_provider';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payouts_batch_confirmed_provider BEFORE UPDATE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payouts_batch_confirmed_provider();

-- 5. Holds and voids. Finance can hold a due payout (never batched while
-- held) and release it. Voiding one (the city will not pay: a duplicate, a
-- fraud) is asked by one person and confirmed by another; it cancels the
-- payout (a reversing journal transaction) and the invoice (a new outcome,
-- the city_due one kept in invoice_outcomes).
ALTER TABLE payouts
    ADD COLUMN held_at     timestamptz,
    ADD COLUMN hold_reason text CHECK (length(hold_reason) BETWEEN 1 AND 500),
    DROP CONSTRAINT payouts_status_check,
    ADD CONSTRAINT payouts_status_check CHECK (status IN ('due', 'held', 'batched', 'approved', 'paid', 'cancelled')),
    DROP CONSTRAINT payouts_state,
    ADD CONSTRAINT payouts_state CHECK (
        (status = 'due' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NULL AND held_at IS NULL)
        OR (status = 'held' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NULL AND held_at IS NOT NULL AND hold_reason IS NOT NULL)
        OR (status IN ('batched', 'approved') AND batch_id IS NOT NULL AND paid_on IS NULL AND cancelled_at IS NULL AND held_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_on IS NOT NULL AND cancelled_at IS NULL AND held_at IS NULL)
        OR (status = 'cancelled' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NOT NULL));
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payouts_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.invoice_id <> OLD.invoice_id OR NEW.provider_id <> OLD.provider_id OR NEW.amount <> OLD.amount
       OR NEW.reason <> OLD.reason OR NEW.outcome_no <> OLD.outcome_no
       OR NOT ((OLD.status = 'due' AND NEW.status = 'batched')
            OR (OLD.status = 'batched' AND NEW.status = 'due')
            OR (OLD.status = 'batched' AND NEW.status = 'approved' AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status = 'approved' AND NEW.status = 'paid' AND NEW.batch_id = OLD.batch_id)
            OR (OLD.status = 'due' AND NEW.status = 'held')
            OR (OLD.status = 'held' AND NEW.status = 'due')
            OR (OLD.status IN ('due', 'held') AND NEW.status = 'cancelled')) THEN
        RAISE EXCEPTION 'payout % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TABLE payout_voids (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payout_id    bigint NOT NULL REFERENCES payouts (id),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by bigint NOT NULL REFERENCES users (id),
    requested_at timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected')),
    decided_by   bigint REFERENCES users (id),
    decided_at   timestamptz,
    CONSTRAINT payout_voids_decided CHECK ((status = 'pending') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
    CONSTRAINT payout_voids_four_eyes CHECK (status <> 'confirmed' OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX payout_voids_one_open ON payout_voids (payout_id) WHERE status IN ('pending', 'confirmed');
-- +goose StatementBegin
CREATE FUNCTION payout_voids_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR (NEW.payout_id, NEW.reason, NEW.requested_by, NEW.requested_at)
       IS DISTINCT FROM (OLD.payout_id, OLD.reason, OLD.requested_by, OLD.requested_at) THEN
        RAISE EXCEPTION 'payout void % is decided once and never edited', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_voids_decided_once';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payout_voids_decided_once BEFORE UPDATE ON payout_voids
    FOR EACH ROW EXECUTE FUNCTION payout_voids_decided_once();
CREATE TRIGGER payout_voids_no_delete BEFORE DELETE ON payout_voids
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE DELETE, TRUNCATE ON payout_voids FROM passd_app;

-- A city_due invoice whose payout is voided is cancelled as a new outcome.
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
    IF ((OLD.status IN ('released', 'city_due') AND NEW.status IN ('released', 'city_due'))
        OR (OLD.status = 'city_due' AND NEW.status = 'cancelled' AND NEW.decision_reason = 'voided'))
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


-- +goose Down
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
DROP TABLE payout_voids;
DROP FUNCTION payout_voids_decided_once();
UPDATE payouts SET status = 'due', held_at = NULL, hold_reason = NULL WHERE status = 'held';
ALTER TABLE payouts DROP CONSTRAINT payouts_state, DROP CONSTRAINT payouts_status_check,
    DROP COLUMN held_at, DROP COLUMN hold_reason,
    ADD CONSTRAINT payouts_status_check CHECK (status IN ('due', 'batched', 'approved', 'paid', 'cancelled')),
    ADD CONSTRAINT payouts_state CHECK (
        (status = 'due' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status IN ('batched', 'approved') AND batch_id IS NOT NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_on IS NOT NULL AND cancelled_at IS NULL)
        OR (status = 'cancelled' AND batch_id IS NULL AND paid_on IS NULL AND cancelled_at IS NOT NULL));
DROP TRIGGER payouts_batch_confirmed_provider ON payouts;
DROP FUNCTION payouts_batch_confirmed_provider();
DROP TRIGGER settings_confirmed_bank ON settings;
DROP TRIGGER providers_confirmed_bank ON providers;
DROP FUNCTION settings_confirmed_bank();
DROP FUNCTION providers_confirmed_bank();
ALTER TABLE settings DROP COLUMN regie_bank_change_id;
ALTER TABLE providers DROP COLUMN bank_change_id;
DROP TABLE bank_detail_changes;
DROP FUNCTION bank_detail_changes_decided_once();
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
DROP TRIGGER payout_batches_approval_roles ON payout_batches;
DROP FUNCTION payout_batches_approval_roles();
ALTER TABLE payout_batches DROP CONSTRAINT payout_batches_override_four_eyes, DROP CONSTRAINT payout_batches_override_complete,
    DROP COLUMN budget_override_by, DROP COLUMN budget_override_at, DROP COLUMN budget_override_reason;
DROP INDEX tokens_awaiting_idx;
ALTER TABLE tokens DROP CONSTRAINT tokens_four_eyes, DROP CONSTRAINT tokens_confirmation,
    DROP COLUMN issued_by, DROP COLUMN needs_confirmation, DROP COLUMN confirmed_at, DROP COLUMN confirmed_by;
