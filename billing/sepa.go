package billing

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/jackc/pgx/v5"

	"passd/api"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/sepa"
)

// CheckSEPA tells whether batch id can be paid by a SEPA file now: it must
// be approved (or already paid, for a copy) and the régie's account set.
func (s *Store) CheckSEPA(ctx context.Context, id int64) (PayoutBatch, error) {
	b, err := s.PayoutBatch(ctx, id)
	if err != nil {
		return b, err
	}
	if b.Status != BatchApproved && b.Status != BatchPaid {
		return b, fault.New(fault.Conflict, "payout batch %d is %s; a SEPA file exists only for an approved batch", id, b.Status).
			WithKind("batch_status").WithDetail("status", b.Status)
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return b, err
	}
	if !st.Complete() {
		return b, fault.New(fault.Conflict, "the régie's name, IBAN and BIC must be set in the settings first").WithKind("settings_incomplete")
	}
	// Providers are checked when created, but a row written before those
	// checks (or by hand) would make sepa.Write fail after the answer is
	// committed to. Say which provider is at fault instead, before streaming.
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT pr.id, pr.name, pr.bic FROM payouts p JOIN providers pr ON pr.id = p.provider_id
		WHERE p.batch_id = $1 ORDER BY pr.id`, id)
	if err != nil {
		return b, fmt.Errorf("billing: sepa %d providers: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var providerID int64
		var name, bic string
		if err := rows.Scan(&providerID, &name, &bic); err != nil {
			return b, fmt.Errorf("billing: sepa %d providers: %w", id, err)
		}
		var problem string
		switch {
		case sepa.Text(name, 70) == "":
			problem = "its name has no character a SEPA file can carry"
		case bic != "" && !validBIC(bic):
			problem = fmt.Sprintf("its BIC %s is refused by the SEPA schema", bic)
		default:
			continue
		}
		return b, fault.New(fault.Conflict, "no SEPA file can pay provider %d (%s): %s", providerID, name, problem).
			WithKind("provider_details").WithDetail("provider_id", api.FormatID(providerID))
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("billing: sepa %d providers: %w", id, err)
	}
	return b, nil
}

// WriteSEPA writes the pain.001.001.03 credit transfer file of batch id:
// one transfer per provider for the sum of its payouts, streamed from one
// snapshot. The message id is the batch's, so a bank refuses the same
// batch sent twice.
func (s *Store) WriteSEPA(ctx context.Context, id int64, out io.Writer) error {
	return db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		st, err := readSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		b, err := scanBatch(tx.QueryRow(ctx, `SELECT `+batchColumns+batchFrom+` WHERE b.id = $1`, id))
		if err != nil {
			return db.Translate(fmt.Errorf("billing: payout batch %d: %w", id, err))
		}
		var providers int
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT provider_id) FROM payouts WHERE batch_id = $1`, id).Scan(&providers); err != nil {
			return fmt.Errorf("billing: sepa %d: %w", id, err)
		}
		now := s.now()
		m := sepa.Message{
			MsgID:         fmt.Sprintf("PASSD-PAYOUTS-%d", id),
			PaymentInfoID: fmt.Sprintf("PASSD-PAYOUTS-%d-1", id),
			CreatedAt:     now,
			ExecutionDate: calendar.NextTargetDay(calendar.Today(now)),
			Debtor:        sepa.Debtor{Name: st.RegieName, IBAN: st.RegieIBAN, BIC: st.RegieBIC},
			NbOfTxs:       providers,
			CtrlSum:       b.Total,
		}
		rows, err := tx.Query(ctx, `
			SELECT p.provider_id, pr.name, pr.iban, pr.bic, sum(p.amount),
			       array_agg(i.external_ref ORDER BY i.id)
			FROM payouts p JOIN providers pr ON pr.id = p.provider_id JOIN invoices i ON i.id = p.invoice_id
			WHERE p.batch_id = $1
			GROUP BY p.provider_id, pr.name, pr.iban, pr.bic
			ORDER BY p.provider_id`, id)
		if err != nil {
			return fmt.Errorf("billing: sepa %d: %w", id, err)
		}
		defer rows.Close()
		if err := sepa.Write(out, m, transfers(rows, id)); err != nil {
			return fmt.Errorf("billing: sepa %d: %w", id, err)
		}
		return nil
	})
}

func transfers(rows pgx.Rows, batchID int64) iter.Seq2[sepa.Transfer, error] {
	return func(yield func(sepa.Transfer, error) bool) {
		for rows.Next() {
			var providerID int64
			var t sepa.Transfer
			var refs []string
			if err := rows.Scan(&providerID, &t.CreditorName, &t.IBAN, &t.BIC, &t.Amount, &refs); err != nil {
				yield(sepa.Transfer{}, err)
				return
			}
			t.EndToEndID = fmt.Sprintf("PASSD-%d-%d", batchID, providerID)
			t.Remittance = sepa.Remittance(fmt.Sprintf("PASS lot %d factures ", batchID), refs)
			if !yield(t, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(sepa.Transfer{}, err)
		}
	}
}

func validBIC(bic string) bool {
	_, err := ident.ParseBIC(bic)
	return err == nil
}
