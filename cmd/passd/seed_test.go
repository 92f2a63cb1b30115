package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"passd/auth"
	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/scheduler"
)

// captureStdout runs fn with os.Stdout sent to a file and returns what it
// printed. Only for tests that are not parallel.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdout
	os.Stdout = f
	err = fn()
	os.Stdout = saved
	if _, serr := f.Seek(0, io.SeekStart); serr != nil {
		t.Fatal(serr)
	}
	out, rerr := io.ReadAll(f)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return string(out), err
}

// TestSeedDemoIsIdempotent runs the real command line twice on a fresh
// database: the second run adds nothing and keeps the tokens of the first.
// (t.Setenv: not parallel.)
func TestSeedDemoIsIdempotent(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_DATA_KEY", keyringtest.Text(t))
	t.Setenv("PASSD_ADDR", "127.0.0.1:0")
	ctx := context.Background()
	logger := testLogger(t)
	tokensFile := filepath.Join(t.TempDir(), "state", "tokens")

	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tables := []string{"providers", "users", "tokens", "patients", "rights_events", "invoices", "invoice_lines", "claims", "payouts",
		"organisations", "conventions", "convention_referents", "referral_cases"}
	counts := func() map[string]int64 {
		out := map[string]int64{}
		for _, table := range tables {
			var n int64
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	seed := func() (string, map[string]string) {
		t.Helper()
		out, err := captureStdout(t, func() error { return run(ctx, []string{"seed-demo", "--tokens-file", tokensFile}, logger) })
		if err != nil {
			t.Fatalf("seed-demo: %v\n%s", err, out)
		}
		return out, readTokensFile(t, tokensFile)
	}

	out1, tokens1 := seed()
	after1 := counts()
	want := map[string]int64{"providers": 6, "users": 10, "tokens": 10, "patients": 4, "invoices": 4,
		"organisations": 2, "conventions": 1, "convention_referents": 2, "referral_cases": 2}
	for table, n := range want {
		if after1[table] != n {
			t.Errorf("after the first seed: %d %s, want %d", after1[table], table, n)
		}
	}
	if len(tokens1) != len(demoUsers) {
		t.Fatalf("tokens file holds %v, want one token per demo user", tokens1)
	}
	store := auth.NewStore(db.NewPool(pool).Bind(dbtest.Convention))
	for _, u := range demoUsers {
		token := tokens1[u.name]
		p, err := store.Authenticate(ctx, token)
		if err != nil || p.Role != u.role || p.Name != u.name {
			t.Errorf("token of %s authenticates as %+v (%v)", u.name, p, err)
		}
		if !strings.Contains(out1, token) {
			t.Errorf("the seed did not print the %s token", u.name)
		}
	}
	var regie string
	if err := pool.QueryRow(ctx, `SELECT coalesce(regie_name, '') || ' ' || coalesce(regie_iban, '') FROM settings`).Scan(&regie); err != nil ||
		!strings.Contains(regie, "FR76") {
		t.Errorf("the demo régie is %q (%v), want an account set so that a SEPA file can be made", regie, err)
	}
	if info, err := os.Stat(tokensFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("tokens file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}

	out2, tokens2 := seed()
	if after2 := counts(); !mapsEqual(after1, after2) {
		t.Errorf("the second seed added rows: %v -> %v", after1, after2)
	}
	if !mapsEqual(tokens1, tokens2) {
		t.Errorf("the second seed changed the tokens: %v -> %v", tokens1, tokens2)
	}
	for _, token := range tokens1 {
		if !strings.Contains(out2, token) {
			t.Errorf("the second seed did not print the reused token %s...", token[:10])
		}
	}

	// The demo data is usable: the release job decides the invoices of the
	// file with opened rights and of the refused one.
	out, err := captureStdout(t, func() error { return run(ctx, []string{"run-job", "release"}, logger) })
	if err != nil {
		t.Fatalf("run-job release: %v\n%s", err, out)
	}
	var jr scheduler.Run
	if err := json.Unmarshal([]byte(out), &jr); err != nil || jr.Name != "release" || jr.Rows != 2 || jr.Error != nil {
		t.Errorf("run-job release printed %q (%v), want a run of release with 2 rows", out, err)
	}
	afterJob := counts()
	seed()
	if after3 := counts(); !mapsEqual(afterJob, after3) {
		t.Errorf("seeding after the release job added rows: %v -> %v", afterJob, after3)
	}

	// A lost tokens file gives new tokens, not new users.
	if err := os.Remove(tokensFile); err != nil {
		t.Fatal(err)
	}
	_, tokens4 := seed()
	if n := counts()["users"]; n != int64(len(demoUsers)) {
		t.Errorf("%d users after seeding without the tokens file, want %d", n, len(demoUsers))
	}
	for name, token := range tokens4 {
		if token == tokens1[name] {
			t.Errorf("user %s: token reused without the file", name)
		}
		if p, err := store.Authenticate(ctx, token); err != nil || p.Name != name {
			t.Errorf("new token of %s: %+v %v", name, p, err)
		}
	}
}

func readTokensFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("tokens file: %v", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, token, ok := strings.Cut(sc.Text(), " ")
		if !ok || token == "" {
			t.Fatalf("tokens file line %q", sc.Text())
		}
		out[name] = token
	}
	return out
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
