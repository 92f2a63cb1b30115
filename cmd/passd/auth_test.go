package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/openapi"
	"passd/web"
)

// conventionRoles are the roles of a convention's users: every role but
// the platform administrator, which has no API route at all (it renews its
// credential on its account page).
var conventionRoles = slices.DeleteFunc(slices.Clone(auth.Roles), func(r auth.Role) bool { return r == auth.PlatformAdmin })

// expectedRoles is the role table of PRODUCT.md, written out by hand: the
// roles of openapi/openapi.yaml (x-roles), which passd enforces, must be
// exactly these, so that a wrong edit of the contract fails here.
var expectedRoles = map[string][]auth.Role{
	"POST /api/v1/providers":                                    {auth.Admin},
	"GET /api/v1/providers":                                     {auth.Admin, auth.Finance},
	"GET /api/v1/providers/{id}":                                {auth.Admin, auth.Finance},
	"POST /api/v1/patients":                                     {auth.Coordinator},
	"GET /api/v1/patients":                                      {auth.Coordinator, auth.CPAMReferent},
	"GET /api/v1/patients/{id}":                                 {auth.Coordinator, auth.CPAMReferent},
	"PATCH /api/v1/patients/{id}":                               {auth.Coordinator},
	"GET /api/v1/patients/{id}/access-log":                      {auth.Admin},
	"POST /api/v1/patients/{id}/rights-request":                 {auth.Coordinator},
	"POST /api/v1/patients/{id}/rights-decision":                {auth.CPAMReferent},
	"POST /api/v1/patients/{id}/rights-decisions/{did}/correct": {auth.CPAMReferent},
	"POST /api/v1/invoices":                                     {auth.Provider},
	"GET /api/v1/invoices":                                      {auth.Provider, auth.Coordinator, auth.Finance, auth.Admin},
	"GET /api/v1/invoices/{id}":                                 {auth.Provider, auth.Coordinator, auth.Finance, auth.Admin},
	"POST /api/v1/invoices/{id}/cancel":                         {auth.Provider, auth.Coordinator},
	"GET /api/v1/claims":                                        {auth.CPAMReferent, auth.Finance, auth.Admin},
	"GET /api/v1/payouts":                                       {auth.Finance, auth.Admin, auth.Provider},
	"GET /api/v1/jobs":                                          {auth.Admin},
	"POST /api/v1/jobs/{name}/run":                              {auth.Admin},
	"POST /api/v1/claim-batches":                                {auth.CPAMReferent},
	"GET /api/v1/claim-batches":                                 {auth.CPAMReferent, auth.Finance, auth.Admin},
	"GET /api/v1/claim-batches/{id}":                            {auth.CPAMReferent, auth.Finance, auth.Admin},
	"GET /api/v1/claim-batches/{id}/export":                     {auth.CPAMReferent},
	"POST /api/v1/claim-batches/{id}/returns":                   {auth.CPAMReferent},
	"GET /api/v1/reminders":                                     {auth.Coordinator},
	"GET /api/v1/settings":                                      {auth.Admin, auth.Finance},
	"PUT /api/v1/settings":                                      {auth.Admin},
	"POST /api/v1/payout-batches":                               {auth.Finance},
	"GET /api/v1/payout-batches":                                {auth.Finance, auth.Admin},
	"GET /api/v1/payout-batches/{id}":                           {auth.Finance, auth.Admin},
	"POST /api/v1/payout-batches/{id}/submit":                   {auth.Finance},
	"POST /api/v1/payout-batches/{id}/approve":                  {auth.Finance},
	"POST /api/v1/payout-batches/{id}/budget-override":          {auth.Admin},
	"PATCH /api/v1/providers/{id}":                              {auth.Admin, auth.Finance},
	"GET /api/v1/bank-changes":                                  {auth.Finance, auth.Admin},
	"GET /api/v1/bank-changes/{id}":                             {auth.Finance, auth.Admin},
	"POST /api/v1/bank-changes/{id}/confirm":                    {auth.Finance},
	"POST /api/v1/bank-changes/{id}/reject":                     {auth.Finance, auth.Admin},
	"POST /api/v1/payouts/{id}/hold":                            {auth.Finance},
	"POST /api/v1/payouts/{id}/release":                         {auth.Finance},
	"POST /api/v1/payouts/{id}/void":                            {auth.Finance},
	"GET /api/v1/payout-voids":                                  {auth.Finance},
	"POST /api/v1/payout-voids/{id}/confirm":                    {auth.Finance},
	"POST /api/v1/payout-voids/{id}/reject":                     {auth.Finance},
	"POST /api/v1/me/token":                                     conventionRoles,
	"GET /api/v1/reports/programme":                             {auth.Coordinator, auth.Finance, auth.Admin, auth.Observer},
	"POST /api/v1/payout-batches/{id}/cancel":                   {auth.Finance},
	"POST /api/v1/payout-batches/{id}/paid":                     {auth.Finance},
	"GET /api/v1/payout-batches/{id}/sepa.xml":                  {auth.Finance},
	"GET /api/v1/recoveries":                                    {auth.Finance, auth.Admin},
	"GET /api/v1/cpam-refunds":                                  {auth.Finance, auth.Admin},
	"GET /api/v1/reports/budget":                                {auth.Finance, auth.Admin},
	"GET /api/v1/reports/invariants":                            {auth.Admin},
	"GET /api/v1/statement":                                     {auth.Provider},
	"POST /api/v1/invoices/{id}/review":                         {auth.Coordinator},
	"GET /api/v1/acts":                                          {auth.Admin, auth.Coordinator, auth.Finance, auth.Provider},
	"POST /api/v1/acts/import":                                  {auth.Admin},
	"GET /api/v1/acts/{code}":                                   {auth.Admin, auth.Coordinator, auth.Finance, auth.Provider},
	"PUT /api/v1/acts/{code}":                                   {auth.Admin},
	"DELETE /api/v1/acts/{code}":                                {auth.Admin},
	"GET /api/v1/drugs":                                         {auth.Admin, auth.Coordinator, auth.Finance, auth.Provider},
	"POST /api/v1/drugs/import":                                 {auth.Admin},
	"GET /api/v1/drugs/{cip13}":                                 {auth.Admin, auth.Coordinator, auth.Finance, auth.Provider},
	"PUT /api/v1/drugs/{cip13}":                                 {auth.Admin},
	"DELETE /api/v1/drugs/{cip13}":                              {auth.Admin},
	"GET /api/v1/rates":                                         {auth.Admin, auth.Coordinator, auth.Finance},
	"POST /api/v1/rates":                                        {auth.Admin},
	// The CCAS–SOS Médecins convention (issue 17).
	"POST /api/v1/organisations":              {auth.Admin},
	"GET /api/v1/organisations":               {auth.Admin},
	"POST /api/v1/conventions":                {auth.Admin},
	"GET /api/v1/conventions":                 {auth.Admin, auth.SocialWorker, auth.Doctor},
	"POST /api/v1/conventions/{id}/referents": {auth.Admin},
	"POST /api/v1/referrals":                  {auth.SocialWorker},
	"GET /api/v1/referrals":                   {auth.SocialWorker, auth.Doctor, auth.Coordinator},
	"GET /api/v1/referrals/{id}":              {auth.SocialWorker, auth.Doctor, auth.Coordinator},
	"POST /api/v1/referrals/{id}/answer":      {auth.Doctor},
	"POST /api/v1/referrals/{id}/outcome":     {auth.Doctor},
	"POST /api/v1/referrals/{id}/pass-file":   {auth.Coordinator},
	"POST /api/v1/alerts":                     {auth.Doctor},
	"GET /api/v1/alerts":                      {auth.SocialWorker, auth.Doctor},
	"GET /api/v1/alerts/{id}":                 {auth.SocialWorker, auth.Doctor},
	"POST /api/v1/alerts/{id}/acknowledge":    {auth.SocialWorker},
	"POST /api/v1/alerts/{id}/follow-up":      {auth.SocialWorker},
	"POST /api/v1/alerts/{id}/informed":       {auth.Doctor},
	"GET /api/v1/reports/referrals":           {auth.Coordinator, auth.Finance, auth.Admin, auth.Observer},
}

