package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passd/auth"
	"passd/db/dbtest"
	"passd/keyring"
	"passd/keyring/keyringtest"
	"passd/migrations"
)

// useKeys sets the key configuration of the environment (t.Setenv: the
// tests that call it are not parallel).
func useKeys(t *testing.T, text, file string) {
	t.Setenv("PASSD_DATA_KEY", text)
	t.Setenv("PASSD_DATA_KEY_FILE", file)
}

// newKeyFile writes a fresh keyring file with passd keygen.
func newKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.key")
	if err := keygenCommand([]string{"--out", path}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeygenMakesAKeyFileOnceAndPrintsKeys(t *testing.T) {
	t.Parallel()
	path := newKeyFile(t)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	if err := keygenCommand([]string{"--out", path}, &bytes.Buffer{}); err == nil {
		t.Fatal("keygen --out replaced an existing key file")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("keygen --out changed an existing key file")
	}
	if _, err := keyring.Load(path); err != nil {
		t.Fatalf("the key file does not load: %v", err)
	}
	var out bytes.Buffer
	if err := keygenCommand(nil, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Parse(out.String()); err != nil {
		t.Fatalf("keygen printed %q, not a ring: %v", out.String(), err)
	}
	out.Reset()
	if err := keygenCommand([]string{"--data-key"}, &out); err != nil {
		t.Fatal(err)
	}
	entry := strings.TrimSpace(out.String())
	if strings.Contains(entry, "lookup") || !strings.HasPrefix(entry, "k") || strings.Count(entry, "\n") != 0 {
		t.Fatalf("keygen --data-key printed %q, want one data key", entry)
	}
	ring := keyringtest.Text(t) + entry + "\n"
	if r, err := keyring.Parse(ring); err != nil || !strings.HasPrefix(entry, r.Current()+"=") {
		t.Fatalf("the printed key does not join a ring as its current key: %v", err)
	}
}

// (t.Setenv: not parallel.)
func TestCommandsThatTouchIdentityRefuseToStartWithoutAKey(t *testing.T) {
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("PASSD_ADDR", "127.0.0.1:0")
	ctx := context.Background()
	logger := testLogger(t)
	useKeys(t, "", "")
	for _, args := range [][]string{{"serve"}, {"seed-demo"}, {"run-job", "release"}, {"rotate-key"}} {
		err := run(ctx, args, logger)
		if err == nil || !strings.Contains(err.Error(), "no data key") || !strings.Contains(err.Error(), "PASSD_DATA_KEY_FILE") {
			t.Errorf("passd %s without a key: %v, want the no-data-key refusal", strings.Join(args, " "), err)
		}
	}
	// Nothing to encrypt: migrate and check need no key.
	if err := run(ctx, []string{"migrate"}, logger); err != nil {
		t.Errorf("migrate without a key on an encrypted database: %v", err)
	}
	if _, err := captureStdout(t, func() error { return run(ctx, []string{"check"}, logger) }); err != nil {
		t.Errorf("check without a key: %v", err)
	}

	useKeys(t, keyringtest.Text(t), newKeyFile(t))
	if err := run(ctx, []string{"run-job", "release"}, logger); err == nil || !strings.Contains(err.Error(), "set one") {
		t.Errorf("both keys set: %v", err)
	}
	useKeys(t, "lookup=short", "")
	if err := run(ctx, []string{"run-job", "release"}, logger); err == nil || !strings.Contains(err.Error(), "PASSD_DATA_KEY") {
		t.Errorf("a malformed ring: %v", err)
	}
	useKeys(t, "", filepath.Join(t.TempDir(), "missing.key"))
	if _, err := captureStdout(t, func() error { return run(ctx, []string{"run-job", "release"}, logger) }); err == nil {
		t.Error("a missing key file was accepted")
	}
}

// serveWith wires passd as serve would with the environment's keys and
// returns a function sending a request through its handler.
func serveWith(t *testing.T) (*app, func(method, path, token string) (int, map[string]any)) {
	t.Helper()
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return a, func(method, path, token string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, req)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
}

// A server keeps reading every file while passd rotate-key --new-key adds
// a key and re-encrypts the files under it; running it again does nothing.
// (t.Setenv: not parallel.)
func TestRotateKeyReencryptsEveryFileWhileTheServerReads(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_ADDR", "127.0.0.1:0")
	keyFile := newKeyFile(t)
	useKeys(t, "", keyFile)
	ctx := context.Background()
	logger := testLogger(t)
	if _, err := captureStdout(t, func() error { return run(ctx, []string{"seed-demo"}, logger) }); err != nil {
		t.Fatal(err)
	}
	server, do := serveWith(t)
	token, err := server.users.CreateUser(inConvention(ctx), "coordinator-2", auth.Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	status, list := do("GET", "/api/v1/patients", token)
	if status != http.StatusOK {
		t.Fatalf("list before rotation: %d %v", status, list)
	}
	names := map[string]string{}
	for _, it := range items(t, list) {
		names[str(t, it, "id")] = str(t, it, "last_name")
	}
	if len(names) != 4 {
		t.Fatalf("the demo has %d files, want 4", len(names))
	}
	oldRing, _ := keyring.Load(keyFile)

	out, err := captureStdout(t, func() error { return run(ctx, []string{"rotate-key", "--new-key"}, logger) })
	if err != nil {
		t.Fatalf("rotate-key --new-key: %v\n%s", err, out)
	}
	var report struct {
		Key         string `json:"key"`
		Reencrypted int    `json:"reencrypted"`
		Remaining   int    `json:"remaining"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("rotate-key printed %q: %v", out, err)
	}
	ring, err := keyring.Load(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if report.Key != ring.Current() || report.Key == oldRing.Current() || report.Reencrypted != 4 || report.Remaining != 0 ||
		len(ring.KeyIDs()) != 2 {
		t.Fatalf("report %+v, ring %v (current %s)", report, ring.KeyIDs(), ring.Current())
	}
	if info, err := os.Stat(keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file after rotation: %v %v", err, info.Mode().Perm())
	}
	var stale int
	if err := server.pool.QueryRow(inConvention(ctx), `SELECT count(*) FROM patients WHERE identity_key <> $1`, report.Key).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d files under the old key (%v)", stale, err)
	}

	// The running server, loaded with the old ring, reads the files sealed
	// under the new key (it reads the key file again).
	for id, name := range names {
		status, got := do("GET", "/api/v1/patients/"+id, token)
		if status != http.StatusOK || got["last_name"] != name {
			t.Errorf("file %s after rotation: %d %v, want %s", id, status, got, name)
		}
	}

	out, err = captureStdout(t, func() error { return run(ctx, []string{"rotate-key"}, logger) })
	if err != nil || !strings.Contains(out, `"reencrypted": 0`) {
		t.Fatalf("rotate-key again: %v\n%s", err, out)
	}

	// With the ring in PASSD_DATA_KEY, the operator adds the key.
	text, _ := os.ReadFile(keyFile)
	useKeys(t, string(text), "")
	if err := run(ctx, []string{"rotate-key", "--new-key"}, logger); err == nil || !strings.Contains(err.Error(), "keygen --data-key") {
		t.Fatalf("--new-key with PASSD_DATA_KEY: %v", err)
	}
}

// make run on a database an older passd filled: migrate without a key
// says what it waits for; with the key it encrypts the files.
// (t.Setenv: not parallel.)
func TestMigrateEncryptsTheFilesOfAnOlderDatabase(t *testing.T) {
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := migrations.UpTo(ctx, pool, 2); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO patients (file_number, last_name, first_name, birth_date, nir)
		VALUES ('PASS-2025-000001', 'Diallo', 'Aminata', '1990-04-12', '290049935012309') RETURNING id::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_ADDR", "127.0.0.1:0")
	logger := testLogger(t)

	useKeys(t, "", "")
	if err := run(ctx, []string{"migrate"}, logger); err == nil || !strings.Contains(err.Error(), "1 patient file(s) wait to be encrypted") {
		t.Fatalf("migrate without a key: %v", err)
	}
	useKeys(t, "", newKeyFile(t))
	if err := run(ctx, []string{"migrate"}, logger); err != nil {
		t.Fatalf("migrate with a key: %v", err)
	}
	var plain string
	if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, ''), '') FROM patients t`).Scan(&plain); err != nil ||
		strings.Contains(plain, "Diallo") || strings.Contains(plain, "290049935012309") {
		t.Fatalf("patients after migrate: %q (%v)", plain, err)
	}
	server, do := serveWith(t)
	token, err := server.users.CreateUser(inConvention(ctx), "coordinator", auth.Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	if status, got := do("GET", "/api/v1/patients/"+id, token); status != http.StatusOK || got["last_name"] != "Diallo" || got["nir"] != "290049935012309" {
		t.Fatalf("the old file: %d %v", status, got)
	}
}
