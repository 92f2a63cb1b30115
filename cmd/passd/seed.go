package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"passd/db"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/fault"
	"passd/rights"
)

// Demo data: one provider of each kind, four patient files at each step of
// their rights, and a few invoices. Every item has a natural key (RPPS or
// FINESS, NIR, external_ref, user name), so seeding twice adds nothing.
var demoProviders = []billing.Provider{
	{Kind: billing.KindHealthCentre, Name: "Centre municipal de santé Léo-Lagrange", FINESS: "930000013", IBAN: "FR8630004000030000012345601", BIC: "BNPAFRPPXXX"},
	{Kind: billing.KindGP, Name: "Dr Camille Martin", RPPS: "10003456789", IBAN: "FR1830006000010000098765432", BIC: "AGRIFRPP"},
	{Kind: billing.KindNurse, Name: "Cabinet infirmier des Lilas", RPPS: "10004567890", IBAN: "FR5710278000010002045678012", BIC: "CMCIFR2A"},
	{Kind: billing.KindPharmacy, Name: "Pharmacie de la Mairie", FINESS: "930012345", IBAN: "FR5320041010050500012345623", BIC: "PSSTFRPPPAR"},
	{Kind: billing.KindRadiology, Name: "Cabinet de radiologie de la Croix-de-Chavaux", FINESS: "930023456", IBAN: "FR0630003008000003722222104", BIC: "SOGEFRPP"},
	{Kind: billing.KindLaboratory, Name: "Laboratoire d'analyses Bio-Est", FINESS: "930034567", IBAN: "FR8818206002006501234567890", BIC: "AGRIFRPP882"},
}

type demoPatient struct {
	patient  claims.NewPatient
	request  *claims.RightsRequest
	decision *claims.RightsDecision
}

func demoPatients(today calendar.Date) []demoPatient {
	return []demoPatient{
		{patient: claims.NewPatient{LastName: "Diallo", FirstName: "Aminata", BirthDate: calendar.NewDate(1990, 4, 12), NIR: "290049935012309", CommuneCode: "93048"}},
		{patient: claims.NewPatient{LastName: "Nguyen", FirstName: "Van", BirthDate: calendar.NewDate(1987, 5, 3), NIR: "187059935045683", CommuneCode: "93066"},
			request: &claims.RightsRequest{Regime: "puma_css", FiledOn: today.AddDays(-20)}},
		{patient: claims.NewPatient{LastName: "Popescu", FirstName: "Ioana", BirthDate: calendar.NewDate(1992, 7, 21), NIR: "292079912378989", CommuneCode: "93048"},
			// Filed 60 days ago; covered from 30 days before the filing (the
			// AME look-back) for a year from the filing.
			request: &claims.RightsRequest{Regime: "ame", FiledOn: today.AddDays(-60)},
			decision: &claims.RightsDecision{Decision: rights.Opened, Regime: "ame", EffectiveFrom: today.AddDays(-90),
				EffectiveTo: today.AddDays(-60).AddYears(1).AddDays(-1), Reference: "AME-93-2026-0042", Caisse: "931"}},
		{patient: claims.NewPatient{LastName: "Benali", FirstName: "Karim", BirthDate: calendar.NewDate(1985, 3, 13), NIR: "185031305501228"},
			request:  &claims.RightsRequest{Regime: "puma", FiledOn: today.AddDays(-40)},
			decision: &claims.RightsDecision{Decision: rights.Refused, Reason: "résidence stable non établie"}},
	}
}

// demoUser is a user the demo creates; the provider user acts for the
// health centre. Two finance users, because a payout batch needs a second
// person to approve it.
type demoUser struct {
	name string
	role auth.Role
}

var demoUsers = []demoUser{
	{"demo-provider", auth.Provider}, {"demo-coordinator", auth.Coordinator}, {"demo-cpam-referent", auth.CPAMReferent},
	{"demo-finance", auth.Finance}, {"demo-finance-approver", auth.Finance}, {"demo-admin", auth.Admin}, {"demo-observer", auth.Observer},
	{"demo-social-worker", auth.SocialWorker}, {"demo-doctor", auth.Doctor}, {"demo-platform-admin", auth.PlatformAdmin},
}

// demoUserOf is the first demo user of a role.
func demoUserOf(role auth.Role) string {
	for _, u := range demoUsers {
		if u.role == role {
			return u.name
		}
	}
	return ""
}

func seedCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("seed-demo", flag.ContinueOnError)
	cfg.Flags(fs)
	tokensFile := fs.String("tokens-file", "", "file keeping the demo tokens between runs (created 0600)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.close()
	// The demo is the first convention's.
	pools, err := conventionPools(ctx, a.pool, "")
	if err != nil {
		return err
	}
	d, err := a.seedDemo(db.WithTenant(ctx, pools[0].Bound()), *tokensFile)
	if err != nil {
		return err
	}
	d.print(cfg.Addr)
	return nil
}