// csvRoutes take a CSV file, not JSON.
var csvRoutes = map[string]bool{"POST /api/v1/acts/import": true, "POST /api/v1/drugs/import": true}

// route is one secured operation of the contract as a request: a path with
// real ids, the roles allowed on it and a body a caller of the right role
// could send.
type route struct {
	method, path string
	allowed      []auth.Role
	body         string
	headers      []string // the Content-Type of a body that is not JSON
}

// authFixture is a harness with one provider, its user, a patient and a
// pending invoice, so that every route has something to name.
type authFixture struct {
	*harness
	provider providerFixture
	patient  patientFixture
	invoice  string
	// A batch of each kind, so that their routes have something to name.
	claimBatch, payoutBatch string
	decision                string // the patient's refusal, for the correction route
	// A change of bank details waiting, a due payout and a void asked for.
	bankChange, payout, payoutVoid string
	tokens                         map[auth.Role]string
	// A convention with a referral oriented to the PASS and an alert.
	convention      conventionFixture
	referral, alert string
	organisationOf  map[auth.Role]int64
}

func newAuthFixture(t *testing.T) authFixture {
	t.Helper()
	h := newHarness(t)
	f := authFixture{harness: h}
	f.provider = h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	f.patient = h.newPatient(t, "Diallo")
	f.invoice = str(t, h.submit(t, f.provider, f.patient, "A-1", "2026-06-01"), "id")
	h.refuseRights(t, f.patient)
	f.decision = latestDecision(t, h, f.patient)
	h.releasedClaim(t, f.provider, "Ba", "ame", "A-AME", "30.00")
	f.claimBatch = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	h.cityDue(t, f.provider, h.newPatient(t, "Sy"), "A-DUE", "40.00")
	f.payoutBatch = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payout-batches", h.finance, ""), "id")
	later := h.cityDue(t, f.provider, h.newPatient(t, "Fall"), "A-LATE", "25.00", "26.00")
	f.payout = str(t, h.payoutsOf(t, later[0])[0], "id")
	f.payoutVoid = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payouts/"+str(t, h.payoutsOf(t, later[1])[0], "id")+"/void",
		h.finance, `{"reason": "facture en double"}`), "id")
	patched := h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/providers/"+f.provider.id, h.admin, mustJSON(t, map[string]any{"iban": validIBAN2}))
	f.bankChange = str(t, patched["pending_bank_change"].(map[string]any), "id")
	for _, cip := range []string{"3400935955838", "3400930000007"} {
		h.mustDo(t, http.StatusOK, "PUT", "/api/v1/drugs/"+cip, h.admin, mustJSON(t, map[string]any{"label": "Médicament", "class": 65}))
	}
	f.convention = h.newConvention(t, "Évry")
	f.referral = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.convention.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+f.referral+"/answer", f.convention.doctor, `{"decision": "accept"}`)
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+f.referral+"/outcome", f.convention.doctor, `{"outcome": "pass", "on": "2026-06-15"}`)
	f.alert = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/alerts", f.convention.doctor, alertBody(t, "Trévidic")), "id")
	f.organisationOf = map[auth.Role]int64{auth.SocialWorker: orgID(t, f.convention.ccas), auth.Doctor: orgID(t, f.convention.association)}
	f.tokens = map[auth.Role]string{auth.Provider: f.provider.token, auth.Coordinator: h.coordinator,
		auth.CPAMReferent: h.referent, auth.Finance: h.finance, auth.Admin: h.admin, auth.Observer: h.user(t, "observer", auth.Observer, 0),
		auth.SocialWorker: f.convention.social, auth.Doctor: f.convention.doctor,
		auth.PlatformAdmin: h.user(t, "platform-admin", auth.PlatformAdmin, 0)}
	return f
}

