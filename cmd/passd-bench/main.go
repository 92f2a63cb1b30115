// Command passd-bench measures passd against PostgreSQL's own limit on the
// same machine, in the same run (issue 6), and writes what it measured as
// a table and as JSON. `make bench` (scripts/bench.sh) starts a private,
// durable PostgreSQL for it and runs it:
//
//   - submit: bench/submit.sql in pgbench, then passd over HTTP doing the
//     same at the same concurrency, each on a fresh database;
//   - sweep: the deadline and release jobs through passd against one SQL
//     statement doing the same on an identical copy, with passd's peak RSS;
//   - sepa: the SEPA file of a payout batch, its time and passd's peak RSS;
//   - report: the programme's yearly report (GET /reports/programme) on
//     two years of files and invoices;
//   - search: the coordinator's search form (POST /coordination/dossiers)
//     over 100 000 files, by part of a name, a birth date, part of a file
//     number or a NIR;
//   - conventions: every job (`passd run-job`) over a million invoices held
//     by one convention, then shared by ten (issue 18 §3);
//   - gobench: the Go benchmarks of the repository.
//
// A missed target is reported, not failed; an error (a request refused, a
// failed transaction, copies that end up different) makes it exit 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Paris, for care dates.

	"github.com/jackc/pgx/v5"
)

// benchConvention is the one convention of the bench's database (migration
// 00021 makes the first; the bench creates no other).
const benchConvention = 1

var allPhases = []string{"submit", "sweep", "sepa", "report", "search", "conventions", "gobench"}

