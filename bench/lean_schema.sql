-- The lean schema of the submit benchmark's second yardstick (issue 18 §3):
-- the three tables one POST /api/v1/invoices writes, with the columns
-- billing's store writes, and nothing more: no triggers (passd's invoice
-- counts, decided-once and append-only ones), no CHECKs, no index but the
-- keys, no unsealed-row index, no sealing, no foreign key but the lines'
-- to their invoice. pgbench running bench/submit_lean.sql on it, beside
-- bench/submit.sql on passd's own schema, shows what that schema and the
-- statement's checks cost. cmd/passd-bench applies it to a database of its
-- own, made afresh for each run.
CREATE TABLE invoices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id    bigint NOT NULL,
    patient_id     bigint NOT NULL,
    external_ref   text NOT NULL,
    care_date      date NOT NULL,
    deadline       date NOT NULL,
    total          numeric(12,2) NOT NULL,
    status         text NOT NULL DEFAULT 'pending',
    created_by     bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    review_status  text,
    review_reasons jsonb
);

CREATE TABLE invoice_lines (
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    position   int NOT NULL,
    code       text NOT NULL,
    label      text NOT NULL,
    quantity   int NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    rate_class text NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor_id  bigint,
    actor     text NOT NULL,
    action    text NOT NULL,
    entity    text NOT NULL,
    entity_id text NOT NULL,
    before    jsonb,
    after     jsonb
);
