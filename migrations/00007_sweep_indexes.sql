-- +goose Up
-- What the release sweep walks: the files whose rights were decided, by id
-- (billing/jobs.go, releaseSelector). patients_rights_status_idx has them
-- under two keys, which PostgreSQL 15 cannot read back in one id order, so
-- each batch would sort every decided file again to find where it stopped.
-- The deadline sweep needs no new index: it walks
-- invoices_pending_deadline_idx (deadline, id) from where it stopped.
CREATE INDEX patients_rights_decided_idx ON patients (id) WHERE rights_status IN ('opened', 'refused');

-- +goose Down
DROP INDEX patients_rights_decided_idx;
