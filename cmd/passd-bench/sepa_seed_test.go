package main

import (
	"bytes"
	"context"
	"passd/db"
	"testing"
	"time"

	"passd/billing"
	"passd/db/dbtest"
	"passd/ident"
	"passd/journal"
	"passd/keyring/keyringtest"
	"passd/sepa"
)

// TestSeedPayoutBatchMakesAValidSEPAFile seeds a batch into a database
// that already holds a sweep's seed, then produces its SEPA file as the
// API does (CheckSEPA, WriteSEPA) and validates it against the XSD.
func TestSeedPayoutBatchMakesAValidSEPAFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := benchDBURL(t)
	if _, err := seedSweep(ctx, u, backlog(100, 0), keyringtest.New(t)); err != nil {
		t.Fatal(err)
	}
	const n = 1200
	id, err := seedPayoutBatch(ctx, u, n)
	if err != nil {
		t.Fatal(err)
	}
	// A second batch in the same database: nothing collides.
	if _, err := seedPayoutBatch(ctx, u, 3); err != nil {
		t.Fatalf("second batch: %v", err)
	}

	pool := openAs(t, u, dbtest.Role())
	store := billing.NewStore(db.NewPool(pool).Bind(dbtest.Convention), nil, billing.Config{Now: time.Now})
	b, err := store.CheckSEPA(ctx, id)
	if err != nil {
		t.Fatalf("check sepa: %v", err)
	}
	if b.Status != billing.BatchApproved || b.PayoutCount != n || len(b.Providers) != n/payoutsPerProvider || b.PreparedByID == 0 {
		t.Errorf("batch %d: %s, %d payouts over %d providers, prepared by %d", id, b.Status, b.PayoutCount, len(b.Providers), b.PreparedByID)
	}
	var doc bytes.Buffer
	if err := store.WriteSEPA(ctx, id, &doc); err != nil {
		t.Fatalf("write sepa: %v", err)
	}
	if err := sepa.Validate(ctx, doc.Bytes()); err != nil {
		t.Fatalf("the SEPA file does not validate: %v", err)
	}
	if !bytes.Contains(doc.Bytes(), []byte("<NbOfTxs>2</NbOfTxs>")) || !bytes.Contains(doc.Bytes(), []byte("<CtrlSum>"+b.Total.StringFixed(2)+"</CtrlSum>")) {
		t.Errorf("the file does not carry the batch's 2 transfers and total %s", b.Total.StringFixed(2))
	}
	report, err := journal.Check(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK {
		t.Errorf("invariants broken: %+v", report.Findings)
	}
}

func TestSeededActCodesAreValid(t *testing.T) {
	for kind, acts := range actCodes {
		for _, act := range acts {
			if _, _, err := ident.ParseActCode(act.code); err != nil {
				t.Errorf("%s: %s: %v", kind, act.code, err)
			}
		}
	}
}

func TestFrenchIBANIsValid(t *testing.T) {
	for _, id := range []int64{1, 2, 97, 1000, 123456789, 99_999_999_999} {
		if _, err := ident.ParseIBAN(frenchIBAN(id)); err != nil {
			t.Errorf("provider %d: %s: %v", id, frenchIBAN(id), err)
		}
	}
}
