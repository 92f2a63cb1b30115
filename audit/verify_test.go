package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/db"
	"passd/db/dbtest"
)

// appendRows writes n audit rows through both insert paths, as the
// application does: one Append of several entries per row pair, and
// AppendSame for a batch.
func appendRows(t *testing.T, pool db.DBTX, n int) {
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

// seal chains every row appended so far, as passd serve's sealer would.
func seal(t *testing.T, pool db.DBTX) int64 {
	t.Helper()
	n, err := audit.SealPending(context.Background(), pool, audit.SealBatch)
	if err != nil {
		t.Fatal(err)
	}
	return n
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

func idAt(t *testing.T, pool db.DBTX, seq int64) int64 {
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
	if err != nil || !report.OK() || report.Rows != 0 || report.HeadSeq != 0 || report.Pending != 0 || report.OldestPending != nil {
		t.Fatalf("empty log: %+v, %v; want intact, no rows", report, err)
	}
	appendRows(t, pool, 20)
	// Appended, not sealed yet: outside the chain, counted apart.
	report, err = audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 0 || report.HeadSeq != 0 || report.Pending != 20 || report.OldestPending == nil {
		t.Fatalf("20 rows unsealed: %+v, %v; want intact, no rows in the chain, 20 pending", report, err)
	}
	if n := seal(t, pool); n != 20 {
		t.Fatalf("sealed %d rows, want 20", n)
	}
	report, err = audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 20 || report.HeadSeq != 20 || report.Pending != 0 || report.OldestPending != nil {
		t.Fatalf("20 rows: %+v, %v; want intact, 20 rows, head at 20", report, err)
	}
	if n := seal(t, pool); n != 0 {
		t.Fatalf("sealed %d rows again, want 0", n)
	}
	// One sealer, every row committed: seq follows id, prev_hash the row before.
	var broken int
	err = pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT chain_seq, prev_hash, lag(hash) OVER (ORDER BY chain_seq) AS before, row_number() OVER (ORDER BY id) AS n
			FROM audit_log) x
		WHERE chain_seq <> n OR (chain_seq > 1 AND prev_hash <> before) OR (chain_seq = 1 AND prev_hash <> '\x'::bytea || decode(repeat('00', 32), 'hex'))`).Scan(&broken)
	if err != nil || broken != 0 {
		t.Fatalf("%d rows out of chain order, %v", broken, err)
	}
	// A caller cannot choose the chain columns, nor the time or the id.
	for _, sql := range []string{
		`INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq, prev_hash, hash) VALUES ('forger', 'x', 'x', '1', 7, '\x00', '\x00')`,
		`INSERT INTO audit_log (actor, action, entity, entity_id, hash) VALUES ('forger', 'x', 'x', '1', '\x00')`,
		`INSERT INTO audit_log (actor, action, entity, entity_id, at) VALUES ('forger', 'x', 'x', '1', '2020-01-01')`,
		`INSERT INTO audit_log (id, actor, action, entity, entity_id) OVERRIDING SYSTEM VALUE VALUES (1000, 'forger', 'x', 'x', '1')`,
	} {
		var pgErr *pgconn.PgError
		if _, err := pool.Exec(ctx, sql); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: %v, want permission denied (42501)", sql, err)
		}
	}
	if report, err := audit.Verify(ctx, pool); err != nil || !report.OK() || report.Rows != 20 || report.Pending != 0 {
		t.Fatalf("after inserts naming chain values: %+v, %v", report, err)
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
		{"a row chained around the sealer", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq, prev_hash, hash)
				SELECT 'forger', 'x', 'x', '1', 11, hash, hash FROM audit_log WHERE chain_seq = 10`)
			id := idAt(t, owner, 11)
			return []audit.Problem{{Kind: audit.BeyondHead, ID: id, Seq: 11, FromSeq: 10}, {Kind: audit.Altered, ID: id, Seq: 11}}
		}, "audit row id=%d seq=11: after the chain head"},
		{"a sealed row made unsealed again", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq = 3`)
			return []audit.Problem{{Kind: audit.Deleted, FromSeq: 3, ToSeq: 3}}
		}, "audit row seq=3 deleted"},
		{"a sealed row resealed at the end of the chain", func(t *testing.T, owner *pgxpool.Pool) []audit.Problem {
			tamper(t, owner, `UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq = 3`)
			if _, err := audit.Seal(context.Background(), owner, 10); err != nil {
				t.Fatal(err)
			}
			return []audit.Problem{{Kind: audit.Deleted, FromSeq: 3, ToSeq: 3}}
		}, "audit row seq=3 deleted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			app, owner := dbtest.NewOwner(t)
			appendRows(t, app, 10)
			seal(t, app)
			want := c.tamper(t, owner)
			report, err := audit.Verify(context.Background(), app)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, report.Problems); diff != "" || report.OK() || report.Broken != int64(len(want)) {
				t.Fatalf("report %+v, want %d broken; problems (-want +got):\n%s", report, len(want), diff)
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

// Appends from concurrent transactions, some rolled back, while three
// sealers run at once: every committed row is sealed exactly once, the
// chain numbers follow each other without a gap, and the chain verifies.
func TestConcurrentAppendsAndSealersKeepOneChain(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	const workers, txs, sealers = 6, 20, 3
	var appending, sealing sync.WaitGroup
	errs := make(chan error, workers*txs+sealers)
	for w := range workers {
		appending.Go(func() {
			for i := range txs {
				err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
					if err := audit.Append(ctx, tx, audit.Entry{Actor: audit.Job("race"), Action: "race.one", Entity: "race", EntityID: fmt.Sprint(w, "-", i)}); err != nil {
						return err
					}
					if err := audit.AppendSame(ctx, tx, audit.Job("race"), "race.many", "race", []int64{1, 2, 3}, nil, map[string]any{"w": w}); err != nil {
						return err
					}
					if i%4 == 0 {
						return errRollBack
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollBack) {
					errs <- err
				}
			}
		})
	}
	done := make(chan struct{})
	var sealed [sealers]int64
	for s := range sealers {
		sealing.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				// Small batches, so that the sealers take turns many times.
				n, err := audit.Seal(ctx, pool, 7)
				if err != nil {
					errs <- err
					return
				}
				sealed[s] += int64(n)
			}
		})
	}
	appending.Wait()
	close(done)
	sealing.Wait()
	last := seal(t, pool)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	committed := int64(workers * (txs - (txs+3)/4) * 4)
	t.Logf("the sealers sealed %v rows, the last seal %d", sealed, last)
	if total := sealed[0] + sealed[1] + sealed[2] + last; total != committed {
		t.Errorf("the sealers sealed %v rows and the last seal %d, %d in all; want the %d committed", sealed, last, total, committed)
	}
	var rows, distinct, first, lastSeq int64
	err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT chain_seq), coalesce(min(chain_seq), 0), coalesce(max(chain_seq), 0) FROM audit_log`).
		Scan(&rows, &distinct, &first, &lastSeq)
	if err != nil || rows != committed || distinct != committed || first != 1 || lastSeq != committed {
		t.Fatalf("%d rows, %d chain numbers from %d to %d (%v); want %d rows numbered 1 to %d", rows, distinct, first, lastSeq, err, committed, committed)
	}
	report, err := audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != committed || report.HeadSeq != committed || report.Pending != 0 {
		t.Fatalf("after concurrent appends and seals: %+v, %v; want an intact chain of %d rows", report, err, committed)
	}
}

