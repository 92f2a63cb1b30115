package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/billing"
	"passd/db"
	"passd/httpapi"
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
}

func (s *Server) adminProviders(c echo.Context) error {
	return s.renderProviders(c, http.StatusOK, providerForm{})
}

func (s *Server) renderProviders(c echo.Context, status int, form providerForm) error {
	kind, filter := readFilter(c, "type", "Type d'effecteur", billing.ProviderKinds, func(k string) string { return providerKindFR[k] })
	providers, err := readPage(c, func(ctx context.Context, page db.PageRequest) ([]billing.Provider, error) {
		return s.billing.ProvidersOfKind(ctx, kind, page)
	}, func(p billing.Provider) int64 { return p.ID }, func(p billing.Provider) providerRow {
		return providerRow{Provider: p, KindLabel: providerKindFR[p.Kind], MaskedIBAN: MaskIBAN(p.IBAN)}
	})
	if err != nil {
		return err
	}
	if filter.Matching, err = s.billing.CountProviders(c.Request().Context(), kind); err != nil {
		return err
	}
	return s.render(c, status, "admin-providers.html", "Effecteurs", providersPage{Page: providers, Form: form, Filter: filter})
}

func (s *Server) createProvider(c echo.Context) error {
	p, _ := principal(c)
	f := providerForm{Kind: strings.TrimSpace(c.FormValue("kind")), Name: strings.TrimSpace(c.FormValue("name")),
		RPPS: strings.TrimSpace(c.FormValue("rpps")), FINESS: strings.TrimSpace(c.FormValue("finess")),
		IBAN: strings.TrimSpace(c.FormValue("iban")), BIC: strings.TrimSpace(c.FormValue("bic"))}
	// The form becomes the provider POST /providers creates, checked by the
	// same Validate: one identifier of the two may be left blank.
	np := billing.Provider{Kind: f.Kind, Name: f.Name, RPPS: f.RPPS, FINESS: f.FINESS, IBAN: f.IBAN, BIC: f.BIC}
	err := np.Validate()
	if err == nil {
		_, err = s.billing.CreateProvider(c.Request().Context(), p.Actor(), np)
	}
	if err != nil {
		return showRefusedForm(err, f.explain, func(status int) error { return s.renderProviders(c, status, f) })
	}
	return redirectWithFlash(c, "provider-created", "/admin/effecteurs")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *providerForm) explain(err error) bool {
	return explainFields(err, "provider", map[string]*string{"kind": &f.KindErr, "name": &f.NameErr, "rpps": &f.RPPSErr,
		"finess": &f.FINESSErr, "iban": &f.IBANErr, "bic": &f.BICErr}, &f.Summary)
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
