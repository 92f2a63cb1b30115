package billing

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/db"
	"passd/ident"
	"passd/settlement"
	"passd/spreadsheet"
)

// The CSV exports, for a French spreadsheet (the spreadsheet package's
// CSV): the JSON API (?format=csv) and the web pages' downloads write the
// same files with these.

// PayoutsCSV writes every payout f selects, oldest first, for a French
// spreadsheet; without the reason column for a provider (f.ForProvider).
func (s *Store) PayoutsCSV(ctx context.Context, f PayoutFilter, out io.Writer) error {
	return db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+payoutColumns+`, pr.name, i.external_ref FROM payouts p
			JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant()
			JOIN invoices i ON i.id = p.invoice_id AND i.tenant_id = passd_tenant()
			WHERE p.tenant_id = passd_tenant() AND `+payoutWhere+` ORDER BY p.id`, f.args()...)
		if err != nil {
			return fmt.Errorf("billing: payouts csv: %w", err)
		}
		defer rows.Close()
		w := spreadsheet.NewWriter(out)
		header := []string{"Paiement", "Facture", "Réf. facture", "Prestataire", "Montant", "Motif", "Motif CPAM", "Statut", "Lot", "Payé le", "Dû depuis le"}
		const reasonColumn = 5
		if f.ForProvider {
			header = slices.Delete(header, reasonColumn, reasonColumn+1)
		}
		if err := w.Write(header...); err != nil {
			return err
		}
		for rows.Next() {
			var p Payout
			var name, ref string
			if err := rows.Scan(&p.ID, &p.InvoiceID, &p.ProviderID, &p.ClaimID, &p.Amount, &p.Reason, &p.Note, &p.Status, &p.BatchID,
				&p.PaidOn, &p.CreatedAt, &p.HeldAt, &p.HoldReason, &name, &ref); err != nil {
				return fmt.Errorf("billing: payouts csv: %w", err)
			}
			batch := ""
			if p.BatchID != 0 {
				batch = ident.FormatID(p.BatchID)
			}
			row := []string{ident.FormatID(p.ID), ident.FormatID(p.InvoiceID), spreadsheet.Text(ref), spreadsheet.Text(name),
				spreadsheet.Amount(p.Amount), p.Reason.Label(), spreadsheet.Text(p.Note), p.Status.Label(), batch,
				spreadsheet.Date(p.PaidOn), spreadsheet.Date(calendar.Today(p.CreatedAt))}
			if f.ForProvider {
				row = slices.Delete(row, reasonColumn, reasonColumn+1)
			}
			if err := w.Write(row...); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("billing: payouts csv: %w", err)
		}
		return w.Flush()
	})
}

