package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleResults() *Results {
	return &Results{
		Machine:  Machine{NProc: 2, CPU: "AMD EPYC", GoVersion: "go1.26.8", PGVersion: "PostgreSQL 15.20", Date: "2026-11-23T15:00:00Z", GitCommit: "abc123"},
		Settings: Settings{Phases: allPhases, Clients: []int{1, 32}, SubmitDurationS: 20},
		Submit: []SubmitRow{
			{Clients: 1, Pgbench: &pgbenchResult{TPS: 300, Latency: Latency{P50: 3, P95: 4, P99: 5}},
				Passd: &loadResult{TPS: 240, Latency: Latency{P50: 4, P95: 5, P99: 6}}, Ratio: 0.8},
			{Clients: 32, Pgbench: &pgbenchResult{TPS: 2000, Latency: Latency{P50: 15, P95: 30, P99: 40}},
				Passd: &loadResult{TPS: 1000, Latency: Latency{P50: 30, P95: 50, P99: 70.5}}, Ratio: 0.5},
		},
		Sweep: []SweepRow{
			{Job: "deadline", Invoices: 1000000, Expected: 500000, Decided: 500000, RawDecided: 500000, PassdS: 30, RawS: 20, Ratio: 1.5, PeakRSSMB: 40, SummaryMatch: true},
			{Job: "release", Invoices: 1000000, Expected: 300000, Decided: 300000, RawDecided: 300000, PassdS: 50, RawS: 20, Ratio: 2.5, PeakRSSMB: 200, SummaryMatch: true},
			{Case: "release-day", Job: "release", Invoices: 1000000, OrdinaryDay: true, Expected: 2000, Decided: 2000, RawDecided: 2000,
				PassdJobS: 0.3, PassdS: 0.6, RawStatementS: 0.2, RawS: 0.3, RawSealS: 0.1, Ratio: 2, RatioUnsealed: 3, RunRatio: 1.5, PeakRSSMB: 30, SummaryMatch: true},
		},
		SEPA: []SEPARow{{Payouts: 1000, Seconds: 0.1, Bytes: 5000, PeakRSSMB: 30}, {Payouts: 10000, Seconds: 0.4, Bytes: 9000, PeakRSSMB: 33}},
		Report: []ReportRow{{Year: 2026, Patients: 100000, Invoices: 1000000, YearInvoices: 608630, SeedS: 40, FirstS: 1.2, Runs: 5,
			MedianS: 0.85, MaxS: 1.1, Bytes: 3988}},
		GoBenchmarks: []GoBench{{Package: "passd/money", Name: "BenchmarkShare", Iterations: 2000000, NsPerOp: 549, BytesPerOp: 264, AllocsPerOp: 9}},
	}
}

func TestEvaluateMarksEachTarget(t *testing.T) {
	t.Parallel()
	r := sampleResults()
	r.evaluate()
	got := map[string]bool{}
	for _, tg := range r.Targets {
		if !tg.Scored {
			t.Errorf("target %q not measured", tg.Name)
		}
		got[tg.Name] = tg.Met
	}
	want := map[string]bool{
		"submit@32 ratio passd/pgbench":                  false, // 0.5 < 0.80
		"submit@32 passd p99":                            false, // 70.5 > 30
		"submit@1 ratio passd/pgbench":                   true,  // 0.8 >= 0.70
		"sweep deadline ratio passd/raw SQL":             true,
		"sweep deadline peak RSS":                        true,
		"sweep release ratio passd/raw SQL":              false, // 2.5 > 1.5
		"sweep release peak RSS":                         false, // 200 > 150
		"sweep release-day run ratio passd/raw SQL":      true,  // the job alone: 0.3 / 0.2
		"sweep release-day passd run":                    true,
		"sweep release-day peak RSS":                     true,
		"sepa 10000 payouts":                             true,
		"sepa streamed (peak RSS 10000 vs 1000 payouts)": true, // +3 MB
		"report 1000000 invoices, median answer":         true, // 0.85 s; the slowest, 1.1 s, is shown
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("targets met:\n got %v\nwant %v", got, want)
	}
}

