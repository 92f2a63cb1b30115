package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"passd/auth"
)

// Config is passd's configuration: environment variables with working
// defaults, which command-line flags override.
type Config struct {
	DatabaseURL      string
	Addr             string
	DeadlineDays     int
	ReleaseSchedule  string
	DeadlineSchedule string
	// The money-out jobs.
	ClaimBatchSchedule  string
	PayoutBatchSchedule string
	RemindersSchedule   string
	ShutdownTimeout     time.Duration
	// The keyring that seals patient identity: its text, or a file
	// holding it (see keys_cmd.go). Never a flag: it would show in ps.
	DataKey     string
	DataKeyFile string
	// DBRole is the role every session of the running application acts
	// as (SET ROLE at connection); empty means passd_app, "none" means
	// the login user itself. Migrations run as the login user.
	DBRole string
	// Convention is the convention a command acts on (--convention): its
	// number or its name; empty for the only one (or every one).
	Convention string
	// TokenTTL is how long tokens issued by token create and seed-demo
	// live; zero means auth.DefaultTokenTTL.
	TokenTTL time.Duration
	// Failed authentications allowed per client address and window
	// before 429; zero means the auth package's defaults.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client, and whose X-Forwarded-Proto: https earns HSTS; with none,
	// the client is the connection's peer and only passd's own TLS counts.
	TrustedProxies []netip.Prefix
	// TokenCache is how long a token's bearer is remembered after a lookup
	// (auth.WithCache); 0: every request looks its token up.
	TokenCache time.Duration
	// RequestTimeout bounds a request, waiting for the database included,
	// so that an outage is answered 503 in time rather than held; 0: none.
	RequestTimeout time.Duration
	// PprofAddr, when set, is a second listener serving Go's profiles
	// (/debug/pprof/) for an operator; never the main address, and off
	// by default.
	PprofAddr string
	// MetricsAddr, when set, is a second listener serving /metrics with
	// the money series (*_euros), for a scraper on a private network;
	// the main address's /metrics leaves them out.
	MetricsAddr string
	// MetricsToken, when set, lets a scrape of the main address's /metrics
	// that carries it as a bearer token see the money series too. Never a
	// flag: it would show in ps.
	MetricsToken string
	// Chromium prints passd report's PDF.
	Chromium string
	// The CCAS–SOS Médecins convention's jobs: the e-mails of the outbox
	// (sent through SMTP; no SMTPAddr, none sent) and the anonymisation of
	// closed cases. Empty schedules take the defaults.
	ReferralNotifySchedule    string
	ReferralRetentionSchedule string
	SMTPAddr, SMTPFrom        string
	SMTPUsername              string
	SMTPPassword              string // never a flag: it would show in ps
	// PublicURL is passd's address as its users reach it, written in the
	// e-mails.
	PublicURL string
}

// Default schedules of the convention's jobs (Europe/Paris).
const (
	defaultReferralNotifySchedule    = "*/5 * * * *"
	defaultReferralRetentionSchedule = "15 4 * * *"
)

// minMetricsTokenLength: a metrics token is as hard to guess as 192
// random bits in base64 (openssl rand -base64 32 gives 44 characters).
const minMetricsTokenLength = 32

// Default schedules (Europe/Paris). None falls between 02:00 and 03:00,
// the hour that does not exist or happens twice when clocks change.
const (
	defaultReleaseSchedule  = "*/5 * * * *"
	defaultDeadlineSchedule = "30 4 * * *"
	// After the deadline sweep, so that the day's claims travel the same day.
	defaultClaimBatchSchedule  = "0 5 * * *"
	defaultPayoutBatchSchedule = "0 6 * * 1"
	defaultRemindersSchedule   = "0 7 * * *"
)

// defaultRequestTimeout leaves a client waiting at most about 5 s for an
// answer, a 503 when the database is out of reach.
const defaultRequestTimeout = 4 * time.Second

// defaultTokenCache: a burst of requests with one token costs one lookup a
// second, and a token revoked by another process stops working here within
// a second.
const defaultTokenCache = time.Second

// ConfigFromEnv reads the environment.
func ConfigFromEnv() (Config, error) {
	return configFrom(os.LookupEnv)
}

