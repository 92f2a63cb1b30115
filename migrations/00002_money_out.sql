-- +goose Up
-- Money out: settings of the régie, claim batches to the CPAM and their
-- returns, payout batches with four eyes, the double-entry journal and the
-- reminders of files near their deadline.

-- One row: the régie's account, its ceiling per batch, the annual budget.
-- deadline_days NULL means the server's configured default.
CREATE TABLE settings (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    regie_name    text CHECK (length(regie_name) BETWEEN 1 AND 70),
    regie_iban    text,
    regie_bic     text,
    regie_ceiling numeric(12,2) NOT NULL DEFAULT 10000.00 CHECK (regie_ceiling > 0),
    annual_budget numeric(12,2) NOT NULL DEFAULT 50000.00 CHECK (annual_budget >= 0),
    deadline_days int CHECK (deadline_days BETWEEN 1 AND 3650),
    updated_at    timestamptz,
    updated_by    bigint REFERENCES users (id)
);
INSERT INTO settings DEFAULT VALUES;

-- +goose StatementBegin
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

-- Claims to the CPAM travel in batches; the CPAM's return settles each one.
CREATE TABLE claim_batches (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_count int NOT NULL CHECK (claim_count > 0),
    total       numeric(12,2) NOT NULL CHECK (total > 0),
    created_at  timestamptz NOT NULL,
    created_by  bigint REFERENCES users (id),
    creator     text NOT NULL
);

-- The rate applied at release is kept on the claim: the export recomputes
-- each line's CPAM share with it, even if the rates table changes later.
ALTER TABLE claims
    ADD COLUMN rate numeric(4,3) CHECK (rate > 0 AND rate <= 1),
    ADD COLUMN batch_id bigint REFERENCES claim_batches (id),
    ADD COLUMN paid_amount numeric(12,2),
    ADD COLUMN paid_on date,
    ADD COLUMN rejection_reason text,
    ADD COLUMN settled_at timestamptz;
UPDATE claims c SET rate = r.rate
FROM invoices i JOIN patients pt ON pt.id = i.patient_id JOIN providers pr ON pr.id = i.provider_id
JOIN rates r ON r.regime = pt.rights_regime AND r.provider_kind = pr.kind
WHERE i.id = c.invoice_id;
UPDATE claims SET rate = 1 WHERE rate IS NULL;
ALTER TABLE claims ALTER COLUMN rate SET NOT NULL,
    ADD CONSTRAINT claims_state CHECK (
        (status = 'queued' AND batch_id IS NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'transmitted' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL AND rejection_reason IS NULL AND settled_at IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_amount > 0 AND paid_amount <= amount AND paid_on IS NOT NULL
            AND rejection_reason IS NULL AND settled_at IS NOT NULL)
        OR (status = 'rejected' AND batch_id IS NOT NULL AND paid_amount IS NULL AND paid_on IS NULL
            AND length(rejection_reason) > 0 AND settled_at IS NOT NULL));
CREATE INDEX claims_batch_idx ON claims (batch_id, id) WHERE batch_id IS NOT NULL;

-- A claim moves forward only: queued → transmitted → paid | rejected, and
-- what it claims never changes.
-- +goose StatementBegin
CREATE FUNCTION claims_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER claims_forward_only BEFORE UPDATE ON claims
    FOR EACH ROW EXECUTE FUNCTION claims_forward_only();
CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- Payout batches: drafted, submitted by a preparer, approved by someone
-- else, paid. The ceiling in force when drafted is kept with the batch.
CREATE TABLE payout_batches (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'approved', 'paid', 'cancelled')),
    provider_id     bigint REFERENCES providers (id),
    payout_count    int NOT NULL CHECK (payout_count > 0),
    total           numeric(12,2) NOT NULL CHECK (total > 0),
    ceiling         numeric(12,2) NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      bigint REFERENCES users (id),
    creator         text NOT NULL,
    submitted_at    timestamptz,
    prepared_by     bigint REFERENCES users (id),
    approved_at     timestamptz,
    approved_by     bigint REFERENCES users (id),
    budget_override boolean NOT NULL DEFAULT false,
    paid_on         date,
    paid_at         timestamptz,
    paid_by         bigint REFERENCES users (id),
    cancelled_at    timestamptz,
    cancelled_by    bigint REFERENCES users (id),
    CONSTRAINT payout_batches_under_ceiling CHECK (total <= ceiling),
    -- Ordonnateur and comptable are never one person.
    CONSTRAINT payout_batches_four_eyes CHECK (approved_by IS NULL OR approved_by <> prepared_by),
    CONSTRAINT payout_batches_state CHECK (
        (status = 'draft' AND submitted_at IS NULL AND prepared_by IS NULL AND approved_at IS NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status = 'submitted' AND submitted_at IS NOT NULL AND prepared_by IS NOT NULL AND approved_at IS NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status = 'approved' AND prepared_by IS NOT NULL AND approved_at IS NOT NULL AND approved_by IS NOT NULL AND paid_on IS NULL AND cancelled_at IS NULL)
        OR (status = 'paid' AND approved_by IS NOT NULL AND paid_on IS NOT NULL AND paid_at IS NOT NULL AND cancelled_at IS NULL)
        OR (status = 'cancelled' AND approved_at IS NULL AND cancelled_at IS NOT NULL))
);
CREATE INDEX payout_batches_status_idx ON payout_batches (status, id);

