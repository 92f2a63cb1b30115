-- +goose Up
-- What the programme's yearly report (programme/report.go) reads, so that
-- a year beside the year before answers in under a second on 100 000
-- files and a million invoices (issue 16 §3; make bench's report phase).
-- Each was chosen from EXPLAIN ANALYZE on that data: without them every
-- figure of a period was a sequential scan, most of them converting each
-- row's instant to its Paris day.
--
-- The files opened in a period, and by month: by their Paris day.
CREATE INDEX patients_opened_day_idx ON patients (((created_at AT TIME ZONE 'Europe/Paris')::date)) INCLUDE (created_at);
-- The files active in a period (an invoice for care in it): the invoices'
-- patients in patient order, read from the index alone.
CREATE INDEX invoices_patient_care_idx ON invoices (patient_id, care_date);
-- The applications and the files active through their rights: a period's
-- events, read from the index alone.
CREATE INDEX rights_events_day_idx ON rights_events (((created_at AT TIME ZONE 'Europe/Paris')::date))
    INCLUDE (kind, patient_id, created_at);
-- The decisions of a period as they stand, and their delays.
CREATE INDEX rights_decisions_day_idx ON rights_decisions (((decided_at AT TIME ZONE 'Europe/Paris')::date))
    INCLUDE (decision, regime, filed_on, decided_at) WHERE superseded_at IS NULL;
-- What the CPAM and the city paid in a period, and the year's budget used.
CREATE INDEX claims_paid_on_idx ON claims (paid_on) INCLUDE (paid_amount) WHERE status = 'paid';
CREATE INDEX payouts_paid_on_idx ON payouts (paid_on) INCLUDE (amount, batch_id) WHERE status = 'paid';
CREATE INDEX payouts_approved_batch_idx ON payouts (batch_id) INCLUDE (amount) WHERE status = 'approved';

-- +goose Down
DROP INDEX payouts_approved_batch_idx;
DROP INDEX payouts_paid_on_idx;
DROP INDEX claims_paid_on_idx;
DROP INDEX rights_decisions_day_idx;
DROP INDEX rights_events_day_idx;
DROP INDEX invoices_patient_care_idx;
DROP INDEX patients_opened_day_idx;
