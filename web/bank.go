package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
)

// A provider's page (/admin/effecteurs/:id: its details, the change of its
// bank details that waits, their history, and the form that edits it, as
// PATCH /providers/{id}) and finance's list of changes to confirm
// (/finances/coordonnees, as /bank-changes/{id}/confirm and /reject).

type providerPage struct {
	Provider              billing.Provider
	KindLabel, MaskedIBAN string
	Pending               *billing.BankChange
	History               []billing.BankChange
	Form                  providerForm
}

func (s *Server) providerPage(c echo.Context) error {
	return s.renderProviderPage(c, http.StatusOK, nil)
}

// renderProviderPage shows the provider of the path; form is the edit form
// as typed when it was refused (nil: the provider's details).
func (s *Server) renderProviderPage(c echo.Context, status int, form *providerForm) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.billing.Provider(ctx, id)
	if err != nil {
		return err
	}
	page := providerPage{Provider: p, KindLabel: providerKindFR[p.Kind], MaskedIBAN: MaskIBAN(p.IBAN)}
	if page.Pending, err = s.billing.PendingBankChange(ctx, id); err != nil {
		return err
	}
	if page.History, err = s.billing.BankChanges(ctx, billing.BankChangeFilter{Provider: id}, db.PageRequest{Limit: db.MaxLimit}); err != nil {
		return err
	}
	if form != nil {
		page.Form = *form
	} else {
		page.Form = providerForm{Kind: p.Kind, Name: p.Name, RPPS: p.RPPS, FINESS: p.FINESS, IBAN: p.IBAN, BIC: p.BIC}
	}
	return s.render(c, status, "admin-provider.html", p.Name, page)
}

// updateProvider is the provider page's form: every field is sent, the
// ones that did not change change nothing.
func (s *Server) updateProvider(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	f := readProviderForm(c)
	again := func(status int) error { return s.renderProviderPage(c, status, &f) }
	// Every field is sent, so the provider the form describes is the one
	// UpdateProvider would check: its problems are all told at once.
	if _, problems := f.provider(); len(problems) > 0 {
		return showRefusedFields(problems, f.explainEach, again)
	}
	patch := billing.ProviderPatch{Kind: &f.Kind, Name: &f.Name, RPPS: &f.RPPS, FINESS: &f.FINESS, IBAN: &f.IBAN, BIC: &f.BIC}
	_, change, err := s.billing.UpdateProvider(c.Request().Context(), p.Actor(), id, patch)
	if err != nil {
		return showRefusedForm(err, f.explain, again)
	}
	flash := "provider-updated"
	if change != nil {
		flash = "bank-change-requested"
	}
	return redirectWithFlash(c, flash, "/admin/effecteurs/"+c.Param("id"))
}

type bankChangeRow struct {
	Change  billing.BankChange
	Account string // the provider's name, or the régie
}

type bankChangesPage struct {
	Items []bankChangeRow
}

func (s *Server) bankChanges(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.billing.BankChanges(ctx, billing.BankChangeFilter{Status: billing.BankChangePending}, db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	var page bankChangesPage
	for _, ch := range list {
		row := bankChangeRow{Change: ch, Account: "Régie (compte débité)"}
		if ch.ProviderID != 0 {
			pr, err := s.billing.Provider(ctx, ch.ProviderID)
			if err != nil {
				return err
			}
			row.Account = pr.Name
		}
		page.Items = append(page.Items, row)
	}
	return s.render(c, http.StatusOK, "finance-bank.html", "Coordonnées bancaires à confirmer", page)
}

func (s *Server) confirmBankChange(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.billing.ConfirmBankChange(c.Request().Context(), p.Actor(), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "bank-change-confirmed", "/finances/coordonnees")
}

func (s *Server) rejectBankChange(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.billing.RejectBankChange(c.Request().Context(), p.Actor(), id, c.FormValue("reason")); err != nil {
		if fe, ok := fault.As(err); ok && fe.Field == "reason" {
			return fault.New(fault.Invalid, "Indiquez le motif du refus.").WithField("reason")
		}
		return err
	}
	return redirectWithFlash(c, "bank-change-rejected", "/finances/coordonnees")
}
