package db_test

import (
	"context"
	"testing"

	"passd/db"
)

// TestTenantForNamesTheConventionStatementsActIn: a context's tenant wins
// over the pool's binding, a credential's door names none that the caller
// could know, and an unbound pool with no tenant acts in none.
func TestTenantForNamesTheConventionStatementsActIn(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	tests := []struct {
		name   string
		pool   *db.Pool
		ctx    context.Context
		want   int64
		wantOK bool
	}{
		{"bound pool", db.NewPool(nil).Bind(3), bg, 3, true},
		{"context over binding", db.NewPool(nil).Bind(3), db.WithTenant(bg, 7), 7, true},
		{"context, unbound pool", db.NewPool(nil), db.WithTenant(bg, 7), 7, true},
		{"door", db.NewPool(nil).Bind(3), db.ThroughDoor(bg, db.TokenDoor, []byte{1}), 0, false},
		{"nothing", db.NewPool(nil), bg, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.pool.TenantFor(tt.ctx)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: TenantFor = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}
