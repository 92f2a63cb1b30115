package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"passd/auth"
)

// setting is one line of passd's configuration as an operator sees it:
// the environment variable, the flag that overrides it, what it is for,
// and how its value (default or not) reads. passd config check prints the
// table with each value's source; make docs writes docs/configuration.md
// from it, and a test keeps it equal to what ConfigFromEnv reads.
type setting struct {
	Env    string // the environment variable; "" for a flag-only setting
	Flag   string // the flag of serve that overrides it; "" for none
	Secret bool   // shown masked
	Doc    string
	value  func(Config) string
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

func durOr(d, zero time.Duration) string {
	if d == 0 {
		return zero.String()
	}
	return d.String()
}

// settings lists every setting passd reads, in the order of the page.
var settings = []setting{
	{Env: "DATABASE_URL", Flag: "database-url", Secret: true, value: func(c Config) string { return maskURL(c.DatabaseURL) },
		Doc: "PostgreSQL URL of passd's database (pgx syntax: `postgres://user:password@host/db?sslmode=verify-full`, or `host=/run/postgresql` for a unix socket). Required. Its password is masked wherever passd prints it."},
	{Env: "PASSD_ADDR", Flag: "addr", value: func(c Config) string { return orEmpty(c.Addr) },
		Doc: "Address the API and the pages listen on. Keep it on the loopback behind a TLS reverse proxy (see PASSD_TRUSTED_PROXIES)."},
	{Env: "PASSD_DEADLINE_DAYS", Flag: "deadline-days", value: func(c Config) string { return strconv.Itoa(c.DeadlineDays) },
		Doc: "Days after the care date until which rights can still release an invoice (1 to 730); the first deadline sweep after it makes the invoice due by the city. `deadline_days` in the settings, once an admin sets it, overrides it for invoices submitted after that."},
	{Env: "PASSD_RELEASE_SCHEDULE", Flag: "release-schedule", value: func(c Config) string { return c.ReleaseSchedule },
		Doc: "Cron schedule (Europe/Paris) of the release job, which decides the invoices of the files whose rights changed since its last run."},
	{Env: "PASSD_DEADLINE_SCHEDULE", Flag: "deadline-schedule", value: func(c Config) string { return c.DeadlineSchedule },
		Doc: "Cron schedule of the deadline job, which decides the pending invoices whose deadline day is over."},
	{Env: "PASSD_CLAIM_BATCH_SCHEDULE", Flag: "claim-batch-schedule", value: func(c Config) string { return c.ClaimBatchSchedule },
		Doc: "Cron schedule of the claim-batch job, which sends every queued claim, and the cancellations still to send, to the CPAM in one batch."},
	{Env: "PASSD_PAYOUT_BATCH_SCHEDULE", Flag: "payout-batch-schedule", value: func(c Config) string { return c.PayoutBatchSchedule },
		Doc: "Cron schedule of the payout-batch job, which drafts a payout batch for finance to review."},
	{Env: "PASSD_REMINDERS_SCHEDULE", Flag: "reminders-schedule", value: func(c Config) string { return c.RemindersSchedule },
		Doc: "Cron schedule of the reminders job, which records the files to chase (pending invoices due within 14 days, no rights application)."},
	{Flag: "shutdown-timeout", value: func(c Config) string { return c.ShutdownTimeout.String() },
		Doc: "How long in-flight requests and jobs may take to finish on SIGTERM (flag only)."},
	{Env: "PASSD_DATA_KEY_FILE", Flag: "data-key-file", value: func(c Config) string { return orEmpty(c.DataKeyFile) },
		Doc: "File holding the keyring that encrypts patient identity (`passd keygen --out FILE`). Back it up apart from the database: see operations.md."},
	{Env: "PASSD_DATA_KEY", Secret: true, value: func(c Config) string { return maskSecret(c.DataKey) },
		Doc: "The keyring's text itself, instead of a file. Never a flag: it would show in ps."},
	{Env: "PASSD_DB_ROLE", Flag: "db-role", value: func(c Config) string { return orEmpty(c.DBRole) },
		Doc: "Role every session acts as (SET ROLE); empty means `passd_app`, `none` the login user itself. Migrations run as the login user (security.md, the database role)."},
	{Env: "PASSD_TOKEN_TTL", value: func(c Config) string {
		ttl := c.TokenTTL
		if ttl == 0 {
			ttl = auth.DefaultTokenTTL
		}
		if ttl%(24*time.Hour) == 0 {
			return fmt.Sprintf("%dd", ttl/(24*time.Hour))
		}
		return ttl.String()
	},
		Doc: "Lifetime of the tokens passd token create (its `--ttl` overrides it) and seed-demo issue: days (`90d`) or a duration (`12h`, `30m`), from `1m` to `730d`."},
	{Env: "PASSD_AUTH_FAILURE_LIMIT", value: func(c Config) string {
		if c.AuthFailureLimit == 0 {
			return strconv.Itoa(auth.DefaultFailureLimit)
		}
		return strconv.Itoa(c.AuthFailureLimit)
	}, Doc: "Failed authentications allowed per client address (an IPv6 client by its /64) within PASSD_AUTH_FAILURE_WINDOW; past it, that address's failures get 429 until the window is over (valid tokens are still served)."},
	{Env: "PASSD_AUTH_FAILURE_WINDOW", value: func(c Config) string { return durOr(c.AuthFailureWindow, auth.DefaultFailureWindow) },
		Doc: "The window of PASSD_AUTH_FAILURE_LIMIT."},
	{Env: "PASSD_TRUSTED_PROXIES", value: func(c Config) string {
		var s []string
		for _, p := range c.TrustedProxies {
			s = append(s, p.String())
		}
		return orEmpty(strings.Join(s, ","))
	}, Doc: "Comma-separated addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For names the client (for the throttle) and whose X-Forwarded-Proto: https earns HSTS; empty: the client is the TCP peer."},
	{Env: "PASSD_TOKEN_CACHE", Flag: "token-cache", value: func(c Config) string { return c.TokenCache.String() },
		Doc: "How long a token's bearer is remembered after a lookup: a token revoked by another process (`passd token revoke`, another replica) keeps working here that long at most, one revoked through this server stops at once; `0` looks every request's token up."},
	{Env: "PASSD_REQUEST_TIMEOUT", Flag: "request-timeout", value: func(c Config) string { return c.RequestTimeout.String() },
		Doc: "How long a request may take, waiting for the database included (an outage is answered 503 in time); `0` for no limit."},
	{Env: "PASSD_PPROF_ADDR", Flag: "pprof-addr", value: func(c Config) string { return orEmpty(c.PprofAddr) },
		Doc: "Second listener serving Go's profiles (/debug/pprof/), e.g. `127.0.0.1:6060`; empty: off."},
	{Env: "PASSD_METRICS_ADDR", Flag: "metrics-addr", value: func(c Config) string { return orEmpty(c.MetricsAddr) },
		Doc: "Second listener serving /metrics with the money series (`*_euros`) for a scraper on a private network; empty: off."},
	{Env: "PASSD_METRICS_TOKEN", Secret: true, value: func(c Config) string { return maskSecret(c.MetricsToken) },
		Doc: "Bearer token (at least 32 printable characters, `openssl rand -base64 32`) that lets a scrape of the main address's /metrics see the money series too."},
	{Env: "PASSD_REFERRAL_NOTIFY_SCHEDULE", value: func(c Config) string { return c.ReferralNotifySchedule },
		Doc: "Cron schedule of the referral-notify job, which e-mails the convention's referents that a referral, an alert or an answer awaits them (the message names nobody)."},
	{Env: "PASSD_REFERRAL_RETENTION_SCHEDULE", value: func(c Config) string { return c.ReferralRetentionSchedule },
		Doc: "Cron schedule of the referral-retention job, which anonymises the closed referrals and alerts older than the settings' `referral_retention_months`."},
	{Env: "PASSD_SMTP_ADDR", value: func(c Config) string { return orEmpty(c.SMTPAddr) },
		Doc: "The mail relay (`host:port`) through which the referral-notify job sends its e-mails (STARTTLS when offered); empty: none is sent, the outbox keeps them."},
	{Env: "PASSD_SMTP_FROM", value: func(c Config) string { return c.SMTPFrom },
		Doc: "The sender address of those e-mails."},
	{Env: "PASSD_SMTP_USERNAME", value: func(c Config) string { return orEmpty(c.SMTPUsername) },
		Doc: "The relay's user name, with PASSD_SMTP_PASSWORD; empty: no authentication."},
	{Env: "PASSD_SMTP_PASSWORD", Secret: true, value: func(c Config) string { return maskSecret(c.SMTPPassword) },
		Doc: "The relay's password (never a flag: it would show in ps)."},
	{Env: "PASSD_PUBLIC_URL", value: func(c Config) string { return orEmpty(c.PublicURL) },
		Doc: "passd's address as its users reach it (`https://passd.ville.fr`), for the link in the e-mails."},
	{Env: "PASSD_CHROMIUM", value: func(c Config) string { return c.Chromium },
		Doc: "The headless Chromium with which `passd report` prints the programme's yearly report to PDF (Debian's `chromium` package); `passd report --chromium` overrides it."},
}

// maskSecret shows whether a secret is set, never the secret.
func maskSecret(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "******** (set)"
}

// maskURL hides a database URL's password, in its user part or in a
// password= parameter.
func maskURL(s string) string {
	if s == "" {
		return "(empty)"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		// A keyword/value connection string: hide every password=… word.
		words := strings.Fields(s)
		for i, w := range words {
			if strings.HasPrefix(w, "password=") {
				words[i] = "password=********"
			}
		}
		return strings.Join(words, " ")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "********")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "********")
		u.RawQuery = q.Encode()
	}
	return strings.NewReplacer("%2A", "*").Replace(u.String())
}

// name is how a setting is named in a table: its variable, or its
// flag when it has none.
func (s setting) name() string {
	if s.Env != "" {
		return s.Env
	}
	return "--" + s.Flag
}
