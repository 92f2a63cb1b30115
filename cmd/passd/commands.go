package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
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
	// The files still to encrypt are sealed as the application's role, one
	// convention after another: row-level security holds that role, not a
	// superuser owner, which would see every convention's files at once.
	app, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer app.Close()
	pools, err := conventionPools(ctx, db.NewPool(app), "")
	if err != nil {
		return err
	}
	for _, p := range pools {
		if err := sealPending(ctx, cfg, logger, p, "migrate"); err != nil {
			return fmt.Errorf("convention %d: %w", p.Bound(), err)
		}
	}
	return nil
}

func runJobCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("run-job", flag.ContinueOnError)
	cfg.Flags(fs)
	named := conventionFlag(fs)
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
	pools, err := conventionPools(ctx, a.pool, *named)
	if err != nil {
		return err
	}
	// One run per convention; one's failure does not keep the next from
	// running.
	var failed error
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	for _, p := range pools {
		run, err := a.scheduler.RunNow(db.WithTenant(ctx, p.Bound()), fs.Arg(0))
		if err != nil {
			return err
		}
		if err := enc.Encode(run.InUTC()); err != nil {
			return err
		}
		if run.Error != nil {
			failed = errors.Join(failed, fmt.Errorf("job %s failed for convention %d: %s", run.Name, p.Bound(), *run.Error))
		}
	}
	return failed
}

// checkCommand verifies the money invariants over the whole database and
// prints the report; a broken invariant is a failure (exit 1).
func checkCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfg.Flags(fs)
	named := conventionFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer raw.Close()
	pools, err := conventionPools(ctx, db.NewPool(raw), *named)
	if err != nil {
		return err
	}
	// One report: each invariant's violations summed over the conventions,
	// its examples naming theirs when there are several.
	var report journal.Report
	for _, pool := range pools {
		r, err := checkConvention(ctx, pool)
		if err != nil {
			return fmt.Errorf("convention %d: %w", pool.Bound(), err)
		}
		report = mergeReports(report, r, pool.Bound(), len(pools) > 1)
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

// mergeReports adds one convention's report to the sum.
func mergeReports(sum, r journal.Report, tenant int64, several bool) journal.Report {
	if sum.Findings == nil {
		sum.OK = true
	}
	sum.OK = sum.OK && r.OK
	for _, f := range r.Findings {
		if several {
			for i, e := range f.Examples {
				f.Examples[i] = fmt.Sprintf("convention %d: %s", tenant, e)
			}
		}
		i := slices.IndexFunc(sum.Findings, func(g journal.Finding) bool { return g.Name == f.Name })
		if i < 0 {
			sum.Findings = append(sum.Findings, f)
			continue
		}
		sum.Findings[i].Violations += f.Violations
		sum.Findings[i].Examples = append(sum.Findings[i].Examples, f.Examples...)
		if len(sum.Findings[i].Examples) > 10 {
			sum.Findings[i].Examples = sum.Findings[i].Examples[:10]
		}
	}
	return sum
}

// checkConvention checks one convention's money invariants and its frozen
// SEPA files.
func checkConvention(ctx context.Context, pool *db.Pool) (journal.Report, error) {
	report, err := journal.Check(ctx, pool)
	if err != nil {
		return report, err
	}
	// The SEPA files frozen at approval: each written again from its
	// snapshot must have the SHA-256 approval kept.
	mismatches, err := billing.NewStore(pool, nil, billing.Config{}).VerifySEPA(ctx)
	if err != nil {
		return report, err
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
	return report, nil
}
