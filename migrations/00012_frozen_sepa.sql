-- +goose Up
-- A SEPA file is frozen at approval: the batch keeps what its file says
-- (the debtor account, the creation time and execution date, and per
-- provider the payee's name, IBAN, BIC, amount and remittance text) and
-- the file's SHA-256. The file is built from this snapshot only, so a
-- change of the régie's or a provider's bank details after approval
-- changes nothing in it.
ALTER TABLE payout_batches
    ADD COLUMN sepa_created_at timestamptz,
    ADD COLUMN sepa_execution_date date,
    ADD COLUMN debtor_name text,
    ADD COLUMN debtor_iban text,
    ADD COLUMN debtor_bic text,
    ADD COLUMN sepa_sha256 bytea CHECK (length(sepa_sha256) = 32),
    ADD CONSTRAINT payout_batches_sepa_frozen CHECK (
        (sepa_sha256 IS NULL AND sepa_created_at IS NULL AND sepa_execution_date IS NULL
         AND debtor_name IS NULL AND debtor_iban IS NULL AND debtor_bic IS NULL)
        OR (sepa_sha256 IS NOT NULL AND sepa_created_at IS NOT NULL AND sepa_execution_date IS NOT NULL
            AND debtor_name IS NOT NULL AND debtor_iban IS NOT NULL AND debtor_bic IS NOT NULL
            AND status IN ('approved', 'paid')));

CREATE TABLE payout_batch_transfers (
    batch_id      bigint NOT NULL REFERENCES payout_batches (id),
    position      int NOT NULL CHECK (position >= 1),
    provider_id   bigint NOT NULL REFERENCES providers (id),
    end_to_end_id text NOT NULL,
    creditor_name text NOT NULL,
    iban          text NOT NULL,
    bic           text NOT NULL,
    amount        numeric(12,2) NOT NULL CHECK (amount > 0),
    remittance    text NOT NULL,
    PRIMARY KEY (batch_id, position),
    UNIQUE (batch_id, provider_id)
);
CREATE TRIGGER payout_batch_transfers_append_only BEFORE UPDATE OR DELETE ON payout_batch_transfers
    FOR EACH ROW EXECUTE FUNCTION append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON payout_batch_transfers FROM passd_app;

-- Once set, the snapshot of a batch never changes.
-- +goose StatementBegin
CREATE FUNCTION payout_batches_sepa_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sepa_sha256 IS NOT NULL AND (NEW.sepa_sha256, NEW.sepa_created_at, NEW.sepa_execution_date, NEW.debtor_name, NEW.debtor_iban,
        NEW.debtor_bic) IS DISTINCT FROM (OLD.sepa_sha256, OLD.sepa_created_at, OLD.sepa_execution_date, OLD.debtor_name,
        OLD.debtor_iban, OLD.debtor_bic) THEN
        RAISE EXCEPTION 'the SEPA file of payout batch % is frozen', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_batches_sepa_once';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payout_batches_sepa_once BEFORE UPDATE ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION payout_batches_sepa_once();

-- +goose Down
DROP TRIGGER payout_batches_sepa_once ON payout_batches;
DROP FUNCTION payout_batches_sepa_once();
DROP TABLE payout_batch_transfers;
ALTER TABLE payout_batches DROP CONSTRAINT payout_batches_sepa_frozen,
    DROP COLUMN sepa_created_at, DROP COLUMN sepa_execution_date, DROP COLUMN debtor_name, DROP COLUMN debtor_iban,
    DROP COLUMN debtor_bic, DROP COLUMN sepa_sha256;