-- +goose StatementBegin
CREATE FUNCTION payout_batches_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER payout_batches_forward_only BEFORE UPDATE ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION payout_batches_forward_only();
CREATE TRIGGER payout_batches_no_delete BEFORE DELETE ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- A payout sits in at most one batch at a time (batch_id); the CPAM's
-- reason is kept for a rejected claim's payout and shown to the provider.
ALTER TABLE payouts DROP CONSTRAINT payouts_reason_check;
ALTER TABLE payouts
    ADD CONSTRAINT payouts_reason_check CHECK (reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed',
        'prescribed', 'cpam_rejected', 'cpam_partial')),
    ADD COLUMN claim_id bigint REFERENCES claims (id),
    ADD COLUMN note text,
    ADD COLUMN batch_id bigint REFERENCES payout_batches (id),
    ADD COLUMN paid_on date,
    ADD CONSTRAINT payouts_state CHECK (
        (status = 'due' AND batch_id IS NULL AND paid_on IS NULL)
        OR (status IN ('batched', 'approved') AND batch_id IS NOT NULL AND paid_on IS NULL)
        OR (status = 'paid' AND batch_id IS NOT NULL AND paid_on IS NOT NULL)),
    ADD CONSTRAINT payouts_claim_reason CHECK ((reason IN ('cpam_rejected', 'cpam_partial')) = (claim_id IS NOT NULL));
CREATE INDEX payouts_batch_idx ON payouts (batch_id, provider_id, id) WHERE batch_id IS NOT NULL;
CREATE INDEX payouts_due_idx ON payouts (id) WHERE status = 'due';

-- +goose StatementBegin
CREATE FUNCTION payouts_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER payouts_forward_only BEFORE UPDATE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payouts_forward_only();
CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- The double-entry journal. Each movement of money is one transaction
-- (txn_id) of lines whose debits equal their credits; lines are never
-- changed: a correction is a reversing transaction.
CREATE SEQUENCE journal_txn_seq;
CREATE TABLE journal_entries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txn_id     bigint NOT NULL,
    posted_at  timestamptz NOT NULL,
    movement   text NOT NULL,
    account    text NOT NULL CHECK (account IN ('cpam_receivable', 'provider_payable', 'pass_expense', 'regie_bank')),
    debit      numeric(12,2) NOT NULL CHECK (debit >= 0),
    credit     numeric(12,2) NOT NULL CHECK (credit >= 0),
    invoice_id bigint,
    claim_id   bigint,
    payout_id  bigint,
    reverses   bigint,
    CONSTRAINT journal_entries_one_side CHECK ((debit = 0) <> (credit = 0))
);
CREATE INDEX journal_entries_txn_idx ON journal_entries (txn_id);
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- Books opened for money that moved before the journal existed.
INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id)
SELECT t.txn, c.created_at, 'claim_queued', a.account, CASE WHEN a.debit THEN c.amount ELSE 0 END,
       CASE WHEN a.debit THEN 0 ELSE c.amount END, c.invoice_id, c.id
FROM (SELECT id, nextval('journal_txn_seq') AS txn FROM claims) t
JOIN claims c ON c.id = t.id
CROSS JOIN (VALUES ('cpam_receivable', true), ('provider_payable', false)) AS a (account, debit);
INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, payout_id)
SELECT t.txn, p.created_at, 'payout_due', a.account, CASE WHEN a.debit THEN p.amount ELSE 0 END,
       CASE WHEN a.debit THEN 0 ELSE p.amount END, p.invoice_id, p.id
FROM (SELECT id, nextval('journal_txn_seq') AS txn FROM payouts) t
JOIN payouts p ON p.id = t.id
CROSS JOIN (VALUES ('pass_expense', true), ('provider_payable', false)) AS a (account, debit);

-- What the reminders job found each day: files with invoices near their
-- deadline and no rights application.
CREATE TABLE reminders (
    patient_id        bigint NOT NULL REFERENCES patients (id),
    reminded_on       date NOT NULL,
    pending_invoices  int NOT NULL,
    earliest_deadline date NOT NULL,
    PRIMARY KEY (patient_id, reminded_on)
);

-- +goose Down
DROP TABLE reminders, journal_entries;
DROP SEQUENCE journal_txn_seq;
DROP TRIGGER payouts_forward_only ON payouts;
DROP TRIGGER payouts_no_delete ON payouts;
DROP FUNCTION payouts_forward_only();
-- On a column 00001 made: dropping 00002's columns does not drop it.
DROP INDEX payouts_due_idx;
ALTER TABLE payouts DROP CONSTRAINT payouts_claim_reason, DROP CONSTRAINT payouts_state, DROP COLUMN batch_id,
    DROP COLUMN paid_on, DROP COLUMN note, DROP COLUMN claim_id, DROP CONSTRAINT payouts_reason_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_reason_check CHECK (reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed'));
DROP TABLE payout_batches;
DROP FUNCTION payout_batches_forward_only();
DROP TRIGGER claims_forward_only ON claims;
DROP TRIGGER claims_no_delete ON claims;
DROP FUNCTION claims_forward_only();
ALTER TABLE claims DROP CONSTRAINT claims_state, DROP COLUMN rate, DROP COLUMN batch_id, DROP COLUMN paid_amount,
    DROP COLUMN paid_on, DROP COLUMN rejection_reason, DROP COLUMN settled_at;
DROP TABLE claim_batches;
DROP FUNCTION append_only();
DROP TABLE settings;
