package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/fault"
)

// /admin/medicaments: the drug table (a CIP13's reimbursement class),
// searched and paged by CIP13, the form that adds or replaces a drug, the
// delete button (after a confirmation) and the CSV import, through
// billing's Drug.Validate, Drugs, PutDrug, DeleteDrug and ImportDrugs.

// drugsPerPage is how many drugs a page of the table lists.
const drugsPerPage = 50

// maxDrugSearch bounds the search field: a CIP13 or a part of a label.
const maxDrugSearch = 100

const drugColumns = "colonnes cip13, label et class (100, 65, 30 ou 15), séparées par des points-virgules ou des virgules."

type drugForm struct {
	CIP13, Label, Class          string
	CIP13Err, LabelErr, ClassErr string
	Summary                      string
}

// ClassChoices are the class select's options, the typed one selected.
func (f drugForm) ClassChoices() []choice {
	n, _ := strconv.Atoi(f.Class)
	return drugClassChoices(n)
}

type drugsPage struct {
	Search       string
	Class        int
	ClassChoices []choice
	Drugs        []billing.Drug
	Next         string // the next page's address, if any
	Paged        bool   // this is not the first page
	DefaultClass int    // of a CIP13 the table does not list
	Form         drugForm
	Import       importForm
}

// drugFilter reads the search and class of the query (?q=, ?classe=); a
// class that is not one is no filter.
func drugFilter(c echo.Context) billing.DrugFilter {
	f := billing.DrugFilter{Search: strings.TrimSpace(c.QueryParam("q"))}
	if len(f.Search) > maxDrugSearch {
		f.Search = f.Search[:maxDrugSearch]
	}
	if n, err := strconv.Atoi(c.QueryParam("classe")); err == nil && slices.Contains(billing.DrugClasses, n) {
		f.Class = n
	}
	return f
}

func (s *Server) adminDrugs(c echo.Context) error {
	var f drugForm
	if cip := strings.TrimSpace(c.QueryParam("modifier")); cip != "" {
		d, err := s.billing.Drug(c.Request().Context(), cip)
		if err != nil {
			return err
		}
		f = drugForm{CIP13: d.CIP13, Label: d.Label, Class: strconv.Itoa(d.Class)}
	}
	return s.renderDrugs(c, http.StatusOK, f, importOutcome{})
}

func (s *Server) renderDrugs(c echo.Context, status int, f drugForm, imp importOutcome) error {
	ctx := c.Request().Context()
	filter := drugFilter(c)
	after := strings.TrimSpace(c.QueryParam("apres"))
	drugs, err := s.billing.Drugs(ctx, filter, after, drugsPerPage+1)
	if err != nil {
		return err
	}
	st, err := s.billing.Settings(ctx)
	if err != nil {
		return err
	}
	page := drugsPage{Search: filter.Search, Class: filter.Class, ClassChoices: drugClassChoices(filter.Class), Paged: after != "",
		DefaultClass: st.DrugClass(), Form: f,
		Import: importForm{Action: "/admin/medicaments/importer", Label: "Fichier CSV des médicaments", Columns: drugColumns,
			Note: "Les médicaments que le fichier ne nomme pas restent inchangés.", importOutcome: imp}}
	if len(drugs) > drugsPerPage {
		drugs = drugs[:drugsPerPage]
		q := url.Values{"apres": {drugs[len(drugs)-1].CIP13}}
		if filter.Search != "" {
			q.Set("q", filter.Search)
		}
		if filter.Class != 0 {
			q.Set("classe", strconv.Itoa(filter.Class))
		}
		page.Next = "/admin/medicaments?" + q.Encode()
	}
	page.Drugs = drugs
	return s.render(c, status, "admin-drugs.html", "Médicaments", page)
}

func (s *Server) putDrug(c echo.Context) error {
	p, _ := principal(c)
	f := drugForm{CIP13: strings.TrimSpace(c.FormValue("cip13")), Label: strings.TrimSpace(c.FormValue("label")),
		Class: strings.TrimSpace(c.FormValue("class"))}
	d := billing.Drug{CIP13: f.CIP13, Label: f.Label}
	again := func(status int) error { return s.renderDrugs(c, status, f, importOutcome{}) }
	var read []error
	if f.Class == "" {
		read = append(read, fault.Field("class", "class is required"))
	} else if class, err := formInt("class", f.Class); err != nil {
		read = append(read, err)
	} else {
		d.Class = class
	}
	// Every field's problem at once; PutDrug checks the same again.
	if problems := eachFieldOnce(read, d.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	if _, err := s.billing.PutDrug(c.Request().Context(), p.Actor(), d); err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "drug-saved", "/admin/medicaments")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *drugForm) explain(errs ...error) bool {
	return explainEach(errs, "drug", map[string]*string{"cip13": &f.CIP13Err, "label": &f.LabelErr, "class": &f.ClassErr}, &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f drugForm) Problems() []problemLink {
	return fieldProblems("cip13", f.CIP13Err, "label", f.LabelErr, "class", f.ClassErr)
}

func (s *Server) deleteDrug(c echo.Context) error {
	p, _ := principal(c)
	ctx := c.Request().Context()
	d, err := s.billing.Drug(ctx, c.Param("cip13"))
	if err != nil {
		return err
	}
	if c.FormValue(confirmField) != "oui" {
		st, err := s.billing.Settings(ctx)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusOK, "admin-confirm.html", "Retirer le médicament "+d.CIP13, confirmPage{
			Heading: "Retirer le médicament " + d.CIP13 + " (" + d.Label + ") de la table ?",
			Warnings: []string{
				"Les prochaines factures qui le portent le classeront dans la classe par défaut : " + DrugClassLabel(st.DrugClass()) +
					" (au lieu de " + DrugClassLabel(d.Class) + ").",
				"Les factures déjà reçues gardent la classe de leurs lignes.",
			},
			Action: "/admin/medicaments/" + d.CIP13 + "/supprimer", Button: "Retirer le médicament " + d.CIP13,
			Back: navLink{Href: "/admin/medicaments", Label: "Garder le médicament et revenir à la table"},
		})
	}
	if err := s.billing.DeleteDrug(ctx, p.Actor(), d.CIP13); err != nil {
		return err
	}
	return redirectWithFlash(c, "drug-deleted", "/admin/medicaments")
}

func (s *Server) importDrugs(c echo.Context) error {
	p, _ := principal(c)
	body, ok, err := uploadedFile(c)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderDrugs(c, http.StatusUnprocessableEntity, drugForm{}, importOutcome{Err: "Choisissez le fichier CSV des médicaments."})
	}
	res, err := s.billing.ImportDrugs(c.Request().Context(), p.Actor(), body)
	if err != nil {
		out, ok := importRefusal(err, drugColumns)
		if !ok {
			return err
		}
		return s.renderDrugs(c, http.StatusUnprocessableEntity, drugForm{}, out)
	}
	return s.renderDrugs(c, http.StatusOK, drugForm{}, importOutcome{Done: true, Created: res.Created, Updated: res.Updated})
}
