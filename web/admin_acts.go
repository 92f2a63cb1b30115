package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/fault"
)

// /admin/actes: the acts catalogue (who may bill each code, how it is
// priced, the ceiling of its unit price), the form that adds or replaces
// an act, the delete button (after a confirmation) and the CSV import,
// all through billing's Act.Validate, PutAct, DeleteAct and ImportActs.

// actColumns describes an acts file's header, for the import form and its
// refusals.
const actColumns = "colonnes code, label et provider_kinds (obligatoires), rate_class, max_unit_price, dispensing_fee et source, " +
	"séparées par des points-virgules ou des virgules."

type actRow struct {
	billing.Act
	Kinds, Class, Ceiling string
}

// actRowOf is an act as the table shows it, in French.
func actRowOf(a billing.Act) actRow {
	row := actRow{Act: a, Class: "celle de l'effecteur qui facture", Ceiling: "aucun"}
	kinds := make([]string, len(a.ProviderKinds))
	for i, k := range a.ProviderKinds {
		kinds[i] = providerKindFR[k]
	}
	row.Kinds = strings.Join(kinds, ", ")
	switch {
	case a.DispensingFee:
		row.Class = "celle du médicament qui précède"
	case a.RateClass != "":
		row.Class = RateClassLabel(a.RateClass)
	}
	if a.MaxUnitPrice != nil {
		row.Ceiling = FormatAmount(*a.MaxUnitPrice)
	}
	return row
}

type actForm struct {
	Code, Label, RateClass, MaxUnitPrice, Source                    string
	Kinds                                                           []string
	DispensingFee                                                   bool
	CodeErr, LabelErr, KindsErr, ClassErr, PriceErr, FeeErr, SrcErr string
	Summary                                                         string
}

// KindChoices are the provider kinds' checkboxes, the typed ones checked.
func (f actForm) KindChoices() []choice {
	out := make([]choice, 0, len(billing.ProviderKinds))
	for _, k := range billing.ProviderKinds {
		out = append(out, choice{Value: k, Label: providerKindFR[k], Selected: slices.Contains(f.Kinds, k)})
	}
	return out
}

// ClassChoices are the rate class select's options: a provider kind (an
// act's class is never a drug's).
func (f actForm) ClassChoices() []choice {
	out := make([]choice, 0, len(billing.ProviderKinds))
	for _, k := range billing.ProviderKinds {
		out = append(out, choice{Value: k, Label: providerKindFR[k], Selected: k == f.RateClass})
	}
	return out
}

type actsPage struct {
	Acts   []actRow
	Form   actForm
	Import importForm
}

func (s *Server) adminActs(c echo.Context) error {
	var f actForm
	// ?modifier=G fills the form with that act, to replace it.
	if code := strings.TrimSpace(c.QueryParam("modifier")); code != "" {
		a, err := s.billing.Act(c.Request().Context(), code)
		if err != nil {
			return err
		}
		f = actForm{Code: a.Code, Label: a.Label, Kinds: a.ProviderKinds, RateClass: string(a.RateClass), DispensingFee: a.DispensingFee,
			Source: a.Source}
		if a.MaxUnitPrice != nil {
			f.MaxUnitPrice = inputAmount(*a.MaxUnitPrice)
		}
	}
	return s.renderActs(c, http.StatusOK, f, importOutcome{})
}

func (s *Server) renderActs(c echo.Context, status int, f actForm, imp importOutcome) error {
	acts, err := s.billing.Acts(c.Request().Context())
	if err != nil {
		return err
	}
	page := actsPage{Form: f, Import: importForm{Action: "/admin/actes/importer", Label: "Fichier CSV des actes", Columns: actColumns,
		Note: "Les actes que le fichier ne nomme pas restent inchangés.", importOutcome: imp}}
	for _, a := range acts {
		page.Acts = append(page.Acts, actRowOf(a))
	}
	return s.render(c, status, "admin-acts.html", "Actes", page)
}

