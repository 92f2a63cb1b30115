package main

// The accessibility walk of issue 5: axe-core on every page the web
// package serves, at a desktop and at a phone-sized viewport. The list of
// pages comes from web's own Echo routes, so that a page added later is
// walked too, or fails this test until it is given a sample below.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/db/dbtest"
	"passd/web"
)

// e2ePageVisit is one page the browser opens: as role ("" for nobody
// signed in), at path, answering status and ending on landing (path, when
// empty).
type e2ePageVisit struct {
	Route   string `json:"route"`
	Label   string `json:"label"`
	Role    string `json:"role"`
	Path    string `json:"path"`
	Status  int    `json:"status"`
	Landing string `json:"landing,omitempty"`
}

// e2eRoleByPrefix says which role opens a page, from the first segment of
// its path (each role's pages live under their own prefix).
var e2eRoleByPrefix = map[string]auth.Role{
	"/effecteur/":   auth.Provider,
	"/coordination": auth.Coordinator,
	"/cpam/":        auth.CPAMReferent,
	"/finances":     auth.Finance,
	"/admin":        auth.Admin,
	"/compte":       auth.Coordinator, // every role has one; the coordinator's is walked
	"/bilan":        auth.Observer,
	"/ccas":         auth.SocialWorker,
	"/sos":          auth.Doctor,
	"/plateforme":   auth.PlatformAdmin,
}

// e2eDownloads are GET routes of web/ that answer a file, not a page: axe
// has nothing to check there (their content is tested elsewhere).
var e2eDownloads = map[string]bool{
	"/static/*":                         true,
	"/effecteur/releve.csv":             true,
	"/effecteur/factures.csv":           true,
	"/admin/effecteurs.csv":             true,
	"/admin/utilisateurs.csv":           true,
	"/coordination/dossiers.csv":        true,
	"/coordination/factures.csv":        true,
	"/cpam/dossiers.csv":                true,
	"/cpam/lots.csv":                    true,
	"/cpam/demandes.csv":                true,
	"/admin/taches.csv":                 true,
	"/finances/paiements.csv":           true,
	"/finances/lots.csv":                true,
	"/finances/titres-de-recettes.csv":  true,
	"/finances/remboursements-cpam.csv": true,
	"/finances/lots/:id/sepa.xml":       true,
	"/cpam/lots/:id/export/:format":     true,
}

// e2ePageRoutes lists web's GET routes, as registered, sorted.
func e2ePageRoutes() []string {
	e := echo.New()
	web.New(web.Config{}).Routes(e) // only the routes are read: nothing is served
	var paths []string
	for _, r := range e.Routes() {
		if r.Method == http.MethodGet {
			paths = append(paths, r.Path)
		}
	}
	sort.Strings(paths)
	return paths
}

// e2ePagesFor turns every GET route of web/ into visits: its own role by
// prefix, its ids from samples (route → path). A route that is neither a
// download nor given a way to be opened is a problem, saying what to add.
func e2ePagesFor(routes []string, samples map[string]string, special map[string]e2ePageVisit) (visits []e2ePageVisit, problems []string) {
	for _, route := range routes {
		if e2eDownloads[route] {
			continue
		}
		if v, ok := special[route]; ok {
			v.Route = route
			visits = append(visits, v)
			continue
		}
		var role auth.Role
		for prefix, r := range e2eRoleByPrefix {
			if strings.HasPrefix(route, prefix) {
				role = r
			}
		}
		if role == "" {
			problems = append(problems, fmt.Sprintf("the page route GET %s has no role: add its prefix to e2eRoleByPrefix (or the route to e2eDownloads if it answers a file)", route))
			continue
		}
		path := route
		if strings.Contains(route, ":") || strings.Contains(route, "*") {
			sample, ok := samples[route]
			if !ok {
				problems = append(problems, fmt.Sprintf("the page route GET %s has no sample path: add one, with an id from the seeded data, to the samples of TestE2EEveryPage", route))
				continue
			}
			path = sample
		}
		visits = append(visits, e2ePageVisit{Route: route, Label: e2eLabel(route), Role: string(role), Path: path, Status: http.StatusOK})
	}
	return visits, problems
}

// e2eWalkPerPage is what the walk's guard allows a page: two viewports,
// a screenshot and axe at each, on a machine busy with other tests.
const e2eWalkPerPage = 15 * time.Second

// e2eLabel turns a route into a screenshot name.
func e2eLabel(route string) string {
	label := strings.NewReplacer("/", "-", ":", "", "*", "", ".", "-").Replace(strings.Trim(route, "/"))
	if label == "" {
		return "racine"
	}
	return label
}

