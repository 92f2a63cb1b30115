package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/text"
)

// Bank details under four eyes. A change of the account money is paid to
// (a provider's name, IBAN or BIC) or paid from (the régie's) is a pending
// change until a finance user other than its requester confirms it; until
// then the details in force stay. A provider created through passd is paid
// nothing before its first details are confirmed. The tables hold the rule
// too: providers and settings point at the confirmed change that set their
// details (migration 00013).

// BankChangeStatus is where a change of bank details stands.
type BankChangeStatus string

// Bank change statuses.
const (
	BankChangePending   BankChangeStatus = "pending"
	BankChangeConfirmed BankChangeStatus = "confirmed"
	BankChangeRejected  BankChangeStatus = "rejected"
)

// BankChangeStatuses lists them, for filters.
var BankChangeStatuses = []BankChangeStatus{BankChangePending, BankChangeConfirmed, BankChangeRejected}

// BankDetails is an account: its holder's name as SEPA files write it, its
// IBAN and BIC.
type BankDetails struct {
	Name, IBAN, BIC string
}

// BankChange is one change of a provider's (ProviderID) or the régie's
// (ProviderID 0) bank details.
type BankChange struct {
	ID          int64
	ProviderID  int64 // 0: the régie
	New         BankDetails
	Old         *BankDetails // nil: a new provider's first details
	RequestedBy string       // "" when the operator's CLI recorded it
	RequestedAt time.Time
	Status      BankChangeStatus
	DecidedBy   string
	DecidedAt   *time.Time
	Reason      string
}

// MaxBankChangeReason bounds the reason a change is rejected for.
const MaxBankChangeReason = 500

const bankChangeColumns = `c.id, coalesce(c.provider_id, 0), c.name, c.iban, c.bic, c.old_name, c.old_iban, c.old_bic,
	coalesce(ur.name, ''), c.requested_at, c.status, coalesce(ud.name, ''), c.decided_at, coalesce(c.reason, '')`

const bankChangeFrom = ` FROM bank_detail_changes c
	LEFT JOIN users ur ON ur.id = c.requested_by AND ur.tenant_id = passd_tenant()
	LEFT JOIN users ud ON ud.id = c.decided_by AND ud.tenant_id = passd_tenant()
	WHERE c.tenant_id = passd_tenant()`

func scanBankChange(row pgx.Row) (BankChange, error) {
	var c BankChange
	var oldName, oldIBAN, oldBIC *string
	var status string
	err := row.Scan(&c.ID, &c.ProviderID, &c.New.Name, &c.New.IBAN, &c.New.BIC, &oldName, &oldIBAN, &oldBIC,
		&c.RequestedBy, &c.RequestedAt, &status, &c.DecidedBy, &c.DecidedAt, &c.Reason)
	if oldIBAN != nil {
		c.Old = &BankDetails{Name: deref(oldName), IBAN: *oldIBAN, BIC: deref(oldBIC)}
	}
	c.Status = BankChangeStatus(status)
	return c, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (d BankDetails) audit() map[string]any {
	return map[string]any{"name": d.Name, "iban": d.IBAN, "bic": d.BIC}
}

// BankChangeFilter chooses changes: by status ("" all) and by whose
// account (Provider 0 and Regie false: every account).
type BankChangeFilter struct {
	Status   BankChangeStatus
	Provider int64
	Regie    bool
}

// BankChanges lists changes of bank details, newest first.
func (s *Store) BankChanges(ctx context.Context, f BankChangeFilter, page db.PageRequest) ([]BankChange, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+`
		AND ($1 = '' OR c.status = $1) AND ($2::bigint = 0 OR c.provider_id = $2) AND (NOT $3 OR c.provider_id IS NULL)
		  AND ($4::bigint = 0 OR c.id < $4)
		ORDER BY c.id DESC LIMIT $5`, string(f.Status), f.Provider, f.Regie, page.Before, page.Limit+1)
	return collectBankChanges(rows, err)
}

