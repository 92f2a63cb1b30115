package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/rights"
	"passd/spreadsheet"
	"passd/text"
)

// The coordinator's pages: find or open a patient file, record its rights
// application, print its PASS attestation, and chase the files whose
// invoices near their deadline. Every page that shows an identity reads it
// through claims.Store, which writes the access log in the same statement.

// regimeOptions are the coverage regimes in French, in the order of the
// select.
var regimeOptions = func() (out []option) {
	for _, r := range rights.Regimes {
		out = append(out, option{string(r), r.Label()})
	}
	return out
}()

type option struct{ Value, Label string }

// RegimeLabel is a coverage regime in French ("" stays "").
func RegimeLabel(regime string) string { return rights.Regime(regime).Label() }

// AttestationMonths is how long a printed PASS attestation is valid: the
// time rights usually take to open, after which the coordinator prints a
// new one.
const AttestationMonths = 3

// ---- search, and the files to work through ----

// filesPage is the coordinator's home: the search form, what a search
// found (a POST), or the list of files to work through (a GET).
type filesPage struct {
	Query    string
	Searched bool
	Err      string
	Results  []claims.SearchResult
	More     bool // more files match than searchResultsLimit
	List     fileList
}

// fileList is the work list: file numbers and rights, no identity, so that
// reading it all day reads no one's identity; opening a file does, and is
// logged.
type fileList struct {
	Status     string
	Statuses   []option
	Rows       []claims.FileRow
	Total      int64
	NextCursor string
	Order      listOrder // by opening date
}

// searchResultsLimit bounds what a search shows: past it, the coordinator
// types more of the name rather than reading on.
const searchResultsLimit = 20

// coordinatorFiles is the search form, empty, above the files newest
// first, filtered by ?statut= and paged by ?cursor=. Filters go in the
// query string; identity never does: a search is a POST (searchFiles), so
// that no name, birth date or NIR is ever in a URL, where a proxy's access
// log, the browser's history or a Referer would keep it.
func (s *Server) coordinatorFiles(c echo.Context) error {
	list := fileList{Status: c.QueryParam("statut"), Statuses: []option{{"", "Tous"}}}
	for _, st := range rights.Statuses {
		list.Statuses = append(list.Statuses, option{string(st), st.Label()})
	}
	if list.Status != "" && !slices.Contains(rights.Statuses, rights.Status(list.Status)) {
		return fault.Field("statut", "statut is one of %s", text.JoinValues(rights.Statuses))
	}
	list.Order = readListOrder(c, "Ouvert le", url.Values{"statut": {list.Status}})
	var total int64
	page, err := readOrderedPage(c, list.Order, func(ctx context.Context, page db.PageRequest) (rows []claims.FileRow, err error) {
		rows, total, err = s.claims.Files(ctx, rights.Status(list.Status), page)
		return rows, err
	}, func(f claims.FileRow) int64 { return f.ID }, asRead)
	if err != nil {
		return err
	}
	list.Rows, list.Total, list.NextCursor = page.Items, total, page.NextCursor
	return s.render(c, http.StatusOK, "coordinator-files.html", "Dossiers", filesPage{List: list})
}

// filesCSV downloads the files as the list shows them, filtered and
// ordered: their numbers, rights and dates, no identity.
func (s *Server) filesCSV(c echo.Context) error {
	status := rights.Status(c.QueryParam("statut"))
	if status != "" && !slices.Contains(rights.Statuses, status) {
		return fault.Field("statut", "statut is one of %s", text.JoinValues(rights.Statuses))
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "dossiers-pass.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Dossier", "Droits", "Ouvert le", "Dernière facture"); err != nil {
			return err
		}
		err := s.claims.EachFile(c.Request().Context(), status, c.QueryParam("tri") == oldestFirst, func(f claims.FileRow) error {
			last := ""
			if !f.LastInvoice.IsZero() {
				last = spreadsheet.Date(f.LastInvoice)
			}
			return out.Write(f.FileNumber, f.RightsStatus.Label(), spreadsheet.Date(calendar.Today(f.CreatedAt)), last)
		})
		if err != nil {
			return err
		}
		return out.Flush()
	})
}

