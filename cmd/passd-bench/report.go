package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// Results is everything one `make bench` measured, as written to
// bench/results/latest.json.
type Results struct {
	Machine      Machine          `json:"machine"`
	Settings     Settings         `json:"settings"`
	Submit       []SubmitRow      `json:"submit"`
	Sweep        []SweepRow       `json:"sweep"`
	SEPA         []SEPARow        `json:"sepa"`
	Report       []ReportRow      `json:"report"`
	Search       []SearchRow      `json:"search"`
	Conventions  []ConventionsRow `json:"conventions"`
	GoBenchmarks []GoBench        `json:"go_benchmarks"`
	Targets      []Target         `json:"targets"`
	// Errors are failures of the bench itself (a run with errors, copies
	// that differ): they make it exit non-zero. A missed target does not.
	Errors []string `json:"errors"`
}

// Machine says where and on what the figures were taken.
type Machine struct {
	NProc     int    `json:"nproc"`
	CPU       string `json:"cpu"`
	MemoryMB  int64  `json:"memory_mb"`
	GoVersion string `json:"go_version"`
	PGVersion string `json:"pg_version"`
	Date      string `json:"date"`
	GitCommit string `json:"git_commit"`
}

// Settings are the sizes and durations of the run.
type Settings struct {
	Phases              []string `json:"phases"`
	Clients             []int    `json:"clients"`
	Repeat              int      `json:"repeat"`
	SubmitDurationS     float64  `json:"submit_duration_s"`
	Patients            int      `json:"patients"`
	SweepInvoices       int      `json:"sweep_invoices"`
	ReleasePatients     int      `json:"release_patients"`
	SweepCases          []string `json:"sweep_cases"`
	DayInvoices         int      `json:"day_invoices"`
	DayDecisions        int      `json:"day_decisions"`
	SEPAPayouts         []int    `json:"sepa_payouts"`
	ReportPatients      int      `json:"report_patients"`
	ReportInvoices      int      `json:"report_invoices"`
	ReportRuns          int      `json:"report_runs"`
	SearchPatients      int      `json:"search_patients"`
	SearchQueries       int      `json:"search_queries"`
	Conventions         int      `json:"conventions"`
	ConventionsInvoices int      `json:"conventions_invoices"`
	PGSettings          string   `json:"pg_settings"`
}

