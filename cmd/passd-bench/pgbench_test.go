package main

import (
	"strings"
	"testing"
	"time"
)

func TestParsePgbenchLog(t *testing.T) {
	t.Parallel()
	// pgbench 15 -l: client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]
	log := `0 0 2712 0 1763910918 123456
0 1 15004 0 1763910918 138500
1 0 failed 0 1763910918 140000

1 1 998 0 1763910918 141000 0 0
`
	lat, failed, err := parsePgbenchLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2712 * time.Microsecond, 15004 * time.Microsecond, 998 * time.Microsecond}
	if len(lat) != len(want) {
		t.Fatalf("latencies %v, want %v", lat, want)
	}
	for i := range want {
		if lat[i] != want[i] {
			t.Fatalf("latencies %v, want %v", lat, want)
		}
	}
	if failed != 1 {
		t.Fatalf("failed = %d, want 1", failed)
	}
}

func TestParsePgbenchLogRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"0 0 12 0\n", "0 0 twelve 0 1 2\n", "0 0 -5 0 1 2\n"} {
		if _, _, err := parsePgbenchLog(strings.NewReader(bad)); err == nil {
			t.Errorf("parsePgbenchLog(%q) gave no error", bad)
		}
	}
}

// pgbench 15's report, as it prints it after -T and after -t.
const pgbenchReportT = `pgbench (15.20 (Debian 15.20-1.pgdg12+1))
transaction type: /work/bench/submit.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 3 s
number of transactions actually processed: 5433
number of failed transactions: 0 (0.000%)
latency average = 4.409 ms
initial connection time = 11.826 ms
tps = 1811.264321 (without initial connection time)
`

func TestParsePgbenchSummary(t *testing.T) {
	t.Parallel()
	r, err := parsePgbenchSummary(pgbenchReportT)
	if err != nil {
		t.Fatal(err)
	}
	if r.Transactions != 5433 || r.Failed != 0 || r.TPS != 1811.264321 {
		t.Fatalf("summary = %+v", r)
	}
	withT := strings.Replace(pgbenchReportT, "processed: 5433", "processed: 6/6", 1)
	withT = strings.Replace(withT, "failed transactions: 0 (0.000%)", "failed transactions: 2 (25.000%)", 1)
	if r, err = parsePgbenchSummary(withT); err != nil || r.Transactions != 6 || r.Failed != 2 {
		t.Fatalf("-t summary = %+v, %v; want 6 transactions, 2 failed", r, err)
	}
	if _, err := parsePgbenchSummary("pgbench: error: could not connect"); err == nil {
		t.Fatal("a report without figures gave no error")
	}
}
