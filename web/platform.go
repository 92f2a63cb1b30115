package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/fault"
	"passd/platform"
)

// /plateforme: the platform administrator's page (issue 18 §1). It lists
// the conventions of the deployment and creates one, after a confirmation
// page, as `passd convention create` does for the operator. The platform
// administrator reaches no other page but its account.

func (s *Server) platformRoutes(page func(method, path string, h echo.HandlerFunc, roles ...auth.Role)) {
	page(http.MethodGet, "/plateforme", s.platformPage, auth.PlatformAdmin)
	page(http.MethodPost, "/plateforme/conventions", s.createTenant, auth.PlatformAdmin)
}

type platformPage struct {
	Conventions []platform.Convention
	MaxName     int
	// The form: the name as typed, its error and the summary.
	Name, NameErr, Summary string
}

func (s *Server) platformPage(c echo.Context) error {
	return s.renderPlatform(c, http.StatusOK, "", "")
}

// renderPlatform shows the list and the form, with name as typed and its
// error (nameErr, "" for none).
func (s *Server) renderPlatform(c echo.Context, status int, name, nameErr string) error {
	list, err := s.platform.Conventions(c.Request().Context())
	if err != nil {
		return err
	}
	out := platformPage{Conventions: list, MaxName: platform.MaxName, Name: name, NameErr: nameErr}
	if nameErr != "" {
		out.Summary = "La convention n'a pas été créée : " + nameErr
	}
	return s.render(c, status, "platform.html", "Plateforme : les conventions", out)
}

const (
	tenantNameMissing = "Indiquez le nom de la convention (la ville ou le CCAS), de 1 à 200 caractères."
	tenantNameTaken   = "Une convention porte déjà ce nom : choisissez-en un autre."
)

// createTenant checks the name, asks for confirmation, then creates the
// convention; a name refused shows the form again with its error.
func (s *Server) createTenant(c echo.Context) error {
	p, _ := principal(c)
	ctx := c.Request().Context()
	typed := c.FormValue("name")
	name, err := platform.CheckName(typed)
	if err != nil {
		return s.renderPlatform(c, http.StatusUnprocessableEntity, typed, tenantNameMissing)
	}
	if c.FormValue(confirmField) != "oui" {
		list, err := s.platform.Conventions(ctx)
		if err != nil {
			return err
		}
		for _, t := range list {
			if t.Name == name {
				return s.renderPlatform(c, http.StatusUnprocessableEntity, typed, tenantNameTaken)
			}
		}
		return s.render(c, http.StatusOK, "admin-confirm.html", "Créer une convention", confirmPage{
			Heading: "Créer la convention « " + name + " » ?",
			Warnings: []string{
				"Créer la convention « " + name + " » : elle aura ses propres paramètres, une chaîne d'audit vide et une copie du barème de la convention n° 1.",
				"Une convention ne se supprime pas depuis passd : vérifiez son nom.",
				"Ses utilisateurs, à commencer par son administrateur, sont créés ensuite par l'exploitant (passd token create --convention).",
			},
			Action: "/plateforme/conventions", Button: "Créer la convention",
			Back:   navLink{Href: "/plateforme", Label: "Ne pas créer et revenir aux conventions"},
			Hidden: []hiddenField{{Name: "name", Value: name}},
		})
	}
	if _, err := s.platform.CreateConvention(ctx, p.Actor(), name); err != nil {
		fe, ok := clientFault(err)
		if !ok {
			return err
		}
		msg := tenantNameMissing
		if fe.Code == fault.Conflict {
			msg = tenantNameTaken
		}
		return s.renderPlatform(c, http.StatusUnprocessableEntity, typed, msg)
	}
	return redirectWithFlash(c, "tenant-created", "/plateforme")
}
