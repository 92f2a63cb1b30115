package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
	"sync"

	"passd/calendar"
	"passd/programme"
	"passd/referrals"
)

// The printed annual report: the /bilan page's figures in a document of
// their own, with its stylesheet inside (the PDF is made from a file, with
// no server to fetch one from).

type reportDoc struct {
	Page                        programmePage
	Convention, Period, Printed string
	CSS                         template.CSS
}

// printFiles are documents made to be printed from a file, not served:
// the Content-Security-Policy of the pages (no inline style) does not
// apply to them, and their stylesheet is inside.
//
//go:embed print/*.html
var printFiles embed.FS

var reportTemplate = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New("report").Funcs(funcs).ParseFS(printFiles, "print/programme.html")
	if err != nil {
		return nil, err
	}
	return t.ParseFS(templateFiles, "templates/_programme.html")
})

// RenderProgrammeReport writes the year's report r, with the CCAS–SOS
// Médecins convention's figures ind, as a standalone HTML document for
// printing: convention names the programme (the régie's name), today
// dates the edition and ends the months shown.
func RenderProgrammeReport(w io.Writer, r programme.Report, ind referrals.Indicators, year int, convention string, today calendar.Date) error {
	t, err := reportTemplate()
	if err != nil {
		return fmt.Errorf("web: report template: %w", err)
	}
	css, err := fs.ReadFile(staticFiles, "static/passd.css")
	if err != nil {
		return fmt.Errorf("web: report stylesheet: %w", err)
	}
	p := r.Current.Period
	page := newProgrammePage(r, year, today)
	page.Convention = conventionRows(ind)
	doc := reportDoc{Page: page, Convention: strings.TrimSpace(convention),
		Period: "Du " + FormatDate(p.From) + " au " + FormatDate(p.To), Printed: FormatDate(today), CSS: template.CSS(css)}
	if doc.Convention == "" {
		doc.Convention = "PASS ambulatoire"
	}
	if err := t.ExecuteTemplate(w, "report", doc); err != nil {
		return fmt.Errorf("web: render the report: %w", err)
	}
	return nil
}
