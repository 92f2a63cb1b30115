package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"passd/auth"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/spreadsheet"
)

// /admin/utilisateurs: the users, their tokens (their records, never the
// tokens themselves), revoking one, creating a user with its first token,
// resetting a user's tokens and confirming a token another admin issued
// (auth.Store's Enrol, Reset and ConfirmToken: no admin obtains a working
// token of a user that exists).

type userRow struct {
	ID                   int64
	Name, Role, Provider string
	Disabled             *time.Time // when the user was disabled; nil: enabled
	Tokens               []tokenRow
}

type tokenRow struct {
	auth.TokenInfo
	Active bool
}

type tokenForm struct {
	Name, Role, ProviderID        string
	NameErr, RoleErr, ProviderErr string
	// OrganisationID: the CCAS or association of a social worker or a
	// doctor (issue 17).
	OrganisationID, OrganisationErr string
	Summary                         string
}

type usersPage struct {
	Users     []*userRow
	Roles     []choice
	Providers []choice
	// Organisations: the CCAS and SOS Médecins associations, for a social
	// worker's or a doctor's user.
	Organisations []choice
	Form          tokenForm
	Filter        statusFilter // by role (?role=)
	ByName        bool         // ?tri=nom: by name rather than newest first
	SortLink      template.URL // the other order, the filter kept
}

// issuedPage shows a new token, once.
type issuedPage struct {
	Name, Role string
	Token      string
	ExpiresAt  string
	// AwaitsSecondAdmin: the token works once another admin confirms it;
	// Reset: it replaces every token the user had.
	AwaitsSecondAdmin, Reset bool
}

func (s *Server) adminUsers(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, tokenForm{})
}