// routes is every secured operation of the contract as a request, with the
// roles of expectedRoles. An operation with no expected roles, or no
// sample body when it takes one, fails the test: add it to the tables.
func (f authFixture) routes(t *testing.T) []route {
	t.Helper()
	bodies := map[string]string{
		"POST /api/v1/providers": mustJSON(t, map[string]any{"kind": "nurse", "name": "Cabinet B", "rpps": "10000000099",
			"iban": validIBAN, "bic": validBIC}),
		"POST /api/v1/patients":                      mustJSON(t, map[string]any{"last_name": "Nguyen", "first_name": "Van", "birth_date": "1987-05-03"}),
		"POST /api/v1/patients/{id}/rights-request":  mustJSON(t, map[string]any{"regime": "puma", "filed_on": "2026-06-01"}),
		"POST /api/v1/patients/{id}/rights-decision": mustJSON(t, map[string]any{"decision": "refused", "reason": "dossier incomplet"}),
		"POST /api/v1/patients/{id}/rights-decisions/{did}/correct": mustJSON(t, map[string]any{"decision": "refused",
			"reason": "ressources au-dessus du plafond", "correction_reason": "motif mal saisi"}),
		"POST /api/v1/invoices": invoiceBody(t, f.patient.fileNumber, "A-2", "2026-06-02"),
		"POST /api/v1/claim-batches/{id}/returns": mustJSON(t, map[string]any{"lines": []any{
			map[string]any{"claim_id": "999999", "outcome": "rejected", "reason": "inconnue"}}}),
		"PUT /api/v1/settings": mustJSON(t, map[string]any{"regie_name": "Régie PASS", "regie_iban": validIBAN2,
			"regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00"}),
		"POST /api/v1/payout-batches/{id}/paid":            `{"paid_on": "2026-06-15"}`,
		"POST /api/v1/payout-batches/{id}/budget-override": `{"reason": "épidémie hivernale"}`,
		"PATCH /api/v1/providers/{id}":                     `{"kind": "general_practitioner"}`,
		"PATCH /api/v1/patients/{id}":                      `{"commune_code": "56121"}`,
		"POST /api/v1/bank-changes/{id}/reject":            `{"reason": "RIB illisible"}`,
		"POST /api/v1/payouts/{id}/hold":                   `{"reason": "à vérifier"}`,
		"POST /api/v1/payouts/{id}/void":                   `{"reason": "facture en double"}`,
		"POST /api/v1/acts/import":                         "code;label;provider_kinds\nMCI;Majoration de coordination;nurse health_centre\n",
		"PUT /api/v1/acts/{code}":                          mustJSON(t, map[string]any{"label": "Indemnité kilométrique", "provider_kinds": []string{"nurse"}}),
		"POST /api/v1/drugs/import":                        "cip13;label;class\n3400935955838;Paracétamol 500 mg;65\n",
		"PUT /api/v1/drugs/{cip13}":                        mustJSON(t, map[string]any{"label": "Paracétamol 500 mg", "class": 65}),
		"POST /api/v1/rates": mustJSON(t, map[string]any{"regime": "puma", "rate_class": "nurse", "effective_from": "2027-01-01",
			"rate": "0.60", "reason": "arrêté du 1er décembre 2026"}),
		"POST /api/v1/organisations":              `{"kind": "ccas", "name": "CCAS de Ris-Orangis"}`,
		"POST /api/v1/conventions":                mustJSON(t, map[string]any{"ccas_id": f.convention.ccas, "association_id": f.convention.association, "signed_on": "2026-01-15"}),
		"POST /api/v1/conventions/{id}/referents": `{"side": "ccas", "name": "Mme Renaud", "email": "renaud@ccas.example"}`,
		"POST /api/v1/referrals":                  referralBody(t, "Bréhat"),
		"POST /api/v1/referrals/{id}/answer":      `{"decision": "accept"}`,
		"POST /api/v1/referrals/{id}/outcome":     `{"outcome": "visit_done", "on": "2026-06-15"}`,
		"POST /api/v1/referrals/{id}/pass-file":   mustJSON(t, map[string]any{"file_number": f.patient.fileNumber}),
		"POST /api/v1/alerts":                     alertBody(t, "Le Goff"),
		"POST /api/v1/alerts/{id}/acknowledge":    `{}`,
		"POST /api/v1/alerts/{id}/follow-up":      `{"step": "contacted"}`,
		"POST /api/v1/alerts/{id}/informed":       `{"informed_on": "2026-06-15"}`,
	}
	// The id each collection's {id} names.
	ids := map[string]string{"providers": f.provider.id, "patients": f.patient.id, "invoices": f.invoice,
		"claim-batches": f.claimBatch, "payout-batches": f.payoutBatch, "bank-changes": f.bankChange, "payouts": f.payout,
		"payout-voids": f.payoutVoid, "conventions": f.convention.id, "referrals": f.referral, "alerts": f.alert}
	var out []route
	for _, op := range f.app.contract.Operations() {
		if op.Public {
			continue
		}
		key := op.Method + " " + op.Path
		allowed, ok := expectedRoles[key]
		if !ok {
			t.Errorf("%s is in the contract but not in expectedRoles", key)
			continue
		}
		body, hasBody := bodies[key]
		if op.BodyRequired && !hasBody {
			t.Errorf("%s takes a body: give it a sample in routes", key)
		}
		collection, _, _ := strings.Cut(strings.TrimPrefix(op.Path, "/api/v1/"), "/")
		path := strings.ReplaceAll(op.Path, "{id}", ids[collection])
		path = strings.ReplaceAll(path, "{name}", "release")
		path = strings.ReplaceAll(path, "{did}", f.decision)
		// DELETE takes out an entry of its own, which the other routes do
		// not name.
		code, cip := "IK", "3400935955838"
		if op.Method == "DELETE" {
			code, cip = "IFA", "3400930000007"
		}
		path = strings.ReplaceAll(path, "{code}", code)
		path = strings.ReplaceAll(path, "{cip13}", cip)
		if strings.Contains(path, "{") {
			t.Errorf("%s: no value for the path parameters of %s", key, path)
			continue
		}
		r := route{method: op.Method, path: path, allowed: allowed, body: body}
		if csvRoutes[key] {
			r.headers = []string{"Content-Type", "text/csv"}
		}
		out = append(out, r)
	}
	return out
}

