package packaging

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/migrations"
)

// run runs a command and returns its standard output, failing the test
// with both outputs when it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// The package make release builds: what it holds, its maintainer scripts,
// its unit (systemd-analyze verify), and, installed with dpkg into a
// temporary root, a passd that says its version, migrates a database of the
// test cluster and accepts the configuration file it ships.
func TestDebianPackage(t *testing.T) {
	dist := t.TempDir()
	deb := strings.TrimSpace(run(t, []string{"DIST=" + dist, "VERSION=1.2.3~test"}, "bash", "../scripts/release.sh"))
	if !strings.HasPrefix(filepath.Base(deb), "passd_1.2.3~test_") {
		t.Fatalf("release.sh printed %q", deb)
	}
	t.Run("contents", func(t *testing.T) { checkContents(t, deb) })
	t.Run("maintainer scripts", func(t *testing.T) { checkScripts(t, deb) })
	root := install(t, deb)
	t.Run("unit verifies", func(t *testing.T) { checkUnit(t, root) })
	t.Run("binary", func(t *testing.T) { checkBinary(t, root) })
	t.Run("migrate and config check", func(t *testing.T) { checkMigrate(t, root) })
}

// checkContents: the files, their modes and the conffile.
func checkContents(t *testing.T, deb string) {
	listing := run(t, nil, "dpkg-deb", "--contents", deb)
	for path, mode := range map[string]string{
		"./usr/bin/passd":                        "-rwxr-xr-x root/root",
		"./usr/lib/systemd/system/passd.service": "-rw-r--r-- root/root",
		"./etc/passd/passd.env":                  "-rw------- root/root",
		"./etc/passd/":                           "drwxr-x--- root/root",
		"./usr/share/doc/passd/operations.md":    "-rw-r--r-- root/root",
		"./usr/share/doc/passd/configuration.md": "-rw-r--r-- root/root",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(mode) + ` .* ` + regexp.QuoteMeta(path) + `$`).MatchString(listing) {
			t.Errorf("no %s %s in the package:\n%s", mode, path, listing)
		}
	}
	if got := run(t, nil, "dpkg-deb", "--field", deb, "Package"); got != "passd\n" {
		t.Errorf("Package: %q", got)
	}
	ctrl := t.TempDir()
	run(t, nil, "dpkg-deb", "--control", deb, ctrl)
	conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil || strings.TrimSpace(string(conffiles)) != "/etc/passd/passd.env" {
		t.Errorf("conffiles %q (%v): the configuration must survive an upgrade", conffiles, err)
	}
}

// checkScripts: the maintainer scripts are there, executable, valid sh,
// and do what the operations guide says.
func checkScripts(t *testing.T, deb string) {
	ctrl := t.TempDir()
	run(t, nil, "dpkg-deb", "--control", deb, ctrl)
	for name, wants := range map[string][]string{
		"postinst": {"useradd --system", "passd keygen --out /etc/passd/datakey", "chmod 0640 /etc/passd/datakey", "[ ! -e /etc/passd/datakey ]"},
		"prerm":    {"systemctl stop passd.service"},
		"postrm":   {"rm -rf /var/lib/passd", `"$1" = purge`},
	} {
		path := filepath.Join(ctrl, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", name)
		}
		run(t, nil, "sh", "-n", path)
		text, _ := os.ReadFile(path)
		for _, w := range wants {
			if !strings.Contains(string(text), w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
		if strings.Contains(string(text), "datakey") && strings.Contains(string(text), "rm -f /etc/passd/datakey") {
			t.Errorf("%s removes the keyring", name)
		}
	}
}

// install unpacks the package with dpkg into a fresh root (dpkg's own
// database there); the maintainer scripts, which need the real system, are
// checked apart.
func install(t *testing.T, deb string) string {
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "dpkg", "--root="+root, "--log=/dev/null", "--unpack", deb)
	if status := run(t, nil, "dpkg", "--root="+root, "--status", "passd"); !strings.Contains(status, "Status: install ok unpacked") {
		t.Fatalf("dpkg --status:\n%s", status)
	}
	return root
}

// checkUnit: systemd-analyze verify finds nothing to say about the unit in
// the installed root (the machine's own units copied beside it, for the
// targets it names), and the unit confines passd as the guide says.
func checkUnit(t *testing.T, root string) {
	units := filepath.Join(root, "usr/lib/systemd/system")
	run(t, nil, "cp", "-rn", "/usr/lib/systemd/system/.", units+"/")
	cmd := exec.Command("systemd-analyze", "verify", "--root="+root, "/usr/lib/systemd/system/passd.service")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	unit, err := os.ReadFile(filepath.Join(units, "passd.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"User=passd", "ProtectSystem=strict", "NoNewPrivileges=true", "PrivateTmp=true",
		"StateDirectory=passd", "Restart=on-failure", "ExecStartPre=/usr/bin/passd migrate", "ExecStart=/usr/bin/passd serve",
		"EnvironmentFile=/etc/passd/passd.env"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).Match(unit) {
			t.Errorf("the unit lacks %s", line)
		}
	}
	if regexp.MustCompile(`(?m)^(ReadWritePaths|ReadWriteDirectories)=`).Match(unit) {
		t.Error("the unit makes a path writable besides its state directory")
	}
}

// checkBinary: static (no interpreter: it runs whatever the libc) and
// stamped with the release's version.
func checkBinary(t *testing.T, root string) {
	bin := filepath.Join(root, "usr/bin/passd")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("passd is dynamically linked")
		}
	}
	for _, arg := range []string{"--version", "version"} {
		if got := run(t, nil, bin, arg); got != "passd 1.2.3~test\n" {
			t.Errorf("passd %s: %q", arg, got)
		}
	}
}

// installSQL is the SQL operations.md gives to make passd's database, in
// its first sql block.
func installSQL(t *testing.T) string {
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n```sql\n")
	sql, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatal("docs/operations.md has no sql block")
	}
	return sql
}

// checkMigrate: on a cluster of its own, the database made as
// operations.md says; the installed passd, as the role passd, migrates it
// to the newest schema and checks it (acting as passd_app), and config
// check accepts the shipped configuration file once DATABASE_URL and the
// keyring are given.
func checkMigrate(t *testing.T, root string) {
	bin := filepath.Join(root, "usr/bin/passd")
	cluster := dbtest.NewCluster(t)
	ctx := context.Background()
	admin, err := db.Open(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, stmt := range strings.Split(installSQL(t), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				t.Fatalf("operations.md's %q: %v", stmt, err)
			}
		}
	}
	url := strings.Replace(cluster.URL("passd"), "postgres@", "passd@", 1)
	keyFile := filepath.Join(t.TempDir(), "datakey")
	if err := os.WriteFile(keyFile, []byte(keyringtest.Text(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DATABASE_URL=" + url, "PASSD_DATA_KEY_FILE=" + keyFile, "PASSD_DATA_KEY="}
	run(t, env, bin, "migrate")
	pool, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if ok, err := migrations.Current(ctx, pool); err != nil || !ok {
		t.Fatalf("after passd migrate the schema is not current (%v)", err)
	}
	run(t, env, bin, "check")
	envFile := filepath.Join(root, "etc/passd/passd.env.dpkg-new")
	out := run(t, env, bin, "config", "check", "--env-file", envFile)
	if !strings.Contains(out, "ok: passd would start") || !regexp.MustCompile(`(?m)^PASSD_ADDR +127\.0\.0\.1:8080 +default$`).MatchString(out) {
		t.Errorf("config check with the shipped file:\n%s", out)
	}
}
