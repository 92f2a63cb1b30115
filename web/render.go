package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/auth"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/rights"
	"passd/settlement"
)

// pages holds one template set per page: the layout with that page's
// "title" and "content".
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"amount": FormatAmount,
	"date":   FormatDate,
	"reason": settlement.Reason.Label,
	"rights": rights.Status.Label,
	"regime": RegimeLabel,
	// regimeOptions are the regime select's options, for the
	// "regime-field" of the coordinator's and the referent's forms.
	"regimeOptions": func() []option { return regimeOptions },
	"day":           FormatDay,
	"moment":        FormatMoment,
	"mask":          MaskIBAN,
	"add":           func(a, b int) int { return a + b },
	"job":           JobLabel,
	"actor":         ActorLabel,
	"drugClass":     DrugClassLabel,
	"rateClass":     RateClassLabel,
}

func mustParsePages() pages {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	// Files named _*.html hold pieces several pages share; each page is
	// parsed with them.
	partials, err := fs.Glob(templateFiles, "templates/_*.html")
	if err != nil {
		panic(err)
	}
	out := pages{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		files := append([]string{"templates/layout.html", name}, partials...)
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFiles, files...))
	}
	return out
}

// navLink is one entry of the role's navigation.
type navLink struct {
	Href, Label string
	Current     bool
}

var navByRole = map[auth.Role][]navLink{
	// "Saisir une facture", not "Nouvelle facture": the list page has that link, and
	// one accessible name should lead to one link.
	auth.Provider: {
		{Href: "/effecteur/factures", Label: "Mes factures"},
		{Href: "/effecteur/factures/nouvelle", Label: "Saisir une facture"},
		{Href: "/effecteur/releve", Label: "Relevé"},
	},
	auth.Coordinator: {{Href: "/coordination/dossiers", Label: "Dossiers"}, {Href: "/coordination/relances", Label: "Relances"},
		{Href: "/coordination/factures", Label: "Factures à vérifier"},
		{Href: "/coordination/orientations", Label: "Orientations SOS Médecins"}},
	auth.CPAMReferent: {{Href: "/cpam/dossiers", Label: "Dossiers à décider"}, {Href: "/cpam/demandes", Label: "Demandes"}, {Href: "/cpam/lots", Label: "Lots"}},
	auth.Finance: {{Href: "/finances", Label: "Tableau de bord"}, {Href: "/finances/paiements", Label: "Paiements"}, {Href: "/finances/lots", Label: "Lots de paiement"},
		{Href: "/finances/reprises", Label: "Reprises et remboursements"},
		{Href: "/finances/coordonnees", Label: "Coordonnées bancaires"}},
	auth.Observer:      {{Href: "/bilan", Label: "Bilan du programme"}},
	auth.PlatformAdmin: {{Href: "/plateforme", Label: "Conventions"}},
	auth.SocialWorker: {{Href: "/ccas", Label: "À traiter"}, {Href: "/ccas/demandes/nouvelle", Label: "Demander une intervention"},
		{Href: "/ccas/annuaire", Label: "Annuaire"}},
	auth.Doctor: {{Href: "/sos", Label: "À traiter"}, {Href: "/sos/alertes/nouvelle", Label: "Alerter le CCAS"},
		{Href: "/sos/annuaire", Label: "Annuaire"}},
	auth.Admin: {
		{Href: "/admin", Label: "Administration"},
		{Href: "/admin/effecteurs", Label: "Effecteurs"},
		{Href: "/admin/utilisateurs", Label: "Utilisateurs"},
		{Href: "/admin/actes", Label: "Actes"},
		{Href: "/admin/medicaments", Label: "Médicaments"},
		{Href: "/admin/taux", Label: "Taux"},
		{Href: "/admin/parametres", Label: "Paramètres"},
		{Href: "/admin/taches", Label: "Tâches"},
		{Href: "/admin/conventions", Label: "Conventions"},
	},
}

// view is what the layout reads; Data is the page's own.
type view struct {
	Title  string
	User   *auth.Principal
	Role   string
	CSRF   string
	Flash  string
	Nav    []navLink
	Data   any
	Status int
	// Content is the page's "content" rendered, and Terms the glossary's
	// words it uses, which the layout's foot links.
	Content template.HTML
	Terms   []glossaryTerm
}

var roleFR = map[auth.Role]string{
	auth.Provider: "effecteur", auth.Coordinator: "coordination", auth.CPAMReferent: "référent CPAM",
	auth.Finance: "finances", auth.Admin: "administration", auth.Observer: "observateur",
	auth.SocialWorker: "travail social, CCAS", auth.Doctor: "médecin, SOS Médecins",
	auth.PlatformAdmin: "administrateur de la plateforme",
}

