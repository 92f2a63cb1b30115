package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgbenchRun is one pgbench run of bench/submit.sql.
type pgbenchRun struct {
	Bin    string // the pgbench binary
	Script string // bench/submit.sql
	// ConnURL is the database, as a libpq URL (pgbench reads it as its
	// dbname argument).
	ConnURL  string
	Clients  int
	Duration time.Duration // -T, or
	Count    int           // -t transactions per client, when Duration is 0
	Vars     map[string]string
	// LogPrefix is where the per-transaction logs go (-l --log-prefix):
	// LogPrefix.PID and LogPrefix.PID.THREAD.
	LogPrefix string
	// Postmaster is the server's, to read its CPU time (0: not read).
	Postmaster int
}

// pgbenchResult is what one run measured.
type pgbenchResult struct {
	TPS          float64 `json:"tps"`
	Transactions int64   `json:"transactions"`
	Failed       int64   `json:"failed"`
	Latency      Latency `json:"latency"`
	CPU          CPU     `json:"cpu"`
}

// run runs pgbench and reads its summary and its per-transaction logs. A
// client that aborts (pgbench exits non-zero) or a failed transaction is
// an error: the comparison is only meaningful when every transaction
// committed.
func (r pgbenchRun) run(ctx context.Context) (pgbenchResult, error) {
	threads := min(2, r.Clients)
	args := []string{"-n", "-M", "prepared", "-f", r.Script, "-c", strconv.Itoa(r.Clients), "-j", strconv.Itoa(threads),
		"-l", "--log-prefix=" + r.LogPrefix}
	if r.Duration > 0 {
		args = append(args, "-T", strconv.Itoa(int(r.Duration.Round(time.Second)/time.Second)))
	} else {
		args = append(args, "-t", strconv.Itoa(r.Count))
	}
	for _, k := range sortedKeys(r.Vars) {
		args = append(args, "-D", k+"="+r.Vars[k])
	}
	args = append(args, r.ConnURL)
	if old, _ := filepath.Glob(r.LogPrefix + ".*"); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	// pgbench writes its logs in its working directory unless the prefix
	// is absolute; it is.
	meter := startCPU(r.Postmaster, 0)
	out, err := cmd.CombinedOutput()
	var clientCPU float64
	if cmd.ProcessState != nil {
		clientCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench -c %d: %w\n%s", r.Clients, err, tail(string(out), 30))
	}
	res, err := parsePgbenchSummary(string(out))
	res.CPU = meter.stop(clientCPU, res.Transactions)
	if err != nil {
		return res, fmt.Errorf("pgbench -c %d: %w\n%s", r.Clients, err, tail(string(out), 30))
	}
	logs, err := filepath.Glob(r.LogPrefix + ".*")
	if err != nil || len(logs) == 0 {
		return res, fmt.Errorf("pgbench -c %d: no per-transaction log %s.*", r.Clients, r.LogPrefix)
	}
	var lat []time.Duration
	var failed int64
	for _, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			return res, fmt.Errorf("pgbench log: %w", err)
		}
		l, n, err := parsePgbenchLog(f)
		f.Close()
		if err != nil {
			return res, fmt.Errorf("pgbench log %s: %w", name, err)
		}
		lat, failed = append(lat, l...), failed+n
	}
	if failed > 0 || res.Failed > 0 {
		return res, fmt.Errorf("pgbench -c %d: %d failed transaction(s)", r.Clients, max(failed, res.Failed))
	}
	if int64(len(lat)) != res.Transactions {
		return res, fmt.Errorf("pgbench -c %d: the logs hold %d transactions, the summary says %d", r.Clients, len(lat), res.Transactions)
	}
	res.Latency = summarize(lat)
	return res, nil
}

var (
	processedRe = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	failedRe    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
	tpsRe       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
)

// parsePgbenchSummary reads the transactions processed, failed and the
// TPS (without the initial connection time) from pgbench's report.
func parsePgbenchSummary(out string) (pgbenchResult, error) {
	var r pgbenchResult
	m := processedRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no \"number of transactions actually processed\" in pgbench's report")
	}
	r.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	if m := failedRe.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	m = tpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no \"tps = …\" in pgbench's report")
	}
	tps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return r, fmt.Errorf("tps %q: %w", m[1], err)
	}
	r.TPS = tps
	return r, nil
}

// parsePgbenchLog reads a per-transaction log (pgbench -l): one line per
// transaction, "client_id transaction_no time script_no time_epoch time_us
// [schedule_lag] [retries]", time being the latency in microseconds, or
// "failed" (or "skipped", under a rate limit) when the transaction did not
// commit. It returns the latencies and how many did not commit.
func parsePgbenchLog(r io.Reader) ([]time.Duration, int64, error) {
	var lat []time.Duration
	var failed int64
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 6 {
			return nil, 0, fmt.Errorf("line %d: %d fields, want at least 6: %q", line, len(fields), sc.Text())
		}
		switch fields[2] {
		case "failed", "skipped":
			failed++
			continue
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil || us < 0 {
			return nil, 0, fmt.Errorf("line %d: latency %q is not a number of microseconds", line, fields[2])
		}
		lat = append(lat, time.Duration(us)*time.Microsecond)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	return lat, failed, nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