func (s *Server) renderUsers(c echo.Context, status int, form tokenForm) error {
	ctx := c.Request().Context()
	// Providers for the form's select and the users' rows; the page lists
	// the newest db.MaxLimit, which a municipal PASS does not outgrow.
	providers, err := s.billing.Providers(ctx, db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	names := map[int64]string{}
	out := usersPage{Form: form}
	for _, p := range providers {
		names[p.ID] = p.Name
		id := strconv.FormatInt(p.ID, 10)
		out.Providers = append(out.Providers, choice{Value: id, Label: p.Name, Selected: id == form.ProviderID})
	}
	for _, r := range auth.Roles {
		if r == auth.PlatformAdmin {
			continue // the operator's to create (auth.Enrol refuses it)
		}
		out.Roles = append(out.Roles, choice{Value: string(r), Label: roleFR[r], Selected: string(r) == form.Role})
	}
	if out.Organisations, err = s.organisationChoices(ctx, form.OrganisationID); err != nil {
		return err
	}
	only, filter := readFilter(c, "role", "Rôle", auth.Roles, func(r auth.Role) string { return roleFR[r] })
	out.ByName = c.QueryParam("tri") == "nom"
	if out.ByName {
		filter.Sort = "nom"
	}
	out.Filter, out.SortLink = filter, usersSortLink(filter.Status, !out.ByName)
	if out.Users, err = s.userRows(ctx, names, only, out.ByName); err != nil {
		return err
	}
	out.Filter.Matching = int64(len(out.Users))
	return s.render(c, status, "admin-users.html", "Utilisateurs et jetons", out)
}

// usersSortLink is the query of the users listed with role (""
// all), by name or newest first.
func usersSortLink(role string, byName bool) template.URL {
	q := url.Values{}
	if role != "" {
		q.Set("role", role)
	}
	if byName {
		q.Set("tri", "nom")
	}
	return template.URL(q.Encode())
}

// userRows are the users, with their tokens, of role only ("" all):
// newest first, or by name (letters compared without case or accents).
// names holds the providers' names, completed as rows need them.
func (s *Server) userRows(ctx context.Context, providers map[int64]string, only auth.Role, byName bool) ([]*userRow, error) {
	var users []*userRow
	byUser := map[int64]*userRow{}
	now := s.now()
	err := s.users.Tokens(ctx, "", func(t auth.TokenInfo) error {
		u, ok := byUser[t.UserID]
		if !ok {
			u = &userRow{ID: t.UserID, Name: t.User, Role: roleFR[t.Role], Disabled: t.UserDisabledAt}
			if t.ProviderID != 0 {
				u.Provider = providers[t.ProviderID]
				if u.Provider == "" {
					p, err := s.billing.Provider(ctx, t.ProviderID)
					if err != nil {
						return err
					}
					u.Provider, providers[t.ProviderID] = p.Name, p.Name
				}
			}
			byUser[t.UserID] = u
			if only == "" || t.Role == only {
				users = append(users, u)
			}
		}
		u.Tokens = append(u.Tokens, tokenRow{TokenInfo: t, Active: t.Active(now)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// French collation (x/text): accents and case second, as a directory.
	names := collate.New(language.French, collate.IgnoreCase, collate.Loose)
	slices.SortStableFunc(users, func(a, b *userRow) int {
		if byName {
			if c := names.CompareString(a.Name, b.Name); c != 0 {
				return c
			}
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return users, nil
}

// usersCSV downloads the users as the page lists them, filtered and
// sorted: each with its role, provider, state and credentials' use.
func (s *Server) usersCSV(c echo.Context) error {
	ctx := c.Request().Context()
	only, _ := readFilter(c, "role", "Rôle", auth.Roles, func(r auth.Role) string { return roleFR[r] })
	users, err := s.userRows(ctx, map[int64]string{}, only, c.QueryParam("tri") == "nom")
	if err != nil {
		return err
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "utilisateurs-pass.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Nom", "Rôle", "Effecteur", "État", "Jetons actifs", "Jetons", "Dernier usage"); err != nil {
			return err
		}
		for _, u := range users {
			state, active, last := "actif", 0, ""
			if u.Disabled != nil {
				state = "désactivé le " + FormatMoment(*u.Disabled)
			}
			var lastUse time.Time
			for _, t := range u.Tokens {
				if t.Active {
					active++
				}
				if t.LastUsedAt != nil && t.LastUsedAt.After(lastUse) {
					lastUse = *t.LastUsedAt
				}
			}
			if !lastUse.IsZero() {
				last = FormatMoment(lastUse)
			}
			err := out.Write(spreadsheet.Text(u.Name), u.Role, spreadsheet.Text(u.Provider), state,
				strconv.Itoa(active), strconv.Itoa(len(u.Tokens)), last)
			if err != nil {
				return err
			}
		}
		return out.Flush()
	})
}

// revokeToken is "Révoquer" on one token.
func (s *Server) revokeToken(c echo.Context) error {
	p, _ := principal(c)
	id, err := ident.ParseID(c.Param("id"))
	if err != nil {
		return fault.New(fault.NotFound, "no such token")
	}
	if c.FormValue(confirmField) != "oui" {
		name, role, err := s.users.TokenHolder(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusOK, "admin-confirm.html", "Révoquer un jeton", confirmPage{
			Heading: fmt.Sprintf("Révoquer le jeton n° %d de %s (%s) ?", id, name, roleFR[role]),
			Warnings: []string{
				"Le jeton cesse de fonctionner aussitôt, et les sessions ouvertes avec lui prennent fin.",
				"Une révocation est définitive : pour rendre l'accès, réinitialisez ses jetons (un autre administrateur confirmera le nouveau).",
			},
			Action: fmt.Sprintf("/admin/utilisateurs/jetons/%d/revoquer", id), Button: fmt.Sprintf("Révoquer le jeton n° %d", id),
			Back: navLink{Href: "/admin/utilisateurs", Label: "Garder le jeton et revenir aux utilisateurs"},
		})
	}
	if _, err := s.users.Revoke(c.Request().Context(), p.Actor(), auth.Revocation{ID: id}); err != nil {
		return err
	}
	return redirectWithFlash(c, "token-revoked", "/admin/utilisateurs")
}

// issueToken creates a user and shows its first token, once: it is stored
// only as its hash. A name already taken is refused (user_exists).
func (s *Server) issueToken(c echo.Context) error {
	p, _ := principal(c)
	f := tokenForm{Name: strings.TrimSpace(c.FormValue("name")), Role: strings.TrimSpace(c.FormValue("role")),
		ProviderID: strings.TrimSpace(c.FormValue("provider_id")), OrganisationID: strings.TrimSpace(c.FormValue("organisation_id"))}
	req := auth.Enrolment{Name: f.Name, Role: auth.Role(f.Role), Actor: p.Actor()}
	again := func(status int) error { return s.renderUsers(c, status, f) }
	var read []error
	var err error
	if f.ProviderID != "" {
		if req.ProviderID, err = ident.ParseID(f.ProviderID); err != nil {
			read = append(read, fault.Field("provider_id", "provider_id must be an id"))
		}
	}
	if f.OrganisationID != "" {
		if req.OrganisationID, err = ident.ParseID(f.OrganisationID); err != nil {
			read = append(read, fault.Field("organisation_id", "organisation_id must be an id"))
		}
	}
	// Every field's problem at once; Enrol checks the same again.
	if problems := eachFieldOnce(read, auth.TokenRequest(req).Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	enrolled, err := s.users.Enrol(c.Request().Context(), req)
	if err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return s.render(c, http.StatusOK, "admin-token.html", "Jeton émis",
		issuedPage{Name: f.Name, Role: roleFR[req.Role], Token: enrolled.Token, ExpiresAt: FormatMoment(enrolled.ExpiresAt),
			AwaitsSecondAdmin: enrolled.Pending})
}

// resetUser revokes every token of a user and shows the new one, which
// works once another admin confirms it.
func (s *Server) resetUser(c echo.Context) error {
	p, _ := principal(c)
	name := strings.TrimSpace(c.FormValue("name"))
	issued, err := s.users.Reset(c.Request().Context(), p.Actor(), name)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin-token.html", "Jetons réinitialisés",
		issuedPage{Name: name, Token: issued.Token, ExpiresAt: FormatMoment(issued.ExpiresAt), AwaitsSecondAdmin: true, Reset: true})
}

// confirmToken is "Confirmer" on a token another admin issued.
func (s *Server) confirmToken(c echo.Context) error {
	p, _ := principal(c)
	id, err := ident.ParseID(c.Param("id"))
	if err != nil {
		return fault.New(fault.NotFound, "no such token")
	}
	if err := s.users.ConfirmToken(c.Request().Context(), p.Actor(), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "token-confirmed", "/admin/utilisateurs")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *tokenForm) explain(errs ...error) bool {
	return explainEach(errs, "token", map[string]*string{"name": &f.NameErr, "role": &f.RoleErr, "provider_id": &f.ProviderErr,
		"organisation_id": &f.OrganisationErr}, &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f tokenForm) Problems() []problemLink {
	return fieldProblems("name", f.NameErr, "role", f.RoleErr, "provider_id", f.ProviderErr, "organisation_id", f.OrganisationErr)
}

// setUserEnabled is the buttons "Désactiver" (asked first) and
// "Réactiver" of a user.
func (s *Server) setUserEnabled(enabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principal(c)
		id, err := ident.ParseID(c.Param("id"))
		if err != nil {
			return fault.New(fault.NotFound, "no such user")
		}
		if !enabled && c.FormValue(confirmField) != "oui" && id != p.UserID {
			return s.render(c, http.StatusOK, "admin-confirm.html", "Désactiver un utilisateur", confirmPage{
				Heading: fmt.Sprintf("Désactiver l'utilisateur n° %d ?", id),
				Warnings: []string{
					"Aucun de ses jetons ne fonctionne plus, dès maintenant ; ses sessions ouvertes prennent fin.",
					"Son nom reste dans l'historique. Vous pourrez le réactiver : ses jetons encore valides fonctionneront de nouveau.",
				},
				Action: fmt.Sprintf("/admin/utilisateurs/%d/desactiver", id), Button: "Désactiver l'utilisateur",
				Back: navLink{Href: "/admin/utilisateurs", Label: "Ne rien changer et revenir aux utilisateurs"},
			})
		}
		if err := s.users.SetUserEnabled(c.Request().Context(), p.Actor(), id, enabled); err != nil {
			if fault.Is(err, fault.Conflict) {
				return s.renderUsers(c, http.StatusConflict, tokenForm{Summary: "Vous ne pouvez pas vous désactiver vous-même : un autre administrateur le peut."})
			}
			return err
		}
		if enabled {
			return redirectWithFlash(c, "user-enabled", "/admin/utilisateurs")
		}
		return redirectWithFlash(c, "user-disabled", "/admin/utilisateurs")
	}
}