// demo is what seeding leaves for the person trying passd.
type demo struct {
	principals map[string]auth.Principal // by user name
	tokens     map[string]string         // by user name
	files      []claims.Patient          // the demo patient files, with the birth dates their invoices name
}

func (a *app) seedDemo(ctx context.Context, tokensFile string) (demo, error) {
	seeder := audit.Actor{Name: "seed-demo"}
	providerIDs, err := a.seedProviders(ctx, seeder)
	if err != nil {
		return demo{}, err
	}
	orgs, err := a.seedConvention(ctx, seeder)
	if err != nil {
		return demo{}, err
	}
	principals, tokens, err := a.seedUsers(ctx, tokensFile, providerIDs[0], orgs)
	if err != nil {
		return demo{}, err
	}
	if err := a.seedCases(ctx, principals[demoUserOf(auth.SocialWorker)], principals[demoUserOf(auth.Doctor)]); err != nil {
		return demo{}, err
	}
	today := calendar.Today(time.Now())
	files, err := a.seedPatients(ctx, principals, today)
	if err != nil {
		return demo{}, err
	}
	if err := a.seedSettings(ctx, seeder); err != nil {
		return demo{}, err
	}
	if err := a.seedInvoices(ctx, principals[demoUserOf(auth.Provider)], files, today); err != nil {
		return demo{}, err
	}
	return demo{principals: principals, tokens: tokens, files: files}, nil
}

// seedProviders creates the demo providers, or finds them, and returns
// their ids in the order of demoProviders.
func (a *app) seedProviders(ctx context.Context, seeder audit.Actor) ([]int64, error) {
	var providerIDs []int64
	for _, p := range demoProviders {
		got, err := a.billing.CreateProvider(ctx, seeder, p)
		if id, ok := existingID(err); ok {
			got.ID = id
		} else if err != nil {
			return nil, fmt.Errorf("seed provider %s: %w", p.Name, err)
		}
		providerIDs = append(providerIDs, got.ID)
	}
	return providerIDs, nil
}

// seedUsers authenticates each demo user with its token saved in
// tokensFile, or creates the user anew when it has none that works, and
// saves the tokens. The provider user acts for providerID.
func (a *app) seedUsers(ctx context.Context, tokensFile string, providerID int64, orgs map[auth.Role]int64) (map[string]auth.Principal, map[string]string, error) {
	saved := readTokens(tokensFile)
	principals := map[string]auth.Principal{}
	tokens := map[string]string{}
	for _, u := range demoUsers {
		var forProvider int64
		if u.role == auth.Provider {
			forProvider = providerID
		}
		if u.role.HasOrganisation() {
			forProvider = orgs[u.role] // CreateUser's organisation for these roles
		}
		token := saved[u.name]
		p, err := a.users.Authenticate(ctx, token)
		if err != nil || p.Name != u.name {
			if token, err = a.users.CreateUser(ctx, u.name, u.role, forProvider); err != nil {
				return nil, nil, fmt.Errorf("seed user %s: %w", u.name, err)
			}
			if p, err = a.users.Authenticate(ctx, token); err != nil {
				return nil, nil, fmt.Errorf("seed user %s: %w", u.name, err)
			}
		}
		principals[u.name], tokens[u.name] = p, token
	}
	if err := writeTokens(tokensFile, tokens); err != nil {
		return nil, nil, err
	}
	return principals, tokens, nil
}

// seedPatients opens the demo patient files, or finds them, and takes
// each new one to its step of the rights. It returns the files.
func (a *app) seedPatients(ctx context.Context, principals map[string]auth.Principal, today calendar.Date) ([]claims.Patient, error) {
	coordinator := principals[demoUserOf(auth.Coordinator)].Actor()
	referent := principals[demoUserOf(auth.CPAMReferent)].Actor()
	var files []claims.Patient
	for _, dp := range demoPatients(today) {
		p, err := a.claims.CreatePatient(ctx, coordinator, dp.patient)
		if id, ok := existingID(err); ok {
			if p, _, err = a.claims.Patient(ctx, coordinator, id); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fmt.Errorf("seed patient: %w", err)
		}
		files = append(files, p)
		if p.Rights.Status != rights.None {
			continue // seeded before
		}
		if dp.request != nil {
			if _, err := a.claims.RequestRights(ctx, coordinator, p.ID, *dp.request); err != nil {
				return nil, fmt.Errorf("seed rights request: %w", err)
			}
		}
		if dp.decision != nil {
			if _, err := a.claims.DecideRights(ctx, referent, p.ID, *dp.decision); err != nil {
				return nil, fmt.Errorf("seed rights decision: %w", err)
			}
		}
	}
	return files, nil
}

