package main

// The submit benchmark's second yardstick (issue 18 §3): pgbench writing
// the same rows as bench/submit.sql into a lean schema, so that the cost
// of passd's own schema and checks shows beside the cost of passd itself.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// leanDB creates a database of its own holding only the lean schema
// (bench/lean_schema.sql), not a copy of passd's, and returns its name.
func (e *env) leanDB(ctx context.Context, schemaFile string) (string, error) {
	schema, err := os.ReadFile(schemaFile)
	if err != nil {
		return "", fmt.Errorf("submit: the lean schema: %w", err)
	}
	name := fmt.Sprintf("bench_submit_lean_%d", e.dbSeq.Add(1))
	if err := e.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, e.dbURL(name))
	if err != nil {
		e.dropDB(ctx, name)
		return "", fmt.Errorf("submit: connect to the lean database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Without arguments, pgx sends the file's statements as one simple query.
	if _, err := conn.Exec(ctx, string(schema)); err != nil {
		e.dropDB(ctx, name)
		return "", fmt.Errorf("submit: apply %s: %w", schemaFile, err)
	}
	return name, nil
}

// submitLean runs the lean script in pgbench on a fresh lean database,
// after a checkpoint, as submitPgbench runs bench/submit.sql; the rows it
// stores are counted as the other sides' are. There is nothing to seal.
func submitLean(ctx context.Context, e *env, fx submitFixture, care string, s submitSettings, clients int) (pgbenchResult, error) {
	db, err := e.leanDB(ctx, s.LeanSchema)
	if err != nil {
		return pgbenchResult{}, err
	}
	defer e.dropDB(ctx, db)
	if err := e.exec(ctx, "CHECKPOINT"); err != nil {
		return pgbenchResult{}, err
	}
	res, err := pgbenchRun{Bin: e.Pgbench, Script: s.LeanScript, ConnURL: e.dbURL(db), Clients: clients,
		Duration: s.Duration, Vars: submitVars(fx, care),
		LogPrefix: filepath.Join(e.WorkDir, fmt.Sprintf("pgbench-lean-c%d", clients)), Postmaster: e.Postmaster}.run(ctx)
	if err != nil {
		return res, fmt.Errorf("submit: lean: %w", err)
	}
	if err := checkInvoices(ctx, e.dbURL(db), res.Transactions); err != nil {
		return res, fmt.Errorf("submit: lean pgbench -c %d: %w", clients, err)
	}
	return res, nil
}
