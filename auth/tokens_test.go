package auth

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"passd/audit"
	"passd/db/dbtest"
	"passd/fault"
)

func TestParseTTL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "12h": 12 * time.Hour, "30m": 30 * time.Minute,
		"1m": time.Minute, "730d": 730 * 24 * time.Hour, " 7d ": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		if got, err := ParseTTL(in); err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0d", "-1d", "-5m", "59s", "731d", "100y", "d", "1.5d", "abc", "90 days",
		"9223372036854775807d", "99999999999h", "1e3d"} {
		if got, err := ParseTTL(in); !fault.Is(err, fault.Invalid) {
			t.Errorf("ParseTTL(%q) = %v, %v; want refused", in, got, err)
		}
	}
}

// Tokens expire after their TTL, can be revoked by id, by themselves or
// all of a user's at once, each revocation audited; the list shows each
// token's record and never the token.
func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := NewStore(pool, WithClock(func() time.Time { return now }), WithTokenTTL(30*24*time.Hour))

	short, err := s.Issue(ctx, TokenRequest{Name: "Camille", Role: Coordinator, TTL: time.Hour})
	if err != nil || !short.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("Issue = %+v, %v; want a token expiring in an hour", short, err)
	}
	usual, err := s.CreateUser(ctx, "Camille", Coordinator, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(ctx, TokenRequest{Name: "Camille", Role: Coordinator, TTL: 3 * 365 * 24 * time.Hour}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("a three-year token: %v, want refused", err)
	}
	now = now.Add(59 * time.Minute)
	if _, err := s.Authenticate(ctx, short.Token); err != nil {
		t.Fatalf("a minute before it expires: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := s.Authenticate(ctx, short.Token); !fault.Is(err, fault.Unauthorized) {
		t.Fatalf("once expired: %v, want unauthorized", err)
	}
	if _, err := s.Authenticate(ctx, usual); err != nil {
		t.Fatalf("the store's TTL (30 days): %v", err)
	}
	now = now.Add(30 * 24 * time.Hour)
	if _, err := s.Authenticate(ctx, usual); !fault.Is(err, fault.Unauthorized) {
		t.Fatalf("after 30 days: %v, want unauthorized", err)
	}
	now = now.Add(-30 * 24 * time.Hour)

	// Revocation: by id, by the token, by user.
	admin := audit.Actor{Name: "cli"}
	a, _ := s.Issue(ctx, TokenRequest{Name: "Dominique", Role: Finance})
	b, _ := s.Issue(ctx, TokenRequest{Name: "Dominique", Role: Finance})
	c, _ := s.Issue(ctx, TokenRequest{Name: "Dominique", Role: Finance})
	if got, err := s.Revoke(ctx, admin, Revocation{ID: a.ID}); err != nil || !slices.Equal(got, []int64{a.ID}) {
		t.Fatalf("revoke by id: %v, %v", got, err)
	}
	if got, err := s.Revoke(ctx, admin, Revocation{Token: b.Token}); err != nil || !slices.Equal(got, []int64{b.ID}) {
		t.Fatalf("revoke by token: %v, %v", got, err)
	}
	for _, tok := range []string{a.Token, b.Token} {
		if _, err := s.Authenticate(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("a revoked token authenticates: %v", err)
		}
	}
	if _, err := s.Authenticate(ctx, c.Token); err != nil {
		t.Fatalf("revoking two tokens revoked the third: %v", err)
	}
	if got, err := s.Revoke(ctx, admin, Revocation{User: "Dominique"}); err != nil || !slices.Equal(got, []int64{c.ID}) {
		t.Fatalf("revoke by user: %v, %v; want only the one still active", got, err)
	}
	if got, err := s.Revoke(ctx, admin, Revocation{ID: a.ID}); err != nil || len(got) != 0 {
		t.Fatalf("revoking again: %v, %v; want nothing done", got, err)
	}
	for _, r := range []Revocation{{ID: 999}, {Token: "passd_nope"}, {User: "nobody"}} {
		if _, err := s.Revoke(ctx, admin, r); !fault.Is(err, fault.NotFound) {
			t.Errorf("revoke %+v: %v, want not_found", r, err)
		}
	}
	for _, r := range []Revocation{{}, {ID: a.ID, User: "Dominique"}} {
		if _, err := s.Revoke(ctx, admin, r); !fault.Is(err, fault.Invalid) {
			t.Errorf("revoke %+v: %v, want invalid", r, err)
		}
	}
	var revocations int
	for _, id := range []int64{a.ID, b.ID, c.ID} {
		rows, err := audit.ForEntity(ctx, pool, "token", strconv.FormatInt(id, 10))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Action == "token.revoke" && r.Actor == "cli" {
				revocations++
			}
		}
	}
	if revocations != 3 {
		t.Errorf("%d revocations audited, want 3", revocations)
	}

	var listed []TokenInfo
	if err := s.Tokens(ctx, "Dominique", func(ti TokenInfo) error { listed = append(listed, ti); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || listed[0].ID != a.ID || listed[0].User != "Dominique" || listed[0].Role != Finance ||
		listed[0].RevokedAt == nil || listed[0].ExpiresAt == nil || listed[0].Active(now) {
		t.Fatalf("Dominique's tokens: %+v", listed)
	}
	var all int
	if err := s.Tokens(ctx, "", func(TokenInfo) error { all++; return nil }); err != nil || all != 5 {
		t.Fatalf("all tokens: %d, %v; want 5", all, err)
	}
}
