package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/db"
	"passd/db/dbtest"
)

// appendRows writes n audit rows through both insert paths, as the
// application does: one Append of several entries per row pair, and
// AppendSame for a batch.
func appendRows(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	actor := audit.Actor{UserID: 0, Name: "tester"}
	for i := 0; i < n; {
		if i%5 == 3 && n-i >= 3 {
			ids := []int64{int64(i), int64(i + 1), int64(i + 2)}
			if err := audit.AppendSame(ctx, pool, audit.Job("claim-batch"), "claim.transmit", "claim", ids,
				map[string]any{"status": "queued"}, map[string]any{"status": "transmitted"}); err != nil {
				t.Fatal(err)
			}
			i += 3
			continue
		}
		entries := []audit.Entry{{Actor: actor, Action: "invoice.create", Entity: "invoice", EntityID: fmt.Sprint(i),
			After: map[string]any{"total": "30.00", "note": "Hélène \"quoted\"\n"}}}
		if n-i >= 2 {
			entries = append(entries, audit.Entry{Actor: actor, Action: "invoice.decide", Entity: "invoice", EntityID: fmt.Sprint(i),
				Before: map[string]any{"status": "pending"}})
		}
		if err := audit.Append(ctx, pool, entries...); err != nil {
			t.Fatal(err)
		}
		i += len(entries)
	}
}

// tamper runs sql as the owner with triggers off, as an intruder with the
// owner's rights could.
func tamper(t *testing.T, owner *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sql, args...)
		return err
	})
	if err != nil {
		t.Fatalf("tamper %s: %v", sql, err)
	}
}

func idAt(t *testing.T, pool *pgxpool.Pool, seq int64) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM audit_log WHERE chain_seq = $1`, seq).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAnIntactChainVerifies(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	report, err := audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 0 || report.HeadSeq != 0 {
		t.Fatalf("empty log: %+v, %v; want intact, no rows", report, err)
	}
	appendRows(t, pool, 20)
	report, err = audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 20 || report.HeadSeq != 20 {
		t.Fatalf("20 rows: %+v, %v; want intact, 20 rows, head at 20", report, err)
	}
	// Appending is in chain order: seq follows id, prev_hash the row before.
	var broken int
	err = pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT chain_seq, prev_hash, lag(hash) OVER (ORDER BY chain_seq) AS before, row_number() OVER (ORDER BY id) AS n
			FROM audit_log) x
		WHERE chain_seq <> n OR (chain_seq > 1 AND prev_hash <> before) OR (chain_seq = 1 AND prev_hash <> '\x'::bytea || decode(repeat('00', 32), 'hex'))`).Scan(&broken)
	if err != nil || broken != 0 {
		t.Fatalf("%d rows out of chain order, %v", broken, err)
	}
	// A caller cannot choose the chain columns: the trigger overwrites them.
	if _, err := pool.Exec(ctx, `INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq, prev_hash, hash)
		VALUES ('forger', 'x', 'x', '1', 7, '\x00', '\x00')`); err != nil {
		t.Fatal(err)
	}
	if report, err := audit.Verify(ctx, pool); err != nil || !report.OK() || report.Rows != 21 {
		t.Fatalf("after an insert naming chain values: %+v, %v", report, err)
	}
}

