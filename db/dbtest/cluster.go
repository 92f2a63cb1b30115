package dbtest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"passd/db"
	"passd/migrations"
)

// Cluster is a private PostgreSQL server for one test, made with the
// machine's initdb and pg_ctl in a directory of its own, which the test may
// stop, restart or crash at will. The shared server of TEST_DATABASE_URL is
// never touched. Like the clusters of scripts/lib/pg.sh it listens on a unix
// socket only and, when the tests run as root (initdb refuses to), runs as
// the postgres OS user.
type Cluster struct {
	bin  string // the directory of initdb, pg_ctl and postgres
	dir  string // the socket, the log, and data/
	data string
	as   *syscall.Credential // nil: run the server as ourselves
}

// The settings of a cluster that is thrown away: no fsync (the machine does
// not crash under a test, only the server), but commits stay synchronous,
// so that an immediate shutdown loses nothing that was acknowledged.
var clusterSettings = []string{
	"listen_addresses = ''",
	"port = 5432",
	"max_connections = 100",
	"fsync = off",
	"full_page_writes = off",
	"synchronous_commit = on",
	"timezone = 'UTC'",
}

// sun_path holds 108 bytes with its NUL.
const maxSocketPath = 107

// NewCluster creates and starts a private cluster; it is stopped and
// removed when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := serverBinDir()
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	as, err := clusterOwner()
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	// Under /tmp when the server runs as another user, who must be able to
	// reach it, or when the temporary directory is too deep for a socket.
	base := os.TempDir()
	if as != nil || len(filepath.Join(base, "passd-pg-0123456789", ".s.PGSQL.5432")) > maxSocketPath {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "passd-pg-")
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), as: as}
	t.Cleanup(func() {
		// Immediate: nothing in it is worth a checkpoint.
		if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
			if out, err := c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "-t", "60", "stop"); err != nil {
				t.Logf("dbtest: stop cluster %s: %v\n%s", c.dir, err, out)
			}
		}
		if err := os.RemoveAll(c.dir); err != nil {
			t.Logf("dbtest: remove cluster %s: %v", c.dir, err)
		}
	})
	if as != nil {
		if err := os.Chown(dir, int(as.Uid), int(as.Gid)); err != nil {
			t.Fatalf("dbtest: cluster: give %s to the postgres user: %v", dir, err)
		}
	}
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("dbtest: initdb: %v\n%s", err, out)
	}
	conf := append(slices.Clone(clusterSettings), "unix_socket_directories = '"+dir+"'")
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	_, err = f.WriteString("\n# dbtest.Cluster\n" + strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("dbtest: cluster: write postgresql.conf: %v", err)
	}
	c.Start(t)
	return c
}

// URL returns the URL of a database of the cluster, as its superuser, over
// the unix socket.
func (c *Cluster) URL(database string) string {
	q := url.Values{"host": {c.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + database, RawQuery: q.Encode()}).String()
}

// NewDatabase creates a database holding the current schema and returns its
// URL.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := "passd_" + randomSuffix()
	admin, err := db.Open(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: cluster: create database: %v", err)
	}
	u := c.URL(name)
	pool, err := db.Open(ctx, u)
	if err != nil {
		t.Fatalf("dbtest: cluster: %v", err)
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("dbtest: cluster: migrate: %v", err)
	}
	return u
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-l", c.logPath(), "-w", "-t", "60", "start"); err != nil {
		t.Fatalf("dbtest: start cluster: %v\n%s\n%s", err, out, c.logTail())
	}
}

// Stop stops the server in mode "smart", "fast" (sessions are ended, a
// checkpoint is written) or "immediate" (every process quits at once, as
// in a crash; the next start recovers from the WAL).
func (c *Cluster) Stop(t testing.TB, mode string) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		t.Fatalf("dbtest: stop cluster (%s): %v\n%s\n%s", mode, err, out, c.logTail())
	}
}

