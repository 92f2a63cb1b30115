package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"passd/billing"
	"passd/calendar"
	"passd/db"
	"passd/programme"
	"passd/referrals"
	"passd/web"
)

// defaultChromium is Debian's chromium, which the project's scripts
// install for the browser tests.
const defaultChromium = "/usr/bin/chromium"

// reportTimeout bounds one PDF: the page has no script and nothing to
// fetch, so a browser still busy after this is stuck.
const reportTimeout = 2 * time.Minute

// reportCommand runs `passd report --year Y --out bilan.pdf`: the year's
// programme figures, as /bilan shows them, printed to an A4 PDF by a
// headless Chromium (the convention's name and the period at the top of
// each page, "Page n / N" at its foot). It reads aggregates only, so it
// needs no keyring.
func reportCommand(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	const usage = "usage: passd report [--year YYYY] --out FILE.pdf [--chromium PATH] [--database-url URL]"
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&cfg.DBRole, "db-role", cfg.DBRole, "role the sessions act as (env PASSD_DB_ROLE)")
	today := calendar.Today(time.Now())
	year := fs.Int("year", today.Year(), "the calendar year the report covers")
	outPath := fs.String("out", "", "the PDF file to write")
	chromium := fs.String("chromium", cfg.Chromium, "the headless Chromium that prints the PDF (env PASSD_CHROMIUM)")
	named := conventionFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *outPath == "" {
		return errors.New(usage)
	}
	if *year < 2000 || *year > 2100 {
		return fmt.Errorf("report: --year %d: a year between 2000 and 2100", *year)
	}
	if cfg.DatabaseURL == "" {
		return cfg.Validate()
	}
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer raw.Close()
	pool, err := conventionPool(ctx, db.NewPool(raw), *named)
	if err != nil {
		return err
	}
	r, err := programme.NewStore(pool).Report(ctx, programme.Year(*year))
	if err != nil {
		return err
	}
	settings, err := billing.NewStore(pool, nil, billing.Config{}).Settings(ctx)
	if err != nil {
		return err
	}
	// The convention's figures are aggregates: no identity is read, so no
	// keyring is needed.
	ind, err := referrals.NewStore(pool, nil, time.Now).Indicators(ctx, programme.Year(*year))
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := web.RenderProgrammeReport(&page, r, ind, *year, settings.RegieName, today); err != nil {
		return err
	}
	if err := printPDF(ctx, *chromium, page.Bytes(), *outPath); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: the programme's report for %d\n", *outPath, *year)
	return nil
}

// printPDF prints the HTML document page to the PDF file outPath with
// chromium, from a private temporary directory (the page and a throwaway
// browser profile) removed afterwards.
func printPDF(ctx context.Context, chromium string, page []byte, outPath string) error {
	outPath, err := filepath.Abs(outPath)
	if err != nil {
		return fmt.Errorf("report: --out: %w", err)
	}
	dir, err := os.MkdirTemp("", "passd-report-")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.RemoveAll(dir)
	htmlPath := filepath.Join(dir, "bilan.html")
	if err := os.WriteFile(htmlPath, page, 0o600); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	// --no-sandbox: the page is passd's own, with no script, and the
	// sandbox needs kernel features a service account or a container may
	// lack. The network flags keep chromium from calling out.
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer", "--print-to-pdf="+outPath,
		"file://"+htmlPath)
	var talk bytes.Buffer
	cmd.Stdout, cmd.Stderr = &talk, &talk
	cmd.WaitDelay = 5 * time.Second // chromium's children may hold the pipes
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("report: %s: %w\n%s", chromium, err, lastBytes(talk.Bytes(), 2000))
	}
	head := make([]byte, 5)
	f, err := os.Open(outPath)
	if err == nil {
		_, err = io.ReadFull(f, head)
		f.Close()
	}
	if err != nil || string(head) != "%PDF-" {
		return fmt.Errorf("report: %s wrote no PDF at %s (%v)\n%s", chromium, outPath, err, lastBytes(talk.Bytes(), 2000))
	}
	return nil
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