// render writes page with data in the layout. The page is rendered to a
// buffer first, so a template failure is a clean 500, not half a page.
func (s *Server) render(c echo.Context, status int, page, title string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %s", page)
	}
	v := view{Title: title, Data: data, Status: status}
	v.CSRF, _ = c.Get(csrfKey).(string)
	if p, ok := principal(c); ok {
		v.User, v.Role = &p, roleFR[p.Role]
		for _, l := range navByRole[p.Role] {
			l.Current = l.Href == c.Request().URL.Path
			v.Nav = append(v.Nav, l)
		}
	}
	v.Flash = takeFlash(c)
	var content, buf bytes.Buffer
	if err := t.ExecuteTemplate(&content, "content", v); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	// The content is the template's own output, escaped as it was written.
	v.Content = template.HTML(content.String())
	if page != "glossary.html" {
		v.Terms = termsIn(content.Bytes())
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

type errorPage struct{ Message string }

func (s *Server) renderError(c echo.Context, status int, title, message string) error {
	return s.render(c, status, "error.html", title, errorPage{Message: message})
}

// Flash messages survive one redirect in a short-lived cookie that holds
// only a key of this table, so no text a client sends is ever shown.
const flashCookie = "passd_flash"

var flashes = map[string]string{
	"invoice-saved": "Facture enregistrée.",
	"signed-out":    "Vous êtes déconnecté.",
	// The coordinator's and the referent's pages.
	"patient-created":      "Dossier créé.",
	"rights-requested":     "Demande de droits enregistrée.",
	"commune-set":          "Commune de résidence enregistrée.",
	"user-disabled":        "Utilisateur désactivé : ses jetons ne fonctionnent plus.",
	"user-enabled":         "Utilisateur réactivé.",
	"provider-deactivated": "Effecteur désactivé : il ne peut plus envoyer de facture.",
	"provider-reactivated": "Effecteur réactivé.",
	"rights-decided":       "Décision enregistrée.",
	"rights-corrected":     "Décision corrigée. Les factures déjà décidées du dossier ont été décidées à nouveau.",
	"claim-batch-created":  "Lot créé.",
	// The finance and admin pages.
	"batch-drafted":         "Lot préparé.",
	"batch-submitted":       "Lot soumis.",
	"batch-approved":        "Lot approuvé.",
	"batch-cancelled":       "Lot annulé.",
	"batch-paid":            "Lot marqué payé.",
	"job-done":              "Tâche exécutée.",
	"job-failed":            "La tâche a échoué : voyez son erreur ci-dessous.",
	"provider-created":      "Effecteur créé.",
	"token-revoked":         "Jeton révoqué.",
	"token-confirmed":       "Jeton confirmé : il fonctionne désormais.",
	"provider-updated":      "Effecteur modifié.",
	"bank-change-requested": "Changement des coordonnées bancaires demandé : il entrera en vigueur après confirmation par un agent des finances.",
	"bank-change-confirmed": "Changement confirmé : les prochains paiements iront au nouveau compte.",
	"bank-change-rejected":  "Changement refusé : le compte en vigueur reste inchangé.",
	"token-rotated":         "Jeton renouvelé.",
	"settings-saved":        "Paramètres enregistrés.",
	// The tariff's pages, and the coordinator's review.
	"act-saved":       "Acte enregistré.",
	"act-deleted":     "Acte retiré du catalogue.",
	"drug-saved":      "Médicament enregistré.",
	"drug-deleted":    "Médicament retiré de la table.",
	"rate-added":      "Changement de taux enregistré.",
	"review-accepted": "Facture acceptée : elle sera décidée avec les autres.",
	"invoice-voided":  "Facture annulée.",
	// The CCAS–SOS Médecins convention's pages.
	"referral-sent":        "Demande envoyée : les référents de SOS Médecins sont prévenus.",
	"alert-sent":           "Alerte envoyée : les référents du CCAS sont prévenus.",
	"referral-answered":    "Réponse enregistrée : le CCAS est prévenu.",
	"referral-outcome":     "Retour d'intervention enregistré : le CCAS est prévenu.",
	"alert-acknowledged":   "Alerte prise en charge : SOS Médecins est prévenu.",
	"alert-followed-up":    "Suivi enregistré : SOS Médecins est prévenu.",
	"alert-informed":       "Information de la personne enregistrée.",
	"orientation-linked":   "Dossier PASS rattaché à l'orientation.",
	"organisation-created": "Organisme enregistré.",
	"convention-created":   "Convention enregistrée.",
	"referent-added":       "Référent ajouté.",
	// The platform administrator's page.
	"tenant-created": "Convention créée : l'exploitant peut maintenant lui donner ses utilisateurs.",
}

func setFlash(c echo.Context, key string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: key, Path: "/", MaxAge: 60, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: overTLS(c)})
}

func takeFlash(c echo.Context) string {
	cookie, err := c.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: overTLS(c)})
	return flashes[cookie.Value]
}

// clientFault returns the fault of an error the client caused by what it
// typed (invalid, or in conflict with what is stored), which a form
// explains next to its field; anything else is the error page's to answer.
func clientFault(err error) (*fault.Error, bool) {
	var fe *fault.Error
	if !errors.As(err, &fe) || (fe.Code != fault.Invalid && fe.Code != fault.Conflict) {
		return nil, false
	}
	return fe, true
}

// readPage reads the page of a list that the query's ?limit= and ?cursor=
// ask for, as the API's list routes do: read returns up to one row more
// than the limit, which only tells that a next page exists, and each row
// read becomes the page's row by toRow.
func readPage[D, Row any](c echo.Context, read func(context.Context, db.PageRequest) ([]D, error), idOf func(D) int64,
	toRow func(D) Row) (api.Page[Row], error) {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return api.Page[Row]{}, err
	}
	rows, err := read(c.Request().Context(), page)
	if err != nil {
		return api.Page[Row]{}, err
	}
	return api.NewPage(page, rows, idOf, toRow), nil
}

// asRead is toRow for a list whose rows the page shows as they were read.
func asRead[T any](row T) T { return row }

// redirectWithFlash ends a POST that did what it asked, post/redirect/get:
// the browser goes to next, which shows the flash once.
func redirectWithFlash(c echo.Context, flash, next string) error {
	setFlash(c, flash)
	return c.Redirect(http.StatusSeeOther, next)
}

// showRefusedForm answers a form whose save failed with err: when explain
// finds err to be the client's (and has put its French messages in the
// form), again shows the form as typed with a 422; any other error is left
// to the error page.
func showRefusedForm(err error, explain func(error) bool, again func(status int) error) error {
	if !explain(err) {
		return err
	}
	return again(http.StatusUnprocessableEntity)
}