func (s *Server) putAct(c echo.Context) error {
	p, _ := principal(c)
	values, err := c.FormParams()
	if err != nil {
		return fault.New(fault.Invalid, "unreadable form")
	}
	f := actForm{Code: strings.TrimSpace(values.Get("code")), Label: strings.TrimSpace(values.Get("label")),
		RateClass: strings.TrimSpace(values.Get("rate_class")), MaxUnitPrice: strings.TrimSpace(values.Get("max_unit_price")),
		Source: strings.TrimSpace(values.Get("source")), Kinds: values["provider_kinds"], DispensingFee: values.Get("dispensing_fee") != ""}
	// The form becomes the act PutAct stores, checked by the same Validate;
	// a ceiling left blank is no ceiling.
	a := billing.Act{Code: f.Code, Label: f.Label, ProviderKinds: f.Kinds, RateClass: billing.RateClass(f.RateClass),
		DispensingFee: f.DispensingFee, Source: f.Source}
	again := func(status int) error { return s.renderActs(c, status, f, importOutcome{}) }
	var read []error
	if f.MaxUnitPrice != "" {
		if price, err := formFrenchAmount("max_unit_price", f.MaxUnitPrice); err != nil {
			read = append(read, err)
		} else {
			a.MaxUnitPrice = &price
		}
	}
	// Every field's problem at once; PutAct checks the same again.
	if problems := eachFieldOnce(read, a.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	if _, err := s.billing.PutAct(c.Request().Context(), p.Actor(), a); err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "act-saved", "/admin/actes")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *actForm) explain(errs ...error) bool {
	return explainEach(errs, "act", map[string]*string{"code": &f.CodeErr, "label": &f.LabelErr, "provider_kinds": &f.KindsErr,
		"rate_class": &f.ClassErr, "max_unit_price": &f.PriceErr, "dispensing_fee": &f.FeeErr, "source": &f.SrcErr}, &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field (the kinds' first box).
func (f actForm) Problems() []problemLink {
	return fieldProblems("code", f.CodeErr, "label", f.LabelErr, "provider_kinds-0", f.KindsErr, "rate_class", f.ClassErr,
		"max_unit_price", f.PriceErr, "dispensing_fee", f.FeeErr, "source", f.SrcErr)
}

// confirmPage asks before an action that cannot be undone: what follows
// it, the button that does it, and the way back.
type confirmPage struct {
	Heading  string
	Warnings []string
	Action   string // where the confirmed form posts
	Button   string
	Back     navLink
	// Hidden carries what the first form held (a date, a decision's
	// fields) to the confirmed one.
	Hidden []hiddenField
}

type hiddenField struct{ Name, Value string }

// confirmField is the field of a confirmed form: without it, a delete
// button only asks.
const confirmField = "confirme"

func (s *Server) deleteAct(c echo.Context) error {
	p, _ := principal(c)
	ctx := c.Request().Context()
	a, err := s.billing.Act(ctx, c.Param("code"))
	if err != nil {
		return err
	}
	if c.FormValue(confirmField) != "oui" {
		return s.render(c, http.StatusOK, "admin-confirm.html", "Retirer l'acte "+a.Code, confirmPage{
			Heading: "Retirer l'acte " + a.Code + " (" + a.Label + ") du catalogue ?",
			Warnings: []string{
				"Une clé NGAP absente du catalogue est refusée : aucune facture ne pourra plus porter " + a.Code + ".",
				"Un code CCAM, NABM ou LPP absent du catalogue reste accepté selon son format, par tout effecteur, sans plafond de prix.",
				"Les factures déjà reçues gardent leurs lignes et leurs montants.",
			},
			Action: "/admin/actes/" + a.Code + "/supprimer", Button: "Retirer l'acte " + a.Code,
			Back: navLink{Href: "/admin/actes", Label: "Garder l'acte et revenir au catalogue"},
		})
	}
	if err := s.billing.DeleteAct(ctx, p.Actor(), a.Code); err != nil {
		return err
	}
	return redirectWithFlash(c, "act-deleted", "/admin/actes")
}

func (s *Server) importActs(c echo.Context) error {
	p, _ := principal(c)
	body, ok, err := uploadedFile(c)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderActs(c, http.StatusUnprocessableEntity, actForm{}, importOutcome{Err: "Choisissez le fichier CSV des actes."})
	}
	res, err := s.billing.ImportActs(c.Request().Context(), p.Actor(), body)
	if err != nil {
		out, ok := importRefusal(err, actColumns)
		if !ok {
			return err
		}
		return s.renderActs(c, http.StatusUnprocessableEntity, actForm{}, out)
	}
	return s.renderActs(c, http.StatusOK, actForm{}, importOutcome{Done: true, Created: res.Created, Updated: res.Updated})
}

// uploadedFile reads the import form's file; ok is false when none was
// chosen.
func uploadedFile(c echo.Context) (body []byte, ok bool, err error) {
	fh, err := c.FormFile(importFileField)
	if err != nil {
		return nil, false, nil
	}
	body, err = readUpload(fh)
	return body, err == nil, err
}
