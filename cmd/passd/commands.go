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

	"passd/auth"
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

func tokenCommand(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: passd token create --role ROLE [--provider-id ID] --name NAME")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	role := fs.String("role", "", "provider, coordinator, cpam_referent, finance or admin")
	providerID := fs.Int64("provider-id", 0, "the provider a provider user acts for")
	name := fs.String("name", "", "the user's name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role %q: must be one of provider, coordinator, cpam_referent, finance, admin", *role)
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	token, err := auth.NewStore(pool).CreateUser(ctx, *name, r, *providerID)
	if err != nil {
		return err
	}
	// Only the token on stdout, so that scripts can capture it.
	fmt.Println(token)
	return nil
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
	if err := enc.Encode(toJobRunJSON(run)); err != nil {
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
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	report, err := journal.Check(ctx, pool)
	if err != nil {
		return err
	}
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
