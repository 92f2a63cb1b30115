package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every Linux this runs on (Go has no sysconf without cgo).
const clockTicks = 100

// CPU is where a run's CPU time went, in seconds, and per transaction
// (invoice) in milliseconds: what to profile first.
type CPU struct {
	PostgresS float64 `json:"postgres_s"`
	// ClientS is pgbench's, or the Go load generator's.
	ClientS float64 `json:"client_s"`
	PassdS  float64 `json:"passd_s"`
	// Per transaction, in ms.
	PostgresMs float64 `json:"postgres_ms_per_tx"`
	ClientMs   float64 `json:"client_ms_per_tx"`
	PassdMs    float64 `json:"passd_ms_per_tx"`
}

// perTx fills the per-transaction figures.
func (c *CPU) perTx(n int64) {
	if n <= 0 {
		return
	}
	c.PostgresMs = round3(c.PostgresS * 1000 / float64(n))
	c.ClientMs = round3(c.ClientS * 1000 / float64(n))
	c.PassdMs = round3(c.PassdS * 1000 / float64(n))
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// procStat is the part of /proc/PID/stat the bench reads.
type procStat struct {
	ppid int
	// self is utime+stime; reaped is cutime+cstime, the time of children
	// the process has waited for (a PostgreSQL backend's, once it exits).
	self, reaped float64
}

// parseProcStat reads /proc/PID/stat's text. The command name, in
// parentheses, may hold spaces: fields are counted from the last ')'.
func parseProcStat(s string) (procStat, error) {
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return procStat{}, errors.New("no ')' in /proc/PID/stat")
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/PID/stat has %d fields after the name", len(f))
	}
	var n [5]int64
	for i, idx := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/PID/stat field %d: %w", idx+3, err)
		}
		n[i] = v
	}
	return procStat{ppid: int(n[0]), self: float64(n[1]+n[2]) / clockTicks, reaped: float64(n[3]+n[4]) / clockTicks}, nil
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

// processCPU is a process's own CPU time in seconds.
func processCPU(pid int) (float64, error) {
	st, err := readProcStat(pid)
	return st.self, err
}

// serverCPU is the CPU time of a PostgreSQL server so far: the postmaster,
// the backends and workers it has reaped, and those alive. Between two
// readings the difference is what the server spent, backends that came
// and went included.
func serverCPU(postmaster int) (float64, error) {
	pm, err := readProcStat(postmaster)
	if err != nil {
		return 0, fmt.Errorf("read the postmaster's CPU: %w", err)
	}
	total := pm.self + pm.reaped
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == postmaster {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.ppid != postmaster {
			continue // gone meanwhile, or not the server's
		}
		total += st.self + st.reaped
	}
	return total, nil
}

// selfCPU is this process's CPU time: during a load, the load generator's.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// postmasterPID finds the server's postmaster: the parent of a backend.
// 0 when the server runs elsewhere (then no server CPU is reported).
func postmasterPID(ctx context.Context, serverURL string) int {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0
	}
	st, err := readProcStat(backend)
	if err != nil {
		return 0
	}
	return st.ppid
}

// cpuMeter reads the server's and passd's CPU at the start and end of a
// run; a reading that fails leaves its figure at zero.
type cpuMeter struct {
	postmaster, passd  int
	pg0, passd0, self0 float64
}

func startCPU(postmaster, passdPID int) *cpuMeter {
	m := &cpuMeter{postmaster: postmaster, passd: passdPID, self0: selfCPU()}
	if postmaster != 0 {
		m.pg0, _ = serverCPU(postmaster)
	}
	if passdPID != 0 {
		m.passd0, _ = processCPU(passdPID)
	}
	return m
}

// stop returns what was spent since start; client is the load
// generator's (this process) unless clientS, pgbench's, is given.
func (m *cpuMeter) stop(clientS float64, n int64) CPU {
	var c CPU
	if m.postmaster != 0 {
		if v, err := serverCPU(m.postmaster); err == nil {
			c.PostgresS = round3(v - m.pg0)
		}
	}
	if m.passd != 0 {
		if v, err := processCPU(m.passd); err == nil {
			c.PassdS = round3(v - m.passd0)
		}
	}
	if clientS > 0 {
		c.ClientS = round3(clientS)
	} else {
		c.ClientS = round3(selfCPU() - m.self0)
	}
	c.perTx(n)
	return c
}
