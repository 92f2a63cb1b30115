package migrations_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"passd/db/dbtest"
)

// appendOnly are the tables the application may read and append to but
// never change or empty: the logs, the deltas of the status counts
// (folded by the owner's status_counts_compact()), and the rates' history.
var appendOnly = []string{"invoice_outcomes", "cpam_refunds", "journal_entries", "patient_access_log", "status_counts", "rates", "payout_batch_transfers",
	"referral_access_log"}

// ownerOnly are tables the application may not touch at all, or only
// read, or (audit_log) append to only by naming some of its columns (see
// auditInsertColumns): the chain's bookkeeping (written by the SECURITY
// DEFINER audit_seal) and the migrations' record (read by /readyz). Rights
// decisions are kept for ever: a correction marks one superseded (UPDATE,
// which a trigger narrows to that), nothing deletes one.
var ownerOnly = map[string][]string{
	"rights_decisions":    {"SELECT", "INSERT", "UPDATE"},
	"provider_recoveries": {"SELECT", "INSERT", "UPDATE"},
	"audit_log":           {"SELECT"},
	"audit_chain_head":    nil,
	"goose_db_version":    {"SELECT"},
	// The conventions: the jobs read the list; only the platform's
	// operator, as the owner, adds one (passd convention create).
	"tenants":      {"SELECT"},
	"tariff_state": {"SELECT", "UPDATE"}, // one row, moved by the tariff's triggers
	// Four eyes: a request is decided once (UPDATE, narrowed by a trigger)
	// and kept for ever.
	"bank_detail_changes": {"SELECT", "INSERT", "UPDATE"},
	"payout_voids":        {"SELECT", "INSERT", "UPDATE"},
}

// auditInsertColumns are the columns of audit_log the application may
// name in an INSERT: a row's content, not its id, its time or its seal.
var auditInsertColumns = []string{"actor_id", "actor", "action", "entity", "entity_id", "before", "after"}

// TestTheApplicationRoleHasExactlyWhatItNeeds walks every table and
// sequence of the schema, so that a table added by a later migration
// without its privileges fails here rather than in production.
func TestTheApplicationRoleHasExactlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	role := dbtest.Role()

	var current, session string
	if err := app.QueryRow(ctx, `SELECT current_user, session_user`).Scan(&current, &session); err != nil {
		t.Fatal(err)
	}
	if current != role || session == role {
		t.Fatalf("application sessions run as %s (session %s), want the role %s set over the login user", current, session, role)
	}

	rows, err := owner.Query(ctx, `
		SELECT c.relname,
		       has_table_privilege($1, c.oid, 'SELECT'), has_table_privilege($1, c.oid, 'INSERT'),
		       has_table_privilege($1, c.oid, 'UPDATE'), has_table_privilege($1, c.oid, 'DELETE'),
		       has_table_privilege($1, c.oid, 'TRUNCATE'), has_table_privilege($1, c.oid, 'REFERENCES'),
		       has_table_privilege($1, c.oid, 'TRIGGER')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
		ORDER BY c.relname`, role)
	if err != nil {
		t.Fatal(err)
	}
	privileges := []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
	var tables []string
	for rows.Next() {
		var name string
		has := make([]bool, len(privileges))
		if err := rows.Scan(&name, &has[0], &has[1], &has[2], &has[3], &has[4], &has[5], &has[6]); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
		want := []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
		if slices.Contains(appendOnly, name) {
			want = []string{"SELECT", "INSERT"}
		} else if w, ok := ownerOnly[name]; ok {
			want = w
		}
		for i, p := range privileges {
			if has[i] != slices.Contains(want, p) {
				t.Errorf("table %s: %s has %s = %v, want the privileges %v", name, role, p, has[i], want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"audit_log", "audit_chain_head", "invoices", "journal_entries", "web_sessions"} {
		if !slices.Contains(tables, name) {
			t.Errorf("table %s not found among %v", name, tables)
		}
	}

	// audit_log, column by column: INSERT on the content only, no UPDATE.
	rows, err = owner.Query(ctx, `
		SELECT attname, has_column_privilege($1, 'audit_log', attname, 'INSERT'), has_column_privilege($1, 'audit_log', attname, 'UPDATE')
		FROM pg_attribute WHERE attrelid = 'audit_log'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, role)
	if err != nil {
		t.Fatal(err)
	}
	var columns []string
	for rows.Next() {
		var name string
		var insert, update bool
		if err := rows.Scan(&name, &insert, &update); err != nil {
			t.Fatal(err)
		}
		columns = append(columns, name)
		if insert != slices.Contains(auditInsertColumns, name) || update {
			t.Errorf("audit_log.%s: %s has INSERT = %v, UPDATE = %v; want INSERT only on %v", name, role, insert, update, auditInsertColumns)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Clone(auditInsertColumns), "id", "at", "chain_seq", "prev_hash", "hash") {
		if !slices.Contains(columns, name) {
			t.Errorf("audit_log has no column %s (it has %v)", name, columns)
		}
	}
	var seal bool
	if err := owner.QueryRow(ctx, `SELECT has_function_privilege($1, 'audit_seal(int)', 'EXECUTE')`, role).Scan(&seal); err != nil || !seal {
		t.Errorf("%s may call audit_seal: %v, %v; want true", role, seal, err)
	}

	var missing []string
	err = owner.QueryRow(ctx, `
		SELECT coalesce(array_agg(c.relname ORDER BY c.relname), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relname <> 'goose_db_version_id_seq'
		  AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, 'USAGE') END`, role).Scan(&missing)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("%s may not use the sequences %v", role, missing)
	}
}

// TestTheApplicationCannotRewriteTheAuditLog: as the application's role,
// an audit row can be added but not changed or removed, whatever the
// triggers, nor added with its chain columns set; the owner's head of the
// chain is out of reach too, except through audit_seal.
func TestTheApplicationCannotRewriteTheAuditLog(t *testing.T) {
	t.Parallel()
	app := dbtest.New(t)
	ctx := context.Background()
	if _, err := app.Exec(ctx, `INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('test', 'test.append', 'test', '1')`); err != nil {
		t.Fatalf("the application cannot append to the audit log: %v", err)
	}
	var sealed int
	if err := app.QueryRow(ctx, `SELECT audit_seal(10)`).Scan(&sealed); err != nil || sealed != 1 {
		t.Fatalf("the application seals: %d, %v; want 1 row", sealed, err)
	}
	for _, sql := range []string{
		`INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq, prev_hash, hash)
			VALUES ('test', 'test.append', 'test', '2', 2, '\x00', '\x00')`,
		`INSERT INTO audit_log (actor, action, entity, entity_id, chain_seq) VALUES ('test', 'test.append', 'test', '2', 2)`,
		`COPY audit_log FROM STDIN`,
		`UPDATE audit_log SET actor = 'someone else'`,
		`UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`UPDATE journal_entries SET debit = 0`,
		`DELETE FROM journal_entries`,
		`SELECT * FROM audit_chain_head`,
		`UPDATE audit_chain_head SET chain_seq = 0`,
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
		`SET session_replication_role = replica`,
	} {
		_, err := app.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the application: %v, want permission denied (42501)", sql, err)
		}
	}
	// RESET ROLE goes back to the role the session started with, not to
	// the login user.
	err := pgx.BeginFunc(ctx, app, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `RESET ROLE`); err != nil {
			return err
		}
		var current string
		if err := tx.QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil {
			return err
		}
		if current != dbtest.Role() {
			t.Errorf("after RESET ROLE the session acts as %s, want %s", current, dbtest.Role())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
