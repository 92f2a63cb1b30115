package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"passd/keyring/keyringtest"
)

// clearSettings unsets every variable of the settings table for the test,
// so that the machine's environment does not leak into it.
func clearSettings(t *testing.T) {
	for _, s := range settings {
		if s.Env != "" {
			t.Setenv(s.Env, "")
		}
	}
}

// settingLine returns the line of out that names the setting.
func settingLine(t *testing.T, out, name string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no line for %s in:\n%s", name, out)
	return nil
}

// passd config check reads the env file under the environment, the flags
// over both, names each value's source and never prints a secret.
// (t.Setenv: not parallel.)
func TestConfigCheckNamesSourcesAndMasksSecrets(t *testing.T) {
	clearSettings(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "datakey")
	if err := os.WriteFile(keyFile, []byte(keyringtest.Text(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "passd.env")
	env := "# a comment\n\nDATABASE_URL=postgres://passd:hunter2-secret@db.example/passd?sslmode=verify-full\n" +
		"PASSD_ADDR=127.0.0.1:8081\nPASSD_DEADLINE_DAYS=\"120\"\nPASSD_DATA_KEY_FILE=" + keyFile + "\n" +
		"PASSD_METRICS_TOKEN=" + strings.Repeat("m", 40) + "\n"
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PASSD_ADDR", "127.0.0.1:8082")
	var out bytes.Buffer
	if err := configCheck([]string{"--env-file", envFile, "--request-timeout", "7s"}, &out); err != nil {
		t.Fatalf("config check: %v\n%s", err, out.String())
	}
	text := out.String()
	for name, want := range map[string][]string{
		"DATABASE_URL":          {"postgres://passd:********@db.example/passd?sslmode=verify-full", "file"},
		"PASSD_ADDR":            {"127.0.0.1:8082", "environment"},
		"PASSD_DEADLINE_DAYS":   {"120", "file"},
		"PASSD_REQUEST_TIMEOUT": {"7s", "flag"},
		"PASSD_TOKEN_CACHE":     {"1s", "default"},
		"PASSD_METRICS_TOKEN":   {"********", "(set)", "file"},
	} {
		if got := settingLine(t, text, name)[1:]; !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if strings.Contains(text, "hunter2") || strings.Contains(text, "mmmmmmmm") {
		t.Errorf("a secret is printed:\n%s", text)
	}
	if !strings.Contains(text, "ok: passd would start") {
		t.Errorf("no verdict:\n%s", text)
	}
}

// What start-up refuses, config check refuses, naming the setting.
// (t.Setenv: not parallel.)
func TestConfigCheckRefusesWhatStartUpRefuses(t *testing.T) {
	keyText := keyringtest.Text(t)
	for name, c := range map[string]struct{ env map[string]string }{
		"no database":       {map[string]string{"PASSD_DATA_KEY": keyText}},
		"no keyring":        {map[string]string{"DATABASE_URL": "postgres:///passd"}},
		"a broken schedule": {map[string]string{"DATABASE_URL": "postgres:///passd", "PASSD_DATA_KEY": keyText, "PASSD_DEADLINE_SCHEDULE": "61 * * * *"}},
		"deadline days":     {map[string]string{"DATABASE_URL": "postgres:///passd", "PASSD_DATA_KEY": keyText, "PASSD_DEADLINE_DAYS": "0"}},
		"not a number":      {map[string]string{"DATABASE_URL": "postgres:///passd", "PASSD_DATA_KEY": keyText, "PASSD_DEADLINE_DAYS": "ninety"}},
	} {
		t.Run(name, func(t *testing.T) {
			clearSettings(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			err := configCheck(nil, &out)
			if err == nil {
				t.Fatalf("accepted:\n%s", out.String())
			}
			if strings.Contains(out.String(), "ok:") {
				t.Errorf("refused yet says ok:\n%s", out.String())
			}
		})
	}
}

// The settings table is what the code reads: every variable config.go
// names is in it, ConfigFromEnv consults every variable it lists, and
// every flag it lists is a flag of serve.
func TestSettingsTableIsTheConfiguration(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range settings {
		listed = append(listed, s.Env)
	}
	for _, m := range regexp.MustCompile(`"((?:PASSD_|DATABASE_)[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(listed, m[1]) {
			t.Errorf("config.go reads %s, which settings.go does not list", m[1])
		}
	}
	consulted := map[string]bool{}
	if _, err := configFrom(func(name string) (string, bool) { consulted[name] = true; return "", false }); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg Config
	cfg.Flags(fs)
	for _, s := range settings {
		if s.Env != "" && !consulted[s.Env] {
			t.Errorf("settings.go lists %s, which ConfigFromEnv never reads", s.Env)
		}
		if s.Flag != "" && fs.Lookup(s.Flag) == nil {
			t.Errorf("settings.go lists --%s, which serve does not have", s.Flag)
		}
	}
}

// docs/configuration.md and the package's passd.env are what make docs
// writes from the code today.
func TestConfigurationPageIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != configDocs() {
		t.Fatal("docs/configuration.md is not what the configuration code says: run make docs and commit it")
	}
}
