package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"passd/audit"
	"passd/auth"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
)

// tokenTimes reads a token's expires_at and last_used_at.
func tokenTimes(t *testing.T, h *harness, token string) (expires time.Time, lastUsed *time.Time) {
	t.Helper()
	err := h.pool.QueryRow(context.Background(), `SELECT expires_at, last_used_at FROM tokens WHERE hash = $1`,
		auth.HashToken(token)).Scan(&expires, &lastUsed)
	if err != nil {
		t.Fatal(err)
	}
	return expires, lastUsed
}

// TestTokenCommandsThroughTheAPI issues, lists and revokes tokens with the
// token commands and checks what the API then answers each of them.
func TestTokenCommandsThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cfg := h.app.cfg
	create := func(args ...string) (string, int64) {
		t.Helper()
		var out, info bytes.Buffer
		if err := tokenCreate(ctx, cfg, args, &out, &info); err != nil {
			t.Fatalf("token create %v: %v", args, err)
		}
		id, err := strconv.ParseInt(regexp.MustCompile(`token id=(\d+) `).FindStringSubmatch(info.String())[1], 10, 64)
		if err != nil {
			t.Fatalf("token create said %q", info.String())
		}
		return strings.TrimSuffix(out.String(), "\n"), id
	}
	revoke := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := tokenRevoke(ctx, cfg, args, strings.NewReader(stdin), &out)
		return out.String(), err
	}
	list := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := tokenList(ctx, cfg, args, &out); err != nil {
			t.Fatalf("token list %v: %v", args, err)
		}
		return out.String()
	}

	before := time.Now()
	first, firstID := create("--role", "finance", "--name", "Alex", "--ttl", "1h")
	after := time.Now()
	expires, lastUsed := tokenTimes(t, h, first)
	if expires.Before(before.Add(time.Hour)) || expires.After(after.Add(time.Hour)) || lastUsed != nil {
		t.Fatalf("token of --ttl 1h issued between %v and %v: expires %v, last used %v", before, after, expires, lastUsed)
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches", first, "")
	if _, lastUsed = tokenTimes(t, h, first); lastUsed == nil {
		t.Fatal("last_used_at not set by a request")
	}
	usual, _ := create("--role", "finance", "--name", "Alex")
	if expires, _ := tokenTimes(t, h, usual); time.Until(expires) < 89*24*time.Hour || time.Until(expires) > 90*24*time.Hour {
		t.Errorf("a token without --ttl expires %v, want in 90 days", expires)
	}

	// An expired token is refused: issued two hours ago for an hour.
	past := auth.NewStore(h.pool, auth.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) }))
	expired, err := past.Issue(ctx, auth.TokenRequest{Name: "Alex", Role: auth.Finance, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	status, body := h.do(t, "GET", "/api/v1/payout-batches", expired.Token, "")
	wantError(t, "expired token", status, body, http.StatusUnauthorized, "unauthorized", "")

	listed := list("--user", "Alex")
	lines := strings.Split(strings.TrimSuffix(listed, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "LAST USED") {
		t.Fatalf("token list --user Alex:\n%s", listed)
	}
	if f := strings.Fields(lines[1]); f[0] != strconv.FormatInt(firstID, 10) || f[1] != "Alex" || f[2] != "finance" || f[5] == "-" || f[6] != "-" {
		t.Errorf("first token listed as %q, want its id, user, role, last use and no revocation", lines[1])
	}
	if !strings.Contains(lines[3], "(expired)") {
		t.Errorf("the expired token is listed as %q", lines[3])
	}
	for _, tok := range []string{first, usual, expired.Token} {
		if strings.Contains(listed, tok) || strings.Contains(listed, tok[len("passd_"):len("passd_")+12]) {
			t.Fatal("token list shows a token")
		}
	}
	if all := list(); !strings.Contains(all, " admin ") || !strings.Contains(all, " Alex ") {
		t.Errorf("token list without --user:\n%s", all)
	}

	// Revoked by id: refused at once.
	if out, err := revoke("", "--id", strconv.FormatInt(firstID, 10)); err != nil || out != "revoked 1 token(s): id "+strconv.FormatInt(firstID, 10)+"\n" {
		t.Fatalf("revoke --id: %q, %v", out, err)
	}
	status, body = h.do(t, "GET", "/api/v1/payout-batches", first, "")
	wantError(t, "revoked token", status, body, http.StatusUnauthorized, "unauthorized", "")
	if out, err := revoke("", "--id", strconv.FormatInt(firstID, 10)); err != nil || !strings.HasPrefix(out, "nothing to revoke") {
		t.Errorf("revoking it again: %q, %v", out, err)
	}
	// Revoked by the token itself, read from stdin.
	other, _ := create("--role", "finance", "--name", "Alex")
	if out, err := revoke(other+"\n", "--token", "-"); err != nil || !strings.HasPrefix(out, "revoked 1 token(s)") {
		t.Fatalf("revoke --token -: %q, %v", out, err)
	}
	status, body = h.do(t, "GET", "/api/v1/payout-batches", other, "")
	wantError(t, "token revoked from stdin", status, body, http.StatusUnauthorized, "unauthorized", "")
	// Every token of a user: those not revoked yet (the usual one and the
	// expired one).
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches", usual, "")
	if out, err := revoke("", "--user", "Alex"); err != nil || !strings.HasPrefix(out, "revoked 2 token(s)") {
		t.Fatalf("revoke --user: %q, %v", out, err)
	}
	status, body = h.do(t, "GET", "/api/v1/payout-batches", usual, "")
	wantError(t, "token of a revoked user", status, body, http.StatusUnauthorized, "unauthorized", "")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches", h.finance, "") // other users keep theirs
	if revoked := h.count(t, "audit_log", "action = 'token.revoke'", "actor = 'cli'"); revoked != 4 {
		t.Errorf("%d revocations audited, want 4", revoked)
	}

	for _, args := range [][]string{
		{}, {"--id", "1", "--user", "Alex"}, {"--id", "-3"}, {"--id", "999999"}, {"--user", "nobody"},
		{"--token", "passd_unknown"}, {"--token", "-"}, {"--id", "x"}, {"Alex"},
	} {
		if out, err := revoke("", args...); err == nil || out != "" {
			t.Errorf("token revoke %v: %q, %v; want an error and nothing printed", args, out, err)
		}
	}
}

// TestTokenTTLComesFromTheEnvironmentAndRefusesNonsense runs `passd token
// create` as a script would. (t.Setenv: not parallel.)
func TestTokenTTLComesFromTheEnvironmentAndRefusesNonsense(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSD_TOKEN_TTL", "2d")
	ctx := context.Background()
	out, err := captureStdout(t, func() error {
		return run(ctx, []string{"token", "create", "--role", "admin", "--name", "Sam"}, testLogger(t))
	})
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var ttl string
	if err := pool.QueryRow(ctx, `SELECT (expires_at - created_at)::text FROM tokens WHERE hash = $1`, auth.HashToken(strings.TrimSpace(out))).Scan(&ttl); err != nil {
		t.Fatal(err)
	}
	if ttl != "2 days" {
		t.Errorf("PASSD_TOKEN_TTL=2d gave a token living %s", ttl)
	}
	for _, args := range [][]string{
		{"--ttl", "0"}, {"--ttl", "-1d"}, {"--ttl", "1000d"}, {"--ttl", "soon"}, {"--ttl", "30s"}, {"--ttl", ""},
	} {
		args = append([]string{"token", "create", "--role", "admin", "--name", "Sam"}, args...)
		out, err := captureStdout(t, func() error { return run(ctx, args, testLogger(t)) })
		if err == nil || out != "" {
			t.Errorf("%v: err = %v, stdout %q; want an error and nothing printed", args, err, out)
		}
	}
	t.Setenv("PASSD_TOKEN_TTL", "forever")
	if _, err := captureStdout(t, func() error {
		return run(ctx, []string{"token", "create", "--role", "admin", "--name", "Sam"}, testLogger(t))
	}); err == nil || !strings.Contains(err.Error(), "PASSD_TOKEN_TTL") {
		t.Errorf("PASSD_TOKEN_TTL=forever: %v, want refused", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tokens`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d tokens after the refusals, want 1 (%v)", n, err)
	}
}

// TestSeedDemoReplacesExpiredAndRevokedTokens: the saved demo tokens are
// reused while they work; one expired or revoked is replaced.
func TestSeedDemoReplacesExpiredAndRevokedTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The demo is dated by the wall clock, as seed-demo runs.
	a, err := newApp(ctx, Config{DatabaseURL: dbtest.NewURL(t), Addr: "127.0.0.1:0", DeadlineDays: 90,
		ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
		PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", DataKey: keyringtest.Text(t)}, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	file := filepath.Join(t.TempDir(), "tokens")
	if _, err := a.seedDemo(inConvention(ctx), file); err != nil {
		t.Fatal(err)
	}
	first := readTokensFile(t, file)
	for name, token := range first {
		var expires time.Time
		if err := a.pool.QueryRow(inConvention(ctx), `SELECT expires_at FROM tokens WHERE hash = $1`, auth.HashToken(token)).Scan(&expires); err != nil {
			t.Fatal(err)
		}
		if time.Until(expires) < 89*24*time.Hour {
			t.Errorf("demo token of %s expires %v, want in 90 days", name, expires)
		}
	}
	if _, err := a.users.Revoke(inConvention(ctx), audit.Actor{Name: "test"}, auth.Revocation{Token: first["demo-finance"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(inConvention(ctx), `UPDATE tokens SET expires_at = now() - interval '1 second' WHERE hash = $1`, auth.HashToken(first["demo-admin"])); err != nil {
		t.Fatal(err)
	}
	if _, err := a.seedDemo(inConvention(ctx), file); err != nil {
		t.Fatal(err)
	}
	second := readTokensFile(t, file)
	for _, u := range demoUsers {
		replaced := u.name == "demo-finance" || u.name == "demo-admin"
		if (second[u.name] != first[u.name]) != replaced {
			t.Errorf("%s: token replaced = %v, want %v", u.name, second[u.name] != first[u.name], replaced)
		}
		if p, err := a.users.Authenticate(inConvention(ctx), second[u.name]); err != nil || p.Name != u.name {
			t.Errorf("%s: the saved token authenticates as %+v, %v", u.name, p, err)
		}
	}
}