// Restart is pg_ctl restart: Stop in mode, then Start.
func (c *Cluster) Restart(t testing.TB, mode string) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-l", c.logPath(), "-m", mode, "-w", "-t", "60", "restart"); err != nil {
		t.Fatalf("dbtest: restart cluster (%s): %v\n%s\n%s", mode, err, out, c.logTail())
	}
}

// Pause freezes the server (SIGSTOP to the postmaster and every process
// it started) as a hung machine or a network partition would: connections
// stay open but nothing answers, and new ones are not accepted. Resume ends
// it; the test's cleanup resumes a paused server before stopping it.
func (c *Cluster) Pause(t testing.TB) {
	t.Helper()
	// The postmaster first: it forks no more. Its children are listed
	// once it is stopped, so that a backend it forked while the list was
	// being read is not left running (it would serve its connection
	// through the "outage").
	postmaster := c.processes(t)[0]
	if err := syscall.Kill(postmaster, syscall.SIGSTOP); err != nil {
		t.Fatalf("dbtest: pause cluster: postmaster %d: %v", postmaster, err)
	}
	pids := c.processes(t)
	for _, pid := range pids[1:] {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("dbtest: pause cluster: process %d: %v", pid, err)
		}
	}
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
}

// Resume lets a paused server run again.
func (c *Cluster) Resume(t testing.TB) {
	t.Helper()
	pids := c.processes(t)
	for i := len(pids) - 1; i >= 0; i-- {
		if err := syscall.Kill(pids[i], syscall.SIGCONT); err != nil {
			t.Fatalf("dbtest: resume cluster: process %d: %v", pids[i], err)
		}
	}
}

// processes returns the postmaster's pid (from postmaster.pid) and those of
// its children (from /proc).
func (c *Cluster) processes(t testing.TB) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		t.Fatalf("dbtest: cluster is not running: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("dbtest: postmaster.pid: %v", err)
	}
	pids := []int{postmaster}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("dbtest: list processes: %v", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		if fields := strings.Fields(rest); len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// run runs a server binary as the cluster's owner, from / so that an
// unreadable working directory does not upset it.
func (c *Cluster) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, tool), args...)
	cmd.Dir = "/"
	if c.as != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.as}
		cmd.Env = append(os.Environ(), "HOME=/", "USER=postgres", "LOGNAME=postgres")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// clusterOwner returns, when we are root, the credentials of the postgres
// OS user the server must run as (scripts/lib/pg.sh creates it).
func clusterOwner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, a private cluster needs the postgres OS user (initdb refuses root; `make test` creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+)(?:\.([0-9]+))?`)

// serverBinDir finds the server binaries as scripts/lib/pg.sh does:
// PG_BINDIR if set, else the directories of initdb, pg_ctl and postgres in
// PATH and /usr/lib/postgresql/*/bin, the highest version first.
func serverBinDir() (string, error) {
	var dirs []string
	if d := os.Getenv("PG_BINDIR"); d != "" {
		dirs = append(dirs, d)
	} else {
		for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
			if p, err := exec.LookPath(tool); err == nil {
				if real, err := filepath.EvalSymlinks(p); err == nil {
					dirs = append(dirs, filepath.Dir(real))
				}
			}
		}
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		dirs = append(dirs, found...)
	}
	best, bestVersion := "", [2]int{-1, -1}
	for _, d := range dirs {
		if !hasServerTools(d) {
			continue
		}
		out, err := exec.Command(filepath.Join(d, "postgres"), "--version").Output()
		if err != nil {
			continue
		}
		m := versionRE.FindStringSubmatch(string(out))
		if m == nil {
			continue
		}
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if v := [2]int{major, minor}; v[0] > bestVersion[0] || (v[0] == bestVersion[0] && v[1] > bestVersion[1]) {
			best, bestVersion = d, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in PG_BINDIR, PATH or /usr/lib/postgresql/*/bin; `make test` installs them")
	}
	return best, nil
}

func hasServerTools(dir string) bool {
	for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, tool)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
