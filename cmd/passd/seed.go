package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
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
		{patient: claims.NewPatient{LastName: "Diallo", FirstName: "Aminata", BirthDate: calendar.NewDate(1990, 4, 12), NIR: "290049935012309"}},
		{patient: claims.NewPatient{LastName: "Nguyen", FirstName: "Van", BirthDate: calendar.NewDate(1987, 5, 3), NIR: "187059935045683"},
			request: &claims.RightsRequest{Regime: "puma_css", FiledOn: today.AddDays(-20)}},
		{patient: claims.NewPatient{LastName: "Popescu", FirstName: "Ioana", BirthDate: calendar.NewDate(1992, 7, 21), NIR: "292079912378989"},
			request: &claims.RightsRequest{Regime: "ame", FiledOn: today.AddDays(-30)},
			decision: &claims.RightsDecision{Decision: claims.RightsOpened, Regime: "ame", EffectiveFrom: today.AddDays(-120),
				EffectiveTo: today.AddDays(-30).AddYears(1), Reference: "AME-93-2026-0042"}},
		{patient: claims.NewPatient{LastName: "Benali", FirstName: "Karim", BirthDate: calendar.NewDate(1985, 3, 13), NIR: "185031305501228"},
			request:  &claims.RightsRequest{Regime: "puma", FiledOn: today.AddDays(-40)},
			decision: &claims.RightsDecision{Decision: claims.RightsRefused, Reason: "résidence stable non établie"}},
	}
}

// demoUsers are created in role order; the provider user acts for the
// health centre.
var demoUserNames = map[auth.Role]string{
	auth.Provider: "demo-provider", auth.Coordinator: "demo-coordinator", auth.CPAMReferent: "demo-cpam-referent",
	auth.Finance: "demo-finance", auth.Admin: "demo-admin",
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
	d, err := a.seedDemo(ctx, *tokensFile)
	if err != nil {
		return err
	}
	d.print(cfg.Addr)
	return nil
}

// demo is what seeding leaves for the person trying passd.
type demo struct {
	principals  map[auth.Role]auth.Principal
	tokens      map[auth.Role]string
	fileNumbers []string
}

func (a *app) seedDemo(ctx context.Context, tokensFile string) (demo, error) {
	seeder := audit.Actor{Name: "seed-demo"}
	var providerIDs []int64
	for _, p := range demoProviders {
		got, err := a.billing.CreateProvider(ctx, seeder, p)
		if id, ok := existingID(err); ok {
			got.ID = id
		} else if err != nil {
			return demo{}, fmt.Errorf("seed provider %s: %w", p.Name, err)
		}
		providerIDs = append(providerIDs, got.ID)
	}

	saved := readTokens(tokensFile)
	principals := map[auth.Role]auth.Principal{}
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		var providerID int64
		if role == auth.Provider {
			providerID = providerIDs[0]
		}
		token := saved[role]
		p, err := a.users.Authenticate(ctx, token)
		if err != nil || p.Name != demoUserNames[role] {
			if token, err = a.users.CreateUser(ctx, demoUserNames[role], role, providerID); err != nil {
				return demo{}, fmt.Errorf("seed user %s: %w", demoUserNames[role], err)
			}
			if p, err = a.users.Authenticate(ctx, token); err != nil {
				return demo{}, fmt.Errorf("seed user %s: %w", demoUserNames[role], err)
			}
		}
		principals[role], tokens[role] = p, token
	}
	if err := writeTokens(tokensFile, tokens); err != nil {
		return demo{}, err
	}

	today := calendar.Today(time.Now())
	var fileNumbers []string
	for _, dp := range demoPatients(today) {
		p, err := a.claims.CreatePatient(ctx, principals[auth.Coordinator].Actor(), dp.patient)
		if id, ok := existingID(err); ok {
			if p, _, err = a.claims.Patient(ctx, id); err != nil {
				return demo{}, err
			}
		} else if err != nil {
			return demo{}, fmt.Errorf("seed patient: %w", err)
		}
		fileNumbers = append(fileNumbers, p.FileNumber)
		if p.Rights.Status != claims.RightsNone {
			continue // seeded before
		}
		if dp.request != nil {
			if _, err := a.claims.RequestRights(ctx, principals[auth.Coordinator].Actor(), p.ID, *dp.request); err != nil {
				return demo{}, fmt.Errorf("seed rights request: %w", err)
			}
		}
		if dp.decision != nil {
			if _, err := a.claims.DecideRights(ctx, principals[auth.CPAMReferent].Actor(), p.ID, *dp.decision); err != nil {
				return demo{}, fmt.Errorf("seed rights decision: %w", err)
			}
		}
	}

	provider := principals[auth.Provider]
	consultation := []billing.Line{{Code: "G", Label: "Consultation de médecine générale", Quantity: 1, UnitPrice: decimal.RequireFromString("30.00")}}
	for i, fileNumber := range fileNumbers {
		in := billing.NewInvoice{PatientFileNumber: fileNumber, ExternalRef: "DEMO-" + strconv.Itoa(i+1),
			CareDate: today.AddDays(-7 * (i + 1)), Lines: consultation}
		_, err := a.billing.CreateInvoice(ctx, provider.Actor(), provider.ProviderID, in, nil,
			func(billing.Invoice) (billing.Response, error) { return billing.Response{}, nil })
		if err != nil && !fault.Is(err, fault.Conflict) {
			return demo{}, fmt.Errorf("seed invoice: %w", err)
		}
	}
	return demo{principals: principals, tokens: tokens, fileNumbers: fileNumbers}, nil
}

func existingID(err error) (int64, bool) {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Code == fault.Conflict && fe.Details["existing_id"] != "" {
		id, perr := strconv.ParseInt(fe.Details["existing_id"], 10, 64)
		return id, perr == nil
	}
	return 0, false
}

// readTokens reads "role token" lines; a missing file is no tokens.
func readTokens(path string) map[auth.Role]string {
	out := map[auth.Role]string{}
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
		role, token, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if ok {
			out[auth.Role(role)] = strings.TrimSpace(token)
		}
	}
	return out
}

func writeTokens(path string, tokens map[auth.Role]string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("seed: tokens file: %w", err)
	}
	var b strings.Builder
	for _, role := range auth.Roles {
		fmt.Fprintf(&b, "%s %s\n", role, tokens[role])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("seed: tokens file: %w", err)
	}
	return nil
}

func (d demo) print(addr string) {
	base := "http://" + addr
	provider := d.tokens[auth.Provider]
	fmt.Println()
	fmt.Println("passd demo data is loaded. One token per role (keep them secret):")
	for _, role := range auth.Roles {
		fmt.Printf("  %-14s %-18s %s\n", role, d.principals[role].Name, d.tokens[role])
	}
	fmt.Println()
	fmt.Println("Try, once the server below is up:")
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' %s/api/v1/invoices\n", provider, base)
	fmt.Printf("  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n", provider)
	fmt.Printf("    -d '{\"patient_file_number\":\"%s\",\"external_ref\":\"F-'$(date +%%s)'\",\"care_date\":\"%s\",\"lines\":[{\"code\":\"G\",\"label\":\"Consultation\",\"quantity\":1,\"unit_price\":\"30.00\"}]}' \\\n",
		d.fileNumbers[0], calendar.Today(time.Now()).AddDays(-1))
	fmt.Printf("    %s/api/v1/invoices\n", base)
	fmt.Println()
}
