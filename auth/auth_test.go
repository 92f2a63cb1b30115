package auth

import (
	"context"
	"testing"
	"time"

	"passd/db/dbtest"
	"passd/fault"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := &Store{pool: pool, now: func() time.Time { return now }}

	token, err := s.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, token)
	if err != nil || p.Name != "Camille" || p.Role != Coordinator {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	lastUsed := func() time.Time {
		var at time.Time
		if err := pool.QueryRow(ctx, `SELECT last_used_at FROM tokens WHERE hash = $1`, HashToken(token)).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	if !lastUsed().Equal(now) {
		t.Fatalf("last_used_at = %v, want %v", lastUsed(), now)
	}
	// Within a minute the stamp is not rewritten; after it, it is.
	now = now.Add(30 * time.Second)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-30 * time.Second); !lastUsed().Equal(want) {
		t.Fatalf("last_used_at = %v, want %v", lastUsed(), want)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if !lastUsed().Equal(now) {
		t.Fatalf("last_used_at = %v, want %v", lastUsed(), now)
	}

	// A second token for the same user; an altered, expired or revoked
	// token is refused without saying why.
	second, err := s.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil || second == token {
		t.Fatalf("second token: %q, %v", second, err)
	}
	if _, err := s.CreateUser(ctx, "Camille", Finance, 0); !fault.Is(err, fault.Conflict) {
		t.Fatalf("same name, other role: %v, want conflict", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE tokens SET expires_at = $2 WHERE hash = $1`, HashToken(second), now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE hash = $1`, HashToken(token), now); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"revoked": token, "expired": second, "altered": token[:len(token)-1] + "x", "foreign": "Bearer abc"} {
		if _, err := s.Authenticate(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("%s token: %v, want unauthorized", name, err)
		}
	}
}
