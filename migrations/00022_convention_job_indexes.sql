-- +goose Up
-- Each convention's jobs walk their own rows (issue 18 §3). The deadline
-- job takes the pending invoices past their deadline in (deadline, id)
-- order, 1 000 at a time; on an index by (deadline, id) alone it read the
-- other conventions' invoices of the same days too, each from the table
-- to learn its convention, and dropped them: ten conventions of 100 000
-- invoices took the job 1.3 times as long as one of 1 000 000 (make bench
-- --phases conventions, docs/benchmarks.md). Leading with the convention,
-- each run reads its own rows only. The same holds for the due payouts a
-- draft batch takes and for the audit rows the sealer chains, convention
-- by convention.
CREATE INDEX invoices_pending_deadline_tenant_idx ON invoices (tenant_id, deadline, id) WHERE status = 'pending';
DROP INDEX invoices_pending_deadline_idx;
ALTER INDEX invoices_pending_deadline_tenant_idx RENAME TO invoices_pending_deadline_idx;

CREATE INDEX payouts_due_tenant_idx ON payouts (tenant_id, id) WHERE status = 'due';
DROP INDEX payouts_due_idx;
ALTER INDEX payouts_due_tenant_idx RENAME TO payouts_due_idx;

CREATE INDEX audit_log_unsealed_tenant_idx ON audit_log (tenant_id, id) WHERE chain_seq IS NULL;
DROP INDEX audit_log_unsealed_idx;
ALTER INDEX audit_log_unsealed_tenant_idx RENAME TO audit_log_unsealed_idx;

-- +goose Down
CREATE INDEX audit_log_unsealed_one_idx ON audit_log (id) WHERE chain_seq IS NULL;
DROP INDEX audit_log_unsealed_idx;
ALTER INDEX audit_log_unsealed_one_idx RENAME TO audit_log_unsealed_idx;

CREATE INDEX payouts_due_one_idx ON payouts (id) WHERE status = 'due';
DROP INDEX payouts_due_idx;
ALTER INDEX payouts_due_one_idx RENAME TO payouts_due_idx;

CREATE INDEX invoices_pending_deadline_one_idx ON invoices (deadline, id) WHERE status = 'pending';
DROP INDEX invoices_pending_deadline_idx;
ALTER INDEX invoices_pending_deadline_one_idx RENAME TO invoices_pending_deadline_idx;
