package db_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/db"
	"passd/db/dbtest"
)

func TestDecimalRoundTripsWithoutFloat(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var got decimal.Decimal
	want := decimal.RequireFromString("12345678.91")
	if err := pool.QueryRow(context.Background(), "SELECT $1::numeric(12,2)", want).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestInTxRetriesSerializationFailures(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	attempts := 0
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		attempts++
		if attempts < 3 {
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$`)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if attempts != 3 {
		t.Fatalf("attempts = %d, want 3", attempts)
	}
}

func TestInTxDoesNotRetryOtherErrors(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	attempts := 0
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `SELECT 1/0`)
		return err
	})
	if err == nil || attempts != 1 {
		t.Fatalf("err = %v, attempts = %d; want an error after one attempt", err, attempts)
	}
}
