package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/calendar"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/referrals"
)

// /admin/conventions: the CCAS and SOS Médecins associations, the local
// conventions between them and their referents (issue 17), recorded by the
// admin as POST /organisations, /conventions and
// /conventions/{id}/referents do.

func (s *Server) adminConventionRoutes(page func(method, path string, h echo.HandlerFunc, roles ...auth.Role)) {
	page(http.MethodGet, "/admin/conventions", s.adminConventions, auth.Admin)
	page(http.MethodPost, "/admin/conventions/organismes", s.createOrganisation, auth.Admin)
	page(http.MethodPost, "/admin/conventions", s.createConvention, auth.Admin)
	page(http.MethodPost, "/admin/conventions/:id/referents", s.addReferent, auth.Admin)
}

type adminConventionsPage struct {
	Organisations      []referrals.Organisation
	Conventions        []referrals.Convention
	CCAS, Associations []choice
	Kinds, Sides       []choice
	// The form refused ("organisation", "convention" or a convention's
	// id), its errors, its summary, and what was typed in it (by field).
	Failed  string
	Errors  map[string]string
	Summary string
	Typed   map[string]string
}

// Problems is the error summary: each field's message, linking to the
// field of the form refused (a referent's fields carry its convention).
func (p adminConventionsPage) Problems() []problemLink {
	var pairs []string
	switch p.Failed {
	case "":
		return nil
	case "organisation":
		pairs = []string{"kind", p.Errors["kind"], "org-name", p.Errors["name"]}
	case "convention":
		pairs = []string{"ccas_id", p.Errors["ccas_id"], "association_id", p.Errors["association_id"], "signed_on", p.Errors["signed_on"]}
	default:
		for _, field := range []string{"side", "name", "title", "phone", "email"} {
			pairs = append(pairs, field+"-"+p.Failed, p.Errors[field])
		}
	}
	return fieldProblems(pairs...)
}

// SidesFor is the referent form's sides for convention id, the one typed
// selected when that form was refused.
func (p adminConventionsPage) SidesFor(id string) []choice { return p.chosen(id, "side", p.Sides) }

// chosen is choices with the one typed in field of the form refused
// selected.
func (p adminConventionsPage) chosen(form, field string, list []choice) []choice {
	if p.Failed != form {
		return list
	}
	out := slices.Clone(list)
	for i := range out {
		out[i].Selected = out[i].Value == p.Typed[field]
	}
	return out
}

var orgKindFR = map[referrals.OrgKind]string{referrals.OrgCCAS: "CCAS ou CIAS", referrals.OrgAssociation: "Association SOS Médecins"}

func (s *Server) adminConventions(c echo.Context) error {
	return s.renderAdminConventions(c, http.StatusOK, "")
}

// renderAdminConventions shows the page, with the errors of the form
// failed when there are some, and what was typed in it kept.
func (s *Server) renderAdminConventions(c echo.Context, status int, failed string, errs ...error) error {
	page := adminConventionsPage{Failed: failed, Errors: map[string]string{}, Typed: map[string]string{}}
	for _, err := range errs {
		if !explainReferral(err, page.Errors, &page.Summary) {
			return err
		}
	}
	if len(errs) > 0 {
		page.Summary, page.Typed = referralNotSaved, typedValues(c)
	}
	ctx := c.Request().Context()
	var lerr error
	if page.Organisations, lerr = s.referrals.Organisations(ctx); lerr != nil {
		return lerr
	}
	if page.Conventions, lerr = s.referrals.Conventions(ctx, "", 0); lerr != nil {
		return lerr
	}
	for _, o := range page.Organisations {
		ch := choice{Value: ident.FormatID(o.ID), Label: o.Name}
		if o.Kind == referrals.OrgCCAS {
			page.CCAS = append(page.CCAS, ch)
		} else {
			page.Associations = append(page.Associations, ch)
		}
	}
	page.Kinds = page.chosen("organisation", "kind", choices(referrals.OrgKinds, orgKindFR, ""))
	page.Sides = choices([]referrals.Side{referrals.SideCCAS, referrals.SideAssociation},
		map[referrals.Side]string{referrals.SideCCAS: "CCAS", referrals.SideAssociation: "SOS Médecins"}, "")
	page.CCAS = page.chosen("convention", "ccas_id", page.CCAS)
	page.Associations = page.chosen("convention", "association_id", page.Associations)
	return s.render(c, status, "admin-conventions.html", "Conventions CCAS – SOS Médecins", page)
}

// refusedConvention shows the page again with every error of a form, or
// leaves a server error to the error page.
func (s *Server) refusedConvention(c echo.Context, failed string, errs ...error) error {
	for _, err := range errs {
		if _, ok := clientFault(err); !ok {
			return err
		}
	}
	return s.renderAdminConventions(c, http.StatusUnprocessableEntity, failed, errs...)
}

func (s *Server) createOrganisation(c echo.Context) error {
	p, _ := principal(c)
	kind, name := c.FormValue("kind"), c.FormValue("name")
	if problems := referrals.OrganisationProblems(kind, name); len(problems) > 0 {
		return s.refusedConvention(c, "organisation", problems...)
	}
	if _, err := s.referrals.CreateOrganisation(c.Request().Context(), p.Actor(), kind, name); err != nil {
		return s.refusedConvention(c, "organisation", err)
	}
	return redirectWithFlash(c, "organisation-created", "/admin/conventions")
}

func (s *Server) createConvention(c echo.Context) error {
	p, _ := principal(c)
	ids := map[string]int64{}
	var problems []error
	for _, field := range []string{"ccas_id", "association_id"} {
		id, err := ident.ParseID(c.FormValue(field))
		if err != nil {
			problems = append(problems, fault.Field(field, "%s must be an id", field))
		}
		ids[field] = id
	}
	signed, err := calendar.Parse(c.FormValue("signed_on"))
	if err != nil {
		problems = append(problems, fault.Field("signed_on", "signed_on must be a date"))
	}
	if len(problems) > 0 {
		return s.refusedConvention(c, "convention", problems...)
	}
	if _, err := s.referrals.CreateConvention(c.Request().Context(), p.Actor(), ids["ccas_id"], ids["association_id"], signed); err != nil {
		return s.refusedConvention(c, "convention", err)
	}
	return redirectWithFlash(c, "convention-created", "/admin/conventions")
}

func (s *Server) addReferent(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	in := referrals.NewReferent{Side: c.FormValue("side"), Name: c.FormValue("name"), Title: c.FormValue("title"),
		Phone: c.FormValue("phone"), Email: c.FormValue("email")}
	if problems := in.Problems(); len(problems) > 0 {
		return s.refusedConvention(c, ident.FormatID(id), problems...)
	}
	if _, err := s.referrals.AddReferent(c.Request().Context(), p.Actor(), id, in); err != nil {
		return s.refusedConvention(c, ident.FormatID(id), err)
	}
	return redirectWithFlash(c, "referent-added", "/admin/conventions")
}
