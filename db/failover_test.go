package db_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/db"
	"passd/db/dbtest"
	"passd/fault"
)

// readOnlyServer is a private cluster that the test turns read-only and
// back, as a failover does to the server passd's pooled connections are
// on: default_transaction_read_only in the server's configuration,
// reloaded, so sessions already open see it at their next command.
type readOnlyServer struct {
	t     *testing.T
	url   string
	admin *pgx.Conn
}

func newReadOnlyServer(t *testing.T) *readOnlyServer {
	t.Helper()
	ctx := context.Background()
	cluster := dbtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	// The administrator's own session stays writable whatever the server's
	// default: it turns the server back.
	if _, err := admin.Exec(ctx, `SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE TABLE failover_probe (attempt int NOT NULL, pid int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &readOnlyServer{t: t, url: url, admin: admin}
}

// pool opens a pool of n connections, as passd connects (read-write
// servers only), and opens them all.
func (s *readOnlyServer) pool(n int) (*pgxpool.Pool, []uint32) {
	s.t.Helper()
	ctx := context.Background()
	pool, err := db.Open(ctx, s.url+"&target_session_attrs=read-write&pool_max_conns="+strconv.Itoa(n))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(pool.Close)
	var conns []*pgxpool.Conn
	var pids []uint32
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		conns = append(conns, c)
		pids = append(pids, c.Conn().PgConn().PID())
	}
	for _, c := range conns {
		c.Release()
	}
	return pool, pids
}

// set turns the server read-only (on) or back, and waits until a new
// session sees it.
func (s *readOnlyServer) set(on bool) {
	s.t.Helper()
	ctx := context.Background()
	stmt := `ALTER SYSTEM RESET default_transaction_read_only`
	want := "off"
	if on {
		stmt, want = `ALTER SYSTEM SET default_transaction_read_only = on`, "on"
	}
	if _, err := s.admin.Exec(ctx, stmt); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.admin.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, err := pgx.Connect(ctx, s.url)
		if err != nil {
			s.t.Fatal(err)
		}
		var got string
		err = conn.QueryRow(ctx, `SHOW default_transaction_read_only`).Scan(&got)
		_ = conn.Close(ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("default_transaction_read_only is still %s after 10 s", got)
		}
	}
}

// alive returns those of pids that are still server processes.
func (s *readOnlyServer) alive(pids []uint32) []uint32 {
	s.t.Helper()
	var out []uint32
	err := s.admin.QueryRow(context.Background(),
		`SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&out)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// waitGone waits until none of pids is a server process.
func (s *readOnlyServer) waitGone(what string, pids []uint32) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left := s.alive(pids)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: sessions %v still open 10 s later", what, left)
		}
	}
}

// A transaction that meets a server turned read-only (SQLSTATE 25006)
// drops that connection and runs again on another, and succeeds once the
// server takes writes again (a standby promoted); the connections that
// answered 25006 never serve again.
func TestInTxRetriesOnAnotherConnectionWhenTheServerTurnsReadOnly(t *testing.T) {
	t.Parallel()
	s := newReadOnlyServer(t)
	pool, warm := s.pool(2)
	s.set(true)

	ctx := context.Background()
	var (
		attempts  int
		refused   []uint32 // the sessions that answered 25006
		promoting sync.Once
		promoted  = make(chan struct{})
	)
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		attempts++
		pid := tx.Conn().PgConn().PID()
		_, err := tx.Exec(ctx, `INSERT INTO failover_probe (attempt, pid) VALUES ($1, $2)`, attempts, pid)
		if db.IsReadOnlyServer(err) {
			refused = append(refused, pid)
			// The "standby" is promoted while InTx backs off.
			promoting.Do(func() {
				go func() {
					defer close(promoted)
					s.set(false)
				}()
			})
		}
		return err
	})
	if len(refused) > 0 {
		<-promoted
	}
	if err != nil {
		t.Fatalf("InTx: %v (attempts %d)", err, attempts)
	}
	if len(refused) == 0 || !slices.Contains(warm, refused[0]) {
		t.Fatalf("the first attempt should have met the read-only server on a pooled session %v; refused by %v", warm, refused)
	}
	var rows int
	var pid uint32
	if err := s.admin.QueryRow(ctx, `SELECT count(*), max(pid) FROM failover_probe`).Scan(&rows, &pid); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || slices.Contains(refused, pid) {
		t.Fatalf("failover_probe holds %d rows, written by session %d; want 1, by none of %v", rows, pid, refused)
	}
	s.waitGone("the sessions that answered 25006", refused)
	t.Logf("%d attempts; sessions %v refused the write and were closed; %d wrote it", attempts, refused, pid)
}

