package migrations_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/db"
	"passd/db/dbtest"
)

// Conventions (issue 18): every table but the list of conventions and the
// migrations' record belongs to one, and PostgreSQL itself keeps each
// convention's rows from the others, whatever the query says.

// globalTables hold no convention's rows.
var globalTables = []string{"tenants", "goose_db_version"}

// tenantTables lists the tables of the schema that carry tenant_id.
func tenantTables(t *testing.T, owner *pgxpool.Pool) []string {
	t.Helper()
	rows, err := owner.Query(context.Background(), `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(name string) bool { return slices.Contains(globalTables, name) })
}

func TestEveryTableIsHeldByRowLevelSecurity(t *testing.T) {
	t.Parallel()
	_, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	tables := tenantTables(t, owner)
	if len(tables) < 43 {
		t.Fatalf("%d tables, want the 43 of the schema at least: %v", len(tables), tables)
	}
	for _, table := range tables {
		var hasColumn, enabled, forced, policy bool
		err := owner.QueryRow(ctx, `
			SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = c.oid AND attname = 'tenant_id' AND attnotnull),
			       c.relrowsecurity, c.relforcerowsecurity,
			       EXISTS (SELECT FROM pg_policies p WHERE p.tablename = c.relname AND p.schemaname = 'public')
			FROM pg_class c WHERE c.oid = ('public.' || $1)::regclass`, table).Scan(&hasColumn, &enabled, &forced, &policy)
		if err != nil {
			t.Fatal(err)
		}
		if !hasColumn || !enabled || !forced || !policy {
			t.Errorf("table %s: tenant_id NOT NULL %v, row-level security %v, forced %v, a policy %v; want all",
				table, hasColumn, enabled, forced, policy)
		}
	}
	// A view would read its tables as its owner, past the policies, unless
	// it runs as its caller; a materialized view cannot: none may exist.
	var crossing []string
	rows, err := owner.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND (c.relkind = 'm' OR (c.relkind = 'v' AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false)))`)
	if err != nil {
		t.Fatal(err)
	}
	if crossing, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(crossing) != 0 {
		t.Errorf("views that would read past the conventions' policies: %v (%v); a view must be security_invoker", crossing, err)
	}
	// The application's role owns nothing and bypasses nothing.
	var bypass bool
	var owned int
	if err := owner.QueryRow(ctx, `SELECT rolbypassrls, (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
		FROM pg_roles r WHERE rolname = $1`, dbtest.Role()).Scan(&bypass, &owned); err != nil {
		t.Fatal(err)
	}
	if bypass || owned != 0 {
		t.Errorf("%s: BYPASSRLS %v, owns %d relations; want neither", dbtest.Role(), bypass, owned)
	}
}