func TestVerifyNamesEachBreak(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, owner *pgxpool.Pool) []audit.Problem
		text   string
	}{
		{"a row altered", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `UPDATE audit_log SET after = '{"total": "3000.00"}' WHERE chain_seq = 4`)
			return []audit.Problem{{Kind: audit.Altered, ID: idAt(t, owner, 4), Seq: 4}}
		}, "audit row id=%d seq=4: altered"},
		{"a row altered and given a new hash", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `UPDATE audit_log SET actor = 'someone else',
				hash = audit_log_hash(chain_seq, id, at, actor_id, 'someone else', action, entity, entity_id, before, after, prev_hash)
				WHERE chain_seq = 6`)
			return []audit.Problem{{Kind: audit.Rehashed, ID: idAt(t, owner, 6), Seq: 6}}
		}, "audit row id=%d seq=6: altered and rehashed"},
		{"the first row altered", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `UPDATE audit_log SET entity_id = '999' WHERE chain_seq = 1`)
			return []audit.Problem{{Kind: audit.Altered, ID: idAt(t, owner, 1), Seq: 1}}
		}, "audit row id=%d seq=1: altered"},
		{"a middle row deleted", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `DELETE FROM audit_log WHERE chain_seq = 5`)
			return []audit.Problem{{Kind: audit.Deleted, FromSeq: 5, ToSeq: 5}}
		}, "audit row seq=5 deleted"},
		{"middle rows deleted", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `DELETE FROM audit_log WHERE chain_seq BETWEEN 3 AND 7`)
			return []audit.Problem{{Kind: audit.Deleted, FromSeq: 3, ToSeq: 7}}
		}, "rows between seq 3 and 7 deleted"},
		{"the last row deleted", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `DELETE FROM audit_log WHERE chain_seq = 10`)
			return []audit.Problem{{Kind: audit.TailDeleted, FromSeq: 10, ToSeq: 10}}
		}, "audit row seq=10 deleted (the last row"},
		{"every row deleted", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `DELETE FROM audit_log`)
			return []audit.Problem{{Kind: audit.TailDeleted, FromSeq: 1, ToSeq: 10}}
		}, "rows between seq 1 and 10 deleted (the last rows"},
		{"the log truncated and the head reset", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `DELETE FROM audit_log WHERE chain_seq > 8`)
			tamper(t, owner, `UPDATE audit_chain_head SET chain_seq = 8`)
			return []audit.Problem{{Kind: audit.HeadMismatch, ID: idAt(t, owner, 8), Seq: 8}}
		}, "chain head at seq 8 does not hold the hash of audit row id=%d seq=8"},
		{"a row appended around the trigger", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq, prev_hash, hash)
				SELECT 'forger', 'x', 'x', '1', 11, hash, hash FROM audit_log WHERE chain_seq = 10`)
			id := idAt(t, owner, 11)
			return []audit.Problem{{Kind: audit.BeyondHead, ID: id, Seq: 11, FromSeq: 10}, {Kind: audit.Altered, ID: id, Seq: 11}}
		}, "audit row id=%d seq=11: after the chain head"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			app, owner := dbtest.NewOwner(t)
			appendRows(t, app, 10)
			want := c.tamper(t, owner)
			report, err := audit.Verify(context.Background(), app)
			if err != nil {
				t.Fatal(err)
			}
			if report.OK() || report.Broken != int64(len(want)) || fmt.Sprint(report.Problems) != fmt.Sprint(want) {
				t.Fatalf("report %+v, want the problems %v", report, want)
			}
			text := c.text
			if strings.Contains(text, "%d") {
				text = fmt.Sprintf(text, want[0].ID)
			}
			if got := report.Problems[0].String(); !strings.HasPrefix(got, text) {
				t.Errorf("problem reads %q, want it to begin %q", got, text)
			}
		})
	}
}

// Appends from concurrent transactions take turns on the chain head and
// leave one unbroken chain; a transaction rolled back leaves no gap.
func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	const workers, txs = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*txs)
	for w := range workers {
		wg.Go(func() {
			for i := range txs {
				err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
					if err := audit.Append(ctx, tx, audit.Entry{Actor: audit.Job("race"), Action: "race.one", Entity: "race", EntityID: fmt.Sprint(w, "-", i)}); err != nil {
						return err
					}
					if err := audit.AppendSame(ctx, tx, audit.Job("race"), "race.many", "race", []int64{1, 2, 3}, nil, map[string]any{"w": w}); err != nil {
						return err
					}
					if i%4 == 0 {
						return fmt.Errorf("roll back on purpose")
					}
					return nil
				})
				if err != nil && err.Error() != "roll back on purpose" {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	report, err := audit.Verify(ctx, pool)
	committed := int64(workers * (txs - (txs+3)/4) * 4)
	if err != nil || !report.OK() || report.Rows != committed || report.HeadSeq != committed {
		t.Fatalf("after concurrent appends: %+v, %v; want an intact chain of %d rows", report, err, committed)
	}
}
