package billing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"passd/audit"
)

// TestASEPAFileIsFrozenAtApproval: the file downloaded after approval, then
// again after the régie's and a provider's bank details changed, is the
// same bytes, whose SHA-256 approval kept; each download is audited with
// it; passd check's verification finds a snapshot altered behind passd's
// back.
func TestASEPAFileIsFrozenAtApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, owner, batch, providers := approvedBatch(t, 40)
	b, err := store.PayoutBatch(ctx, batch)
	if err != nil || len(b.SEPASHA256) != sha256.Size {
		t.Fatalf("approved batch: %v, sha256 %x", err, b.SEPASHA256)
	}
	download := func() []byte {
		t.Helper()
		if _, err := store.OpenSEPA(ctx, audit.Actor{Name: "finance-a"}, batch); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := store.WriteSEPA(ctx, batch, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	first := download()
	if sum := sha256.Sum256(first); !bytes.Equal(sum[:], b.SEPASHA256) {
		t.Fatalf("the file's SHA-256 %x is not the one approval kept %x", sum, b.SEPASHA256)
	}
	if !bytes.Contains(first, []byte("FR7630006000011234567890189")) {
		t.Fatal("the file does not debit the régie's account")
	}
	st, err := store.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.RegieIBAN, st.RegieName = "FR7610107001011234567890129", "Autre régie"
	if _, err := store.PutSettings(ctx, audit.Actor{Name: "admin"}, st); err != nil {
		t.Fatal(err)
	}
	// A confirmed change of the provider's details, as a finance user's
	// confirmation writes it.
	if _, err := owner.Exec(ctx, `
		WITH c AS (INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
		           SELECT id, 'Mallory', 'FR7610107001011234567890129', bic, now(), 'confirmed', now() FROM providers WHERE id = $1
		           RETURNING id, name, iban)
		UPDATE providers SET iban = c.iban, name = c.name, bank_change_id = c.id FROM c WHERE providers.id = $1`, providers[0]); err != nil {
		t.Fatal(err)
	}
	if second := download(); !bytes.Equal(first, second) {
		t.Fatalf("the file changed with the bank details:\n%s", second)
	}
	var downloads int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'payout_batch.sepa_download' AND entity_id = $1
		AND after->>'sha256' = $2`, fmt.Sprint(batch), hex.EncodeToString(b.SEPASHA256)).Scan(&downloads); err != nil || downloads != 2 {
		t.Fatalf("%d audited downloads with the hash (%v), want 2", downloads, err)
	}
	if bad, err := store.VerifySEPA(ctx); err != nil || len(bad) != 0 {
		t.Fatalf("verify: %v, %v", bad, err)
	}
	// Altered behind passd's back (its role may not: the table is
	// append-only), the snapshot no longer gives the kept file.
	tx, err := owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE payout_batch_transfers SET iban = 'FR7610107001011234567890129' WHERE batch_id = $1`, batch); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	bad, err := store.VerifySEPA(ctx)
	if err != nil || len(bad) != 1 || bad[0].BatchID != batch {
		t.Fatalf("a snapshot altered behind passd's back: %v, %v; want batch %d named", bad, err, batch)
	}
}
