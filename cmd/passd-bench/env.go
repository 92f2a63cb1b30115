package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// env is what every phase uses: the server, the binaries, a working
// directory for logs, the keyring passd runs with.
type env struct {
	// ServerURL is the bench cluster's superuser, on its maintenance
	// database; every database of the bench is made from it.
	ServerURL string
	Passd     string // bin/passd
	Pgbench   string
	WorkDir   string // logs of passd, pgbench, go test
	DataKey   string // a keyring from passd keygen
	// Postmaster is the server's process, for its CPU time; 0 when the
	// server is not on this machine's /proc.
	Postmaster int
	// Profile: passd serves its profiles (PASSD_PPROF_ADDR), and the
	// submit phase takes a CPU profile of each passd run.
	Profile bool
	// Progress says what the bench is doing (stderr).
	Progress func(format string, args ...any)

	migrated string // the migrated template, made once
	dbSeq    atomic.Int64
}

// dbURL is the URL of database name on the bench server for the bench's
// own sessions (seeding, pgbench, the raw SQL): they act in the bench's one
// convention for the whole session (passd.tenant), as passd never does.
// PostgreSQL's yardsticks are thus spared the per-transaction set_config
// passd pays for: the comparison can only be stricter.
func (e *env) dbURL(name string) string {
	return withOption(e.passdURL(name), "-c passd.tenant="+strconv.Itoa(benchConvention))
}

// passdURL is the URL of database name with no convention for the session.
func (e *env) passdURL(name string) string {
	u, err := url.Parse(e.ServerURL)
	if err != nil {
		panic(fmt.Sprintf("passd-bench: server URL: %v", err)) // checked in main
	}
	u.Path = "/" + name
	return u.String()
}

// forPassd is a bench URL as passd itself is given it: without the
// session's convention, which passd sets in each transaction instead.
func forPassd(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	var kept []string
	for _, o := range strings.Split(q.Get("options"), "-c ") {
		if o = strings.TrimSpace(o); o != "" && !strings.HasPrefix(o, "passd.tenant=") {
			kept = append(kept, "-c "+o)
		}
	}
	if len(kept) == 0 {
		q.Del("options")
	} else {
		q.Set("options", strings.Join(kept, " "))
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// withRole is url acting as role from its first statement on, as passd's
// sessions do: pgbench then runs with passd_app's rights, not the
// superuser's.
func withRole(dbURL, role string) string {
	return withOption(dbURL, "-c role="+role)
}

// withOption adds a server option (-c name=value) to url's options.
func withOption(dbURL, option string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set("options", strings.TrimSpace(q.Get("options")+" "+option))
	// libpq reads %20 as a space, not +.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// admin runs fn on a connection to the server's maintenance database.
func (e *env) admin(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, e.ServerURL)
	if err != nil {
		return fmt.Errorf("connect to the bench server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// freshDB creates a new database holding the current schema, a copy of a
// template migrated once by bin/passd migrate, and returns its name.
func (e *env) freshDB(ctx context.Context, purpose string) (string, error) {
	if e.migrated == "" {
		name := "bench_migrated"
		if err := e.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", "CREATE DATABASE "+name); err != nil {
			return "", err
		}
		if _, err := e.passdCmd(ctx, e.dbURL(name), "migrate"); err != nil {
			return "", fmt.Errorf("migrate the template: %w", err)
		}
		e.migrated = name
	}
	return e.cloneDB(ctx, purpose, e.migrated, "")
}

// cloneDB copies template into a new database named after purpose.
// strategy FILE_COPY suits large templates (a checkpoint and a file copy
// rather than every block through the WAL); "" is the server's default.
func (e *env) cloneDB(ctx context.Context, purpose, template, strategy string) (string, error) {
	name := fmt.Sprintf("bench_%s_%d", purpose, e.dbSeq.Add(1))
	sql := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)
	if strategy != "" {
		sql += " STRATEGY " + strategy
	}
	if err := e.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", sql); err != nil {
		return "", err
	}
	return name, nil
}

// dropDB removes a database the bench made; the bench's disk would
// otherwise fill with million-invoice copies.
func (e *env) dropDB(ctx context.Context, name string) error {
	return e.exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func (e *env) exec(ctx context.Context, stmts ...string) error {
	return e.admin(ctx, func(conn *pgx.Conn) error {
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// onDB runs stmts, one by one outside any transaction (VACUUM may not
// run in one), on database dbURL as its owner.
func onDB(ctx context.Context, dbURL string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// passdCmd runs bin/passd with args on dbURL and returns its stdout; its
// stderr goes to the work directory's passd-cli.log.
func (e *env) passdCmd(ctx context.Context, dbURL string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.Passd, args...)
	cmd.Env = append(cleanEnviron(), "DATABASE_URL="+forPassd(dbURL), "PASSD_DATA_KEY="+e.DataKey)
	logf, err := os.OpenFile(filepath.Join(e.WorkDir, "passd-cli.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "+ passd %s\n", strings.Join(args, " "))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	logf.WriteString(stderr.String())
	if err != nil {
		return "", fmt.Errorf("passd %s: %w\n%s", args[0], err, tail(stderr.String(), 20))
	}
	return string(out), nil
}

// token issues a token with passd token create and returns it.
func (e *env) token(ctx context.Context, dbURL, role, name string, providerID int64) (string, error) {
	args := []string{"token", "create", "--role", role, "--name", name}
	if providerID != 0 {
		args = append(args, "--provider-id", strconv.FormatInt(providerID, 10))
	}
	out, err := e.passdCmd(ctx, dbURL, args...)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(out)
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("passd token create printed %q, not one token", out)
	}
	return tok, nil
}

// cleanEnviron is our environment without any passd setting, so that the
// caller's own cannot change what is measured.
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PASSD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			out = append(out, kv)
		}
	}
	return out
}

// parisToday is today's date in Europe/Paris, passd's calendar.
func parisToday(now time.Time) time.Time {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	y, m, d := now.In(paris).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
