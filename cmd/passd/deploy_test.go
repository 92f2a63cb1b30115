package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"passd/auth"
	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/migrations"
)

// TestServingAsALoginRoleThatIsOnlyAMemberOfPassdApp follows the README's
// deployment: the owner migrates; passd serves as a login role that is
// only a member of passd_app, which can neither migrate nor escape to the
// owner's rights.
func TestServingAsALoginRoleThatIsOnlyAMemberOfPassdApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ownerURL := dbtest.NewURL(t)
	owner := dbtest.Owner(t, ownerURL)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	login := "passd_login_" + hex.EncodeToString(b)
	if _, err := owner.Exec(ctx, `CREATE ROLE `+login+` LOGIN IN ROLE passd_app`); err != nil {
		t.Fatal(err)
	}
	// Roles are cluster-wide; this one goes once its sessions are closed
	// (cleanups run last registered first).
	t.Cleanup(func() {
		if _, err := owner.Exec(context.Background(), `DROP ROLE `+login); err != nil {
			t.Errorf("drop role %s: %v", login, err)
		}
	})
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(login)
	cfg := Config{DatabaseURL: u.String(), Addr: "127.0.0.1:0", DeadlineDays: 90,
		ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
		PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", DataKey: keyringtest.Text(t)}

	// serve's migration step finds nothing to do and needs no more.
	if err := migrateAsOwner(ctx, cfg, testLogger(t)); err != nil {
		t.Fatalf("migrate on a current schema as %s: %v", login, err)
	}
	a, err := newApp(ctx, cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	var current, session string
	if err := a.pool.QueryRow(ctx, `SELECT current_user, session_user`).Scan(&current, &session); err != nil || current != "passd_app" || session != login {
		t.Fatalf("sessions act as %s for %s (%v), want passd_app for %s", current, session, err, login)
	}
	token, err := a.users.CreateUser(inConvention(ctx), "admin", auth.Admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	a.echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/jobs as %s: %d %s", login, rec.Code, rec.Body)
	}

	// Without SET ROLE the login user has passd_app's rights and no more.
	direct, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	var ownerName string
	if err := owner.QueryRow(ctx, `SELECT quote_ident(session_user)`).Scan(&ownerName); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`SET ROLE ` + ownerName, `DELETE FROM audit_log`, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
		`UPDATE audit_chain_head SET chain_seq = 0`} {
		if _, err := direct.Exec(ctx, sql); err == nil {
			t.Errorf("%s as %s succeeded", sql, login)
		}
	}
	// A schema behind the binary is the owner's to migrate.
	if _, err := owner.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = $1`, migrations.Latest); err != nil {
		t.Fatal(err)
	}
	if err := migrateAsOwner(ctx, cfg, testLogger(t)); err == nil {
		t.Fatalf("%s applied a migration", login)
	}
}
