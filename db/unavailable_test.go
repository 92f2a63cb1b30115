package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"passd/db"
	"passd/db/dbtest"
	"passd/fault"
)

// connectivityErrors gathers, from real servers, the errors a store sees
// when the database is out of reach: a private cluster stopped in fast and
// immediate mode under a running query, connections to it while it is down,
// a backend terminated by an administrator, a pool with no free connection,
// a query past its deadline.
func connectivityErrors(t *testing.T) map[string]error {
	ctx := context.Background()
	got := map[string]error{}

	cluster := dbtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	// duringStop runs a long query and stops the server under it.
	duringStop := func(mode string) (queryErr, afterErr error) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		started := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			close(started)
			_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
			done <- err
		}()
		<-started
		waitForSleepers(t, url, 1)
		cluster.Stop(t, mode)
		queryErr = <-done
		_, afterErr = conn.Exec(ctx, "SELECT 1")
		return queryErr, afterErr
	}
	got["query during a fast shutdown"], got["query on the connection after it"] = duringStop("fast")
	_, err := pgx.Connect(ctx, url)
	got["connect to a stopped server"] = err
	cluster.Start(t)
	got["query during an immediate shutdown"], got["query on the connection after a crash"] = duringStop("immediate")
	cluster.Start(t)

	// A backend ended by pg_terminate_backend, on the shared server.
	// Only the owner may end a backend: the application's role may not.
	pool, owner := dbtest.NewOwner(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	err = conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	if err == nil {
		_, err = owner.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
	}
	if err != nil {
		// Released first: the pool's cleanup waits for every connection.
		conn.Release()
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT 1")
	got["query on a terminated backend"] = err
	conn.Release()

	// Every connection of the pool taken: waiting for one runs out of time.
	small, err := db.Open(ctx, pool.Config().ConnString()+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	held, err := small.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = db.InTx(waitCtx, small, func(pgx.Tx) error { return nil })
	cancel()
	got["pool acquire past the deadline"] = err
	held.Release()

	queryCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = pool.Exec(queryCtx, "SELECT pg_sleep(10)")
	cancel()
	got["query past the deadline"] = err

	got["starting up (57P03)"] = fmt.Errorf("billing: insert invoice: %w", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"})
	got["crash of another backend (57P02)"] = &pgconn.PgError{Code: "57P02"}
	got["too many connections (53300)"] = &pgconn.PgError{Code: "53300"}
	got["connection failure (08006)"] = &pgconn.PgError{Code: "08006"}
	return got
}

// waitForSleepers waits until n sessions run pg_sleep on the database.
func waitForSleepers(t *testing.T, url string, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var got int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions sleeping, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queryErrors are failures of the query itself, from a real server: bugs
// or rules broken, which must stay 500s (or their own fault) and never pass
// for an outage.
func queryErrors(t *testing.T) map[string]error {
	ctx := context.Background()
	pool := dbtest.New(t)
	got := map[string]error{}
	exec := func(sql string) error {
		_, err := pool.Exec(ctx, sql)
		if err == nil {
			t.Fatalf("%s succeeded", sql)
		}
		return fmt.Errorf("billing: something: %w", err)
	}
	got["syntax error"] = exec("SELEKT 1")
	got["division by zero"] = exec("SELECT 1/0")
	got["unique violation"] = exec("INSERT INTO rates (regime, provider_kind, rate) VALUES ('puma', 'nurse', 0.5)")
	got["check violation"] = exec("UPDATE rates SET rate = 2 WHERE regime = 'puma'")
	got["undefined table"] = exec("SELECT * FROM no_such_table")
	got["serialization failure"] = exec(`DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$`)
	got["no rows"] = pool.QueryRow(ctx, "SELECT 1 WHERE false").Scan(new(int))

	// Two queries at once on one connection: a bug of the caller, which
	// pgconn nevertheless calls safe to retry.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT generate_series(1, 3)")
	if err != nil {
		t.Fatal(err)
	}
	_, got["connection busy"] = conn.Exec(ctx, "SELECT 1")
	rows.Close()
	conn.Release()

	got["plain error"] = errors.New("billing: lines add up to 10.00, total is 12.00")
	got["fault"] = fault.Field("care_date", "care_date cannot be in the future")
	return got
}

func TestUnavailableClassifiesConnectivityFailures(t *testing.T) {
	t.Parallel()
	for name, err := range connectivityErrors(t) {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !db.Unavailable(err) {
			t.Errorf("%s: Unavailable(%T %q) = false, want true", name, err, err)
		}
		if !fault.Is(db.Translate(err), fault.Unavailable) {
			t.Errorf("%s: Translate(%q) = %v, want a fault.Unavailable", name, err, db.Translate(err))
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestUnavailableLeavesQueryFailuresAlone(t *testing.T) {
	t.Parallel()
	for name, err := range queryErrors(t) {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if db.Unavailable(err) {
			t.Errorf("%s: Unavailable(%q) = true, want false", name, err)
		}
		if fault.Is(db.Translate(err), fault.Unavailable) {
			t.Errorf("%s: Translate(%q) is a fault.Unavailable", name, err)
		}
	}
	if db.Unavailable(nil) {
		t.Error("Unavailable(nil) = true")
	}
}