// collectBankChanges reads the rows of a query of bankChangeColumns.
func collectBankChanges(rows pgx.Rows, err error) ([]BankChange, error) {
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: bank changes: %w", err))
	}
	defer rows.Close()
	var out []BankChange
	for rows.Next() {
		c, err := scanBankChange(rows)
		if err != nil {
			return nil, fmt.Errorf("billing: bank changes: %w", err)
		}
		out = append(out, c)
	}
	return out, db.Translate(rows.Err())
}

// BankChange returns one change.
func (s *Store) BankChange(ctx context.Context, id int64) (BankChange, error) {
	c, err := scanBankChange(s.pool.QueryRow(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+` AND c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fault.New(fault.NotFound, "no such bank details change")
	}
	return c, db.Translate(err)
}

// requestBankChange records a pending change in tx, or, asked by the
// operator's CLI (no user), a confirmed one whose id it returns for the
// caller to apply.
func requestBankChange(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, providerID int64, old *BankDetails,
	next BankDetails) (int64, error) {
	status := BankChangePending
	var decidedAt *time.Time
	if actor.UserID == 0 {
		status, decidedAt = BankChangeConfirmed, &now
	}
	var oldName, oldIBAN, oldBIC *string
	if old != nil {
		oldName, oldIBAN, oldBIC = &old.Name, &old.IBAN, &old.BIC
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO bank_detail_changes (provider_id, name, iban, bic, old_name, old_iban, old_bic, requested_by, requested_at, status, decided_at)
		VALUES (nullif($1::bigint, 0), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		providerID, next.Name, next.IBAN, next.BIC, oldName, oldIBAN, oldBIC, nullID(actor.UserID), now, string(status), decidedAt).Scan(&id)
	if db.IsConstraint(err, "bank_detail_changes_one_pending") {
		return 0, fault.New(fault.Conflict, "a change of these bank details already waits for its confirmation: confirm or reject it first").
			WithKind(fault.KindChangePending)
	}
	if err != nil {
		return 0, fmt.Errorf("billing: request bank change: %w", err)
	}
	before := map[string]any{}
	if old != nil {
		before = old.audit()
	}
	after := next.audit()
	after["status"], after["provider_id"] = string(status), optionalID(providerID)
	if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "bank_details.request", Entity: "bank_detail_change",
		EntityID: ident.FormatID(id), Before: before, After: after}); err != nil {
		return 0, err
	}
	return id, nil
}

func optionalID(id int64) any {
	if id == 0 {
		return nil
	}
	return ident.FormatID(id)
}

// ConfirmBankChange puts a pending change in force. The confirmer is a
// finance user who did not request it; of two people deciding the same
// change at once, one does (the other gets already_decided).
func (s *Store) ConfirmBankChange(ctx context.Context, actor audit.Actor, id int64) (BankChange, error) {
	return s.decideBankChange(ctx, actor, id, BankChangeConfirmed, "")
}

// RejectBankChange drops a pending change, with a reason; its requester
// may withdraw it so. The details in force stay.
func (s *Store) RejectBankChange(ctx context.Context, actor audit.Actor, id int64, reason string) (BankChange, error) {
	reason, err := text.Required("reason", reason, MaxBankChangeReason)
	if err != nil {
		return BankChange{}, err
	}
	return s.decideBankChange(ctx, actor, id, BankChangeRejected, reason)
}

func (s *Store) decideBankChange(ctx context.Context, actor audit.Actor, id int64, to BankChangeStatus, reason string) (BankChange, error) {
	var out BankChange
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		var c BankChange
		var requestedBy *int64
		var status string
		err := tx.QueryRow(ctx, `SELECT coalesce(provider_id, 0), name, iban, bic, requested_by, status FROM bank_detail_changes WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`,
			id).Scan(&c.ProviderID, &c.New.Name, &c.New.IBAN, &c.New.BIC, &requestedBy, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "no such bank details change")
		}
		if err != nil {
			return fmt.Errorf("billing: decide bank change: %w", err)
		}
		if BankChangeStatus(status) != BankChangePending {
			return fault.New(fault.Conflict, "this change is %s already", status).WithKind(fault.KindAlreadyDecided)
		}
		if to == BankChangeConfirmed {
			if err := checkConfirmer(ctx, tx, actor, requestedBy); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE bank_detail_changes SET status = $2, decided_by = $3, decided_at = $4, reason = nullif($5, '')
			WHERE id = $1 AND status = 'pending' AND tenant_id = passd_tenant()`, id, string(to), nullID(actor.UserID), now, reason); err != nil {
			if db.IsConstraint(err, "bank_detail_changes_four_eyes") {
				return fault.New(fault.Forbidden, "the requester of a change of bank details cannot confirm it").WithKind(fault.KindFourEyes)
			}
			return fmt.Errorf("billing: decide bank change: %w", err)
		}
		if to == BankChangeConfirmed {
			if err := applyBankChange(ctx, tx, id, c); err != nil {
				return err
			}
		}
		after := map[string]any{"status": string(to), "provider_id": optionalID(c.ProviderID)}
		if reason != "" {
			after["reason"] = reason
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "bank_details." + map[BankChangeStatus]string{
			BankChangeConfirmed: "confirm", BankChangeRejected: "reject"}[to], Entity: "bank_detail_change", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": status}, After: after}); err != nil {
			return err
		}
		out, err = scanBankChange(tx.QueryRow(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+` AND c.id = $1`, id))
		return err
	})
	return out, db.Translate(err)
}

