package journal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/db"
	"passd/db/dbtest"
	"passd/journal"
)

var at = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

type line struct {
	txn     int64
	account string
	debit   string
	credit  string
}

func lines(t *testing.T, q db.DBTX) []line {
	t.Helper()
	rows, err := q.Query(context.Background(), `SELECT txn_id, account, debit::text, credit::text FROM journal_entries ORDER BY txn_id, debit = 0, id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (line, error) {
		var l line
		err := r.Scan(&l.txn, &l.account, &l.debit, &l.credit)
		return l, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPostWritesOneBalancedTransactionPerMovement(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	err := journal.Post(ctx, pool, at,
		journal.Posting{Movement: journal.ClaimQueued, Amount: decimal.RequireFromString("21.00"), InvoiceID: 1, ClaimID: 1},
		journal.Posting{Movement: journal.PayoutDue, Amount: decimal.RequireFromString("9.00"), InvoiceID: 1, PayoutID: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := lines(t, pool)
	if len(got) != 4 {
		t.Fatalf("lines = %v, want 2 per posting", got)
	}
	// Sorted by transaction, debit line first.
	want := []line{
		{got[0].txn, "cpam_receivable", "21.00", "0.00"}, {got[0].txn, "provider_payable", "0.00", "21.00"},
		{got[2].txn, "pass_expense", "9.00", "0.00"}, {got[2].txn, "provider_payable", "0.00", "9.00"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %v, want %v", i, got[i], want[i])
		}
	}
	if got[0].txn == got[2].txn {
		t.Errorf("two postings share transaction %d", got[0].txn)
	}
	report, err := journal.Check(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.Name == "journal_balanced" && f.Violations != 0 {
			t.Errorf("balanced postings reported unbalanced: %v", f.Examples)
		}
	}
}

func TestPostRefusesWhatCannotBeBooked(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	for _, p := range []journal.Posting{
		{Movement: journal.ClaimPaid, Amount: decimal.Zero},
		{Movement: journal.ClaimPaid, Amount: decimal.RequireFromString("-1.00")},
		{Movement: journal.ClaimPaid, Amount: decimal.RequireFromString("1.005")},
		{Movement: "gift", Amount: decimal.RequireFromString("1.00")},
	} {
		if err := journal.Post(context.Background(), pool, at, p); err == nil {
			t.Errorf("Post(%v) = nil, want an error", p)
		}
	}
	if got := lines(t, pool); len(got) != 0 {
		t.Errorf("refused postings wrote %v", got)
	}
}

func TestACorrectionIsAReversingTransactionNeverAnEdit(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	if err := journal.Post(ctx, pool, at, journal.Posting{Movement: journal.PayoutPaid, Amount: decimal.RequireFromString("12.50")}); err != nil {
		t.Fatal(err)
	}
	txn := lines(t, pool)[0].txn
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := journal.Reverse(ctx, tx, txn, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	balance := map[string]string{}
	rows, _ := pool.Query(ctx, `SELECT account, (sum(debit) - sum(credit))::text FROM journal_entries GROUP BY account`)
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		balance[a] = b
	}
	if balance["provider_payable"] != "0.00" || balance["regie_bank"] != "0.00" || len(lines(t, pool)) != 4 {
		t.Errorf("after the reversal: balances %v, lines %v", balance, lines(t, pool))
	}
	err = db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := journal.Reverse(ctx, tx, txn, at)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "already reversed") {
		t.Errorf("second reversal: %v, want refused", err)
	}
	for _, sql := range []string{`UPDATE journal_entries SET debit = 0`, `DELETE FROM journal_entries`} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s succeeded on the journal", sql)
		}
	}
}