// allSweepCases are the sweep benchmark's cases: the deadline job and the
// release job on a backlog (half the invoices past their deadline), and
// the release job on an ordinary day (a few new decisions among many
// pending invoices).
var allSweepCases = []string{"deadline", "release", "release-day"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "passd-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	serverURL, passd, pgbench, out, workDir, repo, script string
	leanScript, leanSchema                                string
	profile                                               bool
	phases, pkgs, sweepCases                              []string
	clients, sepaPayouts                                  []int
	submitDuration                                        time.Duration
	patients, sweepInvoices, releasePatients, repeat      int
	dayInvoices, dayDecisions                             int
	reportPatients, reportInvoices, reportRuns            int
	searchPatients, searchQueries                         int
	conventions, conventionsInvoices                      int
	pgSettings                                            string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("passd-bench", flag.ContinueOnError)
	fs.StringVar(&o.serverURL, "server-url", os.Getenv("BENCH_SERVER_URL"), "superuser URL of the bench's PostgreSQL (env BENCH_SERVER_URL; make bench sets it)")
	fs.StringVar(&o.passd, "passd", "bin/passd", "the passd binary")
	fs.StringVar(&o.pgbench, "pgbench", "pgbench", "the pgbench binary")
	fs.StringVar(&o.out, "out", "bench/results/latest.json", "where to write the results as JSON")
	fs.StringVar(&o.workDir, "work-dir", "bench/results/run", "where the logs of passd, pgbench and go test go (emptied first)")
	fs.StringVar(&o.repo, "repo", ".", "the repository, for git and go test")
	fs.StringVar(&o.script, "submit-script", "bench/submit.sql", "the pgbench script of one POST /invoices")
	fs.BoolVar(&o.profile, "profile", false, "submit: take a CPU profile of passd during each of its runs, into the run directory (passd-submit-cN.pprof)")
	fs.StringVar(&o.leanScript, "lean-script", "bench/submit_lean.sql", "submit: the lean yardstick's pgbench script, the same rows on --lean-schema (\"\": not run)")
	fs.StringVar(&o.leanSchema, "lean-schema", "bench/lean_schema.sql", "submit: the lean yardstick's schema, applied to a database of its own")
	fs.StringVar(&o.pgSettings, "pg-settings", os.Getenv("BENCH_PG_SETTINGS"), "the server's settings, recorded with the results")
	phases := fs.String("phases", strings.Join(allPhases, ","), "what to measure: "+strings.Join(allPhases, ","))
	clients := fs.String("clients", "1,8,32", "submit: concurrent clients, one run each")
	fs.DurationVar(&o.submitDuration, "submit-duration", 20*time.Second, "submit: how long each run lasts")
	fs.IntVar(&o.repeat, "repeat", 1, "submit: runs of each pgbench/passd pair per concurrency; the median ratio's pair is reported")
	fs.IntVar(&o.patients, "patients", 2000, "submit: patient files invoiced at random")
	fs.IntVar(&o.sweepInvoices, "sweep-invoices", 1_000_000, "sweep: pending invoices seeded, half past their deadline")
	fs.IntVar(&o.releasePatients, "release-patients", 100_000, "sweep: patients whose rights are opened for the release job")
	// An ordinary day: a million invoices waiting, two per patient, and a
	// thousand opening decisions since the last run; see dayCase.
	fs.IntVar(&o.dayInvoices, "day-invoices", 1_000_000, "sweep release-day: pending invoices seeded, two per patient, all within their deadline")
	fs.IntVar(&o.dayDecisions, "day-decisions", 1000, "sweep release-day: patients whose rights were opened since the last run")
	cases := fs.String("sweep-cases", strings.Join(allSweepCases, ","), "sweep: the cases measured: "+strings.Join(allSweepCases, ","))
	fs.IntVar(&o.reportPatients, "report-patients", 100_000, "report: patient files seeded")
	fs.IntVar(&o.reportInvoices, "report-invoices", 1_000_000, "report: invoices seeded, over the report's year and the year before")
	fs.IntVar(&o.reportRuns, "report-runs", 5, "report: answers timed after the first")
	fs.IntVar(&o.searchPatients, "search-patients", 100_000, "search: patient files seeded")
	fs.IntVar(&o.searchQueries, "search-queries", 200, "search: queries timed per case")
	fs.IntVar(&o.conventions, "conventions", 10, "conventions: how many conventions share the invoices")
	fs.IntVar(&o.conventionsInvoices, "conventions-invoices", 1_000_000, "conventions: pending invoices in all, half past their deadline")
	sepa := fs.String("sepa-payouts", "1000,10000", "sepa: payouts per batch, one run each")
	pkgs := fs.String("go-bench", "./...", "gobench: packages whose benchmarks run")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.serverURL == "" {
		return o, errors.New("--server-url (or BENCH_SERVER_URL) is not set: run `make bench`, which starts a PostgreSQL for the bench")
	}
	o.sweepCases = splitList(*cases)
	for _, c := range o.sweepCases {
		if !slices.Contains(allSweepCases, c) {
			return o, fmt.Errorf("--sweep-cases: unknown case %q (known: %s)", c, strings.Join(allSweepCases, ","))
		}
	}
	o.phases = splitList(*phases)
	for _, p := range o.phases {
		if !slices.Contains(allPhases, p) {
			return o, fmt.Errorf("--phases: unknown phase %q (known: %s)", p, strings.Join(allPhases, ","))
		}
	}
	var err error
	if o.clients, err = intList(*clients); err != nil {
		return o, fmt.Errorf("--clients: %w", err)
	}
	if o.sepaPayouts, err = intList(*sepa); err != nil {
		return o, fmt.Errorf("--sepa-payouts: %w", err)
	}
	o.pkgs = strings.Fields(*pkgs)
	if o.submitDuration < time.Second || o.patients < 1 || o.sweepInvoices < 2 || o.releasePatients < 0 || o.repeat < 1 ||
		o.dayInvoices < 2 || o.dayDecisions < 1 || o.reportPatients < 1 || o.reportInvoices < o.reportPatients || o.reportRuns < 1 ||
		o.searchPatients < 1 || o.searchQueries < 1 || o.conventions < 2 || o.conventionsInvoices < 2*o.conventions {
		return o, errors.New("--submit-duration must be at least 1s, --patients, --repeat, --day-decisions, --report-patients, --report-runs, --search-patients and --search-queries at least 1, --sweep-invoices and --day-invoices at least 2, --report-invoices at least --report-patients, --conventions at least 2 and --conventions-invoices at least twice that")
	}
	return o, nil
}

