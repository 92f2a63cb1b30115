package main

// The platform administrator's page (issue 18 §1), driven as a browser
// without JavaScript would.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"passd/auth"
	"passd/db"
)

func TestWebPlatformAdminCreatesAConventionThroughTheConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := h.user(t, "Exploitant", auth.PlatformAdmin, 0)
	b := h.browser()
	if rec := b.signIn(t, token); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/plateforme" {
		t.Fatalf("the platform administrator's sign-in: %d → %q, want its home /plateforme", rec.Code, rec.Header().Get("Location"))
	}
	var first string
	if err := h.pool.Pool.QueryRow(context.Background(), `SELECT name FROM tenants WHERE id = 1`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	page := htmlText(b.page(t, http.StatusOK, "/plateforme"))
	wantContains(t, "the platform page", page, "<h1>Conventions de la plateforme</h1>", `<td class="num">1</td><th scope="row">`+first+`</th>`,
		`<form method="post" action="/plateforme/conventions"`, "Créer la convention</button>")

	// The first post only asks, and creates nothing.
	const name = "Ville de Saint-Denis"
	code, _, body := b.post(t, "/plateforme", "/plateforme/conventions", url.Values{"name": {"  " + name + " "}})
	if code != http.StatusOK {
		t.Fatalf("the form: %d, want the confirmation page:\n%s", code, body)
	}
	wantContains(t, "the confirmation page", htmlText(body),
		"Créer la convention « "+name+" » : elle aura ses propres paramètres, une chaîne d'audit vide et une copie du barème de la convention n° 1",
		`<input type="hidden" name="confirme" value="oui">`, `<input type="hidden" name="name" value="`+name+`">`)
	if n := h.count(t, "tenants"); n != 1 {
		t.Fatalf("%d conventions before the confirmation, want 1", n)
	}

	// Confirmed: created, listed, recorded in the administrator's own
	// convention, and given its settings and tariff.
	code, loc, body := b.post(t, "/plateforme", "/plateforme/conventions", url.Values{"name": {name}, "confirme": {"oui"}})
	if code != http.StatusSeeOther || loc != "/plateforme" {
		t.Fatalf("the confirmed form: %d → %q:\n%s", code, loc, body)
	}
	var created int64
	if err := h.pool.Pool.QueryRow(context.Background(), `SELECT id FROM tenants WHERE name = $1`, name).Scan(&created); err != nil {
		t.Fatalf("the new convention: %v", err)
	}
	wantContains(t, "the platform page after the creation", htmlText(b.page(t, http.StatusOK, "/plateforme")),
		"Convention créée", `<td class="num">`+strconv.FormatInt(created, 10)+`</td><th scope="row">`+name+`</th>`)
	if n := h.count(t, "audit_log", "action = 'tenant.create'", "entity_id = '"+strconv.FormatInt(created, 10)+"'"); n != 1 {
		t.Errorf("%d audit rows of the creation in the administrator's convention, want 1", n)
	}
	inNew := db.WithTenant(context.Background(), created)
	for _, table := range []string{"settings", "tariff_state"} {
		var n int64
		if err := h.app.pool.QueryRow(inNew, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 1 {
			t.Errorf("the new convention's %s: %d rows (%v), want 1", table, n, err)
		}
	}
	var rates int64
	if err := h.app.pool.QueryRow(inNew, `SELECT count(*) FROM rates`).Scan(&rates); err != nil || rates == 0 {
		t.Errorf("the new convention's rates: %d (%v), want a copy of convention 1's", rates, err)
	}

	// A name taken is refused on its field, before and after the
	// confirmation (two administrators at once); an empty one too.
	for _, form := range []url.Values{{"name": {name}}, {"name": {name}, "confirme": {"oui"}}} {
		code, _, body := b.post(t, "/plateforme", "/plateforme/conventions", form)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("a name taken (%v): %d, want 422:\n%s", form, code, body)
		}
		wantContains(t, "the form with a name taken", htmlText(body), `aria-describedby="name-hint name-error" aria-invalid="true"`,
			`<p class="error" id="name-error">Une convention porte déjà ce nom : choisissez-en un autre.</p>`, `value="`+name+`"`)
	}
	code, _, body = b.post(t, "/plateforme", "/plateforme/conventions", url.Values{"name": {"   "}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an empty name: %d, want 422:\n%s", code, body)
	}
	wantContains(t, "the form with no name", htmlText(body), `aria-invalid="true"`, "Indiquez le nom de la convention")
	if n := h.count(t, "tenants"); n != 2 {
		t.Errorf("%d conventions, want 2", n)
	}

	// Its account page works as everyone's; it opens no convention's page.
	b.page(t, http.StatusOK, "/compte")
	b.page(t, http.StatusForbidden, "/admin")
	b.page(t, http.StatusForbidden, "/bilan")
}

func TestWebOnlyThePlatformAdminReachesThePlatformPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := mustSignIn(t, h, h.admin)
	page := htmlText(admin.page(t, http.StatusForbidden, "/plateforme"))
	wantContains(t, "the admin's 403", page, "Accès refusé")
	csrf := admin.csrf(t, "/admin")
	if rec := admin.do(t, "POST", "/plateforme/conventions", url.Values{"_csrf": {csrf}, "name": {"Ville pirate"}, "confirme": {"oui"}}); rec.Code != http.StatusForbidden {
		t.Errorf("the admin's POST /plateforme/conventions: %d, want 403", rec.Code)
	}
	if n := h.count(t, "tenants"); n != 1 {
		t.Errorf("%d conventions after the admin's attempt, want 1", n)
	}
	// Nor may an admin make a platform administrator: the users form does
	// not offer the role, and a forged form is refused.
	users := htmlText(admin.page(t, http.StatusOK, "/admin/utilisateurs"))
	_, form, _ := strings.Cut(users, `<select id="role" name="role"`)
	form, _, _ = strings.Cut(form, "</select>")
	if form == "" || strings.Contains(form, `value="platform_admin"`) {
		t.Errorf("the admin's users form offers the platform administrator's role, or has no role:\n%s", form)
	}
	code, _, body := admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs", url.Values{"name": {"Faux exploitant"}, "role": {"platform_admin"}})
	if code != http.StatusUnprocessableEntity {
		t.Errorf("an admin enrolling a platform administrator: %d, want 422:\n%s", code, body)
	}
	if n := h.count(t, "users", "role = 'platform_admin'"); n != 0 {
		t.Errorf("%d platform administrators after the admin's attempt, want 0", n)
	}
	// Nor take one over by a reset (which a second admin would confirm).
	platformAdmin := h.user(t, "Exploitant", auth.PlatformAdmin, 0)
	tokens := h.count(t, "tokens")
	if code, _, body := admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs/reinitialiser", url.Values{"name": {"Exploitant"}}); code != http.StatusForbidden {
		t.Errorf("an admin resetting the platform administrator: %d, want 403:\n%s", code, body)
	}
	if n := h.count(t, "tokens"); n != tokens {
		t.Errorf("%d tokens after the refused reset, want %d", n, tokens)
	}
	mustSignIn(t, h, platformAdmin).page(t, http.StatusOK, "/plateforme")
}