// TestTheContractDeclaresTheExpectedRoles pins the contract's x-roles to
// the hand-written table: the contract is the one declaration passd obeys,
// and this is the independent expectation it is checked against.
func TestTheContractDeclaresTheExpectedRoles(t *testing.T) {
	t.Parallel()
	contract, err := openapi.Load(roleNames())
	if err != nil {
		t.Fatal(err)
	}
	inContract := map[string]bool{}
	for _, op := range contract.Operations() {
		key := op.Method + " " + op.Path
		inContract[key] = true
		want, expected := expectedRoles[key]
		switch {
		case op.Public && expected:
			t.Errorf("%s is public in the contract (security: []), but expectedRoles gives it roles %v", key, want)
		case op.Public:
		case !expected:
			t.Errorf("%s is in the contract but not in expectedRoles", key)
		default:
			got := slices.Clone(op.Roles)
			wantNames := make([]string, len(want))
			for i, r := range want {
				wantNames[i] = string(r)
			}
			slices.Sort(got)
			slices.Sort(wantNames)
			if !slices.Equal(got, wantNames) {
				t.Errorf("%s: the contract's x-roles are %v, want %v", key, got, wantNames)
			}
		}
	}
	for key := range expectedRoles {
		if !inContract[key] {
			t.Errorf("%s is in expectedRoles but not in the contract", key)
		}
	}
	for _, public := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml"} {
		if !inContract[public] {
			t.Errorf("%s is missing from the contract", public)
		}
	}
}