// InvoicesCSV writes every invoice f selects, in f's order (newest first
// by default), for a French spreadsheet: what a list of invoices shows.
func (s *Store) InvoicesCSV(ctx context.Context, f InvoiceFilter, out io.Writer) error {
	order := `i.id DESC`
	switch f.Order {
	case ByCareDateDesc:
		order = `i.care_date DESC, i.id DESC`
	case ByCareDateAsc:
		order = `i.care_date, i.id`
	}
	rows, err := s.pool.Query(ctx, `SELECT i.external_ref, p.file_number, i.care_date, i.total, i.status, i.deadline
		FROM invoices i JOIN patients p ON p.id = i.patient_id AND p.tenant_id = passd_tenant()
		WHERE i.tenant_id = passd_tenant() AND `+invoiceFilterSQL+` ORDER BY `+order, f.args()...)
	if err != nil {
		return db.Translate(fmt.Errorf("billing: invoices csv: %w", err))
	}
	defer rows.Close()
	w := spreadsheet.NewWriter(out)
	if err := w.Write("Référence", "Dossier", "Date des soins", "Montant", "Statut", "Échéance"); err != nil {
		return err
	}
	for rows.Next() {
		var ref, file string
		var care, deadline calendar.Date
		var total decimal.Decimal
		var status InvoiceStatus
		if err := rows.Scan(&ref, &file, &care, &total, &status, &deadline); err != nil {
			return fmt.Errorf("billing: invoices csv: %w", err)
		}
		if err := w.Write(spreadsheet.Text(ref), spreadsheet.Text(file), spreadsheet.Date(care), spreadsheet.Amount(total), status.Label(),
			spreadsheet.Date(deadline)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: invoices csv: %w", err)
	}
	return w.Flush()
}

// PayoutBatchesCSV writes every batch (of a status, or all), oldest first
// (newest first when newestFirst, the pages' default order):
// its gross total, the recoveries deducted and the net the bank pays.
func (s *Store) PayoutBatchesCSV(ctx context.Context, status BatchStatus, newestFirst bool, out io.Writer) error {
	order := "b.id"
	if newestFirst {
		order = "b.id DESC"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+batchColumns+batchFrom+` AND ($1 = '' OR b.status = $1) ORDER BY `+order, status)
	if err != nil {
		return db.Translate(fmt.Errorf("billing: batches csv: %w", err))
	}
	defer rows.Close()
	w := spreadsheet.NewWriter(out)
	if err := w.Write("Lot", "Statut", "Paiements", "Total", "Plafond", "Créé le", "Créé par", "Préparé par", "Approuvé par",
		"Approuvé le", "Dépassement du budget", "Payé le", "Reprises déduites", "Net versé"); err != nil {
		return err
	}
	for rows.Next() {
		b, err := pgx.RowToStructByName[PayoutBatch](rows)
		if err != nil {
			return fmt.Errorf("billing: batches csv: %w", err)
		}
		approvedOn := calendar.Date{}
		if b.ApprovedAt != nil {
			approvedOn = calendar.Today(*b.ApprovedAt)
		}
		override := ""
		if b.BudgetOverride {
			override = "oui"
		}
		if err := w.Write(ident.FormatID(b.ID), b.Status.Label(), strconv.Itoa(b.PayoutCount), spreadsheet.Amount(b.Total),
			spreadsheet.Amount(b.Ceiling), spreadsheet.Date(calendar.Today(b.CreatedAt)), spreadsheet.Text(b.Creator),
			spreadsheet.Text(b.PreparedBy), spreadsheet.Text(b.ApprovedBy), spreadsheet.Date(approvedOn), override,
			spreadsheet.Date(b.PaidOn), spreadsheet.Amount(b.OffsetTotal), spreadsheet.Amount(b.Net())); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: batches csv: %w", err)
	}
	return w.Flush()
}

// RecoveriesCSV writes every recovery f selects, oldest first. With
// Status RecoveryTitre it is the list finance issues titres de recettes
// from: who owes (the provider's name and identifiers), for which invoice,
// how much, since when.
func (s *Store) RecoveriesCSV(ctx context.Context, f RecoveryFilter, out io.Writer) error {
	rows, err := s.pool.Query(ctx, recoverySelect+` ORDER BY x.created_at, x.id`, s.recoveryArgs(f)...)
	if err != nil {
		return db.Translate(fmt.Errorf("billing: recoveries csv: %w", err))
	}
	defer rows.Close()
	w := spreadsheet.NewWriter(out)
	if err := w.Write("Reprise", "Effecteur", "RPPS", "FINESS", "Facture", "Réf. facture", "Montant", "Créée le", "Jours d'attente",
		"Statut", "Lot"); err != nil {
		return err
	}
	for rows.Next() {
		r, err := pgx.RowToStructByName[Recovery](rows)
		if err != nil {
			return fmt.Errorf("billing: recoveries csv: %w", err)
		}
		// Days waiting say how late a recovery is; once deducted it waits
		// no more, and the batch says where it went.
		waiting, batch := strconv.Itoa(r.DaysWaiting), ""
		if r.OffsetBatchID != 0 {
			waiting, batch = "", ident.FormatID(r.OffsetBatchID)
		}
		if err := w.Write(ident.FormatID(r.ID), spreadsheet.Text(r.ProviderName), r.RPPS, r.FINESS, ident.FormatID(r.InvoiceID),
			spreadsheet.Text(r.ExternalRef), spreadsheet.Amount(r.Amount), spreadsheet.Date(calendar.Today(r.CreatedAt)), waiting,
			r.Status.Label(), batch); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: recoveries csv: %w", err)
	}
	return w.Flush()
}

// CPAMRefundsCSV writes every refund due to the CPAM, oldest first: what
// the city must pay back, with the claim the CPAM had paid.
func (s *Store) CPAMRefundsCSV(ctx context.Context, out io.Writer) error {
	rows, err := s.pool.Query(ctx, refundSelect+` ORDER BY f.id`)
	if err != nil {
		return db.Translate(fmt.Errorf("billing: cpam refunds csv: %w", err))
	}
	defer rows.Close()
	w := spreadsheet.NewWriter(out)
	if err := w.Write("Remboursement", "Facture", "Réf. facture", "Effecteur", "Demande CPAM", "Lot CPAM", "Payé par la CPAM le",
		"Montant", "Dû depuis le"); err != nil {
		return err
	}
	for rows.Next() {
		f, err := pgx.RowToStructByName[CPAMRefund](rows)
		if err != nil {
			return fmt.Errorf("billing: cpam refunds csv: %w", err)
		}
		batch := ""
		if f.ClaimBatchID != 0 {
			batch = ident.FormatID(f.ClaimBatchID)
		}
		if err := w.Write(ident.FormatID(f.ID), ident.FormatID(f.InvoiceID), spreadsheet.Text(f.ExternalRef), spreadsheet.Text(f.ProviderName),
			ident.FormatID(f.ClaimID), batch, spreadsheet.Date(f.ClaimPaidOn), spreadsheet.Amount(f.Amount),
			spreadsheet.Date(calendar.Today(f.CreatedAt))); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: cpam refunds csv: %w", err)
	}
	return w.Flush()
}

// WriteStatementCSV writes a statement for a French spreadsheet (the
// spreadsheet package's CSV); GET /statement?format=csv and the web page's
// download both use it.
func WriteStatementCSV(out io.Writer, lines []StatementLine) error {
	w := spreadsheet.NewWriter(out)
	if err := w.Write("Facture", "Réf. facture", "Dossier", "Date des soins", "Échéance", "Total", "Statut", "Part CPAM", "Part ville",
		"Demande CPAM", "Payé par la CPAM", "Payé par la CPAM le", "Motif du rejet CPAM", "Dû par la ville", "Payé par la ville",
		"Payé par la ville le"); err != nil {
		return err
	}
	for _, l := range lines {
		inv := l.Invoice
		cpam, city := "", ""
		if inv.CPAMAmount != nil {
			cpam, city = spreadsheet.Amount(*inv.CPAMAmount), spreadsheet.Amount(*inv.CityAmount)
		}
		claimPaid := ""
		if l.ClaimPaidAmount != nil {
			claimPaid = spreadsheet.Amount(*l.ClaimPaidAmount)
		}
		owed, paid := decimal.Zero, decimal.Zero
		var paidOn calendar.Date
		for _, p := range l.Payouts {
			owed = owed.Add(p.Amount)
			if p.Status == settlement.PayoutPaid {
				paid = paid.Add(p.Amount)
				if p.PaidOn.After(paidOn) {
					paidOn = p.PaidOn
				}
			}
		}
		if err := w.Write(ident.FormatID(inv.ID), spreadsheet.Text(inv.ExternalRef), inv.PatientFileNumber, spreadsheet.Date(inv.CareDate),
			spreadsheet.Date(inv.Deadline), spreadsheet.Amount(inv.Total), inv.Status.Label(), cpam, city,
			l.ClaimStatus.Label(), claimPaid, spreadsheet.Date(l.ClaimPaidOn), spreadsheet.Text(l.ClaimRejection),
			spreadsheet.Amount(owed), spreadsheet.Amount(paid), spreadsheet.Date(paidOn)); err != nil {
			return err
		}
	}
	return w.Flush()
}
