-- +goose Up
-- The spine: providers, patient files and their rights, held invoices and
-- the claims and payouts that settle them, users and tokens, the audit log,
-- job runs and idempotency keys.

CREATE TABLE providers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('health_centre', 'general_practitioner', 'nurse', 'pharmacy', 'radiology', 'laboratory')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    rpps        text CHECK (rpps ~ '^[0-9]{11}$'),
    finess      text CHECK (finess ~ '^[0-9AB]{9}$'),
    iban        text NOT NULL,
    bic         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT providers_identified CHECK (rpps IS NOT NULL OR finess IS NOT NULL)
);
CREATE UNIQUE INDEX providers_rpps_key ON providers (rpps) WHERE rpps IS NOT NULL;
CREATE UNIQUE INDEX providers_finess_key ON providers (finess) WHERE finess IS NOT NULL AND rpps IS NULL;

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    role        text NOT NULL CHECK (role IN ('provider', 'coordinator', 'cpam_referent', 'finance', 'admin')),
    provider_id bigint REFERENCES providers (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- A provider user acts for exactly one provider; nobody else acts for one.
    CONSTRAINT users_provider_binding CHECK ((role = 'provider') = (provider_id IS NOT NULL))
);

CREATE TABLE tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    -- SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough.
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Patient files (claims/). The current rights sit on the file; every request
-- and decision is also kept in rights_events.
CREATE TABLE file_number_counters (
    year int PRIMARY KEY,
    last int NOT NULL
);

CREATE TABLE patients (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_number           text NOT NULL UNIQUE,
    last_name             text NOT NULL,
    first_name            text NOT NULL,
    birth_date            date NOT NULL,
    nir                   text,
    rights_status         text NOT NULL DEFAULT 'none' CHECK (rights_status IN ('none', 'requested', 'opened', 'refused')),
    rights_regime         text CHECK (rights_regime IN ('puma', 'puma_css', 'ame')),
    rights_filed_on       date,
    rights_effective_from date,
    rights_effective_to   date,
    rights_reference      text,
    rights_reason         text,
    rights_decided_at     timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT patients_opened_has_period CHECK (rights_status <> 'opened' OR (rights_regime IS NOT NULL AND rights_effective_from IS NOT NULL)),
    CONSTRAINT patients_period_order CHECK (rights_effective_to IS NULL OR rights_effective_to >= rights_effective_from)
);
CREATE INDEX patients_rights_status_idx ON patients (rights_status, id);
CREATE UNIQUE INDEX patients_nir_key ON patients (nir) WHERE nir IS NOT NULL;

CREATE TABLE rights_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients (id),
    kind           text NOT NULL CHECK (kind IN ('requested', 'opened', 'refused')),
    regime         text CHECK (regime IN ('puma', 'puma_css', 'ame')),
    filed_on       date,
    effective_from date,
    effective_to   date,
    reference      text,
    reason         text,
    actor_id       bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rights_events_patient_idx ON rights_events (patient_id, id);

-- The CPAM's share of the act, by regime and provider kind. Seeded from
-- DOMAIN.md; admins may edit it.
CREATE TABLE rates (
    regime        text NOT NULL CHECK (regime IN ('puma', 'puma_css', 'ame')),
    provider_kind text NOT NULL CHECK (provider_kind IN ('health_centre', 'general_practitioner', 'nurse', 'pharmacy', 'radiology', 'laboratory')),
    rate          numeric(4,3) NOT NULL CHECK (rate >= 0 AND rate <= 1),
    PRIMARY KEY (regime, provider_kind)
);
INSERT INTO rates (regime, provider_kind, rate)
SELECT r.regime, k.kind,
       CASE WHEN r.regime IN ('puma_css', 'ame') THEN 1.00
            WHEN k.kind IN ('general_practitioner', 'health_centre', 'radiology') THEN 0.70
            WHEN k.kind IN ('nurse', 'laboratory') THEN 0.60
            WHEN k.kind = 'pharmacy' THEN 0.65 END
FROM (VALUES ('puma'), ('puma_css'), ('ame')) AS r (regime)
CROSS JOIN (VALUES ('health_centre'), ('general_practitioner'), ('nurse'), ('pharmacy'), ('radiology'), ('laboratory')) AS k (kind);