// checkConfirmer holds the four eyes: a finance user, not the requester.
func checkConfirmer(ctx context.Context, tx pgx.Tx, actor audit.Actor, requestedBy *int64) error {
	if requestedBy != nil && *requestedBy == actor.UserID {
		return fault.New(fault.Forbidden, "the requester of a change of bank details cannot confirm it: another finance user must").
			WithKind(fault.KindFourEyes)
	}
	var finance bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'finance' AND tenant_id = passd_tenant())`, actor.UserID).Scan(&finance); err != nil {
		return fmt.Errorf("billing: confirmer: %w", err)
	}
	if !finance {
		return fault.New(fault.Forbidden, "only a finance user confirms a change of bank details").WithKind(fault.KindFourEyes)
	}
	return nil
}

// applyBankChange writes a confirmed change into the provider or the
// settings it is for.
func applyBankChange(ctx context.Context, tx pgx.Tx, id int64, c BankChange) error {
	var err error
	if c.ProviderID != 0 {
		_, err = tx.Exec(ctx, `UPDATE providers SET name = $2, iban = $3, bic = $4, bank_change_id = $5 WHERE id = $1 AND tenant_id = passd_tenant()`,
			c.ProviderID, c.New.Name, c.New.IBAN, c.New.BIC, id)
	} else {
		_, err = tx.Exec(ctx, `UPDATE settings SET regie_name = $1, regie_iban = $2, regie_bic = $3, regie_bank_change_id = $4 WHERE tenant_id = passd_tenant()`,
			c.New.Name, c.New.IBAN, c.New.BIC, id)
	}
	if err != nil {
		return fmt.Errorf("billing: apply bank change %d: %w", id, err)
	}
	return nil
}

// ProviderPatch is a change of a provider: the fields given (non-nil).
// Kind, RPPS and FINESS change at once; Name, IBAN and BIC make a pending
// change of bank details.
type ProviderPatch struct {
	Kind, Name, RPPS, FINESS, IBAN, BIC *string
}

// UpdateProvider applies a patch: what identifies the provider at once
// (audited before and after), its bank details as a pending change (the
// change returned, nil when they did not change).
func (s *Store) UpdateProvider(ctx context.Context, actor audit.Actor, id int64, patch ProviderPatch) (Provider, *BankChange, error) {
	var out Provider
	var change *BankChange
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := db.One[Provider](ctx, tx, `SELECT `+providerColumns+` FROM providers WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`, id)
		if err != nil {
			return db.Translate(err)
		}
		next := cur
		for _, f := range []struct {
			to   *string
			from *string
		}{{&next.Kind, patch.Kind}, {&next.Name, patch.Name}, {&next.RPPS, patch.RPPS}, {&next.FINESS, patch.FINESS},
			{&next.IBAN, patch.IBAN}, {&next.BIC, patch.BIC}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if next.Kind != cur.Kind || next.RPPS != cur.RPPS || next.FINESS != cur.FINESS {
			if err := updateIdentity(ctx, tx, actor, cur, next); err != nil {
				return err
			}
		}
		curBank, nextBank := BankDetails{cur.Name, cur.IBAN, cur.BIC}, BankDetails{next.Name, next.IBAN, next.BIC}
		if nextBank != curBank {
			old := &curBank
			if !cur.BankConfirmed {
				old = nil
			}
			changeID, err := requestBankChange(ctx, tx, actor, s.now(), id, old, nextBank)
			if err != nil {
				return err
			}
			c, err := scanBankChange(tx.QueryRow(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+` AND c.id = $1`, changeID))
			if err != nil {
				return fmt.Errorf("billing: read bank change: %w", err)
			}
			if c.Status == BankChangeConfirmed {
				if err := applyBankChange(ctx, tx, changeID, c); err != nil {
					return err
				}
			}
			change = &c
		}
		out, err = db.One[Provider](ctx, tx, `SELECT `+providerColumns+` FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`, id)
		return err
	})
	return out, change, db.Translate(err)
}

// updateIdentity changes a provider's kind, RPPS and FINESS.
func updateIdentity(ctx context.Context, tx pgx.Tx, actor audit.Actor, cur, next Provider) error {
	_, err := tx.Exec(ctx, `UPDATE providers SET kind = $2, rpps = $3, finess = $4 WHERE id = $1 AND tenant_id = passd_tenant()`,
		cur.ID, next.Kind, nullable(next.RPPS), nullable(next.FINESS))
	if db.IsConstraint(err, "providers_rpps_key") || db.IsConstraint(err, "providers_finess_key") {
		return fault.New(fault.Conflict, "a provider with this identifier already exists").WithKind(fault.KindDuplicateProvider)
	}
	if err != nil {
		return fmt.Errorf("billing: update provider: %w", err)
	}
	return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "provider.update", Entity: "provider", EntityID: ident.FormatID(cur.ID),
		Before: map[string]any{"kind": cur.Kind, "rpps": cur.RPPS, "finess": cur.FINESS},
		After:  map[string]any{"kind": next.Kind, "rpps": next.RPPS, "finess": next.FINESS}})
}

// PendingBankChange returns the change of a provider's (or, for 0, the
// régie's) bank details that waits for its confirmation, if any.
func (s *Store) PendingBankChange(ctx context.Context, providerID int64) (*BankChange, error) {
	c, err := scanBankChange(s.pool.QueryRow(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+`
		AND c.status = 'pending' AND coalesce(c.provider_id, 0) = $1`, providerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: pending bank change: %w", err))
	}
	return &c, nil
}

// BankDetailsChanged lists when a provider's bank details changed
// (confirmed changes of an account it already had) from the day from to
// the day to, Paris days, for the provider's statement: a change it did
// not ask for is how a diverted payment shows.
func (s *Store) BankDetailsChanged(ctx context.Context, providerID int64, from, to calendar.Date) ([]BankChange, error) {
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, calendar.Paris())
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, calendar.Paris()).AddDate(0, 0, 1)
	rows, err := s.pool.Query(ctx, `SELECT `+bankChangeColumns+bankChangeFrom+`
		AND c.provider_id = $1 AND c.status = 'confirmed' AND c.old_iban IS NOT NULL AND c.decided_at >= $2 AND c.decided_at < $3
		ORDER BY c.decided_at`, providerID, start, end)
	return collectBankChanges(rows, err)
}