// searchFiles looks files up by what the form's body holds (claims.ParseSearch
// tells a name, a birth date, a file number and a NIR apart), and shows
// them in the answer to the POST.
func (s *Server) searchFiles(c echo.Context) error {
	p, _ := principal(c)
	page := filesPage{Query: strings.TrimSpace(c.FormValue("q")), Searched: true}
	q, err := claims.ParseSearch(page.Query)
	if err != nil {
		switch {
		case errors.Is(err, claims.ErrSearchEmpty):
			page.Err = "Saisissez un nom, une date de naissance, un numéro de dossier ou un NIR."
		case errors.Is(err, claims.ErrSearchTooShort):
			page.Err = "Saisissez au moins 3 lettres du nom (ou un nom de 2 lettres en entier), ou 3 caractères du numéro de dossier."
		case fault.Is(err, fault.Invalid):
			page.Err = fmt.Sprintf("Saisissez au plus %d caractères.", claims.MaxSearchInput)
		default:
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "coordinator-files.html", "Dossiers", page)
	}
	page.Results, page.More, err = s.claims.SearchPatients(c.Request().Context(), p.Actor(), q, searchResultsLimit)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "coordinator-files.html", "Dossiers", page)
}

// ---- a new file ----

type patientForm struct {
	LastName, FirstName, BirthDate, NIR, Commune string
	LastErr, FirstErr, BirthErr, NIRErr          string
	CommuneErr, Summary                          string
}

func (s *Server) newPatientForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "coordinator-new.html", "Nouveau dossier", patientForm{})
}

func (s *Server) createPatient(c echo.Context) error {
	p, _ := principal(c)
	f := patientForm{LastName: strings.TrimSpace(c.FormValue("last_name")), FirstName: strings.TrimSpace(c.FormValue("first_name")),
		BirthDate: strings.TrimSpace(c.FormValue("birth_date")), NIR: strings.TrimSpace(c.FormValue("nir")),
		Commune: strings.TrimSpace(c.FormValue("commune_code"))}
	again := func(status int) error { return s.render(c, status, "coordinator-new.html", "Nouveau dossier", f) }
	// The form builds the same request as POST /patients, and the same
	// rules apply to it; a NIR left blank is an unknown NIR, as the API
	// allows. Every field's problem is told at once.
	np := claims.NewPatient{LastName: f.LastName, FirstName: f.FirstName, NIR: f.NIR, CommuneCode: f.Commune}
	var err error
	np.BirthDate, err = parseFormDate("birth_date", f.BirthDate)
	if problems := eachFieldOnce([]error{err}, np.Problems(calendar.Today(s.now()))); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	created, err := s.claims.CreatePatient(c.Request().Context(), p.Actor(), np)
	if err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "patient-created", fmt.Sprintf("/coordination/dossiers/%d", created.ID))
}

