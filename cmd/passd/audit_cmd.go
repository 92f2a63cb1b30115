package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"passd/audit"
	"passd/db"
)

// auditCommand runs `passd audit verify`: it seals the rows appended since
// the last seal (a server stopped before its sealer ran leaves some), then
// reads the whole audit chain and prints each break it finds, naming the
// row; a broken chain is a failure (exit 1). Rows still unsealed after
// that (committed meanwhile, or held by a running server's sealer) are
// counted, not checked.
func auditCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	const usage = "usage: passd audit verify [--database-url URL]"
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&cfg.DBRole, "db-role", cfg.DBRole, "role the sessions act as (env PASSD_DB_ROLE)")
	named := conventionFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New(usage)
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	// Sealing and reading the chain need only what the application may do.
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer raw.Close()
	// Each convention keeps its own chain.
	pools, err := conventionPools(ctx, db.NewPool(raw), *named)
	if err != nil {
		return err
	}
	var broken error
	for _, pool := range pools {
		if len(pools) > 1 {
			fmt.Fprintf(out, "convention %d:\n", pool.Bound())
		}
		err := verifyChain(ctx, pool, out)
		if err != nil && len(pools) > 1 {
			err = fmt.Errorf("convention %d: %w", pool.Bound(), err)
		}
		broken = errors.Join(broken, err)
	}
	return broken
}

// verifyChain seals what waits and verifies one convention's audit chain.
func verifyChain(ctx context.Context, pool *db.Pool, out io.Writer) error {
	sealed, err := audit.SealPending(ctx, pool, audit.SealBatch)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed %d pending row(s) before verifying\n", sealed)
	report, err := audit.Verify(ctx, pool)
	if err != nil {
		return err
	}
	if report.Pending > 0 {
		fmt.Fprintf(out, "%d row(s) still awaiting their seal, the oldest at %s: not covered by this check (a running passd seals them within a second)\n",
			report.Pending, report.OldestPending.UTC().Format(time.RFC3339Nano))
	}
	for _, p := range report.Problems {
		fmt.Fprintln(out, p)
	}
	if !report.OK() {
		if more := report.Broken - int64(len(report.Problems)); more > 0 {
			fmt.Fprintf(out, "… and %d more\n", more)
		}
		fmt.Fprintf(out, "audit chain BROKEN: %d problem(s) in %d rows (chain head at seq %d)\n", report.Broken, report.Rows, report.HeadSeq)
		return fmt.Errorf("the audit chain is broken (%d problem(s))", report.Broken)
	}
	fmt.Fprintf(out, "audit chain intact: %d rows (chain head at seq %d)\n", report.Rows, report.HeadSeq)
	return nil
}
