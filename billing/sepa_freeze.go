package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/ident"
	"passd/sepa"
)

// frozenFile is what the approval of a batch writes on it: the header of
// its SEPA file and the file's SHA-256.
type frozenFile struct {
	m    sepa.Message
	hash []byte
}

// freezeSEPA snapshots, in the transaction that approves batch b at now,
// what its SEPA file says: per provider the payee's name, IBAN, BIC,
// amount and remittance text (payout_batch_transfers), and returns the
// header — the régie's account (st), the creation time and execution date
// — with the file's SHA-256, which the approval writes on the batch. The
// file is written from these only (writeFrozen), so bank details changed
// after approval change nothing in it. No régie account, or a provider no
// file can pay: 409.
func freezeSEPA(ctx context.Context, tx pgx.Tx, st Settings, b PayoutBatch, now time.Time) (frozenFile, error) {
	if !st.Complete() {
		return frozenFile{}, errSettingsIncomplete()
	}
	if err := checkProviders(ctx, tx, b.ID); err != nil {
		return frozenFile{}, err
	}
	rows, err := queryPayouts(ctx, tx, b.ID)
	if err != nil {
		return frozenFile{}, err
	}
	// The payouts come a provider's together, by provider: each provider
	// met is its transfer's, in order.
	var ts []sepa.Transfer
	var providers []int64
	payouts := func(yield func(sepaPayout, error) bool) {
		for p, err := range payoutRows(rows) {
			if err == nil && (len(providers) == 0 || providers[len(providers)-1] != p.providerID) {
				providers = append(providers, p.providerID)
			}
			if !yield(p, err) {
				return
			}
		}
	}
	for t, err := range transfers(payouts, b.ID) {
		if err != nil {
			rows.Close()
			return frozenFile{}, fmt.Errorf("billing: sepa %d: %w", b.ID, err)
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return frozenFile{}, fmt.Errorf("billing: sepa %d: %w", b.ID, err)
	}
	if len(providers) != len(ts) {
		return frozenFile{}, fmt.Errorf("billing: sepa %d: %d providers for %d transfers", b.ID, len(providers), len(ts))
	}
	m := sepaMessage(b.ID, now, st, len(ts), b.Net())
	sum := sha256.New()
	if err := sepa.Write(sum, m, slicedTransfers(ts)); err != nil {
		return frozenFile{}, fmt.Errorf("billing: sepa %d: %w", b.ID, err)
	}
	hash := sum.Sum(nil)
	n := len(ts)
	positions, names, ibans, bics, amounts, refs, e2e := make([]int32, n), make([]string, n), make([]string, n), make([]string, n),
		make([]decimal.Decimal, n), make([]string, n), make([]string, n)
	for i, t := range ts {
		positions[i], names[i], ibans[i], bics[i], amounts[i], refs[i], e2e[i] = int32(i+1), t.CreditorName, t.IBAN, t.BIC, t.Amount, t.Remittance, t.EndToEndID
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO payout_batch_transfers (batch_id, position, provider_id, end_to_end_id, creditor_name, iban, bic, amount, remittance)
		SELECT $1, u.* FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::text[]) AS u`,
		b.ID, positions, providers, e2e, names, ibans, bics, amounts, refs); err != nil {
		return frozenFile{}, fmt.Errorf("billing: sepa %d: snapshot: %w", b.ID, err)
	}
	return frozenFile{m: m, hash: hash}, nil
}

func slicedTransfers(ts []sepa.Transfer) iter.Seq2[sepa.Transfer, error] {
	return func(yield func(sepa.Transfer, error) bool) {
		for _, t := range ts {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// writeFrozen writes batch id's file from its snapshot, and returns the
// SHA-256 of what it wrote.
func writeFrozen(ctx context.Context, tx pgx.Tx, id int64, out io.Writer) ([]byte, error) {
	var created time.Time
	var debtor Settings
	var net decimal.Decimal
	var exec calendar.Date
	var n int
	if err := tx.QueryRow(ctx, `SELECT sepa_created_at, sepa_execution_date, debtor_name, debtor_iban, debtor_bic, total - offset_total,
		(SELECT count(*) FROM payout_batch_transfers WHERE batch_id = $1 AND payout_batch_transfers.tenant_id = passd_tenant())
		FROM payout_batches WHERE id = $1 AND sepa_sha256 IS NOT NULL AND payout_batches.tenant_id = passd_tenant()`, id).
		Scan(&created, &exec, &debtor.RegieName, &debtor.RegieIBAN, &debtor.RegieBIC, &net, &n); err != nil {
		return nil, fmt.Errorf("billing: sepa %d: snapshot: %w", id, err)
	}
	m := sepaMessage(id, created, debtor, n, net)
	m.ExecutionDate = exec // as approval set it, whatever the calendar says now
	rows, err := tx.Query(ctx, `SELECT end_to_end_id, creditor_name, iban, bic, amount, remittance FROM payout_batch_transfers
		WHERE batch_id = $1 AND tenant_id = passd_tenant() ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("billing: sepa %d: snapshot: %w", id, err)
	}
	defer rows.Close()
	ts := func(yield func(sepa.Transfer, error) bool) {
		for rows.Next() {
			var t sepa.Transfer
			if err := rows.Scan(&t.EndToEndID, &t.CreditorName, &t.IBAN, &t.BIC, &t.Amount, &t.Remittance); err != nil {
				yield(sepa.Transfer{}, err)
				return
			}
			if !yield(t, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(sepa.Transfer{}, err)
		}
	}
	sum := sha256.New()
	if err := sepa.Write(io.MultiWriter(out, sum), m, ts); err != nil {
		return nil, fmt.Errorf("billing: sepa %d: %w", id, err)
	}
	return sum.Sum(nil), nil
}

// OpenSEPA is CheckSEPA for a download by actor: the download is audited
// (who, when, the file's SHA-256) before a byte of it is written.
func (s *Store) OpenSEPA(ctx context.Context, actor audit.Actor, id int64) (PayoutBatch, error) {
	b, err := s.CheckSEPA(ctx, id)
	if err != nil {
		return b, err
	}
	after := map[string]any{"status": b.Status}
	if b.SEPASHA256 != nil {
		after["sha256"] = hex.EncodeToString(b.SEPASHA256)
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.sepa_download", Entity: "payout_batch",
			EntityID: ident.FormatID(id), After: after})
	})
	return b, db.Translate(err)
}

