package main

import (
	"context"
	"net/netip"
	"passd/db"
	"slices"
	"strings"
	"testing"
	"time"

	"passd/db/dbtest"
	"passd/keyring/keyringtest"
)

// The settings of this parts, read from the environment.
// (t.Setenv: not parallel.)
func TestConfigReadsTheRoleTokenAndThrottleSettings(t *testing.T) {
	t.Setenv("PASSD_DB_ROLE", "passd_web")
	t.Setenv("PASSD_TOKEN_TTL", "30d")
	t.Setenv("PASSD_AUTH_FAILURE_LIMIT", "5")
	t.Setenv("PASSD_AUTH_FAILURE_WINDOW", "5m")
	t.Setenv("PASSD_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::/32")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if cfg.sessionRole() != "passd_web" || cfg.TokenTTL != 30*24*time.Hour || cfg.AuthFailureLimit != 5 ||
		cfg.AuthFailureWindow != 5*time.Minute || !slices.Equal(cfg.TrustedProxies, want) {
		t.Fatalf("config %+v", cfg)
	}
	for role, want := range map[string]string{"": "passd_app", "none": "", "passd_web": "passd_web"} {
		if got := (Config{DBRole: role}).sessionRole(); got != want {
			t.Errorf("DBRole %q: sessions act as %q, want %q", role, got, want)
		}
	}
	for name, value := range map[string]string{
		"PASSD_TOKEN_TTL": "0", "PASSD_AUTH_FAILURE_LIMIT": "0", "PASSD_AUTH_FAILURE_WINDOW": "-1m",
		"PASSD_TRUSTED_PROXIES": "10.0.0.0/33", "PASSD_TOKEN_CACHE": "-1s",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v, want refused naming the variable", name, value, err)
			}
		})
	}
}

// A token's bearer is remembered a second unless PASSD_TOKEN_CACHE says
// otherwise, 0 meaning not at all. (t.Setenv: not parallel.)
func TestConfigReadsTheTokenCache(t *testing.T) {
	for value, want := range map[string]time.Duration{"": time.Second, "0": 0, "250ms": 250 * time.Millisecond} {
		t.Setenv("PASSD_TOKEN_CACHE", value)
		cfg, err := ConfigFromEnv()
		if err != nil || cfg.TokenCache != want {
			t.Errorf("PASSD_TOKEN_CACHE=%q: %v, %v; want %v", value, cfg.TokenCache, err, want)
		}
	}
}

// PASSD_PPROF_ADDR turns the profiles' listener on; it must be an address
// of its own. (t.Setenv: not parallel.)
func TestConfigReadsThePprofAddress(t *testing.T) {
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.PprofAddr != "" {
		t.Fatalf("by default: PprofAddr %q, %v; want off", cfg.PprofAddr, err)
	}
	t.Setenv("PASSD_PPROF_ADDR", "127.0.0.1:6060")
	t.Setenv("DATABASE_URL", "postgres://localhost/passd")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.PprofAddr != "127.0.0.1:6060" || cfg.Validate() != nil {
		t.Fatalf("PprofAddr %q, %v, %v", cfg.PprofAddr, err, cfg.Validate())
	}
	for _, addr := range []string{"6060", cfg.Addr} {
		bad := cfg
		bad.PprofAddr = addr
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "pprof") {
			t.Errorf("PprofAddr %q: %v, want refused", addr, err)
		}
	}
}

// The running application's sessions act as passd_app, or as the login
// user when told "none".
// TestARoleThatBypassesRowSecurityIsRefusedWithSeveralConventions: acting
// as the login user (here the cluster's superuser) would see every
// convention; passd refuses to start so once there are two.
func TestARoleThatBypassesRowSecurityIsRefusedWithSeveralConventions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	cfg := func(role string) Config {
		return Config{DatabaseURL: url, Addr: "127.0.0.1:0", DeadlineDays: 90, DBRole: role,
			ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
			PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", DataKey: keyringtest.Text(t)}
	}
	a, err := newApp(ctx, cfg("none"), testLogger(t), time.Now)
	if err != nil {
		t.Fatalf("one convention, as the superuser: %v; want a warning only", err)
	}
	a.close()
	if _, err := createConvention(ctx, db.NewPool(dbtest.Owner(t, url)), "Ville B"); err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(ctx, cfg("none"), testLogger(t), time.Now); err == nil || !strings.Contains(err.Error(), "bypasses row-level security") {
		t.Fatalf("two conventions, as the superuser: %v; want a refusal", err)
	}
	a, err = newApp(ctx, cfg(""), testLogger(t), time.Now)
	if err != nil {
		t.Fatalf("two conventions, as passd_app: %v", err)
	}
	a.close()
}

func TestTheApplicationActsAsItsRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	// "none": the login user, whatever the server's superuser is called.
	for role, want := range map[string]string{"": "passd_app", "none": ""} {
		a, err := newApp(ctx, Config{DatabaseURL: url, Addr: "127.0.0.1:0", DeadlineDays: 90, DBRole: role,
			ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
			PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", DataKey: keyringtest.Text(t)}, testLogger(t), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		var current, session string
		err = a.pool.QueryRow(ctx, `SELECT current_user, session_user`).Scan(&current, &session)
		a.close()
		if err != nil {
			t.Fatal(err)
		}
		if role == "none" {
			want = session
		}
		if current != want {
			t.Errorf("DBRole %q: sessions act as %s, want %s", role, current, want)
		}
	}
}

// PASSD_METRICS_ADDR and PASSD_METRICS_TOKEN are read; the address must be
// one of its own and the token long enough. (t.Setenv: not parallel.)
func TestConfigReadsTheMetricsAddressAndToken(t *testing.T) {
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.MetricsAddr != "" || cfg.MetricsToken != "" {
		t.Fatalf("by default: MetricsAddr %q, MetricsToken %q, %v; want neither", cfg.MetricsAddr, cfg.MetricsToken, err)
	}
	t.Setenv("PASSD_METRICS_ADDR", "127.0.0.1:9090")
	t.Setenv("PASSD_METRICS_TOKEN", strings.Repeat("k", minMetricsTokenLength))
	t.Setenv("DATABASE_URL", "postgres://localhost/passd")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.MetricsAddr != "127.0.0.1:9090" || cfg.MetricsToken != strings.Repeat("k", 32) || cfg.Validate() != nil {
		t.Fatalf("MetricsAddr %q, MetricsToken %q, %v, %v", cfg.MetricsAddr, cfg.MetricsToken, err, cfg.Validate())
	}
	for _, addr := range []string{"9090", cfg.Addr} {
		bad := cfg
		bad.MetricsAddr = addr
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "metrics address") {
			t.Errorf("MetricsAddr %q: %v, want refused", addr, err)
		}
	}
	for _, token := range []string{"short", strings.Repeat("k", 31), strings.Repeat("k", 31) + " ", strings.Repeat("é", 20)} {
		bad := cfg
		bad.MetricsToken = token
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "PASSD_METRICS_TOKEN") {
			t.Errorf("MetricsToken %q: %v, want refused", token, err)
		}
	}
}

// TestTheSMTPSettingsAreChecked: a relay is host:port, the sender an
// address, and a user name comes with its password.
func TestTheSMTPSettingsAreChecked(t *testing.T) {
	base := Config{DatabaseURL: "postgres://x", Addr: "127.0.0.1:8080", DeadlineDays: 90, SMTPAddr: "smtp.ville.example:587", SMTPFrom: "passd@ville.example"}
	if err := base.Validate(); err != nil {
		t.Fatalf("good SMTP settings: %v", err)
	}
	for name, edit := range map[string]func(*Config){
		"no port":                    func(c *Config) { c.SMTPAddr = "smtp.ville.example" },
		"a sender that is a name":    func(c *Config) { c.SMTPFrom = "passd" },
		"a user name, no password":   func(c *Config) { c.SMTPUsername = "passd" },
		"a password, no user name":   func(c *Config) { c.SMTPPassword = "secret" },
		"a sender with display name": func(c *Config) { c.SMTPFrom = "Passd <passd@ville.example>" },
	} {
		c := base
		edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "PASSD_SMTP") {
			t.Errorf("%s: %v, want an error naming PASSD_SMTP_…", name, err)
		}
	}
}
