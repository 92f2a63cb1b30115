package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"passd/cmd/passd/passdtest"
)

// The pages a reader finds their way in: README.md and docs/*.md, read
// from the repository's root (two levels up from this package).
func docPages(t *testing.T) map[string]string {
	t.Helper()
	pages := map[string]string{}
	names, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(names, "../../README.md") {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		pages[strings.TrimPrefix(name, "../../")] = string(b)
	}
	return pages
}

// docBlock is a fenced block of a page: its info string (sh, text…), its
// first line's number and its text.
type docBlock struct {
	lang string
	line int
	text string
}

func fencedBlocks(src string) []docBlock {
	var blocks []docBlock
	var cur *docBlock
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n + 1}
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return blocks
}

// commands are a sh block's command lines: continuation lines joined,
// comments and blank lines left out.
func (b docBlock) commands() []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(b.text, "\\\n", " "), "\n") {
		if i := strings.Index(line, "  #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// words splits a command line as the shell would for these simple
// commands: spaces, and quotes kept together.
func words(cmd string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// strippedWords drops what runs a command rather than what it is: sudo -u
// USER, env, and NAME=value assignments.
func strippedWords(cmd string) []string {
	w := words(cmd)
	for len(w) > 0 {
		switch {
		case w[0] == "sudo" && len(w) > 2 && w[1] == "-u":
			w = w[3:]
		case w[0] == "env":
			w = w[1:]
		case regexp.MustCompile(`^[A-Z_]+=`).MatchString(w[0]):
			w = w[1:]
		default:
			return w
		}
	}
	return w
}

// Every command a reader would type (a sh block of README.md or docs/)
// is checked against what the tests run: make targets exist, passd's
// subcommands and flags are the binary's, pgBackRest's commands are those
// of the backup drill, the systemd units and the key file's mode are the
// package's, curl is run by TestDocsCurlExamples. A command of another
// kind fails until it gets a checker here.
func TestDocsCommandsAreChecked(t *testing.T) {
	t.Parallel()
	c := newDocChecker(t)
	pages := docPages(t)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range pages {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, b := range fencedBlocks(pages[name]) {
			if b.lang != "sh" {
				continue
			}
			for _, cmd := range b.commands() {
				if err := c.check(strippedWords(cmd)); err != "" {
					t.Errorf("%s:%d: %s: %s", name, b.line, cmd, err)
				}
			}
		}
	}
}

// docChecker holds what the commands are checked against.
type docChecker struct {
	t         *testing.T
	passd     string
	makefile  string
	drill     string
	postinst  string
	benchMain string
}

func newDocChecker(t *testing.T) *docChecker {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return &docChecker{t: t, passd: passdtest.Binary(t), makefile: read("../../Makefile"), drill: read("../../scripts/backup-drill.sh"),
		postinst: read("../../packaging/postinst"), benchMain: read("../passd-bench/main.go")}
}

// check returns what is wrong with the command w, or "".
func (c *docChecker) check(w []string) string {
	if len(w) == 0 {
		return "nothing to run"
	}
	switch w[0] {
	case "make":
		return c.checkMake(w[1:])
	case "passd":
		return c.checkPassd(w[1:])
	case "pgbackrest":
		return c.checkPgBackRest(w[1:])
	case "systemctl":
		if len(w) < 3 || !slices.Contains([]string{"enable", "start", "stop", "restart", "status"}, w[1]) ||
			!slices.Contains([]string{"passd", "postgresql"}, w[len(w)-1]) {
			return "systemctl: a verb and the unit passd (packaging/passd.service) or postgresql"
		}
		return ""
	case "apt":
		if len(w) != 3 || w[1] != "install" || !regexp.MustCompile(`^\./passd_[0-9][^_]*_amd64\.deb$`).MatchString(w[2]) {
			return "apt install ./passd_VERSION_amd64.deb, the name scripts/release.sh gives"
		}
		return ""
	case "install":
		return c.checkKeyInstall(w[1:])
	case "curl":
		return "" // run by TestDocsCurlExamples
	case "go":
		if len(w) == 4 && w[1] == "tool" && w[2] == "pprof" && regexp.MustCompile(`^http://127\.0\.0\.1:6060/debug/pprof/(profile\?seconds=\d+|heap)$`).MatchString(w[3]) {
			return "" // the profiles pprof_test.go fetches, on the address configuration.md gives
		}
	}
	return "no checker for this command: add one to cmd/passd/docs_test.go"
}

func (c *docChecker) checkMake(args []string) string {
	if len(args) == 0 {
		return "make with no target"
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(args[0]) + `:.*## `).MatchString(c.makefile) {
		return "no such target in the Makefile"
	}
	for _, a := range args[1:] {
		v, ok := strings.CutPrefix(a, "BENCH_ARGS=")
		if !ok {
			return "unknown make variable " + a
		}
		for _, f := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(v, -1) {
			if !strings.Contains(c.benchMain, `"`+f[1]+`"`) {
				return "passd-bench has no flag --" + f[1]
			}
		}
	}
	return ""
}

// checkPassd runs passd SUBCOMMAND -h and looks for each flag the
// command names in the usage it prints.
func (c *docChecker) checkPassd(args []string) string {
	path := 1
	if len(args) > 1 && slices.Contains([]string{"token", "audit", "config", "convention"}, args[0]) {
		path = 2
	}
	if len(args) < path {
		return "passd with no command"
	}
	if args[0] == "version" {
		return ""
	}
	cmd := exec.Command(c.passd, append(slices.Clone(args[:path]), "-h")...)
	cmd.Env = passdEnviron()
	out, _ := cmd.CombinedOutput()
	if bytes.Contains(out, []byte("unknown command")) || !bytes.Contains(out, []byte("Usage of")) {
		return "passd " + strings.Join(args[:path], " ") + " -h printed no usage: " + string(out)
	}
	for _, a := range args[path:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !bytes.Contains(out, []byte("  -"+name+" ")) && !bytes.Contains(out, []byte("  -"+name+"\n")) {
				return "passd " + strings.Join(args[:path], " ") + " has no flag --" + name
			}
		}
	}
	return ""
}

// checkPgBackRest: the command and every option are ones the backup drill
// runs (its pgbr calls, which add --config and --stanza).
func (c *docChecker) checkPgBackRest(args []string) string {
	var calls [][]string
	for _, line := range strings.Split(c.drill, "\n") {
		if f := strings.Fields(strings.TrimSpace(line)); len(f) > 1 && f[0] == "pgbr" {
			calls = append(calls, f[1:])
		}
	}
	optNames := func(w []string) (cmd string, opts []string) {
		for _, a := range w {
			if name, ok := strings.CutPrefix(a, "--"); ok {
				name, _, _ = strings.Cut(name, "=")
				opts = append(opts, name)
			} else if !strings.HasPrefix(a, "\"") {
				cmd = a
			}
		}
		return cmd, opts
	}
	cmd, opts := optNames(args)
	for _, call := range calls {
		dcmd, dopts := optNames(call)
		if dcmd != cmd {
			continue
		}
		missing := false
		for _, o := range opts {
			if o != "stanza" && !slices.Contains(dopts, o) {
				missing = true
			}
		}
		if !missing {
			return ""
		}
	}
	return "the backup drill (scripts/backup-drill.sh) runs no pgbackrest " + cmd + " with these options"
}

// checkKeyInstall: the keyring put back with the mode and group the
// package's postinst gives it.
func (c *docChecker) checkKeyInstall(args []string) string {
	if len(args) != 8 || args[0] != "-m" || args[2] != "-o" || args[3] != "root" || args[4] != "-g" || args[7] != "/etc/passd/datakey" {
		return "install -m MODE -o root -g GROUP FILE /etc/passd/datakey"
	}
	if !strings.Contains(c.postinst, "chmod "+args[1]+" /etc/passd/datakey") || !strings.Contains(c.postinst, "chgrp "+args[5]+" /etc/passd/datakey") {
		return "the mode or group differs from packaging/postinst's"
	}
	return ""
}
