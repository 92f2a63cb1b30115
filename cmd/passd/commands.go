package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"passd/billing"
	"passd/db"
	"passd/journal"
	"passd/migrations"
)

func serveCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// What passd config check checks, before the database is touched.
	if err := checkConfig(cfg); err != nil {
		return err
	}
	if err := migrateAsOwner(ctx, cfg, logger); err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.close()
	return a.serve(ctx)
}

func migrateCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&cfg.DataKeyFile, "data-key-file", cfg.DataKeyFile, "keyring file, to encrypt files opened before identity was encrypted (env PASSD_DATA_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	return migrateAsOwner(ctx, cfg, logger)
}

// migrateAsOwner applies pending migrations as the login user, who owns
// the schema, never as the application's role. Its pool is closed before
// anything serves. With the schema current it only reads the migrations'
// record, which a login user that is merely a member of passd_app may do.
func migrateAsOwner(ctx context.Context, cfg Config, logger *slog.Logger) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := migrations.Up(ctx, pool)
	if err != nil {
		return err
	}
	logger.Info("migrations applied", "count", n)
	return sealPending(ctx, cfg, logger, pool, "migrate")
}

func runJobCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("run-job", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: passd run-job NAME")
	}
	a, err := newApp(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.close()
	run, err := a.scheduler.RunNow(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(run.InUTC()); err != nil {
		return err
	}
	if run.Error != nil {
		return fmt.Errorf("job %s failed: %s", run.Name, *run.Error)
	}
	return nil
}

// checkCommand verifies the money invariants over the whole database and
// prints the report; a broken invariant is a failure (exit 1).
func checkCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	pool, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer pool.Close()
	report, err := journal.Check(ctx, pool)
	if err != nil {
		return err
	}
	// The SEPA files frozen at approval: each written again from its
	// snapshot must have the SHA-256 approval kept.
	mismatches, err := billing.NewStore(pool, nil, billing.Config{}).VerifySEPA(ctx)
	if err != nil {
		return err
	}
	f := journal.Finding{Name: "sepa_files_frozen", Description: "the SEPA file of every batch approved since files are frozen, written again from its snapshot, has the SHA-256 kept at its approval",
		Violations: int64(len(mismatches)), Examples: []string{}}
	for i, m := range mismatches {
		if i < 10 {
			f.Examples = append(f.Examples, fmt.Sprintf("payout batch %d: kept %s, written %s", m.BatchID, m.Kept, m.Written))
		}
	}
	report.Findings = append(report.Findings, f)
	report.OK = report.OK && len(mismatches) == 0
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	if !report.OK {
		broken := 0
		for _, f := range report.Findings {
			if f.Violations > 0 {
				broken++
			}
		}
		return fmt.Errorf("%d invariant(s) broken", broken)
	}
	return nil
}
