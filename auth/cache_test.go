package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"passd/audit"
	"passd/db/dbtest"
	"passd/fault"
)

// TestCachedPrincipal pins what the cache may and may not remember: a
// bearer for its ttl, never past the token's expiry, and not a moment after
// a revocation through the same store.
func TestCachedPrincipal(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cached := NewStore(pool, WithClock(clock), WithCache(time.Second), WithTokenTTL(time.Hour))
	other := NewStore(pool, WithClock(clock)) // another process: passd token revoke, a replica

	refused := func(s *Store, token, what string) {
		t.Helper()
		var f *fault.Error
		if _, err := s.Authenticate(ctx, token); !errors.As(err, &f) || f.Code != fault.Unauthorized {
			t.Fatalf("%s: Authenticate = %v, want unauthorized", what, err)
		}
	}
	accepted := func(s *Store, token, what string) {
		t.Helper()
		if p, err := s.Authenticate(ctx, token); err != nil || p.Name != "Camille" {
			t.Fatalf("%s: Authenticate = %+v, %v", what, p, err)
		}
	}

	token, err := cached.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	accepted(cached, token, "first use")

	// Revoked elsewhere: remembered for the rest of the second, then not.
	if _, err := other.Revoke(ctx, audit.Actor{Name: "test"}, Revocation{Token: token}); err != nil {
		t.Fatal(err)
	}
	refused(other, token, "the revoking store")
	now = now.Add(500 * time.Millisecond)
	accepted(cached, token, "within the cache's second")
	now = now.Add(500 * time.Millisecond)
	refused(cached, token, "once the second is over")

	// Revoked through the cached store itself: refused at once.
	token, err = cached.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	accepted(cached, token, "a new token")
	if _, err := cached.Revoke(ctx, audit.Actor{Name: "test"}, Revocation{Token: token}); err != nil {
		t.Fatal(err)
	}
	refused(cached, token, "revoked through this store")

	// A token's expiry holds even when the lookup is fresh in the cache.
	token, err = cached.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour - 300*time.Millisecond)
	accepted(cached, token, "just before its expiry")
	now = now.Add(300 * time.Millisecond)
	refused(cached, token, "at its expiry, though looked up 300 ms ago")

	// Without the option nothing is remembered.
	token, err = other.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	accepted(other, token, "uncached")
	if _, err := cached.Revoke(ctx, audit.Actor{Name: "test"}, Revocation{Token: token}); err != nil {
		t.Fatal(err)
	}
	refused(other, token, "uncached, revoked elsewhere")
}