// explain puts the French message of each error next to the field it
// names; false when one is not the client's.
func (f *patientForm) explain(errs ...error) bool {
	return explainEach(errs, "patient", map[string]*string{"last_name": &f.LastErr, "first_name": &f.FirstErr,
		"birth_date": &f.BirthErr, "nir": &f.NIRErr, "commune_code": &f.CommuneErr}, &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f patientForm) Problems() []problemLink {
	return fieldProblems("last_name", f.LastErr, "first_name", f.FirstErr, "birth_date", f.BirthErr, "nir", f.NIRErr,
		"commune_code", f.CommuneErr)
}

// ---- one file, and its rights application ----

type rightsRequestForm struct {
	Regime, FiledOn       string
	RegimeErr, FiledOnErr string
	Summary               string
}

type filePage struct {
	Patient claims.Patient
	History []claims.RightsEvent
	Form    rightsRequestForm
	Commune communeForm
}

// communeForm sets the commune the person lives in, for the programme's
// figures by commune.
type communeForm struct {
	Code, Err, Summary string
}

// DecisionTable is the file's decisions, read only.
func (p filePage) DecisionTable() decisionTable { return decisionTable{Decisions: p.Patient.Decisions} }

func (s *Server) coordinatorFile(c echo.Context) error {
	return s.renderCoordinatorFile(c, http.StatusOK, rightsRequestForm{}, nil)
}

// renderCoordinatorFile reads the file (which logs the read of its
// identity) and shows it with the application form as typed, and the
// commune form as typed when commune is not nil.
func (s *Server) renderCoordinatorFile(c echo.Context, status int, form rightsRequestForm, commune *communeForm) error {
	patient, history, err := s.pathPatient(c)
	if err != nil {
		return err
	}
	if form.Regime == "" {
		form.Regime = patient.Rights.Regime
	}
	page := filePage{Patient: patient, History: history, Form: form, Commune: communeForm{Code: patient.CommuneCode}}
	if commune != nil {
		page.Commune = *commune
	}
	return s.render(c, status, "coordinator-file.html", "Dossier "+patient.FileNumber, page)
}

func (s *Server) requestRights(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	f := rightsRequestForm{Regime: strings.TrimSpace(c.FormValue("regime")), FiledOn: strings.TrimSpace(c.FormValue("filed_on"))}
	again := func(status int) error { return s.renderCoordinatorFile(c, status, f, nil) }
	// Both fields' problems are told at once.
	req := claims.RightsRequest{Regime: f.Regime}
	req.FiledOn, err = parseFormDate("filed_on", f.FiledOn)
	if problems := eachFieldOnce([]error{err}, req.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	if _, err = s.claims.RequestRights(c.Request().Context(), p.Actor(), id, req); err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "rights-requested", fmt.Sprintf("/coordination/dossiers/%d", id))
}

func (s *Server) setCommune(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	f := communeForm{Code: strings.TrimSpace(c.FormValue("commune_code"))}
	code, err := claims.ParseCommune(f.Code)
	if err == nil {
		_, _, err = s.claims.SetCommune(c.Request().Context(), p.Actor(), id, code)
	}
	if err != nil {
		explain := func(err error) bool {
			return explainFields(err, "commune", map[string]*string{"commune_code": &f.Err}, &f.Summary)
		}
		return showRefusedForm(err, explain, func(status int) error {
			return s.renderCoordinatorFile(c, status, rightsRequestForm{}, &f)
		})
	}
	return redirectWithFlash(c, "commune-set", fmt.Sprintf("/coordination/dossiers/%d", id))
}

// explain puts the French message of each error next to its field; false
// when one is not the client's.
func (f *rightsRequestForm) explain(errs ...error) bool {
	return explainEach(errs, "rights_request", map[string]*string{"regime": &f.RegimeErr, "filed_on": &f.FiledOnErr}, &f.Summary)
}

// Problems is the error summary: each field's message, linking to it.
func (f rightsRequestForm) Problems() []problemLink {
	return fieldProblems("regime", f.RegimeErr, "filed_on", f.FiledOnErr)
}

// ---- the attestation ----

type attestationPage struct {
	Patient  claims.Patient
	From, To calendar.Date
}

// attestation is the PASS attestation the patient shows providers: valid
// from the day it is printed for AttestationMonths months.
func (s *Server) attestation(c echo.Context) error {
	patient, _, err := s.pathPatient(c)
	if err != nil {
		return err
	}
	from := calendar.Today(s.now())
	to := calendar.FromTime(from.Time().AddDate(0, AttestationMonths, 0)).AddDays(-1)
	return s.render(c, http.StatusOK, "coordinator-attestation.html", "Attestation PASS "+patient.FileNumber,
		attestationPage{Patient: patient, From: from, To: to})
}

// ---- reminders ----

type reminderRow struct {
	claims.Reminder
	DaysLeft int
}

type remindersPage struct {
	WindowDays int
	Rows       []reminderRow
}

// reminders is GET /reminders as a page: the same store call, so the same
// files, and the same access log.
func (s *Server) reminders(c echo.Context) error {
	p, _ := principal(c)
	list, err := s.claims.Reminders(c.Request().Context(), p.Actor())
	if err != nil {
		return err
	}
	today := calendar.Today(s.now())
	page := remindersPage{WindowDays: claims.ReminderWindow}
	for _, m := range list {
		page.Rows = append(page.Rows, reminderRow{Reminder: m, DaysLeft: m.DaysLeft(today)})
	}
	return s.render(c, http.StatusOK, "coordinator-reminders.html", "Relances", page)
}

// pathPatient reads the patient file the path's id names, with its rights
// history, for the signed-in user: claims.Store logs that user's read of
// the identity in the same statement.
func (s *Server) pathPatient(c echo.Context) (claims.Patient, []claims.RightsEvent, error) {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return claims.Patient{}, nil, err
	}
	return s.claims.Patient(c.Request().Context(), p.Actor(), id)
}

// parseFormDate reads a date typed in a form as YYYY-MM-DD (what a date
// input sends); blank is no date, which Validate then asks for. The error
// names field, as the API's does.
func parseFormDate(field, s string) (calendar.Date, error) {
	if s == "" {
		return calendar.Date{}, nil
	}
	d, err := calendar.Parse(s)
	if err != nil {
		return calendar.Date{}, fault.Field(field, "%s must be a valid date YYYY-MM-DD", field)
	}
	return d, nil
}
