package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"passd/scheduler"
)

// configCommand is passd config check (validate the configuration as
// start-up does and print each setting with its source), passd config
// docs (print docs/configuration.md) and passd config env (print the
// package's /etc/passd/passd.env).
func configCommand(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: passd config (check [--env-file FILE] [flags] | docs | env)")
	}
	switch args[0] {
	case "check":
		return configCheck(args[1:], out)
	case "docs":
		_, err := io.WriteString(out, configDocs())
		return err
	case "env":
		_, err := io.WriteString(out, configEnvFile())
		return err
	}
	return fmt.Errorf("passd config: unknown subcommand %q (check, docs, env)", args[0])
}

// Where a setting's value came from.
const (
	sourceDefault = "default"
	sourceFile    = "file"
	sourceEnv     = "environment"
	sourceFlag    = "flag"
)

// configCheck reads the configuration as start-up does (the environment
// over the env file, the flags over both), validates it with the same
// code, and prints every setting, secrets masked, with its source.
func configCheck(args []string, out io.Writer) error {
	envFile := ""
	for i, a := range args {
		// Read first: the flags' defaults come from the configuration it
		// holds.
		if v, ok := strings.CutPrefix(a, "--env-file="); ok {
			envFile = v
		} else if v, ok := strings.CutPrefix(a, "-env-file="); ok {
			envFile = v
		} else if (a == "--env-file" || a == "-env-file") && i+1 < len(args) {
			envFile = args[i+1]
		}
	}
	file := map[string]string{}
	if envFile != "" {
		var err error
		if file, err = readEnvFile(envFile); err != nil {
			return err
		}
	}
	sources := map[string]string{}
	cfg, err := configFrom(func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			sources[name] = sourceEnv
			return v, true
		}
		if v, ok := file[name]; ok && v != "" {
			sources[name] = sourceFile
			return v, true
		}
		return "", false
	})
	if err != nil {
		return fmt.Errorf("passd: configuration: %w", err)
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.String("env-file", envFile, "read settings from this file (KEY=VALUE lines, as systemd's EnvironmentFile=) under the environment")
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { sources["--"+f.Name] = sourceFlag })
	printSettings(out, cfg, sources)
	if err := checkConfig(cfg); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, "ok: passd would start with this configuration")
	return err
}

// printSettings writes one line per setting: name, value, source.
func printSettings(out io.Writer, cfg Config, sources map[string]string) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, s := range settings {
		src := sourceDefault
		if v, ok := sources[s.Env]; ok && s.Env != "" {
			src = v
		}
		if v, ok := sources["--"+s.Flag]; ok && s.Flag != "" {
			src = v
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name(), s.value(cfg), src)
	}
	tw.Flush()
}

// checkConfig is what start-up checks before it connects: Validate, the
// keyring, the jobs' schedules.
func checkConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := cfg.keyring(); err != nil {
		return fmt.Errorf("passd: configuration: %w", err)
	}
	for name, spec := range map[string]string{"PASSD_RELEASE_SCHEDULE": cfg.ReleaseSchedule, "PASSD_DEADLINE_SCHEDULE": cfg.DeadlineSchedule,
		"PASSD_CLAIM_BATCH_SCHEDULE": cfg.ClaimBatchSchedule, "PASSD_PAYOUT_BATCH_SCHEDULE": cfg.PayoutBatchSchedule,
		"PASSD_REMINDERS_SCHEDULE": cfg.RemindersSchedule, "PASSD_REFERRAL_NOTIFY_SCHEDULE": cfg.ReferralNotifySchedule,
		"PASSD_REFERRAL_RETENTION_SCHEDULE": cfg.ReferralRetentionSchedule} {
		if err := scheduler.CheckSchedule(spec); err != nil {
			return fmt.Errorf("passd: configuration: %s %q: %w", name, spec, err)
		}
	}
	return nil
}

// readEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile= does:
// blank lines and lines starting with # or ; are skipped, a value may be
// quoted with ' or ".
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("passd: env file: %w", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("passd: env file %s:%d: not KEY=VALUE", path, n)
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("passd: env file %s: %w", path, err)
	}
	return vars, nil
}

// configDocs is docs/configuration.md, written from the settings table and
// the defaults ConfigFromEnv gives with nothing set.
func configDocs() string {
	defaults, err := configFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		panic(err) // the defaults are constants: a test reaches this first
	}
	var b strings.Builder
	b.WriteString(`# Configuration

<!-- Written by make docs (passd config docs) from cmd/passd/settings.go; do not edit by hand. -->

passd reads its settings from the environment; the flags of ` + "`passd serve`" + ` override it
(` + "`passd serve -h`" + ` lists them). The Debian package's service reads them from
` + "`/etc/passd/passd.env`" + ` (systemd's ` + "`EnvironmentFile=`" + `). To see what passd would run with,
each value's source and the checks start-up makes, secrets masked:

    passd config check --env-file /etc/passd/passd.env

It exits 1, naming the setting, when start-up would refuse the configuration.
Schedules are cron lines (5 fields) in Europe/Paris; none should fall between 02:00
and 03:00, the hour that does not exist or happens twice when clocks change.

| variable | flag | default | what it is for |
|---|---|---|---|
`)
	for _, s := range settings {
		env, fl := "—", "—"
		if s.Env != "" {
			env = "`" + s.Env + "`"
		}
		if s.Flag != "" {
			fl = "`--" + s.Flag + "`"
		}
		def := s.value(defaults)
		if def != "(empty)" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", env, fl, def, strings.ReplaceAll(s.Doc, "|", "\\|"))
	}
	return b.String()
}

// packagedValues are the settings the Debian package sets in its
// /etc/passd/passd.env: the local PostgreSQL over its socket as the passd
// user (peer authentication), and the keyring its postinst makes.
var packagedValues = map[string]string{
	"DATABASE_URL":        "postgres:///passd?host=/run/postgresql",
	"PASSD_DATA_KEY_FILE": "/etc/passd/datakey",
}

// configEnvFile is packaging/passd.env: every setting with its use and
// default, commented out but for packagedValues.
func configEnvFile() string {
	defaults, err := configFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		panic(err) // the defaults are constants: a test reaches this first
	}
	var b strings.Builder
	b.WriteString(`# /etc/passd/passd.env: passd's settings, read by passd.service (systemd's
# EnvironmentFile=: KEY=VALUE, no shell). Written by make docs from
# cmd/passd/settings.go. Each setting is shown with its default, commented
# out; /usr/share/doc/passd/configuration.md says more. After an edit:
#   passd config check --env-file /etc/passd/passd.env
#   systemctl restart passd
`)
	for _, s := range settings {
		if s.Env == "" {
			continue
		}
		b.WriteString("\n")
		for _, line := range wrap(strings.ReplaceAll(s.Doc, "`", ""), 74) {
			b.WriteString("# " + line + "\n")
		}
		if v, ok := packagedValues[s.Env]; ok {
			fmt.Fprintf(&b, "%s=%s\n", s.Env, v)
			continue
		}
		def := s.value(defaults)
		if def == "(empty)" || s.Secret {
			def = ""
		}
		fmt.Fprintf(&b, "#%s=%s\n", s.Env, def)
	}
	return b.String()
}

// wrap splits text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
