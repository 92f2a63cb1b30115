package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/journal"
	"passd/money"
	"passd/settlement"
	"passd/text"
)

// Holds and voids. Finance puts a due payout on hold when something about
// it needs looking into (never batched while held) and releases it. The
// city refusing to pay a payout it owes (a duplicate, a fraud) is a void:
// asked by one finance user with a reason, confirmed by another; it
// cancels the payout, reversing its journal transaction, and the invoice
// as a new outcome (the city_due one stays in invoice_outcomes).

// MaxHoldReason bounds the reason of a hold or a void.
const MaxHoldReason = 500

// HoldPayout puts a due payout on hold.
func (s *Store) HoldPayout(ctx context.Context, actor audit.Actor, id int64, reason string) (Payout, error) {
	reason, err := text.Required("reason", reason, MaxHoldReason)
	if err != nil {
		return Payout{}, err
	}
	return s.movePayout(ctx, actor, id, settlement.PayoutHeld, reason)
}

// ReleasePayout takes a held payout back: due again, the next batch takes it.
func (s *Store) ReleasePayout(ctx context.Context, actor audit.Actor, id int64) (Payout, error) {
	return s.movePayout(ctx, actor, id, settlement.PayoutDue, "")
}

func (s *Store) movePayout(ctx context.Context, actor audit.Actor, id int64, to settlement.PayoutStatus, reason string) (Payout, error) {
	from := settlement.PayoutDue
	action := "payout.hold"
	if to == settlement.PayoutDue {
		from, action = settlement.PayoutHeld, "payout.release"
	}
	var out Payout
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE payouts SET status = $2, held_at = CASE WHEN $2 = 'held' THEN $4::timestamptz END,
			hold_reason = nullif($5, '') WHERE id = $1 AND status = $3 AND tenant_id = passd_tenant()`, id, string(to), string(from), s.now(), reason)
		if err != nil {
			return fmt.Errorf("billing: %s: %w", action, err)
		}
		if tag.RowsAffected() == 0 {
			p, err := readPayout(ctx, tx, id)
			if err != nil {
				return err
			}
			return fault.New(fault.Conflict, "payout %d is %s; only a %s payout can be %s", id, p.Status, from,
				map[string]string{"payout.hold": "held", "payout.release": "released"}[action]).
				WithKind(fault.KindPayoutStatus).WithDetail("status", string(p.Status))
		}
		after := map[string]any{"status": string(to)}
		if reason != "" {
			after["reason"] = reason
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: action, Entity: "payout", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": string(from)}, After: after}); err != nil {
			return err
		}
		out, err = readPayout(ctx, tx, id)
		return err
	})
	return out, err
}

func readPayout(ctx context.Context, q db.DBTX, id int64) (Payout, error) {
	p, err := db.One[Payout](ctx, q, `SELECT `+payoutColumns+` FROM payouts p WHERE p.id = $1 AND p.tenant_id = passd_tenant()`, id)
	return p, db.Translate(err)
}

// VoidStatus is where a request to void a payout stands.
type VoidStatus string

// Void statuses.
const (
	VoidPending   VoidStatus = "pending"
	VoidConfirmed VoidStatus = "confirmed"
	VoidRejected  VoidStatus = "rejected"
)

// VoidStatuses lists them, for filters.
var VoidStatuses = []VoidStatus{VoidPending, VoidConfirmed, VoidRejected}

// PayoutVoid is a request to void a payout.
type PayoutVoid struct {
	ID          int64           `db:"id"`
	PayoutID    int64           `db:"payout_id"`
	InvoiceID   int64           `db:"invoice_id"`
	Amount      decimal.Decimal `db:"amount"`
	Reason      string          `db:"reason"`
	RequestedBy string          `db:"requested_by"`
	RequestedAt time.Time       `db:"requested_at"`
	Status      VoidStatus      `db:"status"`
	DecidedBy   string          `db:"decided_by"`
	DecidedAt   *time.Time      `db:"decided_at"`
}

const voidColumns = `v.id, v.payout_id, p.invoice_id, p.amount, v.reason, ur.name AS requested_by, v.requested_at, v.status,
	coalesce(ud.name, '') AS decided_by, v.decided_at`

const voidFrom = ` FROM payout_voids v JOIN payouts p ON p.id = v.payout_id AND p.tenant_id = passd_tenant()
	JOIN users ur ON ur.id = v.requested_by AND ur.tenant_id = passd_tenant()
	LEFT JOIN users ud ON ud.id = v.decided_by AND ud.tenant_id = passd_tenant()
	WHERE v.tenant_id = passd_tenant()`

// PayoutVoids lists requests to void payouts, newest first.
func (s *Store) PayoutVoids(ctx context.Context, status VoidStatus, page db.PageRequest) ([]PayoutVoid, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+voidColumns+voidFrom+` AND ($1 = '' OR v.status = $1) AND ($2::bigint = 0 OR v.id < $2)
		ORDER BY v.id DESC LIMIT $3`, string(status), page.Before, page.Limit+1)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: payout voids: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[PayoutVoid])
	return out, db.Translate(err)
}

func readVoid(ctx context.Context, q db.DBTX, id int64) (PayoutVoid, error) {
	v, err := db.One[PayoutVoid](ctx, q, `SELECT `+voidColumns+voidFrom+` AND v.id = $1`, id)
	return v, db.Translate(err)
}

// RequestVoid asks for a payout to be voided. The payout must be voidable
// now (voidable); another finance user confirms.
func (s *Store) RequestVoid(ctx context.Context, actor audit.Actor, payoutID int64, reason string) (PayoutVoid, error) {
	reason, err := text.Required("reason", reason, MaxHoldReason)
	if err != nil {
		return PayoutVoid{}, err
	}
	var out PayoutVoid
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := voidable(ctx, tx, payoutID); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO payout_voids (payout_id, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			payoutID, reason, actor.UserID, s.now()).Scan(&id)
		if db.IsConstraint(err, "payout_voids_one_open") {
			return fault.New(fault.Conflict, "a void of payout %d already waits for its confirmation", payoutID).WithKind(fault.KindChangePending)
		}
		if err != nil {
			return fmt.Errorf("billing: request void: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_void.request", Entity: "payout_void", EntityID: ident.FormatID(id),
			After: map[string]any{"payout_id": ident.FormatID(payoutID), "reason": reason, "status": string(VoidPending)}}); err != nil {
			return err
		}
		out, err = readVoid(ctx, tx, id)
		return err
	})
	return out, err
}

// voidable locks a payout and its invoice and says whether voiding is
// possible: a payout due or held (a batched one leaves its batch first),
// of a city_due invoice's current outcome, the only money of that invoice
// still live.
func voidable(ctx context.Context, tx pgx.Tx, payoutID int64) (Payout, error) {
	p, err := db.One[Payout](ctx, tx, `SELECT `+payoutColumns+` FROM payouts p WHERE p.id = $1 AND p.tenant_id = passd_tenant() FOR UPDATE`, payoutID)
	if err != nil {
		return p, db.Translate(err)
	}
	if p.Status != settlement.PayoutDue && p.Status != settlement.PayoutHeld {
		return p, fault.New(fault.Conflict, "payout %d is %s; only a due or held payout can be voided (cancel its batch first)", p.ID, p.Status).
			WithKind(fault.KindPayoutStatus).WithDetail("status", string(p.Status))
	}
	var status string
	var outcome, otherPayouts, openClaims int
	err = tx.QueryRow(ctx, `
		SELECT i.status, i.outcome_no,
		       (SELECT count(*) FROM payouts o WHERE o.invoice_id = i.id AND o.id <> $2 AND o.status <> 'cancelled' AND o.tenant_id = passd_tenant()),
		       (SELECT count(*) FROM claims c WHERE c.invoice_id = i.id AND c.status IN ('queued', 'transmitted', 'paid') AND c.tenant_id = passd_tenant())
		FROM invoices i WHERE i.id = $1 AND i.tenant_id = passd_tenant() FOR UPDATE OF i`, p.InvoiceID, p.ID).Scan(&status, &outcome, &otherPayouts, &openClaims)
	if err != nil {
		return p, fmt.Errorf("billing: voidable: %w", err)
	}
	var payoutOutcome int
	if err := tx.QueryRow(ctx, `SELECT outcome_no FROM payouts WHERE id = $1 AND tenant_id = passd_tenant()`, p.ID).Scan(&payoutOutcome); err != nil {
		return p, fmt.Errorf("billing: voidable: %w", err)
	}
	if status != string(StatusCityDue) || payoutOutcome != outcome || otherPayouts != 0 || openClaims != 0 {
		return p, fault.New(fault.Conflict, "payout %d cannot be voided: only the payout of an invoice the city pays in full, with no other money moving on it, can be; correct the rights decision instead", p.ID).
			WithKind(fault.KindPayoutStatus).WithDetail("status", string(p.Status))
	}
	return p, nil
}

// ConfirmVoid voids the payout: a finance user who did not ask for it
// confirms. Of two people deciding at once, one does.
func (s *Store) ConfirmVoid(ctx context.Context, actor audit.Actor, id int64) (PayoutVoid, error) {
	return s.decideVoid(ctx, actor, id, VoidConfirmed)
}

// RejectVoid drops a request to void; its requester may withdraw it so.
func (s *Store) RejectVoid(ctx context.Context, actor audit.Actor, id int64) (PayoutVoid, error) {
	return s.decideVoid(ctx, actor, id, VoidRejected)
}

func (s *Store) decideVoid(ctx context.Context, actor audit.Actor, id int64, to VoidStatus) (PayoutVoid, error) {
	var out PayoutVoid
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var payoutID, requestedBy int64
		var status, reason string
		err := tx.QueryRow(ctx, `SELECT payout_id, requested_by, status, reason FROM payout_voids WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`, id).
			Scan(&payoutID, &requestedBy, &status, &reason)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "no such void request")
		}
		if err != nil {
			return fmt.Errorf("billing: decide void: %w", err)
		}
		if VoidStatus(status) != VoidPending {
			return fault.New(fault.Conflict, "this void request is %s already", status).WithKind(fault.KindAlreadyDecided)
		}
		now := s.now()
		if to == VoidConfirmed {
			if err := checkConfirmer(ctx, tx, actor, &requestedBy); err != nil {
				return err
			}
			if err := voidPayout(ctx, tx, actor, now, payoutID, reason); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE payout_voids SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND status = 'pending' AND tenant_id = passd_tenant()`,
			id, string(to), actor.UserID, now); err != nil {
			return fmt.Errorf("billing: decide void: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_void." + map[VoidStatus]string{VoidConfirmed: "confirm",
			VoidRejected: "reject"}[to], Entity: "payout_void", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": status}, After: map[string]any{"status": string(to), "payout_id": ident.FormatID(payoutID)}}); err != nil {
			return err
		}
		out, err = readVoid(ctx, tx, id)
		return err
	})
	return out, err
}

