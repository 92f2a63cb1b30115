package web

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/billing"
	"passd/db"
	"passd/httpapi"
	"passd/ident"
	"passd/spreadsheet"
)

// /admin/effecteurs: the partner providers and the form that creates one,
// through billing.Provider.Validate and CreateProvider as POST /providers.

// providerKindFR names each provider kind in French.
var providerKindFR = map[string]string{
	billing.KindHealthCentre: "Centre de santé",
	billing.KindGP:           "Médecin généraliste",
	billing.KindNurse:        "Infirmier",
	billing.KindPharmacy:     "Pharmacie",
	billing.KindRadiology:    "Radiologie",
	billing.KindLaboratory:   "Laboratoire",
}

// MaskIBAN shows only an IBAN's last four characters: enough to tell two
// accounts apart on screen, not enough to copy one.
func MaskIBAN(iban string) string {
	if len(iban) <= 4 {
		return "••••"
	}
	return "•••• " + iban[len(iban)-4:]
}

// choice is one option of a select, with whether the form had it chosen.
type choice struct {
	Value, Label string
	Selected     bool
}

type providerRow struct {
	billing.Provider
	KindLabel, MaskedIBAN string
}

type providerForm struct {
	Kind, Name, RPPS, FINESS, IBAN, BIC                   string
	KindErr, NameErr, RPPSErr, FINESSErr, IBANErr, BICErr string
	Summary                                               string
}

// KindChoices are the options of the form's kind select, the typed one
// selected.
func (f providerForm) KindChoices() []choice {
	out := make([]choice, 0, len(billing.ProviderKinds))
	for _, k := range billing.ProviderKinds {
		out = append(out, choice{Value: k, Label: providerKindFR[k], Selected: k == f.Kind})
	}
	return out
}

type providersPage struct {
	api.Page[providerRow] // the providers, newest first
	Form                  providerForm
	Filter                statusFilter // by kind (?type=)
	ByName                bool         // ?tri=nom: by name
	SortLink, Next, Query template.URL // the name column's link, the next page's, the filters'
}

func (s *Server) adminProviders(c echo.Context) error {
	return s.renderProviders(c, http.StatusOK, providerForm{})
}

func (s *Server) renderProviders(c echo.Context, status int, form providerForm) error {
	kind, filter := readFilter(c, "type", "Type d'effecteur", billing.ProviderKinds, func(k string) string { return providerKindFR[k] })
	order, links := readProviderOrder(c, filter)
	providers, err := readPage(c, func(ctx context.Context, page db.PageRequest) ([]billing.Provider, error) {
		return s.billing.ProvidersOfKind(ctx, kind, order, page)
	}, func(p billing.Provider) int64 { return p.ID }, func(p billing.Provider) providerRow {
		return providerRow{Provider: p, KindLabel: providerKindFR[p.Kind], MaskedIBAN: MaskIBAN(p.IBAN)}
	})
	if err != nil {
		return err
	}
	if filter.Matching, err = s.billing.CountProviders(c.Request().Context(), kind); err != nil {
		return err
	}
	links.Page, links.Form, links.Filter = providers, form, filter
	if providers.NextCursor != "" {
		links.Next = template.URL("cursor=" + providers.NextCursor)
		if order.ByName {
			last := providers.Items[len(providers.Items)-1].Provider
			links.Next = template.URL(url.Values{"apres": {last.Name + "\x00" + strconv.FormatInt(last.ID, 10)}}.Encode())
		}
	}
	return s.render(c, status, "admin-providers.html", "Effecteurs", links)
}

func (s *Server) createProvider(c echo.Context) error {
	p, _ := principal(c)
	f := readProviderForm(c)
	again := func(status int) error { return s.renderProviders(c, status, f) }
	// The form becomes the provider POST /providers creates, checked by the
	// same rules: one identifier of the two may be left blank. Every field's
	// problem is told at once; the store's (a taken RPPS) after.
	np, problems := f.provider()
	if len(problems) > 0 {
		return showRefusedFields(problems, f.explainEach, again)
	}
	if _, err := s.billing.CreateProvider(c.Request().Context(), p.Actor(), np); err != nil {
		return showRefusedForm(err, f.explain, again)
	}
	return redirectWithFlash(c, "provider-created", "/admin/effecteurs")
}

// readProviderForm reads the provider's fields, as the create and the edit
// forms both send them.
func readProviderForm(c echo.Context) providerForm {
	return providerForm{Kind: strings.TrimSpace(c.FormValue("kind")), Name: strings.TrimSpace(c.FormValue("name")),
		RPPS: strings.TrimSpace(c.FormValue("rpps")), FINESS: strings.TrimSpace(c.FormValue("finess")),
		IBAN: strings.TrimSpace(c.FormValue("iban")), BIC: strings.TrimSpace(c.FormValue("bic"))}
}

