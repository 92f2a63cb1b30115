package billing

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/sepa"
)

// CheckSEPA tells whether batch id can be paid by a SEPA file now: it must
// be approved (or already paid, for a copy) and the régie's account set.
func (s *Store) CheckSEPA(ctx context.Context, id int64) (PayoutBatch, error) {
	b, err := s.PayoutBatch(ctx, id)
	if err != nil {
		return b, err
	}
	if !b.Status.HasSEPA() {
		return b, fault.New(fault.Conflict, "payout batch %d is %s; a SEPA file exists only for an approved batch", id, b.Status).
			WithKind(fault.KindBatchStatus).WithDetail("status", string(b.Status))
	}
	if b.SEPASHA256 != nil {
		return b, nil // frozen at approval: the régie and the providers were checked then
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return b, err
	}
	if !st.Complete() {
		return b, errSettingsIncomplete()
	}
	return b, checkProviders(ctx, s.pool, id)
}

// checkProviders says which provider of batch id no SEPA file can pay, if
// any. Providers are checked when created, but a row written before those
// checks (or by hand) would make sepa.Write fail after the answer is
// committed to.
func checkProviders(ctx context.Context, q db.DBTX, id int64) error {
	rows, err := q.Query(ctx, `SELECT DISTINCT pr.id, pr.name, pr.bic FROM payouts p
		JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant()
		WHERE p.batch_id = $1 AND p.tenant_id = passd_tenant() ORDER BY pr.id`, id)
	if err != nil {
		return fmt.Errorf("billing: sepa %d providers: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var providerID int64
		var name, bic string
		if err := rows.Scan(&providerID, &name, &bic); err != nil {
			return fmt.Errorf("billing: sepa %d providers: %w", id, err)
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
		return fault.New(fault.Conflict, "no SEPA file can pay provider %d (%s): %s", providerID, name, problem).
			WithKind(fault.KindProviderDetails).WithDetail("provider_id", ident.FormatID(providerID))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: sepa %d providers: %w", id, err)
	}
	return nil
}

// errSettingsIncomplete: no SEPA file without the régie's account.
func errSettingsIncomplete() error {
	return fault.New(fault.Conflict, "the régie's name, IBAN and BIC must be set in the settings first").WithKind(fault.KindSettingsIncomplete)
}

// WriteSEPA writes the pain.001.001.03 credit transfer file of batch id:
// one transfer per provider for the sum of its payouts less its recoveries
// deducted from the batch (never less than a cent: DraftPayoutBatch), so
// the file's control sum is the batch's net. A batch approved since the
// files are frozen (freezeSEPA) is written from its snapshot only, the
// same bytes at every download; one approved before is built from the
// current rows. The message id is the batch's, so a bank refuses the same
// batch sent twice.
func (s *Store) WriteSEPA(ctx context.Context, id int64, out io.Writer) error {
	return db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		b, err := db.One[PayoutBatch](ctx, tx, `SELECT `+batchColumns+batchFrom+` AND b.id = $1`, id)
		if err != nil {
			return db.Translate(fmt.Errorf("billing: payout batch %d: %w", id, err))
		}
		if b.SEPASHA256 != nil {
			_, err = writeFrozen(ctx, tx, id, out)
			return err
		}
		st, err := readSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		m := sepaMessage(id, s.now(), st, 0, b.Net())
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT provider_id) FROM payouts WHERE batch_id = $1 AND tenant_id = passd_tenant()`, id).Scan(&m.NbOfTxs); err != nil {
			return fmt.Errorf("billing: sepa %d: %w", id, err)
		}
		rows, err := queryPayouts(ctx, tx, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := sepa.Write(out, m, transfers(payoutRows(rows), id)); err != nil {
			return fmt.Errorf("billing: sepa %d: %w", id, err)
		}
		return nil
	})
}

// sepaMessage is the header of batch id's file, made at now.
func sepaMessage(id int64, now time.Time, st Settings, transfers int, net decimal.Decimal) sepa.Message {
	return sepa.Message{
		MsgID:         fmt.Sprintf("PASSD-PAYOUTS-%d", id),
		PaymentInfoID: fmt.Sprintf("PASSD-PAYOUTS-%d-1", id),
		CreatedAt:     now,
		ExecutionDate: calendar.NextTargetDay(calendar.Today(now)),
		Debtor:        sepa.Debtor{Name: st.RegieName, IBAN: st.RegieIBAN, BIC: st.RegieBIC},
		NbOfTxs:       transfers,
		CtrlSum:       net,
	}
}

// queryPayouts reads batch id's payouts for its transfers: one row per
// payout, a provider's together, so that transfers adds them up as they
// come and no provider's list of invoices is ever held whole, here or in
// PostgreSQL (an array_agg would be). Each row carries its provider's
// deduction, a handful of recoveries summed.
func queryPayouts(ctx context.Context, tx pgx.Tx, id int64) (pgx.Rows, error) {
	rows, err := tx.Query(ctx, `
		WITH r AS (SELECT provider_id, sum(amount) AS offset FROM provider_recoveries
			WHERE offset_batch_id = $1 AND provider_recoveries.tenant_id = passd_tenant() GROUP BY provider_id)
		SELECT p.provider_id, pr.name, pr.iban, pr.bic, p.amount, i.external_ref, coalesce(r.offset, 0)
		FROM payouts p JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant()
		JOIN invoices i ON i.id = p.invoice_id AND i.tenant_id = passd_tenant()
		LEFT JOIN r ON r.provider_id = p.provider_id
		WHERE p.batch_id = $1 AND p.tenant_id = passd_tenant()
		ORDER BY p.provider_id, i.id`, id)
	if err != nil {
		return nil, fmt.Errorf("billing: sepa %d: %w", id, err)
	}
	return rows, nil
}

// sepaPayout is one payout of a batch as its SEPA file needs it.
type sepaPayout struct {
	providerID      int64
	name, iban, bic string
	amount          decimal.Decimal
	ref             string          // the invoice's external reference
	offset          decimal.Decimal // what is deducted from the provider's transfer: the same on each of its payouts
}

// payoutRows reads the payouts of WriteSEPA's query one at a time.
func payoutRows(rows pgx.Rows) iter.Seq2[sepaPayout, error] {
	return func(yield func(sepaPayout, error) bool) {
		for rows.Next() {
			var p sepaPayout
			if err := rows.Scan(&p.providerID, &p.name, &p.iban, &p.bic, &p.amount, &p.ref, &p.offset); err != nil {
				yield(sepaPayout{}, err)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(sepaPayout{}, err)
		}
	}
}

// transfers makes one transfer per provider of payouts, which come with a
// provider's payouts together: the sum of their amounts less the
// provider's deduction, and a remittance text naming their invoices in
// order, after the deduction when there is one (remittancePrefix). It
// holds one provider's transfer at a time, and of its invoices only those
// the text can show, so memory does not grow with the batch. A provider
// met again after another would give a second transfer with the same
// EndToEndID, which sepa.Write refuses.
func transfers(payouts iter.Seq2[sepaPayout, error], batchID int64) iter.Seq2[sepa.Transfer, error] {
	return func(yield func(sepa.Transfer, error) bool) {
		var t sepa.Transfer
		var providerID int64
		var offset decimal.Decimal
		var refs *sepa.RemittanceBuilder
		done := func() sepa.Transfer {
			t.Amount, t.Remittance = t.Amount.Sub(offset), refs.String()
			return t
		}
		for p, err := range payouts {
			if err != nil {
				yield(sepa.Transfer{}, err)
				return
			}
			if refs == nil || p.providerID != providerID {
				if refs != nil && !yield(done(), nil) {
					return
				}
				providerID, offset, refs = p.providerID, p.offset, sepa.NewRemittance(remittancePrefix(batchID, p.offset))
				t = sepa.Transfer{EndToEndID: fmt.Sprintf("PASSD-%d-%d", batchID, p.providerID),
					CreditorName: p.name, IBAN: p.iban, BIC: p.bic, Amount: decimal.Zero}
			}
			t.Amount = t.Amount.Add(p.amount)
			refs.Add(p.ref)
		}
		if refs != nil {
			yield(done(), nil)
		}
	}
}

// remittancePrefix starts a transfer's remittance text. A transfer less
// than the invoices it names says what was deducted, so that the provider
// can reconcile it ("PASS lot 42 moins reprise 30,00 EUR factures F-1,
// F-2"); the recovered invoices are on the batch's page and in the
// recoveries' list, the 140 characters are kept for the invoices paid.
func remittancePrefix(batchID int64, offset decimal.Decimal) string {
	if offset.IsZero() {
		return fmt.Sprintf("PASS lot %d factures ", batchID)
	}
	return fmt.Sprintf("PASS lot %d moins reprise %s EUR factures ", batchID, strings.Replace(money.Format(offset), ".", ",", 1))
}

func validBIC(bic string) bool {
	_, err := ident.ParseBIC(bic)
	return err == nil
}