// TestAQueryThatForgetsItsConventionSeesNothingOfAnother is the second line
// alone: statements that name no convention at all, run as the
// application's role, in convention A over a database where B has rows in
// every table.
func TestAQueryThatForgetsItsConventionSeesNothingOfAnother(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	owner := dbtest.Owner(t, url)
	ctx := context.Background()
	var b int64
	if err := owner.QueryRow(ctx, `SELECT passd_tenant_create('Ville B')`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	tables := tenantTables(t, owner)
	// B's rows: those it was created with (settings, tariff, chain head,
	// rates, acts, drugs) and a few written as B below.
	app := db.NewPool(dbtest.App(t, url).Pool) // bound to nothing
	inA := db.WithTenant(ctx, dbtest.Convention)
	inB := db.WithTenant(ctx, b)
	mustExec := func(ctx context.Context, sql string, args ...any) {
		t.Helper()
		if _, err := app.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(inB, `INSERT INTO organisations (kind, name) VALUES ('ccas', 'CCAS de B')`)
	mustExec(inB, `INSERT INTO providers (name, kind, rpps, iban, bic) VALUES ('Pharmacie de B', 'pharmacy', '10000000009', 'FR7630006000011234567890189', 'AGRIFRPPXXX')`)
	mustExec(inB, `INSERT INTO users (name, role) VALUES ('admin-b', 'admin')`)
	mustExec(inB, `INSERT INTO job_runs (name, trigger, started_at) VALUES ('deadline', 'manual', now())`)
	mustExec(inB, `INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('test', 'user.create', 'user', 'admin-b')`)

	withRows := 0
	for _, table := range tables {
		quoted := pgx.Identifier{table}.Sanitize()
		var ofB int64
		if err := owner.QueryRow(ctx, `SELECT count(*) FROM `+quoted+` WHERE tenant_id = $1`, b).Scan(&ofB); err != nil {
			t.Fatal(err)
		}
		if ofB > 0 {
			withRows++
		}
		var readable bool
		if err := owner.QueryRow(ctx, `SELECT has_table_privilege($1, ('public.' || $2)::regclass, 'SELECT')`, dbtest.Role(), table).Scan(&readable); err != nil {
			t.Fatal(err)
		}
		if !readable {
			continue // the application cannot read it at all (audit_chain_head)
		}
		// In A, with no condition on the convention: nothing of B.
		var seen int64
		if err := app.QueryRow(inA, `SELECT count(*) FROM `+quoted+` WHERE tenant_id = $1`, b).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen != 0 {
			t.Errorf("table %s: convention A sees %d of B's %d rows", table, seen, ofB)
		}
		// In B: all of them.
		if err := app.QueryRow(inB, `SELECT count(*) FROM `+quoted).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen != ofB {
			t.Errorf("table %s: convention B sees %d of its %d rows", table, seen, ofB)
		}
		// With no convention set: nothing at all (fail closed).
		if err := app.QueryRow(ctx, `SELECT count(*) FROM `+quoted).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen != 0 {
			t.Errorf("table %s: a session with no convention sees %d rows", table, seen)
		}
	}
	if withRows < 10 {
		t.Errorf("B has rows in %d tables only; the test means little", withRows)
	}

	// Writes: none without a convention, none into another's.
	if _, err := app.Exec(ctx, `INSERT INTO organisations (kind, name) VALUES ('ccas', 'CCAS sans convention')`); err == nil {
		t.Error("an insert with no convention set was stored")
	}
	if _, err := app.Exec(inA, `INSERT INTO organisations (kind, name, tenant_id) VALUES ('ccas', 'CCAS glissé', $1)`, b); err == nil {
		t.Error("convention A wrote a row into B")
	}
	tag, err := app.Exec(inA, `UPDATE providers SET name = 'Pris par A' WHERE rpps = '10000000009'`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("convention A's update of B's provider: %v, %v; want nothing changed", tag, err)
	}
	tag, err = app.Exec(inA, `DELETE FROM users WHERE name = 'admin-b'`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("convention A's delete of B's user: %v, %v; want nothing removed", tag, err)
	}
	// A session-level setting is not how passd works, and a transaction's
	// own setting ends with it: the pooled connection keeps nothing.
	for range 4 {
		var setting string
		if err := app.Pool.QueryRow(ctx, `SELECT coalesce(current_setting('passd.tenant', true), '')`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		if setting != "" {
			t.Fatalf("a pooled connection kept the convention %q after its transaction", setting)
		}
	}
}

// TestTheApplicationCreatesAConventionAndStaysInItsOwn: passd_tenant_create
// is the platform administrator's (migration 00021), called by the
// application's role in a transaction of the administrator's own
// convention. The function moves passd.tenant to do its work; the caller's
// next statements must still act in the caller's convention.
func TestTheApplicationCreatesAConventionAndStaysInItsOwn(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	var created, audited int64
	var during string
	err := db.InTx(db.WithTenant(ctx, dbtest.Convention), app, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT passd_tenant_create('Ville C')`).Scan(&created); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT current_setting('passd.tenant')`).Scan(&during); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('test', 'tenant.create', 'tenant', $1)
			RETURNING tenant_id`, strconv.FormatInt(created, 10)).Scan(&audited)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatInt(dbtest.Convention, 10); during != want {
		t.Errorf("after passd_tenant_create, the caller's transaction acts in convention %q, want %q", during, want)
	}
	if audited != dbtest.Convention {
		t.Errorf("the caller's audit row went to convention %d, want %d", audited, dbtest.Convention)
	}
	if created == dbtest.Convention {
		t.Fatalf("the new convention is %d, the caller's own", created)
	}
	// The new convention has what it needs to work, seen from inside it.
	inC := db.WithTenant(ctx, created)
	for _, table := range []string{"settings", "tariff_state", "rates", "acts"} {
		var n int64
		if err := app.QueryRow(inC, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || (n != 1 && (table == "settings" || table == "tariff_state")) {
			t.Errorf("convention %d has %d rows in %s, want one (settings) or some (tariff)", created, n, table)
		}
	}
	var ofRates, copied int64
	if err := owner.QueryRow(ctx, `SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FILTER (WHERE tenant_id = $2) FROM rates`,
		dbtest.Convention, created).Scan(&ofRates, &copied); err != nil {
		t.Fatal(err)
	}
	if copied != ofRates {
		t.Errorf("convention %d got %d rates, convention 1 has %d", created, copied, ofRates)
	}
	// The application may create conventions, not write the list itself.
	if _, err := app.Exec(db.WithTenant(ctx, dbtest.Convention), `INSERT INTO tenants (name) VALUES ('Ville D')`); err == nil {
		t.Error("the application's role inserted into tenants directly")
	}
}

// TestTheOwnersFunctionsIgnoreTheCallersTemporaryTables: PostgreSQL looks
// in a session's temporary schema first unless told otherwise, so a
// SECURITY DEFINER function naming "tenants" could work on a temporary
// table the application made, with the owner's rights (and its triggers).
// Every such function searches pg_temp last.
func TestTheOwnersFunctionsIgnoreTheCallersTemporaryTables(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	owner := dbtest.Owner(t, url)
	app := dbtest.App(t, url)
	ctx := context.Background()
	var created int64
	var sealed int
	err := db.InTx(ctx, app, func(tx pgx.Tx) error {
		for _, sql := range []string{
			`CREATE TEMP TABLE tenants (id bigint, name text, created_at timestamptz)`,
			`CREATE TEMP TABLE audit_chain_head (id boolean, chain_seq bigint, hash bytea, tenant_id bigint)`,
			`INSERT INTO pg_temp.audit_chain_head VALUES (true, 0, '\x00', 1)`,
			`INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('test', 'test.planted', 'test', '1')`,
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT passd_tenant_create('Ville piégée')`).Scan(&created); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT audit_seal(10)`).Scan(&sealed)
	})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := owner.QueryRow(ctx, `SELECT name FROM public.tenants WHERE id = $1`, created).Scan(&name); err != nil || name != "Ville piégée" {
		t.Errorf("the convention created: %q, %v; want it in public.tenants", name, err)
	}
	var seq int64
	if err := owner.QueryRow(ctx, `SELECT chain_seq FROM public.audit_chain_head WHERE tenant_id = 1`).Scan(&seq); err != nil || seq == 0 || sealed == 0 {
		t.Errorf("the seal moved the real head to %d (%d sealed, %v); want it past 0", seq, sealed, err)
	}
}