// SEPAMismatch is an approved batch whose file, written from its snapshot
// now, is not the one whose SHA-256 approval kept.
type SEPAMismatch struct {
	BatchID int64  `json:"batch_id,string"`
	Kept    string `json:"kept_sha256"`
	Written string `json:"written_sha256"`
}

// VerifySEPA writes again the file of every frozen batch and compares its
// SHA-256 with the one approval kept (passd check).
func (s *Store) VerifySEPA(ctx context.Context) ([]SEPAMismatch, error) {
	var out []SEPAMismatch
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, sepa_sha256 FROM payout_batches WHERE sepa_sha256 IS NOT NULL AND tenant_id = passd_tenant() ORDER BY id`)
		if err != nil {
			return err
		}
		type kept struct {
			id   int64
			hash []byte
		}
		batches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kept, error) {
			var k kept
			return k, r.Scan(&k.id, &k.hash)
		})
		if err != nil {
			return err
		}
		for _, k := range batches {
			written, err := writeFrozen(ctx, tx, k.id, io.Discard)
			if err != nil {
				return err
			}
			if hex.EncodeToString(written) != hex.EncodeToString(k.hash) {
				out = append(out, SEPAMismatch{BatchID: k.id, Kept: hex.EncodeToString(k.hash), Written: hex.EncodeToString(written)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: verify sepa files: %w", err))
	}
	return out, nil
}