// sweepCasesToRun are the sweep cases asked for, with their worlds.
func (o options) sweepCasesToRun() []sweepCase {
	all := map[string]sweepCase{
		"deadline": {Name: "deadline", Job: "deadline", World: backlog(o.sweepInvoices, 0)},
		"release":  {Name: "release", Job: "release", World: backlog(o.sweepInvoices, o.releasePatients)},
		"release-day": {Name: "release-day", Job: "release",
			World: worldShape{invoices: o.dayInvoices, opened: o.dayDecisions, perPatient: 2, day: true}},
	}
	out := make([]sweepCase, 0, len(o.sweepCases))
	for _, name := range o.sweepCases {
		out = append(out, all[name])
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(o.workDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	workDir, err := filepath.Abs(o.workDir)
	if err != nil {
		return err
	}
	script, err := filepath.Abs(o.script)
	if err != nil {
		return err
	}
	leanScript := o.leanScript
	if leanScript != "" {
		if leanScript, err = filepath.Abs(leanScript); err != nil {
			return err
		}
	}
	e := &env{ServerURL: o.serverURL, Passd: o.passd, Pgbench: o.pgbench, WorkDir: workDir, Profile: o.profile,
		Progress: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "passd-bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		}}
	e.Postmaster = postmasterPID(ctx, o.serverURL)
	if key, err := exec.CommandContext(ctx, e.Passd, "keygen").Output(); err != nil {
		return fmt.Errorf("passd keygen: %w", err)
	} else {
		e.DataKey = string(key)
	}

	r := &Results{Settings: Settings{Phases: o.phases, Clients: o.clients, Repeat: o.repeat, SubmitDurationS: o.submitDuration.Seconds(),
		Patients: o.patients, SweepInvoices: o.sweepInvoices, ReleasePatients: o.releasePatients, SweepCases: o.sweepCases,
		DayInvoices: o.dayInvoices, DayDecisions: o.dayDecisions, SEPAPayouts: o.sepaPayouts,
		ReportPatients: o.reportPatients, ReportInvoices: o.reportInvoices, ReportRuns: o.reportRuns,
		SearchPatients: o.searchPatients, SearchQueries: o.searchQueries,
		Conventions: o.conventions, ConventionsInvoices: o.conventionsInvoices,
		PGSettings: o.pgSettings}}
	r.Machine = machine(ctx, o.serverURL, o.repo)
	fail := func(err error) {
		if err != nil && ctx.Err() == nil {
			e.Progress("ERROR: %v", err)
		}
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	// A phase that fails is reported and the next one runs: one broken
	// measurement should not hide the others.
	for _, phase := range o.phases {
		if ctx.Err() != nil {
			break
		}
		switch phase {
		case "submit":
			fail(submitPhase(ctx, e, submitSettings{Clients: o.clients, Duration: o.submitDuration, Patients: o.patients, Script: script, Repeat: o.repeat,
				LeanScript: leanScript, LeanSchema: o.leanSchema},
				func(row SubmitRow) { r.Submit = append(r.Submit, row) }))
		case "sweep":
			for _, c := range o.sweepCasesToRun() {
				row, err := sweepPhase(ctx, e, c)
				r.Sweep = append(r.Sweep, row)
				fail(err)
			}
		case "sepa":
			for _, n := range o.sepaPayouts {
				row, err := sepaPhase(ctx, e, n)
				r.SEPA = append(r.SEPA, row)
				fail(err)
			}
		case "report":
			row, err := reportPhase(ctx, e, o.reportPatients, o.reportInvoices, o.reportRuns)
			r.Report = append(r.Report, row)
			fail(err)
		case "search":
			rows, err := searchPhase(ctx, e, o.searchPatients, o.searchQueries)
			r.Search = append(r.Search, rows...)
			fail(err)
		case "conventions":
			row, err := conventionsPhase(ctx, e, o.conventions, o.conventionsInvoices)
			r.Conventions = append(r.Conventions, row)
			fail(err)
		case "gobench":
			e.Progress("gobench: go test -run '^$' -bench . -benchmem %s", strings.Join(o.pkgs, " "))
			benches, err := goBenchPhase(ctx, e, o.repo, o.serverURL, o.pkgs)
			r.GoBenchmarks = benches
			fail(err)
		}
	}
	if e.migrated != "" {
		fail(e.dropDB(ctx, e.migrated))
	}
	fail(ctx.Err())
	r.evaluate()
	fmt.Println()
	r.writeTable(os.Stdout)
	if err := r.writeJSON(o.out); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	fmt.Printf("\nwrote %s; logs in %s\n", o.out, o.workDir)
	if len(r.Errors) > 0 {
		return fmt.Errorf("%d error(s), listed above", len(r.Errors))
	}
	return nil
}

// machine describes the machine, the toolchain, the server and the code.
func machine(ctx context.Context, serverURL, repo string) Machine {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), Date: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMB = kb / 1024
				}
			}
		}
	}
	if conn, err := pgx.Connect(ctx, serverURL); err == nil {
		_ = conn.QueryRow(ctx, `SELECT version()`).Scan(&m.PGVersion)
		if f := strings.Fields(m.PGVersion); len(f) >= 2 {
			m.PGVersion = f[0] + " " + f[1]
		}
		conn.Close(ctx)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(out))
		if st, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.GitCommit += "+dirty"
		}
	}
	return m
}