// configFrom reads the configuration through lookup, the environment or
// what passd config check puts in front of it (an env file, a record of
// where each setting came from).
func configFrom(lookup func(string) (string, bool)) (Config, error) {
	getenv := func(name string) string { v, _ := lookup(name); return v }
	envOr := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		DatabaseURL:         getenv("DATABASE_URL"),
		Addr:                envOr("PASSD_ADDR", "127.0.0.1:8080"),
		ReleaseSchedule:     envOr("PASSD_RELEASE_SCHEDULE", defaultReleaseSchedule),
		DeadlineSchedule:    envOr("PASSD_DEADLINE_SCHEDULE", defaultDeadlineSchedule),
		ClaimBatchSchedule:  envOr("PASSD_CLAIM_BATCH_SCHEDULE", defaultClaimBatchSchedule),
		PayoutBatchSchedule: envOr("PASSD_PAYOUT_BATCH_SCHEDULE", defaultPayoutBatchSchedule),
		RemindersSchedule:   envOr("PASSD_REMINDERS_SCHEDULE", defaultRemindersSchedule),
		DeadlineDays:        90,
		ShutdownTimeout:     30 * time.Second,
		DataKey:             getenv("PASSD_DATA_KEY"),
		DataKeyFile:         getenv("PASSD_DATA_KEY_FILE"),
		RequestTimeout:      defaultRequestTimeout,
		TokenCache:          defaultTokenCache,
		PprofAddr:           getenv("PASSD_PPROF_ADDR"),
		MetricsAddr:         getenv("PASSD_METRICS_ADDR"),
		MetricsToken:        getenv("PASSD_METRICS_TOKEN"),
		Chromium:            envOr("PASSD_CHROMIUM", defaultChromium),
	}
	cfg.readConvention(getenv, envOr)
	if s := getenv("PASSD_DEADLINE_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return cfg, fmt.Errorf("PASSD_DEADLINE_DAYS: %q is not a whole number of days", s)
		}
		cfg.DeadlineDays = n
	}
	cfg.DBRole = getenv("PASSD_DB_ROLE")
	if s := getenv("PASSD_TOKEN_TTL"); s != "" {
		ttl, err := auth.ParseTTL(s)
		if err != nil {
			return cfg, fmt.Errorf("PASSD_TOKEN_TTL: %w", err)
		}
		cfg.TokenTTL = ttl
	}
	if s := getenv("PASSD_AUTH_FAILURE_LIMIT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("PASSD_AUTH_FAILURE_LIMIT: %q is not a positive whole number", s)
		}
		cfg.AuthFailureLimit = n
	}
	if s := getenv("PASSD_AUTH_FAILURE_WINDOW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("PASSD_AUTH_FAILURE_WINDOW: %q is not a positive duration (1m, 30s)", s)
		}
		cfg.AuthFailureWindow = d
	}
	proxies, err := parsePrefixes(getenv("PASSD_TRUSTED_PROXIES"))
	if err != nil {
		return cfg, fmt.Errorf("PASSD_TRUSTED_PROXIES: %w", err)
	}
	cfg.TrustedProxies = proxies
	if s := getenv("PASSD_TOKEN_CACHE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return cfg, fmt.Errorf("PASSD_TOKEN_CACHE: %q is not a duration (1s, or 0 for none)", s)
		}
		cfg.TokenCache = d
	}
	if s := getenv("PASSD_REQUEST_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return cfg, fmt.Errorf("PASSD_REQUEST_TIMEOUT: %q is not a duration (e.g. 4s)", s)
		}
		cfg.RequestTimeout = d
	}
	return cfg, nil
}

// parsePrefixes reads a comma-separated list of addresses or CIDR ranges.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR range", item)
			}
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR range", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// sessionRole is the role the application's pools act as ("" for the
// login user).
func (c Config) sessionRole() string {
	switch c.DBRole {
	case "":
		return defaultDBRole
	case "none":
		return ""
	}
	return c.DBRole
}

// defaultDBRole is the role migration 00004 creates for the application.
const defaultDBRole = "passd_app"

