package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"passd/calendar"
	"passd/cmd/passd/passdtest"
	"passd/db/dbtest"
)

// demoEnv seeds the demo data into a fresh database as make run does, and
// returns the variables the docs' examples read: PASSD, the tokens, a demo
// patient and a care date.
func demoEnv(t *testing.T, url, base string) []string {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	cmd := exec.Command(passdtest.Binary(t), "seed-demo", "--tokens-file", tokens)
	cmd.Env = append(passdEnviron(), "DATABASE_URL="+url, "PASSD_DATA_KEY="+testDataKey())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed-demo: %v\n%s", err, out)
	}
	file := regexp.MustCompile(`"patient_file_number":"([^"]+)","birth_date":"([^"]+)"`).FindSubmatch(out)
	saved, err := os.ReadFile(tokens)
	if file == nil || err != nil {
		t.Fatalf("seed-demo printed no demo file (%v):\n%s", err, out)
	}
	env := []string{"PASSD=" + base, "FILE_NUMBER=" + string(file[1]), "BIRTH_DATE=" + string(file[2]),
		"CARE_DATE=" + calendar.Today(time.Now()).AddDays(-1).String()}
	for _, line := range strings.Split(string(saved), "\n") {
		for user, name := range map[string]string{"demo-provider": "PROVIDER_TOKEN", "demo-coordinator": "COORDINATOR_TOKEN", "demo-admin": "ADMIN_TOKEN"} {
			if f := strings.Fields(line); len(f) == 2 && f[0] == user {
				env = append(env, name+"="+f[1])
			}
		}
	}
	return env
}

// The curl examples of the docs, run in their order against a live passd
// with demo data: each answers the status line (and the error code and
// field) shown after it.
func TestDocsCurlExamples(t *testing.T) {
	url := dbtest.NewURL(t)
	p := startPassd(t, "docs", url)
	env := append(passdEnviron(), demoEnv(t, url, p.base)...)
	pages := docPages(t)
	ran := 0
	for _, name := range []string{"docs/api.md", "docs/operations.md", "README.md"} {
		blocks := fencedBlocks(pages[name])
		for i, b := range blocks {
			if b.lang != "sh" {
				continue
			}
			var want docBlock
			if i+1 < len(blocks) && blocks[i+1].lang == "text" {
				want = blocks[i+1]
			}
			for _, cmd := range b.commands() {
				if strings.HasPrefix(cmd, "curl ") {
					runCurlExample(t, name, b.line, cmd, want, env)
					ran++
				}
			}
		}
	}
	if ran < 10 {
		t.Errorf("ran %d curl examples; api.md has more", ran)
	}
}

func runCurlExample(t *testing.T, page string, line int, cmd string, want docBlock, env []string) {
	t.Helper()
	c := exec.Command("bash", "-c", cmd)
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Errorf("%s:%d: %s: %v\n%s", page, line, cmd, err, out)
		return
	}
	status, body, _ := strings.Cut(string(out), "\n")
	if want.text == "" {
		return
	}
	wantStatus, wantBody, _ := strings.Cut(want.text, "\n")
	if strings.TrimSpace(status) != strings.TrimSpace(wantStatus) {
		t.Errorf("%s:%d: answered %q, the page says %q", page, line, strings.TrimSpace(status), wantStatus)
	}
	for _, m := range regexp.MustCompile(`"(code|field)":"([^"…]+)"`).FindAllStringSubmatch(wantBody, -1) {
		if !strings.Contains(body, m[0]) {
			t.Errorf("%s:%d: the answer has no %s; the page says so:\n%s", page, line, m[0], body)
		}
	}
	for _, m := range regexp.MustCompile(`"([a-z_]+)":"…"`).FindAllStringSubmatch(wantBody, -1) {
		if !strings.Contains(body, `"`+m[1]+`":`) {
			t.Errorf("%s:%d: the answer has no %s:\n%s", page, line, m[1], body)
		}
	}
}

// Every relative link of the pages reaches a file, and every #anchor a
// heading of its page (GitHub's slugs).
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	pages := docPages(t)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for name, src := range pages {
		for _, m := range link.FindAllStringSubmatch(src, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			page := name
			if file != "" {
				page = filepath.Clean(filepath.Join(filepath.Dir(name), file))
				if _, err := os.Stat(filepath.Join("../..", page)); err != nil {
					t.Errorf("%s: link %s: no such file", name, target)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			text, ok := pages[page]
			if !ok || !bytes.Contains([]byte(anchorsOf(text)), []byte("\n"+anchor+"\n")) {
				t.Errorf("%s: link %s: no such heading in %s", name, target, page)
			}
		}
	}
}

// anchorsOf lists the anchors of a page's headings, one a line, as
// GitHub makes them: lower case, punctuation dropped, spaces to hyphens,
// -1, -2… after a repeat.
func anchorsOf(src string) string {
	seen := map[string]int{}
	var b strings.Builder
	b.WriteString("\n")
	inBlock := false
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
		}
		if inBlock || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var slug strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127 && !strings.ContainsRune("’…—–«»", r):
				slug.WriteRune(r)
			}
		}
		s := slug.String()
		if n := seen[s]; n > 0 {
			s += "-" + strconv.Itoa(n)
		}
		seen[slug.String()]++
		b.WriteString(s + "\n")
	}
	return b.String()
}