func TestEvaluateSaysWhatWasNotMeasured(t *testing.T) {
	t.Parallel()
	r := &Results{Submit: []SubmitRow{{Clients: 8, Pgbench: &pgbenchResult{TPS: 1}, Passd: &loadResult{TPS: 1}, Ratio: 1}}}
	r.evaluate()
	if len(r.Targets) != 3 {
		t.Fatalf("targets %+v, want the two submit@32 ones and submit@1", r.Targets)
	}
	for _, tg := range r.Targets {
		if tg.Scored || tg.Met {
			t.Errorf("target %q scored without a 32-client run: %+v", tg.Name, tg)
		}
	}
}

func TestTableShowsFiguresAndMisses(t *testing.T) {
	t.Parallel()
	r := sampleResults()
	r.Errors = []string{"sweep release: the two copies differ"}
	r.Sweep = append(r.Sweep, SweepRow{Job: "timeout", Invoices: 1000000, PassdS: 12, PeakRSSMB: 30})
	r.evaluate()
	var b strings.Builder
	r.writeTable(&b)
	out := b.String()
	for _, want := range []string{
		"clients  pgbench TPS  passd TPS  ratio",
		"32       2000         1000       0.50   15.0/30.0/40.0          30.0/50.0/70.5        ratio MISSED (>= 0.80), p99 MISSED (<= 30 ms)",
		"deadline", "ratio ok, RSS ok",
		"ratio MISSED (<= 1.5), RSS MISSED (<= 150 MB)",
		"10000    0.400  9000   33           ok",
		"passd/money  BenchmarkShare  549    264   9",
		"ERRORS (1): the bench failed",
		"release-day  1000000  2000     0.60     0.30       2.00   0.10        3.00            0.300        0.200          1.50       30           run ratio ok, run ok, RSS ok",
		"2026  100000  1000000   608630       40      1.200    5        0.850     1.100  3988   ok",
		"timeout      1000000  0        12.00    0.00       0.00   0.00        0.00            0.000        0.000          0.00       30           ratio not measured, RSS ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONHoldsEverySectionInSnakeCase(t *testing.T) {
	t.Parallel()
	r := sampleResults()
	r.evaluate()
	path := filepath.Join(t.TempDir(), "results", "latest.json")
	if err := r.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"machine", "settings", "submit", "sweep", "sepa", "report", "go_benchmarks", "targets", "errors"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("latest.json has no %q", key)
		}
	}
	if errs, ok := doc["errors"].([]any); !ok || len(errs) != 0 {
		t.Errorf("errors = %v, want an empty list", doc["errors"])
	}
	submit := doc["submit"].([]any)[1].(map[string]any)
	p99 := submit["passd"].(map[string]any)["latency"].(map[string]any)["p99_ms"]
	if p99 != 70.5 || submit["ratio"] != 0.5 {
		t.Errorf("submit@32 in JSON = %v", submit)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Sweep, r.Sweep) || !reflect.DeepEqual(back.Report, r.Report) || back.Machine != r.Machine {
		t.Errorf("JSON does not read back the same:\n%+v\n%+v", back.Sweep, r.Sweep)
	}
}

func TestSubmitRowStandsForItsPairsByTheMedianRatio(t *testing.T) {
	t.Parallel()
	pair := func(pg, pd float64) SubmitPair {
		return SubmitPair{Pgbench: pgbenchResult{TPS: pg}, Passd: loadResult{TPS: pd}, Ratio: pd / pg}
	}
	row := submitRow(32, []SubmitPair{pair(100, 90), pair(100, 50), pair(200, 140), pair(100, 60)})
	// Ratios 0.9, 0.5, 0.7, 0.6: the lower middle one is 0.6.
	if row.Ratio != 0.6 || row.Pgbench.TPS != 100 || row.Passd.TPS != 60 || row.RatioMin != 0.5 || row.RatioMax != 0.9 || len(row.Repeats) != 4 {
		t.Fatalf("row = %+v", row)
	}
	one := submitRow(1, []SubmitPair{pair(100, 80)})
	if one.Ratio != 0.8 || one.RatioMin != 0.8 || one.RatioMax != 0.8 || one.Repeats != nil {
		t.Fatalf("a single pair: %+v", one)
	}
	if empty := submitRow(8, nil); empty.Pgbench != nil || empty.Passd != nil {
		t.Fatalf("no pair: %+v", empty)
	}
}

