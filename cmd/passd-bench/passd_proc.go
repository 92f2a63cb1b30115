package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// neverSchedule is February 30th: robfig/cron parses it, and, finding no
// such day in the five years it searches, gives a zero next time, which
// its loop treats as never. So no job fires during a measurement; only
// the start-up catch-up runs happen (see waitStartupRuns).
const neverSchedule = "0 0 30 2 *"

// jobNames are passd's jobs, in the order its start-up catch-up runs them.
var jobNames = []string{"release", "deadline", "claim-batch", "payout-batch", "reminders", "referral-notify", "referral-retention"}

// heldJobs are the jobs whose start-up runs startQuietPassd keeps from
// running: those that decide invoices and move money. The ones after them
// (reminders, whose rows the sweep deletes, and the referrals' jobs, which
// touch neither) run, and their end says the catch-up is over.
var heldJobs = jobNames[:4]

// passdProc is one `passd serve` child process.
type passdProc struct {
	cmd     *exec.Cmd
	Base    string // http://127.0.0.1:port
	Pprof   string // http://127.0.0.1:port of its profiles; "" without env.Profile
	LogPath string
	exited  chan struct{}
	waitErr error
}

// startPassd starts bin/passd serve on dbURL (the owner's URL: passd
// migrates as the login user, then acts as passd_app) on a free port and
// waits for /readyz.
func (e *env) startPassd(ctx context.Context, name, dbURL string) (*passdProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.WorkDir, "passd-"+name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.Passd, "serve")
	cmd.Env = append(cleanEnviron(),
		"DATABASE_URL="+forPassd(dbURL),
		"PASSD_DATA_KEY="+e.DataKey,
		"PASSD_ADDR="+addr,
		"PASSD_RELEASE_SCHEDULE="+neverSchedule,
		"PASSD_DEADLINE_SCHEDULE="+neverSchedule,
		"PASSD_CLAIM_BATCH_SCHEDULE="+neverSchedule,
		"PASSD_PAYOUT_BATCH_SCHEDULE="+neverSchedule,
		"PASSD_REMINDERS_SCHEDULE="+neverSchedule,
		"PASSD_REFERRAL_NOTIFY_SCHEDULE="+neverSchedule,
		"PASSD_REFERRAL_RETENTION_SCHEDULE="+neverSchedule,
	)
	var pprofAddr string
	if e.Profile {
		if pprofAddr, err = freeAddr(); err != nil {
			logf.Close()
			return nil, err
		}
		cmd.Env = append(cmd.Env, "PASSD_PPROF_ADDR="+pprofAddr)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start passd: %w", err)
	}
	p := &passdProc{cmd: cmd, Base: "http://" + addr, LogPath: logPath, exited: make(chan struct{})}
	if pprofAddr != "" {
		p.Pprof = "http://" + pprofAddr
	}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// startQuietPassd starts passd on dbURL while holding the advisory locks
// of heldJobs, so that no job changes the seeded invoices; it returns once
// the catch-up is over, with the connection holding the locks.
func (e *env) startQuietPassd(ctx context.Context, name, dbURL string) (*passdProc, *pgx.Conn, error) {
	locks, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	for _, job := range heldJobs {
		var ok bool
		if err := locks.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('passd.job.' || $1 || '.' || $2, 0))`, job, strconv.Itoa(benchConvention)).Scan(&ok); err != nil || !ok {
			locks.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("hold job %s's lock: %v (taken: %v)", job, err, ok)
		}
	}
	p, err := e.startPassd(ctx, name, dbURL)
	if err != nil {
		locks.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	if err := waitStartupRuns(ctx, dbURL, jobNames[len(heldJobs):], 10*time.Minute); err != nil {
		p.kill()
		locks.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return p, locks, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (p *passdProc) Pid() int { return p.cmd.Process.Pid }

func (p *passdProc) waitReady(ctx context.Context, within time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(p.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("passd exited before it was ready (%v); its log, %s:\n%s", p.waitErr, p.LogPath, p.logTail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("passd not ready after %s; its log, %s:\n%s", within, p.LogPath, p.logTail(20))
		}
	}
}

// stop sends SIGTERM, as a service manager would, and waits for passd to
// finish what it is doing and exit.
func (p *passdProc) stop() error {
	select {
	case <-p.exited:
		return fmt.Errorf("passd had already exited: %v", p.waitErr)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal passd: %w", err)
	}
	select {
	case <-p.exited:
	case <-time.After(90 * time.Second):
		p.kill()
		return errors.New("passd did not stop within 90 s of SIGTERM; killed")
	}
	if p.waitErr != nil {
		return fmt.Errorf("passd exited with %v; its log, %s:\n%s", p.waitErr, p.LogPath, p.logTail(20))
	}
	return nil
}

// kill ends passd at once, for the paths that already failed.
func (p *passdProc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// resetPeakRSS sets the process's peak resident set size (VmHWM) back to
// its current RSS (Linux: 5 written to /proc/PID/clear_refs), so that the
// next peakRSS is the peak of what happened since.
func (p *passdProc) resetPeakRSS() error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid()), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset passd's peak RSS: %w", err)
	}
	return nil
}

// peakRSS is the process's peak resident set size in bytes (VmHWM).
func (p *passdProc) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("read passd's status: %w", err)
	}
	return parseVmHWM(string(b))
}

// parseVmHWM reads "VmHWM:   123456 kB" from /proc/PID/status.
func parseVmHWM(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmHWM line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM line %q: %w", strings.TrimSpace(line), err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

func (p *passdProc) logTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), n)
}

// waitStartupRuns waits until each of jobs has a finished "startup" run
// in job_runs: passd runs every job once when it starts, one after the
// other, and a measurement must not share the machine with them.
func waitStartupRuns(ctx context.Context, dbURL string, jobs []string, within time.Duration) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	deadline := time.Now().Add(within)
	for {
		var done int
		err := conn.QueryRow(ctx, `SELECT count(DISTINCT name) FROM job_runs
			WHERE trigger = 'startup' AND finished_at IS NOT NULL AND name = ANY($1)`, jobs).Scan(&done)
		if err != nil {
			return fmt.Errorf("read job_runs: %w", err)
		}
		if done == len(jobs) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("passd's start-up runs of %v not finished after %s", jobs, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fetchProfile writes a CPU profile of passd, taken over d from now, to
// path (go tool pprof reads it).
func fetchProfile(ctx context.Context, pprofBase, path string, d time.Duration) error {
	seconds := max(1, int(d/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprofBase, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