var errRollBack = errors.New("roll back on purpose")

// A row committed after rows with higher ids were sealed is sealed after
// them: the chain follows the order of sealing, and Verify walks it by
// chain_seq, not by id.
func TestARowCommittedLateIsSealedAfterHigherIDs(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	late, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx) //nolint:errcheck
	if err := audit.Append(ctx, late, audit.Entry{Actor: audit.Job("late"), Action: "late.one", Entity: "late", EntityID: "1"}); err != nil {
		t.Fatal(err)
	}
	appendRows(t, pool, 3)
	// The open transaction's row is not committed: the sealer does not see it.
	if n := seal(t, pool); n != 3 {
		t.Fatalf("sealed %d rows, want the 3 committed", n)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	report, err := audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 3 || report.Pending != 1 {
		t.Fatalf("before sealing the late row: %+v, %v; want 3 rows sealed and 1 pending", report, err)
	}
	if n := seal(t, pool); n != 1 {
		t.Fatalf("sealed %d rows, want the late one", n)
	}
	var ids []int64
	rows, err := pool.Query(ctx, `SELECT id FROM audit_log ORDER BY chain_seq`)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || !slices.IsSorted(ids[:3]) || ids[3] >= ids[0] {
		t.Fatalf("ids in chain order %v, want the late row (the lowest id) last", ids)
	}
	report, err = audit.Verify(ctx, pool)
	if err != nil || !report.OK() || report.Rows != 4 || report.HeadSeq != 4 || report.Pending != 0 {
		t.Fatalf("after sealing the late row: %+v, %v; want an intact chain of 4", report, err)
	}
}

// A sealer holding the head makes the others return at once, sealing
// nothing, rather than queue behind it.
func TestASecondSealerDoesNotWait(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	appendRows(t, pool, 5)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if n, err := audit.Seal(ctx, first, 2); err != nil || n != 2 {
		t.Fatalf("first sealer: %d, %v; want 2", n, err)
	}
	if n, err := audit.SealPending(ctx, pool, 2); err != nil || n != 0 {
		t.Fatalf("second sealer while the first holds the head: %d, %v; want 0 at once", n, err)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := audit.SealPending(ctx, pool, 2); err != nil || n != 3 {
		t.Fatalf("after the first committed: %d, %v; want the 3 left, in batches of 2", n, err)
	}
	if _, err := audit.Seal(ctx, pool, 0); err == nil {
		t.Error("a seal of 0 rows at most succeeded, want an error")
	}
}

// The sealer passd serve runs seals what was appended, and returns when
// its context ends.
func TestRunSealerSealsUntilStopped(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		audit.RunSealer(ctx, pool, 10*time.Millisecond, slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil)))
	}()
	for round := range 3 {
		appendRows(t, pool, 10)
		// Wait for the sealer; the test's own deadline bounds the wait.
		for {
			report, err := audit.Verify(context.Background(), pool)
			if err != nil {
				t.Fatal(err)
			}
			if report.Pending == 0 {
				if !report.OK() || report.Rows != int64(10*(round+1)) {
					t.Fatalf("round %d: %+v", round, report)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	<-stopped
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("the sealer logged an error: %s", logs.String())
	}
}

// syncWriter serialises writes for a logger shared across goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
