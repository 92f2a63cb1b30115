package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
goarch: amd64
pkg: passd/money
cpu: AMD EPYC
BenchmarkShare-2         	 2184466	       549.3 ns/op	     264 B/op	       9 allocs/op
BenchmarkParseAmount-2   	12927418	        92.13 ns/op	      40 B/op	       2 allocs/op
PASS
ok  	passd/money	3.112s
pkg: passd/sepa
BenchmarkWrite10000      	      12	  95123456 ns/op	        12.5 MB/s	   10240 B/op	     130 allocs/op
PASS
`
	got, err := parseGoBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []GoBench{
		{Package: "passd/money", Name: "BenchmarkShare", Iterations: 2184466, NsPerOp: 549.3, BytesPerOp: 264, AllocsPerOp: 9},
		{Package: "passd/money", Name: "BenchmarkParseAmount", Iterations: 12927418, NsPerOp: 92.13, BytesPerOp: 40, AllocsPerOp: 2},
		{Package: "passd/sepa", Name: "BenchmarkWrite10000", Iterations: 12, NsPerOp: 95123456, BytesPerOp: 10240, AllocsPerOp: 130},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("benchmark %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFilePrefixWantsOnePrefixAndEveryNumber(t *testing.T) {
	t.Parallel()
	p, err := filePrefix([]string{"PASS-2026-000002", "PASS-2026-000001", "PASS-2026-000003"})
	if err != nil || p != "PASS-2026-" {
		t.Fatalf("filePrefix = %q, %v", p, err)
	}
	for _, bad := range [][]string{
		nil,
		{"PASS-2026-000001", "PASS-2026-000003"}, // a gap
		{"PASS-2026-000001", "PASS-2027-000002"}, // across new year
		{"PASS-2026-000001", "PASS-2026-000001"}, // twice
		{"P-1"},                                  // not a file number
	} {
		if _, err := filePrefix(bad); err == nil {
			t.Errorf("filePrefix(%q) gave no error", bad)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	t.Parallel()
	status := "Name:\tpassd\nVmPeak:\t 1300000 kB\nVmHWM:\t   48212 kB\nVmRSS:\t   40000 kB\n"
	got, err := parseVmHWM(status)
	if err != nil || got != 48212*1024 {
		t.Fatalf("parseVmHWM = %d, %v", got, err)
	}
	if _, err := parseVmHWM("Name:\tpassd\n"); err == nil {
		t.Fatal("no VmHWM gave no error")
	}
}

func TestSummaryDiffListsEveryDifference(t *testing.T) {
	t.Parallel()
	a := map[string]string{"invoices.city_due": "500000", "payouts.due": "500000", "audit.invoice.decide": "500000"}
	b := map[string]string{"invoices.city_due": "500000", "payouts.due": "499999", "claims": "0"}
	got := summaryDiff(a, b)
	for _, want := range []string{`payouts.due: passd "500000", raw SQL "499999"`, `claims: passd (none), raw SQL "0"`,
		`audit.invoice.decide: passd "500000", raw SQL (none)`} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "city_due") {
		t.Errorf("diff lists an equal key:\n%s", got)
	}
	if d := summaryDiff(a, a); d != "" {
		t.Errorf("diff of a summary with itself: %q", d)
	}
}

func TestFlagsParseListsAndRefuseUnknownPhases(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"--server-url", "postgres://x@/postgres", "--phases", "submit, gobench", "--clients", "1,8,32", "--submit-duration", "3s"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.phases, ",") != "submit,gobench" || len(o.clients) != 3 || o.clients[2] != 32 || o.submitDuration.Seconds() != 3 {
		t.Fatalf("options = %+v", o)
	}
	// No profile unless asked: the profiler's own cost stays out of figures.
	if o.profile {
		t.Fatal("--profile is on by default")
	}
	if p, err := parseFlags([]string{"--server-url", "u", "--profile"}); err != nil || !p.profile {
		t.Fatalf("--profile: %+v, %v", p.profile, err)
	}
	// The report's world is the by default.
	if o.reportPatients != 100_000 || o.reportInvoices != 1_000_000 || o.reportRuns != 5 || !slices.Equal(o.phases, []string{"submit", "gobench"}) {
		t.Fatalf("report options = %+v", o)
	}
	// So is the search's: 100 000 files, 200 queries per case.
	if o.searchPatients != 100_000 || o.searchQueries != 200 {
		t.Fatalf("search options = %+v", o)
	}
	// Every sweep case by default, each with its world.
	cases := o.sweepCasesToRun()
	if len(cases) != len(allSweepCases) || cases[2].Name != "release-day" || cases[2].Job != "release" ||
		cases[2].World != (worldShape{invoices: 1_000_000, opened: 1000, perPatient: 2, day: true}) {
		t.Fatalf("sweep cases = %+v", cases)
	}
	for _, bad := range [][]string{
		{"--server-url", "u", "--phases", "submit,warp"},
		{"--server-url", "u", "--clients", "1,zero"},
		{"--server-url", "u", "--clients", "0"},
		{"--server-url", "u", "--submit-duration", "10ms"},
		{"--server-url", "u", "--sweep-cases", "release,release-night"},
		{"--server-url", "u", "--day-decisions", "0"},
		{"--server-url", "u", "--report-patients", "0"},
		{"--server-url", "u", "--report-patients", "10", "--report-invoices", "9"},
		{"--server-url", "u", "--report-runs", "0"},
		{"--server-url", "u", "--search-patients", "0"},
		{"--server-url", "u", "--search-queries", "0"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) gave no error", bad)
		}
	}
}

func TestWithRoleSpellsTheSpaceForLibpq(t *testing.T) {
	t.Parallel()
	got := withRole("postgres://postgres@/db?host=%2Ftmp%2Fx&sslmode=disable", "passd_app")
	if !strings.Contains(got, "options=-c%20role%3Dpassd_app") || !strings.Contains(got, "host=%2Ftmp%2Fx") {
		t.Fatalf("withRole = %s", got)
	}
}

func TestParseProcStatCountsFromTheLastParenthesis(t *testing.T) {
	t.Parallel()
	// A command name may hold spaces and parentheses.
	stat := "4242 (postgres: passd (x) bench) S 1000 4242 4242 0 -1 4194560 1500 0 0 0 250 50 30 20 20 0 1 0 12345 0 0"
	st, err := parseProcStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 1000 || st.self != 3.0 || st.reaped != 0.5 {
		t.Fatalf("parseProcStat = %+v, want ppid 1000, self 3 s, reaped 0.5 s", st)
	}
	if _, err := parseProcStat("4242 (x) S 1 2"); err == nil {
		t.Fatal("a short stat gave no error")
	}
	// This very process: its own line parses, and its parent is ours.
	self, err := readProcStat(os.Getpid())
	if err != nil || self.ppid != os.Getppid() {
		t.Fatalf("readProcStat(self) = %+v, %v; want ppid %d", self, err, os.Getppid())
	}
}

func TestCPUPerTransaction(t *testing.T) {
	t.Parallel()
	c := CPU{PostgresS: 3, ClientS: 0.5, PassdS: 6}
	c.perTx(2000)
	if c.PostgresMs != 1.5 || c.ClientMs != 0.25 || c.PassdMs != 3 {
		t.Fatalf("per transaction: %+v", c)
	}
	var none CPU
	none.perTx(0)
	if none != (CPU{}) {
		t.Fatalf("no transaction: %+v", none)
	}
}