// TestRoutesAndContractAgree: every route Echo serves under /api/v1, and
// the documented public ones, is an operation of the contract, and every
// operation is a route. Echo's own catch-alls, which only answer 404, are
// not routes of passd; the HTML pages of package web are not part of the
// JSON API's contract.
func TestRoutesAndContractAgree(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	served := map[string]bool{}
	for _, r := range h.app.echo.Routes() {
		if r.Method == echo.RouteNotFound || web.IsPage(r.Path) {
			continue
		}
		served[r.Method+" "+r.Path] = true
		if _, ok := h.app.contract.Operation(r.Method, r.Path); !ok {
			t.Errorf("route %s %s is served but not in openapi/openapi.yaml (the guard refuses it)", r.Method, r.Path)
		}
	}
	for _, op := range h.app.contract.Operations() {
		if !served[op.Method+" "+op.EchoPath] {
			t.Errorf("%s %s is in openapi/openapi.yaml but no route serves it", op.Method, op.Path)
		}
	}
}

func TestRequestsWithoutAValidTokenAreUnauthorized(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	ctx := context.Background()

	revoked := f.user(t, "revoked", auth.Admin, 0)
	expired := f.user(t, "expired", auth.Admin, 0)
	for token, column := range map[string]string{revoked: "revoked_at", expired: "expires_at"} {
		if _, err := f.pool.Exec(ctx, `UPDATE tokens SET `+column+` = $2 WHERE hash = $1`,
			auth.HashToken(token), f.now().Add(-1)); err != nil {
			t.Fatal(err)
		}
	}
	valid := f.admin
	headers := []struct{ name, authorization string }{
		{"no header", ""},
		{"empty bearer", "Bearer"},
		{"bearer and spaces", "Bearer    "},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"other scheme with a valid token", "Token " + valid},
		{"valid token without scheme", valid},
		{"unknown token", "Bearer passd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"valid token altered", "Bearer " + valid[:len(valid)-1] + "x"},
		{"token without the passd_ prefix", "Bearer " + strings.TrimPrefix(valid, "passd_")},
		{"valid token with a suffix", "Bearer " + valid + "A"},
		{"overlong token", "Bearer passd_" + strings.Repeat("A", 200)},
		{"two tokens", "Bearer " + valid + " " + valid},
		{"valid token and a space", "Bearer " + valid + " "},
		{"revoked token", "Bearer " + revoked},
		{"expired token", "Bearer " + expired},
	}
	before := f.state(t)
	for i, r := range f.routes(t) {
		for j, hd := range headers {
			// The header is set by hand: doRaw's token adds "Bearer ".
			// Each request comes from its own address, as if from its own
			// client: from one, the eleventh failure would be a 429
			// (TestRepeatedFailedAuthenticationsAreThrottled).
			from := fmt.Sprintf("198.51.%d.%d:1234", i, j)
			status, body := f.do(t, r.method, r.path, "", r.body, append([]string{"Authorization", hd.authorization, remoteAddrPseudoHeader, from}, r.headers...)...)
			wantError(t, r.method+" "+r.path+" with "+hd.name, status, body, http.StatusUnauthorized, "unauthorized", "")
		}
	}
	f.assertUnchanged(t, "unauthenticated requests", before)

	// The scheme is case-insensitive and may be followed by several spaces
	// (RFC 6750); nothing may follow the token.
	for _, header := range []string{"bearer " + valid, "BEARER " + valid, "Bearer  " + valid} {
		if status, body := f.do(t, "GET", "/api/v1/jobs", "", "", "Authorization", header); status != http.StatusOK {
			t.Errorf("Authorization %q: status %d, want 200: %v", header, status, body)
		}
	}
}

