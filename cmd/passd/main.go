// Command passd runs the money side of a municipal PASS ambulatoire: it
// holds providers' invoices until the patient's rights are decided, then
// settles each exactly once between the CPAM and the city.
//
//	passd serve                     serve the API and run the jobs
//	passd migrate                   apply database migrations
//	passd token create --role R [--provider-id ID] --name N [--ttl 90d]
//	passd token revoke (--id ID | --token T | --token - | --user NAME)
//	passd token list [--user NAME]
//	passd seed-demo [--tokens-file F]
//	passd run-job NAME              run one job now and print its run
//	passd check                     verify the money invariants over the database
//	passd keygen [--out FILE]       make the keyring that encrypts patient identity
//	passd rotate-key [--new-key]    re-encrypt patient identity under the current key
//	passd audit verify              verify the audit log's hash chain
//	passd config check              validate the configuration, print its settings
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/Paris must exist even on a machine without zoneinfo.
)

const usage = `usage: passd <command> [flags]

commands:
  serve                                              serve the API and run the jobs
  migrate                                            apply database migrations
  token create --role ROLE [--provider-id ID] --name NAME [--ttl 90d]
                                                     create a user and print a new token
  token revoke (--id ID | --token TOKEN | --token - | --user NAME)
                                                     revoke a token, or every token of a user
  token list [--user NAME]                           list tokens (never the tokens themselves)
  seed-demo [--tokens-file FILE]                     load demo data, print demo tokens
  run-job NAME                                       run a job now (release, deadline, claim-batch,
                                                     payout-batch, reminders)
  check                                              verify the money invariants; exit 1 if one is broken
  keygen [--out FILE | --data-key]                   make a keyring (or one data key) for patient identity
  rotate-key [--new-key]                             re-encrypt patient identity under the current key;
                                                     --new-key first adds a key to PASSD_DATA_KEY_FILE
  audit verify                                       verify the audit log's hash chain; exit 1 if broken
  report [--year YYYY] --out FILE.pdf                the programme's yearly report (/bilan) as an A4 PDF,
                                                     printed by headless Chromium (PASSD_CHROMIUM)
  convention create --name NAME                      add a convention (a city or CCAS) to the deployment,
                                                     with a copy of the oldest one's tariff
  convention list                                    list the conventions: number and name
  config check [--env-file FILE]                     validate the configuration as start-up does; print
                                                     each setting, its source, secrets masked
  version                                            print passd's version (also --version)

Configuration comes from the environment (DATABASE_URL, PASSD_ADDR,
PASSD_DEADLINE_DAYS, PASSD_RELEASE_SCHEDULE, PASSD_DEADLINE_SCHEDULE,
PASSD_CLAIM_BATCH_SCHEDULE, PASSD_PAYOUT_BATCH_SCHEDULE, PASSD_REMINDERS_SCHEDULE,
PASSD_DB_ROLE, PASSD_TOKEN_TTL, PASSD_AUTH_FAILURE_LIMIT, PASSD_AUTH_FAILURE_WINDOW,
PASSD_TRUSTED_PROXIES, PASSD_REQUEST_TIMEOUT, PASSD_PPROF_ADDR);
flags override it: passd <command> -h lists them. On a deployment of several
conventions, the commands on data take --convention (number or name). Patient identity is encrypted with
the keyring in PASSD_DATA_KEY_FILE (a file) or PASSD_DATA_KEY (its text): serve,
seed-demo, run-job and rotate-key refuse to start without one.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], logger); err != nil {
		fmt.Fprintln(os.Stderr, "passd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logger *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("no command given")
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, cfg, args[1:], logger)
	case "migrate":
		return migrateCommand(ctx, cfg, args[1:], logger)
	case "token":
		return tokenCommand(ctx, cfg, args[1:])
	case "seed-demo":
		return seedCommand(ctx, cfg, args[1:], logger)
	case "run-job":
		return runJobCommand(ctx, cfg, args[1:], logger)
	case "check":
		return checkCommand(ctx, cfg, args[1:], os.Stdout)
	case "keygen":
		return keygenCommand(args[1:], os.Stdout)
	case "rotate-key":
		return rotateKeyCommand(ctx, cfg, args[1:], logger, os.Stdout)
	case "audit":
		return auditCommand(ctx, cfg, args[1:], os.Stdout)
	case "report":
		return reportCommand(ctx, cfg, args[1:], os.Stdout)
	case "convention":
		return conventionCommand(ctx, cfg, args[1:], os.Stdout)
	case "config":
		return configCommand(args[1:], os.Stdout)
	case "version", "--version":
		fmt.Println("passd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