// Target is one of the issues' targets and whether this run met it.
type Target struct {
	Name   string  `json:"name"`
	Want   string  `json:"want"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Met    bool    `json:"met"`
	Scored bool    `json:"measured"`
	short  string  // what a table row calls it, next to the row's figures
}

// The targets (issue 6, raised by issue 18 §3), on this kind of 2-core
// machine.
const (
	targetSubmitClients = 32
	targetSubmitRatio   = 0.80
	targetSubmitP99ms   = 30.0
	// One client alone (issue 18 §3): passd's own time per request shows.
	targetSubmitClients1 = 1
	targetSubmitRatio1   = 0.70
	targetSweepRatio     = 1.5
	targetSweepRSSMB     = 150.0
	// An ordinary day's release run (issue 13, §4): the job alone, before
	// its audit rows are sealed, against the raw SQL's transaction alone,
	// and under a second. At this size the sealed figures measure the
	// sealer's wake-up (audit.SealInterval) more than work.
	targetDayRunRatio = 2.0
	targetDayRunS     = 1.0
	targetSEPASeconds = 1.0
	targetSEPAPayouts = 10000
	// The SEPA file is streamed when the largest batch's peak RSS is
	// within this of the smallest's: a 10 000-payout document held in
	// memory would add more than that.
	targetSEPAGrowthMB = 8.0
	// The programme's yearly report on 100 000 files and a million
	// invoices (issue 16 §3): under a second, the median of the answers
	// after the first (the table shows their slowest beside it).
	targetReportS        = 1.0
	targetReportInvoices = 1_000_000
	// The coordinator's search over 100 000 files (issue 20): each case's
	// 95th percentile under 100 ms, through passd's pages.
	targetSearchP95ms    = 100.0
	targetSearchPatients = 100_000
	// Ten conventions of 100 000 invoices against one of 1 000 000 (issue
	// 18 §3): the jobs' total time within 1.2 times.
	targetConventionsRatio    = 1.2
	targetConventionsInvoices = 1_000_000
)

// evaluate sets r.Targets from what was measured; a target whose
// measurement is missing is listed as not measured.
func (r *Results) evaluate() {
	var t []Target
	submit := Target{Name: fmt.Sprintf("submit@%d ratio passd/pgbench", targetSubmitClients), Want: fmt.Sprintf(">= %.2f", targetSubmitRatio)}
	p99 := Target{Name: fmt.Sprintf("submit@%d passd p99", targetSubmitClients), Want: fmt.Sprintf("<= %.0f ms", targetSubmitP99ms), Unit: "ms"}
	for _, row := range r.Submit {
		if row.Clients == targetSubmitClients && row.Passd != nil && row.Pgbench != nil {
			submit.Value, submit.Scored, submit.Met = row.Ratio, true, row.Ratio >= targetSubmitRatio
			p99.Value, p99.Scored, p99.Met = row.Passd.Latency.P99, true, row.Passd.Latency.P99 <= targetSubmitP99ms
		}
	}
	one := Target{Name: fmt.Sprintf("submit@%d ratio passd/pgbench", targetSubmitClients1), Want: fmt.Sprintf(">= %.2f", targetSubmitRatio1)}
	for _, row := range r.Submit {
		if row.Clients == targetSubmitClients1 && row.Passd != nil && row.Pgbench != nil {
			one.Value, one.Scored, one.Met = row.Ratio, true, row.Ratio >= targetSubmitRatio1
		}
	}
	t = append(t, submit, p99, one)
	for _, row := range r.Sweep {
		t = append(t, row.targets()...)
	}
	for _, row := range r.SEPA {
		if row.Payouts >= targetSEPAPayouts {
			t = append(t, Target{Name: fmt.Sprintf("sepa %d payouts", row.Payouts), Want: fmt.Sprintf("<= %.0f s", targetSEPASeconds), Unit: "s",
				Value: row.Seconds, Scored: row.Bytes > 0, Met: row.Bytes > 0 && row.Seconds <= targetSEPASeconds})
		}
	}
	if len(r.SEPA) >= 2 {
		lo, hi := r.SEPA[0], r.SEPA[0]
		for _, row := range r.SEPA {
			if row.Payouts < lo.Payouts {
				lo = row
			}
			if row.Payouts > hi.Payouts {
				hi = row
			}
		}
		growth := hi.PeakRSSMB - lo.PeakRSSMB
		t = append(t, Target{Name: fmt.Sprintf("sepa streamed (peak RSS %d vs %d payouts)", hi.Payouts, lo.Payouts),
			Want: fmt.Sprintf("<= +%.0f MB", targetSEPAGrowthMB), Unit: "MB", Value: growth,
			Scored: lo.PeakRSSMB > 0 && hi.PeakRSSMB > 0, Met: lo.PeakRSSMB > 0 && hi.PeakRSSMB > 0 && growth <= targetSEPAGrowthMB})
	}
	for _, row := range r.Report {
		if target, ok := row.target(); ok {
			t = append(t, target)
		}
	}
	for _, row := range r.Search {
		if target, ok := row.target(); ok {
			t = append(t, target)
		}
	}
	for _, row := range r.Conventions {
		if row.Invoices >= targetConventionsInvoices {
			t = append(t, row.target())
		}
	}
	r.Targets = t
}

// target is the row's target: the jobs' total time over the conventions
// against one convention of the same size.
func (row ConventionsRow) target() Target {
	scored := row.One.TotalS > 0 && row.Many.TotalS > 0
	return Target{Name: fmt.Sprintf("jobs over %d conventions of %d invoices vs one of %d", row.Conventions, row.Invoices/row.Conventions, row.Invoices),
		Want: fmt.Sprintf("<= %.1f", targetConventionsRatio), Value: row.Ratio, Scored: scored, Met: scored && row.Ratio <= targetConventionsRatio}
}

// target is the row's target, when it was measured at its size: the 95th
// percentile of its searches.
func (row SearchRow) target() (Target, bool) {
	if row.Patients < targetSearchPatients {
		return Target{}, false
	}
	p95 := row.Latency.P95
	return Target{Name: fmt.Sprintf("search %s over %d files, p95", row.Case, row.Patients), Want: fmt.Sprintf("< %.0f ms", targetSearchP95ms),
		Unit: "ms", Value: p95, Scored: row.Latency.Count > 0, Met: row.Latency.Count > 0 && p95 < targetSearchP95ms}, true
}

// target is the row's target, when it was measured at its size: the
// median answer after the first.
func (row ReportRow) target() (Target, bool) {
	if row.Invoices < targetReportInvoices {
		return Target{}, false
	}
	return Target{Name: fmt.Sprintf("report %d invoices, median answer", row.Invoices), Want: fmt.Sprintf("< %.0f s", targetReportS), Unit: "s",
		Value: row.MedianS, Scored: row.MedianS > 0, Met: row.MedianS > 0 && row.MedianS < targetReportS}, true
}

// name is the row's case; results written before cases had names give
// their job.
func (row SweepRow) name() string {
	if row.Case != "" {
		return row.Case
	}
	return row.Job
}

// targets are the row's targets: a backlog's run to its last sealed audit
// row against the raw SQL's, an ordinary day's run alone against the raw
// SQL's transaction alone and against the clock; passd's peak RSS for both.
func (row SweepRow) targets() []Target {
	name := "sweep " + row.name()
	rss := Target{Name: name + " peak RSS", short: "RSS", Want: fmt.Sprintf("<= %.0f MB", targetSweepRSSMB), Unit: "MB",
		Value: row.PeakRSSMB, Scored: row.PeakRSSMB > 0, Met: row.PeakRSSMB > 0 && row.PeakRSSMB <= targetSweepRSSMB}
	if !row.OrdinaryDay {
		return []Target{{Name: name + " ratio passd/raw SQL", short: "ratio", Want: fmt.Sprintf("<= %.1f", targetSweepRatio),
			Value: row.Ratio, Scored: row.RawS > 0, Met: row.RawS > 0 && row.Ratio <= targetSweepRatio}, rss}
	}
	return []Target{
		{Name: name + " run ratio passd/raw SQL", short: "run ratio", Want: fmt.Sprintf("<= %.0f", targetDayRunRatio),
			Value: row.RunRatio, Scored: row.RawStatementS > 0, Met: row.RawStatementS > 0 && row.RunRatio <= targetDayRunRatio},
		{Name: name + " passd run", short: "run", Want: fmt.Sprintf("<= %.0f s", targetDayRunS), Unit: "s",
			Value: row.PassdJobS, Scored: row.PassdJobS > 0, Met: row.PassdJobS > 0 && row.PassdJobS <= targetDayRunS},
		rss,
	}
}

// mark is how a table shows a target: "ok", or what was wanted.
func mark(met bool, want string) string {
	if met {
		return "ok"
	}
	return "MISSED (" + want + ")"
}

// writeTable prints the results as plain-text tables.
func (r *Results) writeTable(w io.Writer) {
	fmt.Fprintf(w, "passd bench — %s, %d CPU(s) %s, %s, %s, commit %s\n\n", r.Machine.Date, r.Machine.NProc, r.Machine.CPU,
		r.Machine.PGVersion, r.Machine.GoVersion, r.Machine.GitCommit)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Submit) > 0 {
		r.writeSubmitTables(w, tw)
	}
	if len(r.Sweep) > 0 {
		fmt.Fprintln(w, "Sweep: the job through passd vs raw SQL on an identical copy; s: until its audit rows are sealed; run s: the job's run, the raw SQL's transaction;")
		fmt.Fprintln(w, "raw seal s: the raw SQL's sealing alone; ratio unsealed: passd s / raw SQL run s, against the raw SQL left unsealed")
		fmt.Fprintln(tw, "case\tpending\tdecided\tpassd s\traw SQL s\tratio\traw seal s\tratio unsealed\tpassd run s\traw SQL run s\trun ratio\tpeak RSS MB\ttarget")
		for _, row := range r.Sweep {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f\t%.3f\t%.2f\t%.0f\t%s\n", row.name(), row.Invoices, row.Decided,
				row.PassdS, row.RawS, row.Ratio, row.RawSealS, row.RatioUnsealed, row.PassdJobS, row.RawStatementS, row.RunRatio, row.PeakRSSMB,
				sweepMarks(row.targets()))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.SEPA) > 0 {
		fmt.Fprintln(w, "SEPA: GET /api/v1/payout-batches/{id}/sepa.xml, streamed to nowhere")
		fmt.Fprintln(tw, "payouts\ts\tbytes\tpeak RSS MB\ttarget")
		for _, row := range r.SEPA {
			target := ""
			if row.Payouts >= targetSEPAPayouts {
				target = mark(row.Bytes > 0 && row.Seconds <= targetSEPASeconds, fmt.Sprintf("<= %.0f s", targetSEPASeconds))
			}
			fmt.Fprintf(tw, "%d\t%.3f\t%d\t%.0f\t%s\n", row.Payouts, row.Seconds, row.Bytes, row.PeakRSSMB, target)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Report) > 0 {
		fmt.Fprintln(w, "Report: GET /api/v1/reports/programme?year=Y (the year and the one before), one answer at a time; s after the first")
		fmt.Fprintln(tw, "year\tfiles\tinvoices\tin the year\tseed s\tfirst s\tanswers\tmedian s\tmax s\tbytes\ttarget")
		for _, row := range r.Report {
			target := ""
			if t, ok := row.target(); ok {
				target = mark(t.Met, t.Want)
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.0f\t%.3f\t%d\t%.3f\t%.3f\t%d\t%s\n", row.Year, row.Patients, row.Invoices, row.YearInvoices,
				row.SeedS, row.FirstS, row.Runs, row.MedianS, row.MaxS, row.Bytes, target)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Search) > 0 {
		r.writeSearchTable(w, tw)
	}
	if len(r.Conventions) > 0 {
		r.writeConventionsTable(w, tw)
	}
	if len(r.GoBenchmarks) > 0 {
		fmt.Fprintln(w, "Go benchmarks: go test -run '^$' -bench . -benchmem")
		fmt.Fprintln(tw, "package\tbenchmark\tns/op\tB/op\tallocs/op")
		for _, b := range r.GoBenchmarks {
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t%d\n", b.Package, b.Name, b.NsPerOp, b.BytesPerOp, b.AllocsPerOp)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "Targets (issues 6 and 18)")
		for _, t := range r.Targets {
			state := "not measured"
			if t.Scored {
				state = fmt.Sprintf("%.2f%s: %s", t.Value, unit(t.Unit), mark(t.Met, t.Want))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Want, state)
		}
		tw.Flush()
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nERRORS (%d): the bench failed\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(e, "\n", "\n    "))
		}
	}
}

// writeSubmitTables prints the submit rows: passd against the same SQL in
// pgbench, the CPU each side spent, and the yardsticks' own comparison
// when the lean one was measured.
func (r *Results) writeSubmitTables(w io.Writer, tw *tabwriter.Writer) {
	fmt.Fprintf(w, "Submit: POST /api/v1/invoices (3 lines) vs bench/submit.sql, %.0f s per run, durable commits", r.Settings.SubmitDurationS)
	if r.Settings.Repeat > 1 {
		fmt.Fprintf(w, ", the median of %d pairs (ratio range)", r.Settings.Repeat)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "clients\tpgbench TPS\tpassd TPS\tratio\tpgbench p50/p95/p99 ms\tpassd p50/p95/p99 ms\ttarget")
	for _, row := range r.Submit {
		pg, pd := "-", "-"
		pgTPS, pdTPS := "-", "-"
		if row.Pgbench != nil {
			pgTPS, pg = fmt.Sprintf("%.0f", row.Pgbench.TPS), lat3(row.Pgbench.Latency)
		}
		if row.Passd != nil {
			pdTPS, pd = fmt.Sprintf("%.0f", row.Passd.TPS), lat3(row.Passd.Latency)
		}
		target := ""
		if row.Clients == targetSubmitClients && row.Passd != nil {
			target = "ratio " + mark(row.Ratio >= targetSubmitRatio, fmt.Sprintf(">= %.2f", targetSubmitRatio)) +
				", p99 " + mark(row.Passd.Latency.P99 <= targetSubmitP99ms, fmt.Sprintf("<= %.0f ms", targetSubmitP99ms))
		}
		if row.Clients == targetSubmitClients1 && row.Passd != nil {
			target = "ratio " + mark(row.Ratio >= targetSubmitRatio1, fmt.Sprintf(">= %.2f", targetSubmitRatio1))
		}
		ratio := fmt.Sprintf("%.2f", row.Ratio)
		if len(row.Repeats) > 1 {
			ratio += fmt.Sprintf(" (%.2f–%.2f)", row.RatioMin, row.RatioMax)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Clients, pgTPS, pdTPS, ratio, pg, pd, target)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU per invoice, ms: PostgreSQL and pgbench, against PostgreSQL, passd and the Go load generator")
	fmt.Fprintln(tw, "clients\tpgbench side: postgres\tpgbench\tpassd side: postgres\tpassd\tload generator")
	for _, row := range r.Submit {
		if row.Pgbench == nil || row.Passd == nil {
			continue
		}
		a, b := row.Pgbench.CPU, row.Passd.CPU
		fmt.Fprintf(tw, "%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", row.Clients, a.PostgresMs, a.ClientMs, b.PostgresMs, b.PassdMs, b.ClientMs)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if !slices.ContainsFunc(r.Submit, func(row SubmitRow) bool { return row.Lean != nil }) {
		return
	}
	fmt.Fprintln(w, "Yardsticks: bench/submit.sql on passd's schema vs bench/submit_lean.sql on bench/lean_schema.sql (the same rows; no triggers, checks or indexes but keys), pgbench")
	fmt.Fprintln(tw, "clients\tlean TPS\tlean p50/p95/p99 ms\tsame SQL TPS\tsame SQL/lean\tpassd/same SQL")
	for _, row := range r.Submit {
		if row.Lean == nil {
			continue
		}
		schema := fmt.Sprintf("%.2f", row.SchemaRatio)
		if len(row.Repeats) > 1 {
			schema += fmt.Sprintf(" (%.2f–%.2f)", row.SchemaRatioMin, row.SchemaRatioMax)
		}
		// The same SQL's TPS of the lean run's own repetition, which the
		// schema ratio compares; passd's ratio is its own median's.
		fmt.Fprintf(tw, "%d\t%.0f\t%s\t%.0f\t%s\t%.2f\n", row.Clients, row.Lean.TPS, lat3(row.Lean.Latency),
			row.Lean.TPS*row.SchemaRatio, schema, row.Ratio)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// writeConventionsTable prints each world's jobs, then the comparison.
func (r *Results) writeConventionsTable(w io.Writer, tw *tabwriter.Writer) {
	fmt.Fprintln(w, "Conventions: every job by `passd run-job` (one run per convention), then its audit rows sealed; s summed over the conventions")
	fmt.Fprintln(tw, "conventions	invoices each	job	rows	run s	seal s	wall s")
	for _, row := range r.Conventions {
		for _, world := range []ConventionsWorld{row.One, row.Many} {
			for _, j := range world.Jobs {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%.2f\t%.2f\t%.2f\n", world.Conventions, world.InvoicesEach, j.Name, j.Rows, j.RunS, j.SealS, j.WallS)
			}
			fmt.Fprintf(tw, "%d\t%d\tall\t\t\t\t%.2f total\n", world.Conventions, world.InvoicesEach, world.TotalS)
		}
		t := row.target()
		fmt.Fprintf(tw, "ratio\t%.2f\t\t\t\t\t%s\n", row.Ratio, mark(t.Met, t.Want))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// writeSearchTable prints the search's cases, one row each.
func (r *Results) writeSearchTable(w io.Writer, tw *tabwriter.Writer) {
	fmt.Fprintf(w, "Search: POST /coordination/dossiers as a signed-in coordinator, one query at a time, over %d files seeded in %.0f s\n",
		r.Search[0].Patients, r.Search[0].SeedS)
	fmt.Fprintln(tw, "case\tfirst query\tqueries\tp50/p95/p99 ms\tmax ms\tmean results\tmore\ttarget")
	for _, row := range r.Search {
		target := ""
		if t, ok := row.target(); ok {
			target = "p95 " + mark(t.Met, t.Want)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.1f\t%.1f\t%d\t%s\n", row.Case, row.Example, row.Queries, lat3(row.Latency), row.Latency.Max,
			row.Results, row.More, target)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// sweepMarks is how the table shows a sweep row's targets: "run ratio ok,
// RSS MISSED (<= 150 MB)".
func sweepMarks(targets []Target) string {
	var out []string
	for _, t := range targets {
		state := "not measured"
		if t.Scored {
			state = mark(t.Met, t.Want)
		}
		out = append(out, t.short+" "+state)
	}
	return strings.Join(out, ", ")
}

func unit(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func lat3(l Latency) string {
	return fmt.Sprintf("%.1f/%.1f/%.1f", l.P50, l.P95, l.P99)
}

// writeJSON writes r to path (indented), through a temporary file so that
// a failed write leaves the previous results whole.
func (r *Results) writeJSON(path string) error {
	if r.Errors == nil {
		r.Errors = []string{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