// While no server takes writes, InTx answers unavailable (a 503), not a
// 500, and drops each read-only connection it tried. A read-only
// transaction that writes (a bug) is not retried and keeps its connection.
func TestInTxOnAReadOnlyServerIsUnavailable(t *testing.T) {
	t.Parallel()
	s := newReadOnlyServer(t)
	pool, warm := s.pool(2)
	ctx := context.Background()

	attempts := 0
	err := db.InTxOptions(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `INSERT INTO failover_probe VALUES (0, 0)`)
		return err
	})
	if !db.IsReadOnlyServer(err) || attempts != 1 {
		t.Fatalf("a write in a read-only transaction: %v after %d attempts; want 25006 after 1", err, attempts)
	}
	if left := s.alive(warm); len(left) != 2 {
		t.Fatalf("a read-only transaction's own 25006 closed a session of a writable server: %v left of %v", left, warm)
	}

	s.set(true)
	attempts = 0
	err = db.InTx(ctx, pool, func(tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `INSERT INTO failover_probe VALUES (1, 0)`)
		return err
	})
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("InTx on a read-only server: %v, want a fault.Unavailable", err)
	}
	// Both pooled sessions were tried and closed; new ones are refused at
	// connection (target_session_attrs=read-write), so fn ran twice.
	if attempts != 2 {
		t.Errorf("fn ran %d times, want 2 (once per pooled session)", attempts)
	}
	s.waitGone("the pooled sessions on the read-only server", warm)
	t.Logf("InTx on a read-only server: %v", err)
}

// A write outside InTx (a pool's Exec) on a server turned read-only is a
// 503, and its connection leaves the pool instead of failing the next
// write too.
func TestPoolDropsAConnectionWhoseServerTurnedReadOnly(t *testing.T) {
	t.Parallel()
	s := newReadOnlyServer(t)
	pool, warm := s.pool(1)
	s.set(true)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO failover_probe VALUES (1, 0)`)
	if !db.IsReadOnlyServer(err) || !fault.Is(db.Translate(err), fault.Unavailable) {
		t.Fatalf("Exec on a read-only server: %v; want 25006, translated to a fault.Unavailable", err)
	}
	s.waitGone("the pooled session that answered 25006", warm)
	s.set(false)
	if _, err := pool.Exec(ctx, `INSERT INTO failover_probe VALUES (2, 0)`); err != nil {
		t.Fatalf("Exec once the server takes writes again: %v", err)
	}
}

// A transaction whose pooled connection's server process is gone (the
// old primary died under it) runs again on a new connection: nothing of it
// was sent for commit, so the request succeeds instead of answering 503.
func TestInTxRetriesWhenItsConnectionBrokeBeforeTheCommit(t *testing.T) {
	t.Parallel()
	s := newReadOnlyServer(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(s.url + "&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	// Under load no connection idles the second after which pgxpool pings
	// it before lending it: the dead one is lent as it is.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := db.OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	warm := []uint32{c.Conn().PgConn().PID()}
	c.Release()
	if _, err := s.admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, warm[0]); err != nil {
		t.Fatal(err)
	}
	s.waitGone("the terminated session", warm)
	attempts := 0
	err = db.InTx(ctx, pool, func(tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `INSERT INTO failover_probe (attempt, pid) VALUES ($1, pg_backend_pid())`, attempts)
		return err
	})
	if err != nil || attempts != 1 {
		t.Fatalf("InTx after the server ended its connection: %v after %d runs of fn; want success after 1 (BEGIN fails on the dead one)", err, attempts)
	}
	var rows int
	if err := s.admin.QueryRow(ctx, `SELECT count(*) FROM failover_probe`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("failover_probe holds %d rows, want 1", rows)
	}
	t.Logf("%d attempts", attempts)
}