// seedSettings sets the régie's account, unless an admin already set one.
func (a *app) seedSettings(ctx context.Context, seeder audit.Actor) error {
	st, err := a.billing.Settings(ctx)
	if err != nil {
		return err
	}
	if st.Complete() {
		return nil
	}
	st.RegieName, st.RegieIBAN, st.RegieBIC = "Régie PASS ambulatoire de la Ville", "FR7630001007941234567890185", "BDFEFRPPCCT"
	if _, err := a.billing.PutSettings(ctx, seeder, st); err != nil {
		return fmt.Errorf("seed settings: %w", err)
	}
	return nil
}

// seedInvoices submits, as the provider user, one consultation for each
// patient file (named by its number and birth date, as a provider copies
// them from the PASS attestation), a week further back for each; one
// submitted before is left as it is.
func (a *app) seedInvoices(ctx context.Context, provider auth.Principal, files []claims.Patient, today calendar.Date) error {
	consultation := []billing.Line{{Code: "G", Label: "Consultation de médecine générale", Quantity: 1, UnitPrice: decimal.RequireFromString("30.00")}}
	for i, file := range files {
		in := billing.NewInvoice{PatientFileNumber: file.FileNumber, BirthDate: file.BirthDate, ExternalRef: "DEMO-" + strconv.Itoa(i+1),
			CareDate: today.AddDays(-7 * (i + 1)), Lines: consultation}
		_, err := a.billing.CreateInvoice(ctx, provider.Actor(), provider.ProviderID, in)
		if err != nil && !fault.Is(err, fault.Conflict) {
			return fmt.Errorf("seed invoice: %w", err)
		}
	}
	return nil
}

func existingID(err error) (int64, bool) {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Code == fault.Conflict && fe.Details["existing_id"] != "" {
		id, perr := strconv.ParseInt(fe.Details["existing_id"], 10, 64)
		return id, perr == nil
	}
	return 0, false
}

// readTokens reads "user token" lines; a missing file is no tokens. A
// file written before there were two finance users names roles: those
// lines stand for the role's first demo user.
func readTokens(path string) map[string]string {
	out := map[string]string{}
	if path == "" {
		return out
	}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, token, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		if role, err := auth.ParseRole(name); err == nil {
			name = demoUserOf(role)
		}
		out[name] = strings.TrimSpace(token)
	}
	return out
}

func writeTokens(path string, tokens map[string]string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("seed: tokens file: %w", err)
	}
	var b strings.Builder
	for _, u := range demoUsers {
		fmt.Fprintf(&b, "%s %s\n", u.name, tokens[u.name])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("seed: tokens file: %w", err)
	}
	return nil
}

func (d demo) print(addr string) {
	base := "http://" + addr
	provider := d.tokens[demoUserOf(auth.Provider)]
	fmt.Println()
	fmt.Println("passd demo data is loaded. One token per demo user (keep them secret):")
	for _, u := range demoUsers {
		fmt.Printf("  %-14s %-22s %s\n", u.role, u.name, d.tokens[u.name])
	}
	fmt.Println()
	fmt.Printf("In a browser, once the server below is up: open %s/ and paste one of these tokens\n", base)
	fmt.Println("into \"Jeton d'accès\" (each role lands on its own pages, in French).")
	fmt.Println()
	fmt.Println("Or with curl:")
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' %s/api/v1/invoices\n", provider, base)
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n", provider)
	fmt.Printf("    -d '{\"patient_file_number\":\"%s\",\"birth_date\":\"%s\",\"external_ref\":\"F-'$(date +%%s)'\",\"care_date\":\"%s\",\"lines\":[{\"code\":\"G\",\"label\":\"Consultation\",\"quantity\":1,\"unit_price\":\"30.00\"}]}' \\\n",
		d.files[0].FileNumber, d.files[0].BirthDate, calendar.Today(time.Now()).AddDays(-1))
	fmt.Printf("    %s/api/v1/invoices\n", base)
	fmt.Println()
	fmt.Println("Pay what the city owes. The payout-batch job drafts a batch at start-up and every Monday (or POST")
	fmt.Println("/payout-batches drafts one); demo-finance submits it, demo-finance-approver approves it:")
	fin, approver := d.tokens["demo-finance"], d.tokens["demo-finance-approver"]
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' %s/api/v1/payout-batches\n", fin, base)
	fmt.Printf("  curl -s -X POST -H 'Authorization: Bearer %s' %s/api/v1/payout-batches/ID/submit\n", fin, base)
	fmt.Printf("  curl -s -X POST -H 'Authorization: Bearer %s' %s/api/v1/payout-batches/ID/approve\n", approver, base)
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' %s/api/v1/payout-batches/ID/sepa.xml\n", fin, base)
	fmt.Println()
}