func TestReportTargetWantsTheFullSizeAndScoresTheMedian(t *testing.T) {
	t.Parallel()
	slow := ReportRow{Invoices: 1_000_000, MedianS: 1.2, MaxS: 1.3}
	if tg, ok := slow.target(); !ok || !tg.Scored || tg.Met || tg.Value != 1.2 {
		t.Errorf("a median of 1.2 s: %+v, %v", tg, ok)
	}
	if tg, ok := (ReportRow{Invoices: 1_000_000}).target(); !ok || tg.Scored || tg.Met {
		t.Errorf("nothing timed: %+v, %v", tg, ok)
	}
	// A smaller world is measured and shown, but is not the issue's.
	if tg, ok := (ReportRow{Invoices: 10_000, MedianS: 0.1}).target(); ok {
		t.Errorf("10 000 invoices scored: %+v", tg)
	}
	r := &Results{Report: []ReportRow{{Invoices: 10_000, MedianS: 0.1}}}
	r.evaluate()
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, "report") {
			t.Errorf("target %+v for a small world", tg)
		}
	}
}

func TestSubmitRowTakesTheLeanRunOfTheMedianSchemaRatio(t *testing.T) {
	t.Parallel()
	pair := func(pg, lean, pd float64) SubmitPair {
		return SubmitPair{Pgbench: pgbenchResult{TPS: pg}, Lean: &pgbenchResult{TPS: lean}, Passd: loadResult{TPS: pd},
			Ratio: pd / pg, SchemaRatio: pg / lean}
	}
	// Ratios 0.5, 0.8, 0.6 (median 0.6: the third pair); schema ratios
	// 0.5, 0.25, 0.4 (median 0.4: the third pair too).
	row := submitRow(32, []SubmitPair{pair(100, 200, 50), pair(100, 400, 80), pair(200, 500, 120)})
	if row.Ratio != 0.6 || row.Lean.TPS != 500 || row.SchemaRatio != 0.4 || row.SchemaRatioMin != 0.25 || row.SchemaRatioMax != 0.5 {
		t.Fatalf("row = %+v", row)
	}
	row = submitRow(32, []SubmitPair{pair(100, 200, 50), pair(100, 400, 80), pair(200, 250, 120)})
	// Schema ratios 0.5, 0.25, 0.8: the median is the first pair's, not passd's median pair's.
	if row.Ratio != 0.6 || row.Passd.TPS != 120 || row.Lean.TPS != 200 || row.SchemaRatio != 0.5 {
		t.Fatalf("row = %+v", row)
	}
	if plain := submitRow(1, []SubmitPair{{Pgbench: pgbenchResult{TPS: 100}, Passd: loadResult{TPS: 80}, Ratio: 0.8}}); plain.Lean != nil || plain.SchemaRatio != 0 {
		t.Fatalf("no lean run: %+v", plain)
	}
}

func TestTableShowsTheLeanYardstick(t *testing.T) {
	t.Parallel()
	r := sampleResults()
	r.Submit[1].Lean = &pgbenchResult{TPS: 4000, Latency: Latency{P50: 7, P95: 9, P99: 12.5}}
	r.Submit[1].SchemaRatio = 0.5
	var b strings.Builder
	r.writeTable(&b)
	out := b.String()
	for _, want := range []string{
		"clients  lean TPS  lean p50/p95/p99 ms  same SQL TPS  same SQL/lean  passd/same SQL",
		"32       4000      7.0/9.0/12.5         2000          0.50           0.50",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "Yardsticks:") {
		t.Errorf("no yardstick table:\n%s", out)
	}
	// Without a lean run, no yardstick table.
	b.Reset()
	sampleResults().writeTable(&b)
	if strings.Contains(b.String(), "Yardsticks:") {
		t.Errorf("a yardstick table without a lean run:\n%s", b.String())
	}
}