// TestE2EPagesAreAllWalked checks the walk's bookkeeping without a
// browser: the downloads it leaves aside are still routes of web/, and a
// page route nobody gave a sample or a role is reported, not left out.
func TestE2EPagesAreAllWalked(t *testing.T) {
	routes := e2ePageRoutes()
	for download := range e2eDownloads {
		if !slices.Contains(routes, download) {
			t.Errorf("e2eDownloads names GET %s, which web/ no longer serves", download)
		}
	}
	visits, problems := e2ePagesFor([]string{"/admin/nouvelle/:id", "/ailleurs", "/admin", "/finances/lots.csv"}, nil, nil)
	if len(problems) != 2 || !strings.Contains(problems[0], "/admin/nouvelle/:id has no sample") || !strings.Contains(problems[1], "/ailleurs has no role") {
		t.Errorf("a route without a sample and one without a role gave the problems %q", problems)
	}
	if len(visits) != 1 || visits[0].Path != "/admin" || visits[0].Role != string(auth.Admin) {
		t.Errorf("the visits are %+v, want /admin as the admin only (the CSV is a download)", visits)
	}
}

// TestE2EEveryPage signs in as each role and opens every page of web/,
// plus the error states worth seeing (a form sent back with its errors,
// the 403 and 404 pages, a refused sign-in), at 1280×800 and at 390×844 (where no page may scroll sideways),
// with axe-core on each: no violation of a WCAG 2.1 A or AA rule may remain.
func TestE2EEveryPage(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindGP)
	const providerName = "Dr Claire Martin"
	tokens := map[auth.Role]string{
		auth.Provider:      seed.user(providerName, auth.Provider, provider),
		auth.Coordinator:   seed.user("Inès Coordinatrice", auth.Coordinator, 0),
		auth.CPAMReferent:  seed.user("Marc Référent CPAM", auth.CPAMReferent, 0),
		auth.Finance:       seed.user("Agent Finances", auth.Finance, 0),
		auth.Admin:         seed.user("Admin Mairie", auth.Admin, 0),
		auth.Observer:      seed.user("Élue au conseil municipal", auth.Observer, 0),
		auth.PlatformAdmin: seed.user("Exploitant de la plateforme", auth.PlatformAdmin, 0),
	}
	ccas, association := seed.convention()
	tokens[auth.SocialWorker] = seed.user("Assistante sociale du CCAS", auth.SocialWorker, ccas)
	tokens[auth.Doctor] = seed.user("Dr SOS Médecins", auth.Doctor, association)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)

	// Something behind every id: a released claim in a claim batch, a
	// city-due payout in a payout batch, through the API and the jobs as
	// the people would have done it (seeded after start-up, so that the
	// jobs' start-up runs do not race it).
	confirmRegie(t, p.base, seed.user("Contrôle Finances", auth.Finance, 0), e2eAPI(t, p.base, tokens[auth.Admin], http.StatusOK, "PUT",
		"/api/v1/settings", map[string]any{"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
			"regie_ceiling": "10000.00", "annual_budget": "50000.00"}))
	patients := seed.patients(2)
	opened, waiting := patients[0], patients[1]
	careDate := calendar.Today(time.Now()).AddDays(-3)
	e2eAPI(t, p.base, tokens[auth.CPAMReferent], http.StatusOK, "POST", fmt.Sprintf("/api/v1/patients/%d/rights-decision", opened.id),
		map[string]any{"decision": "opened", "regime": "ame", "effective_from": careDate.AddDays(-30).String(), "effective_to": seededAMEEnd(), "reference": "AME-E2E"})
	invoice := e2eAPI(t, p.base, tokens[auth.Provider], http.StatusCreated, "POST", "/api/v1/invoices", map[string]any{
		"patient_file_number": opened.fileNumber, "birth_date": opened.birthDate, "external_ref": "E2E-PAGES-1", "care_date": careDate.String(),
		"lines": []map[string]any{{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}}})
	e2eAPI(t, p.base, tokens[auth.Admin], http.StatusOK, "POST", "/api/v1/jobs/release/run", nil)
	claimBatch := e2eAPI(t, p.base, tokens[auth.CPAMReferent], http.StatusCreated, "POST", "/api/v1/claim-batches", nil)
	seed.invoices(provider, seed.userID(providerName), []int64{waiting.id}, 1, 20, 5)
	e2eAPI(t, p.base, tokens[auth.Admin], http.StatusOK, "POST", "/api/v1/jobs/deadline/run", nil)
	// The payout batch is the job's draft, so that the walk sees how a
	// page names a job (never as its actor name, job:payout-batch).
	e2eAPI(t, p.base, tokens[auth.Admin], http.StatusOK, "POST", "/api/v1/jobs/payout-batch/run", nil)
	drafted, _ := e2eAPI(t, p.base, tokens[auth.Finance], http.StatusOK, "GET", "/api/v1/payout-batches", nil)["items"].([]any)
	if len(drafted) != 1 {
		t.Fatalf("the payout-batch job drafted %d batches, want 1", len(drafted))
	}
	payoutBatch := drafted[0].(map[string]any)

	file := e2eAPI(t, p.base, tokens[auth.CPAMReferent], http.StatusOK, "GET", fmt.Sprintf("/api/v1/patients/%d", opened.id), nil)
	decisions, _ := file["rights_decisions"].([]any)
	if len(decisions) != 1 {
		t.Fatalf("the opened file has the decisions %v, want one", file["rights_decisions"])
	}
	decision := decisions[0].(map[string]any)
	referral := e2eAPI(t, p.base, tokens[auth.SocialWorker], http.StatusCreated, "POST", "/api/v1/referrals", map[string]any{
		"urgency": "today", "place": "ccas", "reason": "precarity", "last_name": "Lefèvre", "first_name": "Odette", "birth": "1938"})
	alert := e2eAPI(t, p.base, tokens[auth.Doctor], http.StatusCreated, "POST", "/api/v1/alerts", map[string]any{
		"reason": "isolation", "basis": "consent", "consent_on": calendar.Today(time.Now()).String(), "consent_how": "oral",
		"consent_by": "person", "last_name": "Haddad"})

	// The pages that take an id, opened on the seeded data. A new one
	// fails the test until it is given its sample here.
	samples := map[string]string{
		"/cpam/dossiers/:id/decisions/:did/corriger": fmt.Sprintf("/cpam/dossiers/%d/decisions/%v/corriger", opened.id, decision["id"]),
		"/effecteur/factures/:id":                    fmt.Sprintf("/effecteur/factures/%v", invoice["id"]),
		"/coordination/dossiers/:id":                 fmt.Sprintf("/coordination/dossiers/%d", waiting.id),
		"/coordination/dossiers/:id/attestation":     fmt.Sprintf("/coordination/dossiers/%d/attestation", opened.id),
		"/cpam/dossiers/:id":                         fmt.Sprintf("/cpam/dossiers/%d", waiting.id),
		"/cpam/lots/:id":                             fmt.Sprintf("/cpam/lots/%v", claimBatch["id"]),
		"/finances/lots/:id":                         fmt.Sprintf("/finances/lots/%v", payoutBatch["id"]),
		"/admin/effecteurs/:id":                      fmt.Sprintf("/admin/effecteurs/%d", provider),
		// The doctor answers the referral; the social worker acknowledges the alert.
		"/sos/dossiers/:id":  fmt.Sprintf("/sos/dossiers/%v", referral["id"]),
		"/ccas/dossiers/:id": fmt.Sprintf("/ccas/dossiers/%v", alert["id"]),
	}
	// The pages whose visitor is not their prefix's role: the root sends a
	// signed-in user home, the sign-in page is for nobody signed in, and
	// an invoice outside a provider's pages is for the roles that read
	// them all.
	special := map[string]e2ePageVisit{
		"/":          {Label: "racine", Role: string(auth.Provider), Path: "/", Status: http.StatusOK, Landing: "/effecteur/factures"},
		"/connexion": {Label: "connexion", Path: "/connexion", Status: http.StatusOK},
		// The glossary is for anyone, read here by a provider.
		"/aide/glossaire": {Label: "glossaire", Role: string(auth.Provider), Path: "/aide/glossaire", Status: http.StatusOK},
		// Any invoice, read by finance (the coordinator and the admin
		// see the same page).
		"/factures/:id": {Label: "factures-id", Role: string(auth.Finance), Path: fmt.Sprintf("/factures/%v", invoice["id"]), Status: http.StatusOK},
	}
	visits, problems := e2ePagesFor(e2ePageRoutes(), samples, special)
	if len(problems) > 0 {
		t.Fatalf("pages the walk cannot open:\n%s", strings.Join(problems, "\n"))
	}
	pages, err := json.Marshal(visits)
	if err != nil {
		t.Fatal(err)
	}
	roleTokens := map[string]string{}
	for role, token := range tokens {
		roleTokens[string(role)] = token
	}
	tokenJSON, err := json.Marshal(roleTokens)
	if err != nil {
		t.Fatal(err)
	}

	// The walk grows with the pages: its guard allows each visit, at each
	// viewport, several seconds on a loaded machine (chromium, axe).
	runE2EScenarioWithin(t, max(e2eScenarioTimeout, time.Duration(len(visits))*e2eWalkPerPage), "every-page.mjs",
		"E2E_BASE_URL="+p.base,
		"E2E_PAGES="+string(pages),
		"E2E_TOKENS="+string(tokenJSON),
		"E2E_MISSING_ID=/effecteur/factures/999999999",
	)
	passdCheck(t, url)
}
