package main

import (
	"context"
	"strings"
	"testing"

	"passd/auth"
	"passd/db"
	"passd/db/dbtest"
)

// TestTokenCreatePrintsOnlyTheToken runs `passd token create` as a script
// would: stdout holds the token and nothing else, and the token works for
// the named user with its role. (t.Setenv: not parallel.)
func TestTokenCreatePrintsOnlyTheToken(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	ctx := context.Background()
	out, err := captureStdout(t, func() error {
		return run(ctx, []string{"token", "create", "--role", "finance", "--name", "Alice Martin"}, testLogger(t))
	})
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSuffix(out, "\n")
	if strings.ContainsAny(token, " \n\t") || !strings.HasPrefix(token, "passd_") || len(token) < len("passd_")+43 {
		t.Fatalf("stdout = %q, want one token line of at least 256 bits", out)
	}
	pool, err := dbtest.OpenOwner(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p, err := auth.NewStore(db.NewPool(pool).Bind(dbtest.Convention)).Authenticate(ctx, token)
	if err != nil || p.Name != "Alice Martin" || p.Role != auth.Finance || p.ProviderID != 0 {
		t.Fatalf("token authenticates as %+v, %v", p, err)
	}
	// Only the hash is stored.
	var clear int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tokens WHERE encode(hash, 'escape') LIKE '%' || $1 || '%'`, token[6:20]).Scan(&clear); err != nil || clear != 0 {
		t.Fatalf("token stored in clear: %d rows, %v", clear, err)
	}

	for _, args := range [][]string{
		{"token", "create", "--role", "provider", "--name", "no provider"},
		{"token", "create", "--role", "provider", "--provider-id", "99", "--name", "unknown provider"},
		{"token", "create", "--role", "finance", "--provider-id", "1", "--name", "finance bound to a provider"},
		{"token", "create", "--role", "boss", "--name", "unknown role"},
		{"token", "create", "--role", "finance", "--name", ""},
	} {
		out, err := captureStdout(t, func() error { return run(ctx, args, testLogger(t)) })
		if err == nil || out != "" {
			t.Errorf("%v: err = %v, stdout %q; want an error and nothing printed", args, err, out)
		}
	}
}