func TestEveryRouteRefusesTheWrongRoles(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	before := f.state(t)
	for _, r := range f.routes(t) {
		for _, role := range auth.Roles {
			if slices.Contains(r.allowed, role) {
				continue
			}
			status, body := f.do(t, r.method, r.path, f.tokens[role], r.body, r.headers...)
			wantError(t, r.method+" "+r.path+" as "+string(role), status, body, http.StatusForbidden, "forbidden", "")
		}
	}
	f.assertUnchanged(t, "forbidden requests", before)
}

func TestEveryRouteLetsTheRightRolesThrough(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	for _, r := range f.routes(t) {
		for _, role := range r.allowed {
			token := f.tokens[role]
			if r.path == "/api/v1/me/token" {
				// Renewing revokes the caller's token: renew one of its own.
				var provider int64
				if role == auth.Provider {
					if _, err := fmt.Sscan(f.provider.id, &provider); err != nil {
						t.Fatal(err)
					}
				}
				if role.HasOrganisation() {
					provider = f.organisationOf[role]
				}
				token = f.user(t, "renews-"+string(role), role, provider)
			}
			rec := f.doRaw(t, r.method, r.path, token, r.body, r.headers...)
			status, body := rec.Code, rec.Body.String()
			// A second allowed role may meet a conflict (the provider
			// already exists, the invoice is already cancelled): that is
			// the handler answering, which is what is checked here.
			// four_eyes is a 403 of the handler, not of the role check.
			roleRefused := status == http.StatusForbidden && !strings.Contains(body, `"four_eyes"`)
			if status == http.StatusUnauthorized || roleRefused || status >= 300 && status != http.StatusConflict && status != http.StatusForbidden {
				t.Errorf("%s %s as %s: status %d: %v", r.method, r.path, role, status, body)
			}
		}
	}
}

