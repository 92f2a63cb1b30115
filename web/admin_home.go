package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// adminSection is one link of the admin's home.
type adminSection struct{ Href, Label, About string }

var adminSections = []adminSection{
	{Href: "/admin/effecteurs", Label: "Effecteurs", About: "Les effecteurs partenaires et leurs coordonnées bancaires ; en créer un."},
	{Href: "/admin/utilisateurs", Label: "Utilisateurs et jetons", About: "Les utilisateurs, leurs jetons d'accès ; en émettre, en révoquer."},
	{Href: "/admin/actes", Label: "Actes", About: "Le catalogue des actes : qui peut facturer chaque code, son taux, le plafond de son prix ; importer un fichier."},
	{Href: "/admin/medicaments", Label: "Médicaments", About: "La classe de remboursement de chaque médicament (CIP13) ; importer un fichier."},
	{Href: "/admin/taux", Label: "Taux", About: "Les taux de remboursement de la CPAM par régime et par classe, leur historique ; enregistrer un changement."},
	{Href: "/admin/parametres", Label: "Paramètres", About: "La régie, son plafond, le budget annuel, les délais et les plafonds des factures."},
	{Href: "/admin/taches", Label: "Tâches planifiées", About: "Les exécutions des tâches ; en lancer une maintenant."},
	{Href: "/admin/conventions", Label: "Conventions CCAS – SOS Médecins", About: "Les CCAS, les associations SOS Médecins, leurs conventions et leurs référents."},
}

func (s *Server) adminHome(c echo.Context) error {
	return s.render(c, http.StatusOK, "admin-home.html", "Administration", adminSections)
}
