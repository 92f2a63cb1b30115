package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/auth"
	"passd/db"
	"passd/db/dbtest"
)

// runPassd runs passd's main with args in a child process (this test
// binary, re-entering the calling test), so that the exit status is the
// one a shell sees.
func runPassd(t *testing.T, databaseURL string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), "PASSD_TEST_MAIN_ARGS="+strings.Join(args, "\x1f"), "DATABASE_URL="+databaseURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		exitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run passd %v: %v", args, err)
	}
	return out.String(), errOut.String(), exitCode
}

// asPassdMain makes this test binary act as passd when a parent test
// started it with runPassd.
func asPassdMain() {
	if args, ok := os.LookupEnv("PASSD_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"passd"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
}

// TestAuditVerifyCommand runs `passd audit verify` as a shell would, on
// an intact log (exit 0, a count) and on one tampered with (exit 1, each
// broken row named). No server ran: verify seals the rows first, so that
// it covers them; rows a sealer holds are counted apart.
func TestAuditVerifyCommand(t *testing.T) {
	asPassdMain()
	t.Parallel()
	url := dbtest.NewURL(t)
	ctx := context.Background()
	app, err := db.OpenAs(ctx, url, dbtest.Role())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	users := auth.NewStore(db.NewPool(app).Bind(dbtest.Convention))
	for i := range 3 {
		if _, err := users.CreateUser(ctx, fmt.Sprint("user-", i), auth.Admin, 0); err != nil {
			t.Fatal(err)
		}
	}

	stdout, stderr, code := runPassd(t, url, "audit", "verify")
	if code != 0 || stdout != "sealed 6 pending row(s) before verifying\naudit chain intact: 6 rows (chain head at seq 6)\n" {
		t.Fatalf("intact log: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	owner := dbtest.Owner(t, url)
	var altered int64
	err = pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE audit_log SET actor = 'nobody' WHERE chain_seq = 2 RETURNING id`).Scan(&altered); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE chain_seq IN (4, 6)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another sealer (a running server's) holds the head: the row appended
	// meanwhile is left to it, and counted.
	sealer, err := owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sealer.Rollback(ctx) //nolint:errcheck
	if _, err := sealer.Exec(ctx, `SELECT FROM audit_chain_head FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := users.CreateUser(ctx, "user-late", auth.Admin, 0); err != nil {
		t.Fatal(err)
	}
	var oldest time.Time
	if err := owner.QueryRow(ctx, `SELECT min(at) FROM audit_log WHERE chain_seq IS NULL`).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runPassd(t, url, "audit", "verify")
	want := fmt.Sprintf("sealed 0 pending row(s) before verifying\n"+
		"2 row(s) still awaiting their seal, the oldest at %s: not covered by this check (a running passd seals them within a second)\n"+
		"audit row id=%d seq=2: altered (its content does not give its hash)\n"+
		"audit row seq=4 deleted\n"+
		"audit row seq=6 deleted (the last row; the chain head is at seq 6)\n"+
		"audit chain BROKEN: 3 problem(s) in 4 rows (chain head at seq 6)\n", oldest.UTC().Format(time.RFC3339Nano), altered)
	if code != 1 || stdout != want || !strings.Contains(stderr, "passd: the audit chain is broken (3 problem(s))") {
		t.Fatalf("tampered log: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", code, stdout, want, stderr)
	}

	for _, args := range [][]string{{"audit"}, {"audit", "check"}, {"audit", "verify", "extra"}} {
		if stdout, stderr, code := runPassd(t, url, args...); code != 1 || stdout != "" || !strings.Contains(stderr, "usage") {
			t.Errorf("passd %v: exit %d, stdout %q, stderr %q; want 1 and the usage", args, code, stdout, stderr)
		}
	}
}