// voidPayout cancels a voidable payout and its invoice, in tx.
func voidPayout(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, payoutID int64, reason string) error {
	p, err := voidable(ctx, tx, payoutID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE payouts SET status = 'cancelled', cancelled_at = $2 WHERE id = $1 AND status IN ('due', 'held') AND tenant_id = passd_tenant()`,
		payoutID, now); err != nil {
		return fmt.Errorf("billing: void payout: %w", err)
	}
	if n, err := journal.ReverseAll(ctx, tx, now, journal.PayoutDue, journal.ByPayout, []int64{payoutID}); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("billing: void payout %d: reversed %d transactions", payoutID, n)
	}
	if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'cancelled', decision_reason = 'voided', cpam_amount = 0, city_amount = 0,
		decided_at = $2, outcome_no = outcome_no + 1, outcome_cause = $3 WHERE id = $1 AND status = 'city_due' AND tenant_id = passd_tenant()`,
		p.InvoiceID, now, "payout voided: "+reason); err != nil {
		return fmt.Errorf("billing: void invoice: %w", err)
	}
	return audit.Append(ctx, tx,
		audit.Entry{Actor: actor, Action: "payout.void", Entity: "payout", EntityID: ident.FormatID(payoutID),
			Before: map[string]any{"status": string(p.Status)},
			After:  map[string]any{"status": string(settlement.PayoutCancelled), "amount": money.Format(p.Amount), "reason": reason}},
		audit.Entry{Actor: actor, Action: "invoice.void", Entity: "invoice", EntityID: ident.FormatID(p.InvoiceID),
			Before: map[string]any{"status": string(StatusCityDue)},
			After:  map[string]any{"status": string(StatusCancelled), "decision_reason": string(settlement.Voided)}})
}