// Flags registers the flags that override the environment on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (env PASSD_ADDR)")
	fs.IntVar(&c.DeadlineDays, "deadline-days", c.DeadlineDays, "days after the care date before the city pays (env PASSD_DEADLINE_DAYS)")
	fs.StringVar(&c.ReleaseSchedule, "release-schedule", c.ReleaseSchedule, "cron schedule of the release job, Europe/Paris (env PASSD_RELEASE_SCHEDULE)")
	fs.StringVar(&c.DeadlineSchedule, "deadline-schedule", c.DeadlineSchedule, "cron schedule of the deadline job, Europe/Paris (env PASSD_DEADLINE_SCHEDULE)")
	fs.StringVar(&c.ClaimBatchSchedule, "claim-batch-schedule", c.ClaimBatchSchedule, "cron schedule of the claim-batch job (env PASSD_CLAIM_BATCH_SCHEDULE)")
	fs.StringVar(&c.PayoutBatchSchedule, "payout-batch-schedule", c.PayoutBatchSchedule, "cron schedule of the payout-batch job (env PASSD_PAYOUT_BATCH_SCHEDULE)")
	fs.StringVar(&c.RemindersSchedule, "reminders-schedule", c.RemindersSchedule, "cron schedule of the reminders job (env PASSD_REMINDERS_SCHEDULE)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests and jobs may take to finish on SIGTERM")
	fs.StringVar(&c.DataKeyFile, "data-key-file", c.DataKeyFile, "file holding the keyring that encrypts patient identity (env PASSD_DATA_KEY_FILE)")
	fs.StringVar(&c.DBRole, "db-role", c.DBRole, "role the sessions act as; none for the login user (env PASSD_DB_ROLE, default passd_app)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "address serving /debug/pprof/, e.g. 127.0.0.1:6060; empty: off (env PASSD_PPROF_ADDR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address serving /metrics with the money series, e.g. 127.0.0.1:9090; empty: off (env PASSD_METRICS_ADDR)")
	fs.DurationVar(&c.TokenCache, "token-cache", c.TokenCache, "how long a token's bearer is remembered after a lookup; 0 for no cache (env PASSD_TOKEN_CACHE)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "how long a request may take, waiting for the database included; 0 for no limit (env PASSD_REQUEST_TIMEOUT)")
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	var errs []string
	if c.DatabaseURL == "" {
		errs = append(errs, "DATABASE_URL is not set (make run starts a private PostgreSQL and sets it)")
	}
	if c.Addr == "" {
		errs = append(errs, "the listen address is empty")
	}
	if c.DeadlineDays < 1 || c.DeadlineDays > 730 {
		errs = append(errs, fmt.Sprintf("deadline days must be between 1 and 730, got %d", c.DeadlineDays))
	}
	if c.TokenTTL != 0 {
		if err := auth.CheckTTL(c.TokenTTL); err != nil {
			errs = append(errs, "token TTL: "+err.Error())
		}
	}
	if c.AuthFailureLimit < 0 || c.AuthFailureWindow < 0 {
		errs = append(errs, "the failed-authentication limit and window cannot be negative")
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fmt.Sprintf("the request timeout must not be negative, got %s", c.RequestTimeout))
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			errs = append(errs, fmt.Sprintf("the pprof address %q is not host:port", c.PprofAddr))
		} else if c.PprofAddr == c.Addr {
			errs = append(errs, "the pprof address must differ from the listen address: profiles are never served on it")
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Sprintf("the metrics address %q is not host:port", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr || c.MetricsAddr == c.PprofAddr {
			errs = append(errs, "the metrics address must differ from the listen and pprof addresses: it shows the money series")
		}
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < minMetricsTokenLength || !isPrintableASCII(c.MetricsToken)) {
		errs = append(errs, fmt.Sprintf("PASSD_METRICS_TOKEN must be at least %d printable ASCII characters without spaces (openssl rand -base64 32)", minMetricsTokenLength))
	}
	errs = append(errs, c.smtpProblems()...)
	if len(errs) > 0 {
		return errors.New("passd: configuration: " + strings.Join(errs, "; "))
	}
	return nil
}

// readConvention reads the CCAS–SOS Médecins convention's settings
// (issue 17): its jobs' schedules and the e-mails' relay.
func (c *Config) readConvention(getenv func(string) string, envOr func(string, string) string) {
	c.ReferralNotifySchedule = envOr("PASSD_REFERRAL_NOTIFY_SCHEDULE", defaultReferralNotifySchedule)
	c.ReferralRetentionSchedule = envOr("PASSD_REFERRAL_RETENTION_SCHEDULE", defaultReferralRetentionSchedule)
	c.SMTPAddr, c.SMTPFrom = getenv("PASSD_SMTP_ADDR"), envOr("PASSD_SMTP_FROM", "passd@localhost")
	c.SMTPUsername, c.SMTPPassword = getenv("PASSD_SMTP_USERNAME"), getenv("PASSD_SMTP_PASSWORD")
	c.PublicURL = getenv("PASSD_PUBLIC_URL")
}

// smtpProblems checks the convention's e-mail settings: a relay as
// host:port, a sender that is an address, and credentials only in pairs.
func (c Config) smtpProblems() []string {
	if c.SMTPAddr == "" {
		return nil
	}
	var errs []string
	if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
		errs = append(errs, fmt.Sprintf("PASSD_SMTP_ADDR %q is not host:port", c.SMTPAddr))
	}
	if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address != c.SMTPFrom {
		errs = append(errs, fmt.Sprintf("PASSD_SMTP_FROM %q is not an e-mail address", c.SMTPFrom))
	}
	if (c.SMTPUsername == "") != (c.SMTPPassword == "") {
		errs = append(errs, "PASSD_SMTP_USERNAME and PASSD_SMTP_PASSWORD go together")
	}
	return errs
}

// isPrintableASCII: every byte is printable ASCII, none a space, so that
// the value travels unchanged in an Authorization header.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
