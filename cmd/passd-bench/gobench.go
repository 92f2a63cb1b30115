package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// GoBench is one Go benchmark's result (go test -bench -benchmem).
type GoBench struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	Iterations  int64   `json:"iterations"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
}

// goBenchPhase runs every Go benchmark of pkgs (e.g. ./...) in repo once,
// as `go test -run '^$' -bench . -benchmem`, its output kept in the work
// directory. serverURL is given to the benchmarks that need a database,
// as TEST_DATABASE_URL.
func goBenchPhase(ctx context.Context, e *env, repo, serverURL string, pkgs []string) ([]GoBench, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	cmd.Env = append(cleanEnviron(), "TEST_DATABASE_URL="+serverURL)
	logPath := filepath.Join(e.WorkDir, "go-bench.log")
	out, err := cmd.CombinedOutput()
	if werr := os.WriteFile(logPath, out, 0o600); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 30))
	}
	return parseGoBench(strings.NewReader(string(out)))
}

var benchLineRe = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op(.*)$`)

// parseGoBench reads go test's benchmark lines, each under the "pkg:"
// line of its package: "BenchmarkX-2  1000  1234 ns/op  56 B/op  7
// allocs/op" (B/op and allocs/op only with -benchmem).
func parseGoBench(r io.Reader) ([]GoBench, error) {
	var out []GoBench
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		m := benchLineRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := GoBench{Package: pkg, Name: m[1]}
		b.Iterations, _ = strconv.ParseInt(m[2], 10, 64)
		var err error
		if b.NsPerOp, err = strconv.ParseFloat(m[3], 64); err != nil {
			return nil, fmt.Errorf("benchmark line %q: %w", line, err)
		}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue // another metric (b.ReportMetric) with a unit of its own
			}
			switch f[i+1] {
			case "B/op":
				b.BytesPerOp = int64(v)
			case "allocs/op":
				b.AllocsPerOp = int64(v)
			}
		}
		out = append(out, b)
	}
	return out, sc.Err()
}