func TestProvidersSeeOnlyTheirOwnInvoicesAndPayouts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	b := h.newProvider(t, "Dr B", "general_practitioner", "10000000002")
	p := h.newPatient(t, "Diallo")
	h.refuseRights(t, p) // every invoice of p becomes a payout of its provider

	var aInvoices, bInvoices []string
	for _, ref := range []string{"F-1", "F-2"} {
		aInvoices = append(aInvoices, str(t, h.submit(t, a, p, ref, "2026-06-01"), "id"))
	}
	bInvoices = append(bInvoices, str(t, h.submit(t, b, p, "F-1", "2026-06-01"), "id")) // same ref, other provider
	aInvoices = append(aInvoices, str(t, h.submit(t, a, p, "F-3", "2026-06-02"), "id"))
	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != "4" {
		t.Fatalf("release decided %v invoices, want 4", run["rows"])
	}
	// One of A's invoices stays pending: B may not cancel that one either.
	aInvoices = append(aInvoices, str(t, h.submit(t, a, p, "F-4", "2026-06-03"), "id"))

	before := h.state(t)
	for _, id := range aInvoices {
		status, body := h.do(t, "GET", "/api/v1/invoices/"+id, b.token, "")
		wantError(t, "B reads A's invoice "+id, status, body, http.StatusNotFound, "not_found", "")
		status, body = h.do(t, "POST", "/api/v1/invoices/"+id+"/cancel", b.token, "")
		wantError(t, "B cancels A's invoice "+id, status, body, http.StatusNotFound, "not_found", "")
	}
	h.assertUnchanged(t, "B's requests on A's invoices", before)

	if got := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", b.token, "")); !slices.Equal(got, bInvoices) {
		t.Errorf("B lists invoices %v, want only its own %v", got, bInvoices)
	}
	wantA := slices.Clone(aInvoices)
	slices.Reverse(wantA)
	if got := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", a.token, "")); !slices.Equal(got, wantA) {
		t.Errorf("A lists invoices %v, want its own %v newest first", got, wantA)
	}
	for _, who := range []struct {
		name  string
		pr    providerFixture
		count int
	}{{"A", a, 3}, {"B", b, 1}} {
		payouts := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", who.pr.token, ""))
		if len(payouts) != who.count {
			t.Errorf("%s lists %d payouts, want %d: %v", who.name, len(payouts), who.count, payouts)
		}
		for _, po := range payouts {
			if po["provider_id"] != who.pr.id {
				t.Errorf("%s sees a payout of provider %v: %v", who.name, po["provider_id"], po)
			}
		}
	}
	if all := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", h.finance, "")); len(all) != 4 {
		t.Errorf("finance lists %d payouts, want all 4", len(all))
	}
	// The filters do not widen what a provider sees.
	for _, q := range []string{"?status=pending", "?status=city_due", "?limit=500"} {
		for _, it := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices"+q, b.token, "")) {
			if it["provider_id"] != b.id {
				t.Errorf("B lists invoices%s and sees %v", q, it)
			}
		}
	}
}

func TestUnknownAndMalformedIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	bad := []string{"abc", "../1", "..%2F1", "-1", "0", "99999999999999999999", "1.0", "1e3", "%20", "0x1", "99999", "9223372036854775807", "1%00", "%E9"}
	type target struct {
		method, pattern string
		token           string
		body            string
	}
	targets := []target{
		{"GET", "/api/v1/providers/%s", f.admin, ""},
		{"GET", "/api/v1/patients/%s", f.coordinator, ""},
		{"GET", "/api/v1/patients/%s/access-log", f.admin, ""},
		{"POST", "/api/v1/patients/%s/rights-request", f.coordinator, mustJSON(t, map[string]any{"regime": "puma", "filed_on": "2026-06-01"})},
		{"POST", "/api/v1/patients/%s/rights-decision", f.referent, mustJSON(t, map[string]any{"decision": "refused", "reason": "x"})},
		{"GET", "/api/v1/invoices/%s", f.coordinator, ""},
		{"GET", "/api/v1/invoices/%s", f.provider.token, ""},
		{"POST", "/api/v1/invoices/%s/cancel", f.coordinator, ""},
		{"POST", "/api/v1/invoices/%s/cancel", f.provider.token, ""},
		{"POST", "/api/v1/jobs/%s/run", f.admin, ""},
		{"GET", "/api/v1/referrals/%s", f.convention.doctor, ""},
		{"POST", "/api/v1/referrals/%s/answer", f.convention.doctor, `{"decision": "accept"}`},
		{"GET", "/api/v1/alerts/%s", f.convention.social, ""},
		{"POST", "/api/v1/alerts/%s/acknowledge", f.convention.social, `{}`},
		{"POST", "/api/v1/conventions/%s/referents", f.admin, `{"side": "ccas", "name": "Mme Renaud"}`},
	}
	before := f.state(t)
	for _, tg := range targets {
		for _, id := range bad {
			path := strings.Replace(tg.pattern, "%s", id, 1)
			status, body := f.do(t, tg.method, path, tg.token, tg.body)
			wantError(t, tg.method+" "+path, status, body, http.StatusNotFound, "not_found", "")
		}
	}
	f.assertUnchanged(t, "requests on unknown ids", before)
}

// Ids are opaque strings that passd renders in one form. Another spelling
// of a real id ("+1", "01") is not one of its ids and names nothing, as
// httpapi.PathID documents.
func TestNonCanonicalIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	for _, path := range []string{"/api/v1/invoices/+" + f.invoice, "/api/v1/invoices/0" + f.invoice,
		"/api/v1/providers/+" + f.provider.id, "/api/v1/patients/0" + f.patient.id} {
		token := f.admin
		if strings.Contains(path, "patients") {
			token = f.coordinator
		}
		status, body := f.do(t, "GET", path, token, "")
		wantError(t, "GET "+path, status, body, http.StatusNotFound, "not_found", "")
	}
}
