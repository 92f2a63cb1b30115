package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"passd/audit"
	"passd/db"
)

// auditCommand runs `passd audit verify`: it reads the whole audit chain
// and prints each break it finds, naming the row; a broken chain is a
// failure (exit 1).
func auditCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	const usage = "usage: passd audit verify [--database-url URL]"
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf(usage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&cfg.DBRole, "db-role", cfg.DBRole, "role the sessions act as (env PASSD_DB_ROLE)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf(usage)
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	// Reading the chain needs only what the application may do.
	pool, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer pool.Close()
	report, err := audit.Verify(ctx, pool)
	if err != nil {
		return err
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
