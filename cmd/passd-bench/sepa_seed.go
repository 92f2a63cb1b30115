package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/settlement"
)

// The shape of a seeded payout batch: a few providers, each paid for many
// invoices, as a régie's weekly batch is.
const (
	payoutsPerProvider = 500
	maxBatchProviders  = 50
	invoicesPerFile    = 50
)

// The régie's account, as make run's demo seed sets it.
const (
	benchRegieName = "Régie PASS ambulatoire (banc d'essai)"
	benchRegieIBAN = "FR7630001007941234567890185"
	benchRegieBIC  = "BDFEFRPPCCT"
)

// seedPayoutBatch adds n due payouts over a few providers in one approved
// payout batch with complete régie settings, ready for its SEPA file;
// returns the batch id. Each payout pays a city_due invoice
// (deadline_passed) of a new provider and patient file, with its journal
// posting, so passd check still holds; the batch was prepared and approved
// by two finance users, and the régie's ceiling and budget are raised to
// hold it. Works on any migrated database, seeded or not.
func seedPayoutBatch(ctx context.Context, ownerURL string, n int) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("bench: payout batch: %d payouts", n)
	}
	keys, err := throwawayKeys(time.Now())
	if err != nil {
		return 0, err
	}
	pool, err := db.Open(ctx, ownerURL)
	if err != nil {
		return 0, fmt.Errorf("bench: payout batch: %w", err)
	}
	defer pool.Close()
	var batch int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		now := time.Now()
		today := calendar.Today(now)
		nProviders := min(max(1, n/payoutsPerProvider), maxBatchProviders)
		nPatients := max(1, n/invoicesPerFile)

		providers, err := reserveIDs(ctx, tx, "providers", nProviders)
		if err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "providers", []string{"id", "kind", "name", "rpps", "finess", "iban", "bic"}, nProviders,
			func(i int, row []any) error {
				fillProvider(row, providers[i], providerKinds[i%len(providerKinds)])
				return nil
			}); err != nil {
			return err
		}
		users, err := providerUsers(ctx, tx, "bench-sepa-provider-", providers)
		if err != nil {
			return err
		}
		preparer, err := financeUser(ctx, tx, "bench-finance-preparer")
		if err != nil {
			return err
		}
		approver, err := financeUser(ctx, tx, "bench-finance-approver")
		if err != nil {
			return err
		}

		patients, err := reserveIDs(ctx, tx, "patients", nPatients)
		if err != nil {
			return err
		}
		// File numbers follow the counter passd numbers files with.
		var last int
		if err := tx.QueryRow(ctx, `
			INSERT INTO file_number_counters (year, last) VALUES ($1, $2)
			ON CONFLICT (tenant_id, year) DO UPDATE SET last = file_number_counters.last + $2 RETURNING last`, today.Year(), nPatients).Scan(&last); err != nil {
			return fmt.Errorf("bench: payout batch: file numbers: %w", err)
		}
		sealer := keys.Sealer()
		if err := copyRows(ctx, tx, "patients", patientColumns[:7], nPatients, func(i int, row []any) error {
			id := patients[i]
			lastName, firstName, birth, err := sealedIdentity(sealer, id, "Bench", "Paiement "+strconv.Itoa(i), calendar.NewDate(1970+i%40, time.January, 1+i%28))
			if err != nil {
				return err
			}
			row[0], row[1], row[2], row[3], row[4], row[5] = id, claims.FileNumber(today.Year(), last-nPatients+i+1), sealer.Key(), lastName, firstName, birth
			row[6] = "none"
			return nil
		}); err != nil {
			return err
		}

		invoices, err := reserveIDs(ctx, tx, "invoices", n)
		if err != nil {
			return err
		}
		amount := func(i int) decimal.Decimal { return decimal.New(2000+int64(i*7919%13000), -2) }
		provider := func(i int) int64 { return providers[i%nProviders] }
		kind := func(i int) string { return providerKinds[i%nProviders%len(providerKinds)] }
		total := decimal.Zero
		if err := copyRows(ctx, tx, "invoices", []string{"id", "provider_id", "patient_id", "external_ref", "care_date", "deadline", "total",
			"status", "decision_reason", "cpam_amount", "city_amount", "decided_at", "created_by", "created_at"}, n,
			func(i int, row []any) error {
				care := today.AddDays(-100 - i%60)
				a := amount(i)
				total = total.Add(a)
				row[0], row[1], row[2], row[3] = invoices[i], provider(i), patients[i%nPatients], "S"+strconv.FormatInt(invoices[i], 10)
				row[4], row[5], row[6] = care, care.AddDays(deadlineDays), a
				row[7], row[8], row[9], row[10], row[11] = billing.StatusCityDue, settlement.DeadlinePassed, decimal.Zero, a, now
				row[12], row[13] = users[provider(i)], atParisTime(care, 18)
				return nil
			}); err != nil {
			return err
		}
		// One line each, an act of its provider's kind without a ceiling,
		// in the class a submission would give it.
		classes, err := seedRateClasses(ctx, tx)
		if err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "invoice_lines", []string{"invoice_id", "position", "code", "label", "quantity", "unit_price", "rate_class"}, n,
			func(i int, row []any) error {
				j := soloAct(kind(i))
				act := actCodes[kind(i)][j]
				row[0], row[1], row[2], row[3], row[4], row[5] = invoices[i], int32(1), act.code, act.label, int32(1), amount(i)
				row[6] = string(classes[kind(i)][j])
				return nil
			}); err != nil {
			return err
		}

		// Submitted and approved by two users (the four-eyes check), under
		// a ceiling and a budget that hold it.
		if err := tx.QueryRow(ctx, `
			INSERT INTO payout_batches (status, payout_count, total, ceiling, created_at, creator, submitted_at, prepared_by, approved_at, approved_by)
			VALUES ('approved', $1, $2, $2, $3::timestamptz - interval '2 hours', 'bench', $3::timestamptz - interval '1 hour', $4, $3, $5)
			RETURNING id`, n, total, now, preparer, approver).Scan(&batch); err != nil {
			return fmt.Errorf("bench: payout batch: insert batch: %w", err)
		}
		if err := copyRows(ctx, tx, "payouts", []string{"invoice_id", "provider_id", "amount", "reason", "status", "batch_id", "created_at"}, n,
			func(i int, row []any) error {
				row[0], row[1], row[2], row[3] = invoices[i], provider(i), amount(i), settlement.DeadlinePassed
				row[4], row[5], row[6] = settlement.PayoutApproved, batch, now
				return nil
			}); err != nil {
			return err
		}
		// Each payout became due with its posting, as billing's owe posts it.
		if _, err := tx.Exec(ctx, `
			WITH p AS MATERIALIZED (SELECT nextval('journal_txn_seq') AS txn, id, invoice_id, amount FROM payouts WHERE batch_id = $1)
			INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, payout_id)
			SELECT txn, $2::timestamptz, 'payout_due', 'pass_expense', amount, 0, invoice_id, id FROM p
			UNION ALL
			SELECT txn, $2::timestamptz, 'payout_due', 'provider_payable', 0, amount, invoice_id, id FROM p`, batch, now); err != nil {
			return fmt.Errorf("bench: payout batch: journal: %w", err)
		}
		// The régie's account as a finance user's confirmation writes it.
		if _, err := tx.Exec(ctx, `
			WITH c AS (INSERT INTO bank_detail_changes (name, iban, bic, requested_at, status, decided_at)
			           VALUES ($1, $2, $3, now(), 'confirmed', now()) RETURNING id)
			UPDATE settings SET regie_name = $1, regie_iban = $2, regie_bic = $3, regie_bank_change_id = (SELECT id FROM c),
			       regie_ceiling = greatest(regie_ceiling, $4),
			       annual_budget = greatest(annual_budget, (SELECT sum(amount) FROM payouts WHERE status IN ('approved', 'paid')))`,
			benchRegieName, benchRegieIBAN, benchRegieBIC, total); err != nil {
			return fmt.Errorf("bench: payout batch: settings: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return batch, nil
}

// reserveIDs takes count ids from table's identity sequence, for rows
// COPY writes with their id (a patient's sealed identity is bound to it).
func reserveIDs(ctx context.Context, tx pgx.Tx, table string, count int) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, count)
	if err != nil {
		return nil, fmt.Errorf("bench: %s ids: %w", table, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("bench: %s ids: %w", table, err)
	}
	return ids, nil
}

// financeUser returns the id of the finance user name, creating it once.
func financeUser(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO users (name, role) VALUES ($1, 'finance')
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`, name).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("bench: user %s: %w", name, err)
	}
	return id, nil
}

// frenchIBAN is a valid French IBAN for a seeded provider: bank 30006,
// branch 00001, the id as account number, with the RIB key and the
// ISO 13616 check digits computed.
func frenchIBAN(id int64) string {
	const bank, branch = 30006, 1
	account := id % 100_000_000_000
	key := 97 - (89*bank+15*branch+3*account)%97
	bban := fmt.Sprintf("%05d%05d%011d%02d", bank, branch, account, key)
	// The check digits make BBAN + "FR" (15, 27) + them ≡ 1 mod 97.
	return fmt.Sprintf("FR%02d%s", 98-mod97(bban+"152700"), bban)
}

func mod97(digits string) int {
	r := 0
	for i := 0; i < len(digits); i++ {
		r = (r*10 + int(digits[i]-'0')) % 97
	}
	return r
}
