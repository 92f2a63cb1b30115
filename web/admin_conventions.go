package web

import (
	"net/http"

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
	// id), its errors and summary.
	Failed  string
	Errors  map[string]string
	Summary string
}

var orgKindFR = map[referrals.OrgKind]string{referrals.OrgCCAS: "CCAS ou CIAS", referrals.OrgAssociation: "Association SOS Médecins"}

func (s *Server) adminConventions(c echo.Context) error {
	return s.renderAdminConventions(c, http.StatusOK, "", nil)
}

func (s *Server) renderAdminConventions(c echo.Context, status int, failed string, err error) error {
	page := adminConventionsPage{Failed: failed, Errors: map[string]string{}}
	if err != nil && !explainReferral(err, page.Errors, &page.Summary) {
		return err
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
	page.Kinds = choices(referrals.OrgKinds, orgKindFR, "")
	page.Sides = choices([]referrals.Side{referrals.SideCCAS, referrals.SideAssociation},
		map[referrals.Side]string{referrals.SideCCAS: "CCAS", referrals.SideAssociation: "SOS Médecins"}, "")
	return s.render(c, status, "admin-conventions.html", "Conventions CCAS – SOS Médecins", page)
}

// refused shows the page again with a form's errors, or leaves a server
// error to the error page.
func (s *Server) refusedConvention(c echo.Context, failed string, err error) error {
	if _, ok := clientFault(err); !ok {
		return err
	}
	return s.renderAdminConventions(c, http.StatusUnprocessableEntity, failed, err)
}

func (s *Server) createOrganisation(c echo.Context) error {
	p, _ := principal(c)
	if _, err := s.referrals.CreateOrganisation(c.Request().Context(), p.Actor(), c.FormValue("kind"), c.FormValue("name")); err != nil {
		return s.refusedConvention(c, "organisation", err)
	}
	return redirectWithFlash(c, "organisation-created", "/admin/conventions")
}

func (s *Server) createConvention(c echo.Context) error {
	p, _ := principal(c)
	ids := map[string]int64{}
	for _, field := range []string{"ccas_id", "association_id"} {
		id, err := ident.ParseID(c.FormValue(field))
		if err != nil {
			return s.refusedConvention(c, "convention", fault.Field(field, "%s must be an id", field))
		}
		ids[field] = id
	}
	signed, err := calendar.Parse(c.FormValue("signed_on"))
	if err != nil {
		return s.refusedConvention(c, "convention", fault.Field("signed_on", "signed_on must be a date"))
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
	if _, err := s.referrals.AddReferent(c.Request().Context(), p.Actor(), id, in); err != nil {
		return s.refusedConvention(c, ident.FormatID(id), err)
	}
	return redirectWithFlash(c, "referent-added", "/admin/conventions")
}
