package web

import (
	"html/template"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"passd/calendar"
)

// statusFilter is a list's filter by status, read from ?statut= (filters
// live in the query string, never an identity): the choices of the select,
// the query string that keeps it on the next page and in the CSV link, and
// how many rows it matches.
type statusFilter struct {
	Param     string // the query parameter: statut, or tache for the jobs
	Label     string // the select's label
	ID        string // the select's id: filtre-<param>, apart from a form's fields
	Status    string
	Statuses  []choice
	Matching  int64
	Filtered  bool
	Query     template.URL
	FilterErr string
	Sort      string // the list's ?tri=, kept by the filter's form
}

// readStatusFilter reads ?statut= among all; a value that is none is said,
// and the list shows every row.
func readStatusFilter[T ~string](c echo.Context, all []T, label func(T) string) (T, statusFilter) {
	return readFilter(c, "statut", "Statut", all, label)
}

// readFilter reads ?param= among all, a select labelled label.
func readFilter[T ~string](c echo.Context, param, selectLabel string, all []T, label func(T) string) (T, statusFilter) {
	f := statusFilter{Param: param, Label: selectLabel, ID: "filtre-" + param, Status: c.QueryParam(param)}
	var chosen T
	if slices.Contains(all, T(f.Status)) {
		chosen = T(f.Status)
	} else if f.Status != "" {
		f.FilterErr, f.Status = "Ce filtre ne correspond à rien : toutes les lignes sont montrées.", ""
	}
	for _, st := range all {
		f.Statuses = append(f.Statuses, choice{Value: string(st), Label: label(st), Selected: string(st) == f.Status})
	}
	if f.Status != "" {
		f.Filtered, f.Query = true, template.URL(url.Values{param: {f.Status}}.Encode())
	}
	return chosen, f
}

// periodFilter is a list's filter on a period of days, read from ?du= and
// ?au= (YYYY-MM-DD, as a date input sends them), both days included.
type periodFilter struct {
	From, To       string        // as typed, for the form's inputs
	FromDay, ToDay calendar.Date // as read; zero: unbounded
	FromErr, ToErr bool          // the input is said to be wrong
	FilterErr      string
}

// readPeriod reads ?du= and ?au= for a period of what ("de soins"): a day
// that reads as none is said and left unbounded; a period that ends
// before it starts is said, and ignored.
func readPeriod(c echo.Context, what string) periodFilter {
	p := periodFilter{From: c.QueryParam("du"), To: c.QueryParam("au")}
	for _, d := range []struct {
		raw string
		day *calendar.Date
		bad *bool
	}{{p.From, &p.FromDay, &p.FromErr}, {p.To, &p.ToDay, &p.ToErr}} {
		if d.raw == "" {
			continue
		}
		day, err := calendar.Parse(d.raw)
		if err != nil {
			*d.bad, p.FilterErr = true, "Indiquez les dates "+what+" au format jj/mm/aaaa."
			continue
		}
		*d.day = day
	}
	if !p.FromDay.IsZero() && !p.ToDay.IsZero() && p.FromDay.After(p.ToDay) {
		p.FromDay, p.ToDay, p.ToErr = calendar.Date{}, calendar.Date{}, true
		p.FilterErr = "La date de fin précède la date de début : la période est ignorée."
	}
	return p
}
