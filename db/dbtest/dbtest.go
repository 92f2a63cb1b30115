package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/db"
	"passd/migrations"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// DefaultRole is the role passd's sessions act as unless PASSD_DB_ROLE
// names another; migration 00004 creates it.
const DefaultRole = "passd_app"

// Role is the role the pools of New act as: PASSD_DB_ROLE, or passd_app.
// Tests thus run with the privileges the application has in production.
func Role() string {
	if r := os.Getenv("PASSD_DB_ROLE"); r != "" {
		return r
	}
	return DefaultRole
}

// ServerURL returns the URL of the test server or fails the test.
func ServerURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	return url
}

// Convention is the convention of a fresh database: migration 00021 makes
// the database as it stood the first one.
const Convention = 1

// New returns a pool on a fresh database holding the current schema, whose
// sessions act as the application's role (see Role), bound to the
// database's one convention. The database is dropped when the test ends.
func New(t testing.TB) *db.Pool {
	t.Helper()
	return App(t, NewURL(t))
}

// App returns a pool acting as the application's role on a database of
// NewURL, bound to its first convention.
func App(t testing.TB, url string) *db.Pool {
	t.Helper()
	return db.NewPool(open(t, url, Role())).Bind(Convention)
}

// NewOwner is New that also returns a pool on the same database acting as
// the schema's owner, for a test that must do what the application may
// not: tamper with the audit log, alter a table.
func NewOwner(t testing.TB) (app *db.Pool, owner *pgxpool.Pool) {
	t.Helper()
	url := NewURL(t)
	return App(t, url), open(t, url, "")
}

// Owner returns a pool acting as the schema's owner on a database of
// NewURL (the server's user, who ran the migrations), its sessions set to
// the first convention (see open).
func Owner(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	return open(t, url, "")
}

func open(t testing.TB, url, role string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("dbtest: parse url: %v", err)
	}
	if role == "" {
		// Its sessions are the first convention's, so that the rows a test
		// writes directly are that convention's (a superuser here, the
		// owner is not held by row-level security; a test pool may set a
		// session's convention, passd never does).
		cfg.ConnConfig.RuntimeParams["passd.tenant"] = strconv.Itoa(Convention)
	} else {
		cfg.ConnConfig.RuntimeParams["role"] = role
	}
	pool, err := db.OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL creates a fresh database holding the current schema and returns
// its URL, for tests that start passd as a separate process.
func NewURL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(server) })
	if templateErr != nil {
		t.Fatalf("dbtest: template: %v", templateErr)
	}
	return createDatabase(t, server, templateName)
}

// NewEmptyURL creates a fresh database without any migration applied and
// returns its URL, for tests of the migrations themselves.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, ServerURL(t), "template0")
}

// createDatabase copies template into a new database, dropped when the
// test ends, and returns its URL.
func createDatabase(t testing.TB, server, template string) string {
	t.Helper()
	name := "passd_test_" + randomSuffix()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	// Another package's process may be copying the same template right now;
	// PostgreSQL refuses concurrent copies, so retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
		if err == nil || attempt == 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	url, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return url
}

// withDatabase swaps the database name in a connection URL.
func withDatabase(server, name string) (string, error) {
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	u := url.URL{Scheme: "postgres", Path: "/" + name}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	q := url.Values{"sslmode": {"disable"}}
	if strings.HasPrefix(cfg.Host, "/") {
		q.Set("host", cfg.Host)
		q.Set("port", fmt.Sprint(cfg.Port))
	} else {
		u.Host = fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ensureTemplate creates, once per server and schema version, a database
// with every migration applied. Its name carries a hash of the migration
// files, so a changed schema gets a new template and stale ones are harmless.
func ensureTemplate(server string) (string, error) {
	sum := sha256.New()
	err := fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS(), path)
		if err != nil {
			return err
		}
		sum.Write([]byte(path))
		sum.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	name := "passd_template_" + hex.EncodeToString(sum.Sum(nil))[:16]

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	// Test binaries of several packages start at once: one builds the template.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7262001)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(7262001)") //nolint:errcheck
	var ready bool
	err = admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&ready)
	if err != nil {
		return "", err
	}
	if ready {
		return name, nil
	}
	building := name + "_build"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return "", err
	}
	buildURL, err := withDatabase(server, building)
	if err != nil {
		return "", err
	}
	pool, err := db.Open(ctx, buildURL)
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s IS_TEMPLATE true", name)); err != nil {
		return "", err
	}
	return name, nil
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// OpenOwner opens a pool acting as the schema's owner on url, its sessions
// set to the first convention as Owner's are, for a test that closes it
// itself.
func OpenOwner(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["passd.tenant"] = strconv.Itoa(Convention)
	return db.OpenConfig(ctx, cfg)
}

// SetRowSecurity turns row-level security on or off on every table of the
// database owner acts on, for a test that proves the stores keep the
// conventions apart by their own queries: with it off, only each
// statement's tenant_id = passd_tenant() does (issue 18, "enforced twice").
// FORCE stays set, so turning it back on restores the schema as migrated.
func SetRowSecurity(t testing.TB, owner *pgxpool.Pool, on bool) {
	t.Helper()
	ctx := context.Background()
	rows, err := owner.Query(ctx, `SELECT DISTINCT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid ORDER BY 1`)
	if err != nil {
		t.Fatalf("dbtest: tables under row-level security: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("dbtest: tables under row-level security: %d, %v", len(tables), err)
	}
	action := "DISABLE"
	if on {
		action = "ENABLE"
	}
	batch := &pgx.Batch{}
	for _, table := range tables {
		batch.Queue(fmt.Sprintf("ALTER TABLE %s %s ROW LEVEL SECURITY", pgx.Identifier{table}.Sanitize(), action))
	}
	if err := owner.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatalf("dbtest: %s row-level security: %v", action, err)
	}
}