-- Invoices (billing/). status moves once from pending to a decision; the
-- trigger below makes any second move impossible whatever the caller.
CREATE TABLE invoices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id     bigint NOT NULL REFERENCES providers (id),
    patient_id      bigint NOT NULL REFERENCES patients (id),
    external_ref    text NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 64),
    care_date       date NOT NULL,
    deadline        date NOT NULL,
    total           numeric(12,2) NOT NULL CHECK (total > 0),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'released', 'city_due', 'cancelled')),
    decision_reason text CHECK (decision_reason IN ('rights_opened', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed', 'withdrawn', 'voided')),
    cpam_amount     numeric(12,2) CHECK (cpam_amount >= 0),
    city_amount     numeric(12,2) CHECK (city_amount >= 0),
    decided_at      timestamptz,
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_external_ref_key UNIQUE (provider_id, external_ref),
    CONSTRAINT invoices_deadline_after_care CHECK (deadline >= care_date),
    -- A decided invoice carries its reason and its split, and the split adds up.
    CONSTRAINT invoices_decision_complete CHECK (
        (status = 'pending' AND decision_reason IS NULL AND cpam_amount IS NULL AND city_amount IS NULL AND decided_at IS NULL)
        OR (status = 'released' AND decision_reason = 'rights_opened' AND cpam_amount + city_amount = total AND decided_at IS NOT NULL)
        OR (status = 'city_due' AND decision_reason IN ('rights_refused', 'not_covered', 'deadline_passed', 'prescribed') AND cpam_amount = 0 AND city_amount = total AND decided_at IS NOT NULL)
        OR (status = 'cancelled' AND decision_reason IN ('withdrawn', 'voided') AND cpam_amount = 0 AND city_amount = 0 AND decided_at IS NOT NULL)
    )
);
CREATE INDEX invoices_pending_patient_idx ON invoices (patient_id, id) WHERE status = 'pending';
CREATE INDEX invoices_pending_deadline_idx ON invoices (deadline, id) WHERE status = 'pending';
CREATE INDEX invoices_status_idx ON invoices (status, id);
CREATE INDEX invoices_provider_idx ON invoices (provider_id, id);

-- +goose StatementBegin
CREATE FUNCTION invoices_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER invoices_decided_once BEFORE UPDATE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_decided_once();

CREATE TABLE invoice_lines (
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    position   int NOT NULL CHECK (position >= 1),
    code       text NOT NULL,
    label      text NOT NULL,
    quantity   int NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price > 0),
    PRIMARY KEY (invoice_id, position)
);

-- What the CPAM owes (claims/). One claim per invoice at most.
CREATE TABLE claims (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    amount     numeric(12,2) NOT NULL CHECK (amount > 0),
    status     text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'transmitted', 'paid', 'rejected')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT claims_invoice_key UNIQUE (invoice_id)
);
CREATE INDEX claims_status_idx ON claims (status, id);

-- What the city owes (billing/). One payout per invoice and reason: the
-- decision's payout can never be written twice.
CREATE TABLE payouts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices (id),
    provider_id bigint NOT NULL REFERENCES providers (id),
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    reason      text NOT NULL CHECK (reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed')),
    status      text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'batched', 'approved', 'paid')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payouts_invoice_reason_key UNIQUE (invoice_id, reason)
);
CREATE INDEX payouts_status_idx ON payouts (status, id);
CREATE INDEX payouts_provider_idx ON payouts (provider_id, id);

-- The decision of an invoice yields at most one payout: a second reason for
-- the same decision would pay twice.
CREATE UNIQUE INDEX payouts_one_decision_payout ON payouts (invoice_id)
    WHERE reason IN ('ticket_moderateur', 'rights_refused', 'not_covered', 'deadline_passed', 'prescribed');

-- Append-only audit log: every state change writes one row in its own
-- transaction. No code path updates or deletes it; the trigger refuses to.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint REFERENCES users (id),
    actor       text NOT NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE job_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    trigger     text NOT NULL CHECK (trigger IN ('schedule', 'startup', 'manual')),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    rows        bigint NOT NULL DEFAULT 0,
    error       text
);
CREATE INDEX job_runs_name_idx ON job_runs (name, id);

-- A retried POST with the same key returns the first response.
CREATE TABLE idempotency_keys (
    user_id       bigint NOT NULL REFERENCES users (id),
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        int NOT NULL,
    response      bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys, job_runs, audit_log, payouts, claims, invoice_lines, invoices,
    rates, rights_events, patients, file_number_counters, tokens, users, providers;
DROP FUNCTION audit_log_append_only();
DROP FUNCTION invoices_decided_once();