// provider is the provider the form describes, in billing's canonical
// form, and every problem billing's rules find in it.
func (f providerForm) provider() (billing.Provider, []error) {
	p := billing.Provider{Kind: f.Kind, Name: f.Name, RPPS: f.RPPS, FINESS: f.FINESS, IBAN: f.IBAN, BIC: f.BIC}
	return p, p.Problems()
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f providerForm) Problems() []problemLink {
	return fieldProblems("kind", f.KindErr, "name", f.NameErr, "rpps", f.RPPSErr, "finess", f.FINESSErr,
		"iban", f.IBANErr, "bic", f.BICErr)
}

func (f *providerForm) slots() map[string]*string {
	return map[string]*string{"kind": &f.KindErr, "name": &f.NameErr, "rpps": &f.RPPSErr, "finess": &f.FINESSErr,
		"iban": &f.IBANErr, "bic": &f.BICErr}
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *providerForm) explain(err error) bool {
	return explainFields(err, "provider", f.slots(), &f.Summary)
}

// explainEach puts each of errs next to its field.
func (f *providerForm) explainEach(errs ...error) bool {
	return explainEach(errs, "provider", f.slots(), &f.Summary)
}

// setProviderActive is the buttons "Désactiver l'effecteur" (asked first)
// and "Réactiver l'effecteur".
func (s *Server) setProviderActive(active bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principal(c)
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if !active && c.FormValue(confirmField) != "oui" {
			pr, err := s.billing.Provider(ctx, id)
			if err != nil {
				return err
			}
			return s.render(c, http.StatusOK, "admin-confirm.html", "Désactiver un effecteur", confirmPage{
				Heading: fmt.Sprintf("Désactiver l'effecteur %s ?", pr.Name),
				Warnings: []string{
					"Il ne peut plus envoyer de facture ; ses utilisateurs gardent l'accès à ses factures et à son relevé.",
					"Ses factures en attente suivent leur cours, et ce que la ville lui doit lui est payé.",
					"Vous pourrez le réactiver.",
				},
				Action: fmt.Sprintf("/admin/effecteurs/%d/desactiver", id), Button: "Désactiver l'effecteur",
				Back: navLink{Href: fmt.Sprintf("/admin/effecteurs/%d", id), Label: "Ne rien changer et revenir à sa fiche"},
			})
		}
		if _, err := s.billing.SetProviderActive(ctx, p.Actor(), id, active); err != nil {
			return err
		}
		flash := "provider-deactivated"
		if active {
			flash = "provider-reactivated"
		}
		return redirectWithFlash(c, flash, fmt.Sprintf("/admin/effecteurs/%d", id))
	}
}

// readProviderOrder reads ?tri=nom and ?apres= (the previous page's last
// row: its name, a NUL, its id) and the links that keep the filter.
func readProviderOrder(c echo.Context, filter statusFilter) (billing.ProviderOrder, providersPage) {
	var order billing.ProviderOrder
	var page providersPage
	q, _ := url.ParseQuery(string(filter.Query))
	toggle, _ := url.ParseQuery(string(filter.Query))
	if c.QueryParam("tri") == "nom" {
		order.ByName, page.ByName = true, true
		q.Set("tri", "nom")
		// What a client sends here reaches SQL: a name that is no text
		// (invalid UTF-8, too long) is ignored, as the database would refuse it.
		if name, id, found := strings.Cut(c.QueryParam("apres"), "\x00"); found && utf8.ValidString(name) && len(name) <= 4*billing.MaxProviderName {
			if n, err := ident.ParseID(id); err == nil {
				order.AfterName, order.AfterID = name, n
			}
		}
	} else {
		toggle.Set("tri", "nom")
	}
	page.SortLink, page.Query = template.URL(toggle.Encode()), template.URL(q.Encode())
	return order, page
}

// providersCSV is the list's download: exactly what it filters, in its
// order, the IBANs masked as on the page.
func (s *Server) providersCSV(c echo.Context) error {
	kind, filter := readFilter(c, "type", "Type d'effecteur", billing.ProviderKinds, func(k string) string { return providerKindFR[k] })
	order, _ := readProviderOrder(c, filter)
	order.AfterID, order.AfterName = 0, ""
	list, err := s.billing.ProvidersOfKind(c.Request().Context(), kind, order, db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "effecteurs.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Nom", "Type", "RPPS", "FINESS", "IBAN", "BIC", "Participation"); err != nil {
			return err
		}
		for i, p := range list {
			if i == db.MaxLimit {
				break // the page's bound; a PASS has far fewer providers
			}
			state := "active"
			if p.DeactivatedAt != nil {
				state = "désactivé"
			}
			if err := out.Write(spreadsheet.Text(p.Name), providerKindFR[p.Kind], p.RPPS, p.FINESS, MaskIBAN(p.IBAN), p.BIC, state); err != nil {
				return err
			}
		}
		return out.Flush()
	})
}
