package web

import (
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/httpapi"
	"passd/rights"
	"passd/spreadsheet"
)

// The CPAM referent's pages: the files awaiting a decision and the
// decision form. The form becomes the body of POST
// /patients/{id}/rights-decision and goes through the API's rules.

type queuePage struct {
	Files  []claims.AwaitingFile
	Filter statusFilter // by requested regime (?regime=)
	Next   template.URL // the next page's query: the filter and where it starts
}

// referentQueue lists the files awaiting a decision, the oldest filing
// first, filtered by regime and paged past ?apres=<date>_<id>, the
// previous page's last (a value that is none starts at the first).
func (s *Server) referentQueue(c echo.Context) error {
	regime, filter := readFilter(c, "regime", "Régime demandé", rights.Regimes, rights.Regime.Label)
	var after claims.QueueKey
	if date, id, ok := strings.Cut(c.QueryParam("apres"), "_"); ok {
		d, derr := calendar.Parse(date)
		n, nerr := strconv.ParseInt(id, 10, 64)
		if derr == nil && nerr == nil && n > 0 {
			after = claims.QueueKey{FiledOn: d, ID: n}
		}
	}
	size, err := httpapi.ParsePage(c) // ?limit=, as every list reads it
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	files, err := s.claims.AwaitingDecision(ctx, regime, after, size.Limit+1)
	if err != nil {
		return err
	}
	if filter.Matching, err = s.claims.CountAwaitingDecision(ctx, regime); err != nil {
		return err
	}
	page := queuePage{Files: files, Filter: filter}
	if len(files) > size.Limit {
		page.Files = files[:size.Limit]
		last := page.Files[size.Limit-1]
		q := url.Values{"apres": {last.FiledOn.String() + "_" + strconv.FormatInt(last.ID, 10)}}
		if regime != "" {
			q.Set("regime", string(regime))
		}
		if c.QueryParam("limit") != "" {
			q.Set("limit", strconv.Itoa(size.Limit))
		}
		page.Next = template.URL(q.Encode())
	}
	return s.render(c, http.StatusOK, "referent-queue.html", "Dossiers à décider", page)
}

// queueCSV downloads the files awaiting a decision, of the regime
// filtered, the oldest filing first: numbers, regimes and dates, no
// identity, as the queue shows.
func (s *Server) queueCSV(c echo.Context) error {
	regime, _ := readFilter(c, "regime", "Régime demandé", rights.Regimes, rights.Regime.Label)
	return httpapi.Stream(c, "text/csv; charset=utf-8", "dossiers-a-decider.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Dossier", "Régime demandé", "Déposée le"); err != nil {
			return err
		}
		var after claims.QueueKey
		for {
			files, err := s.claims.AwaitingDecision(c.Request().Context(), regime, after, db.MaxLimit)
			if err != nil {
				return err
			}
			for _, f := range files {
				if err := out.Write(f.FileNumber, RegimeLabel(f.Regime), spreadsheet.Date(f.FiledOn)); err != nil {
					return err
				}
			}
			if len(files) < db.MaxLimit {
				return out.Flush()
			}
			last := files[len(files)-1]
			after = claims.QueueKey{FiledOn: last.FiledOn, ID: last.ID}
		}
	})
}

type decisionForm struct {
	Decision, Regime, From, To, Reference, Caisse, Reason string
	Immediate                                             bool
	DecisionErr, RegimeErr, FromErr, ToErr                string
	ReferenceErr, CaisseErr, ImmediateErr, ReasonErr      string
	Summary                                               string
	// Correcting: the fields hold a decision being corrected, not one
	// proposed from the application (the start's hint says so).
	Correcting bool
}

// decisionPage is a file with its two decision forms: Open, the opening
// (proposed from the application, or as typed), and Refuse, the refusal.
type decisionPage struct {
	Patient      claims.Patient
	Open, Refuse decisionForm
}

// DecisionTable is the file's decisions, each one still standing with its
// "Corriger" link.
func (p decisionPage) DecisionTable() decisionTable {
	return decisionTable{Decisions: p.Patient.Decisions, CorrectFrom: fmt.Sprintf("/cpam/dossiers/%d/decisions/", p.Patient.ID)}
}

// decisionTable is what the "decisions" template shows: a file's
// decisions and, on the referent's page, the path under which each
// decision not superseded is corrected ("" elsewhere: no link).
type decisionTable struct {
	Decisions   []claims.Decision
	CorrectFrom string
}

func (s *Server) referentFile(c echo.Context) error {
	return s.renderReferentFile(c, http.StatusOK, nil)
}

// renderReferentFile reads the file (logging the read of its identity) and
// shows its two decision forms: the one form stands for as typed (when not
// nil), the other as proposed from the application.
func (s *Server) renderReferentFile(c echo.Context, status int, form *decisionForm) error {
	patient, _, err := s.pathPatient(c)
	if err != nil {
		return err
	}
	st, err := s.billing.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	page := decisionPage{Patient: patient, Open: *proposedDecision(patient.Rights, st.AMELookback(), calendar.Today(s.now())),
		Refuse: decisionForm{Decision: string(rights.Refused)}}
	switch {
	case form == nil:
	case form.Decision == string(rights.Refused):
		page.Refuse = *form
	default:
		page.Open = *form
	}
	return s.render(c, status, "referent-file.html", "Dossier "+patient.FileNumber, page)
}

// proposedDecision fills the form from the application, as the regime's
// rules would have it (the referent may edit every field): AME from the
// filing less the look-back for a year from the filing; CSS from the 1st
// of next month for a year; PUMa from the filing, with no end.
func proposedDecision(r claims.Rights, ameLookbackDays int, today calendar.Date) *decisionForm {
	f := &decisionForm{Decision: string(rights.Opened), Regime: r.Regime}
	if r.FiledOn.IsZero() {
		return f
	}
	from, to := r.FiledOn, calendar.Date{}
	switch rights.Regime(r.Regime) {
	case rights.AME:
		from, to = r.FiledOn.AddDays(-ameLookbackDays), r.FiledOn.AddYears(claims.MaxPeriodYears).AddDays(-1)
	case rights.PUMaCSS:
		from = calendar.NewDate(today.Year(), today.Month(), 1).AddDays(31)
		from = calendar.NewDate(from.Year(), from.Month(), 1)
		to = from.AddYears(claims.MaxPeriodYears).AddDays(-1)
	}
	f.From, f.To = from.String(), to.String()
	return f
}

func (s *Server) decideRights(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	f := readDecisionForm(c)
	again := func(status int) error { return s.renderReferentFile(c, status, &f) }
	// Every field's problem is told at once, in the form that was sent.
	d, read := f.decision()
	if problems := eachFieldOnce(read, d.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	if c.FormValue(confirmField) != "oui" {
		return s.render(c, http.StatusOK, "admin-confirm.html", "Confirmer la décision", confirmDecision(id, d, f))
	}
	if _, err = s.claims.DecideRights(c.Request().Context(), p.Actor(), id, d); err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "rights-decided", "/cpam/dossiers")
}

// confirmDecision is the page that asks before a decision is recorded:
// what it says, and what will follow for the file's invoices. The fields
// go along, hidden, to the confirmed form.
func confirmDecision(id int64, d claims.RightsDecision, f decisionForm) confirmPage {
	page := confirmPage{
		Action: fmt.Sprintf("/cpam/dossiers/%d/decision", id), Button: "Enregistrer la décision",
		Back: navLink{Href: fmt.Sprintf("/cpam/dossiers/%d", id), Label: "Revenir au dossier sans rien enregistrer"},
		Hidden: []hiddenField{{"decision", f.Decision}, {"regime", f.Regime}, {"effective_from", f.From}, {"effective_to", f.To},
			{"reference", f.Reference}, {"caisse", f.Caisse}, {"reason", f.Reason}},
	}
	if f.Immediate {
		page.Hidden = append(page.Hidden, hiddenField{"immediate_admission", "1"})
	}
	fix := "Une décision ne se modifie pas : une erreur se corrige ensuite par une nouvelle décision qui la remplace, et les factures suivent."
	if d.Decision == rights.Refused {
		page.Heading = "Refuser les droits de ce dossier (motif : " + d.Reason + ") ?"
		page.Warnings = []string{"Les factures en attente du dossier seront payées par la ville.", fix}
		return page
	}
	period := "à partir du " + FormatDate(d.EffectiveFrom) + ", sans fin"
	if !d.EffectiveTo.IsZero() {
		period = "du " + FormatDate(d.EffectiveFrom) + " au " + FormatDate(d.EffectiveTo)
	}
	page.Heading = fmt.Sprintf("Ouvrir les droits %s de ce dossier %s (référence %s) ?", RegimeLabel(d.Regime), period, d.Reference)
	page.Warnings = []string{"Les factures en attente du dossier dont la date des soins tombe dans la période seront transmises à la CPAM " +
		"au prochain passage de la libération ; les autres resteront à la charge de la ville à leur échéance.", fix}
	return page
}

// readDecisionForm reads the decision's fields as typed (the decision forms
// and the correction forms share them).
func readDecisionForm(c echo.Context) decisionForm {
	return decisionForm{Decision: strings.TrimSpace(c.FormValue("decision")), Regime: strings.TrimSpace(c.FormValue("regime")),
		From: strings.TrimSpace(c.FormValue("effective_from")), To: strings.TrimSpace(c.FormValue("effective_to")),
		Reference: strings.TrimSpace(c.FormValue("reference")), Caisse: strings.TrimSpace(c.FormValue("caisse")),
		Immediate: c.FormValue("immediate_admission") != "", Reason: strings.TrimSpace(c.FormValue("reason"))}
}

// decision is the decision the form stands for, as typed, for its rules
// to check (Problems), and the problems of reading it: a date that does
// not read as one. The value holds both answers' fields, so a refusal
// leaves out the opening's (a request not made by the pages may send
// them); a reason sent with an opening is kept, for the rule to refuse it.
func (f decisionForm) decision() (claims.RightsDecision, []error) {
	d := claims.RightsDecision{Decision: rights.Status(f.Decision)}
	if d.Decision == rights.Refused {
		d.Reason, d.Caisse = f.Reason, f.Caisse
		return d, nil
	}
	d.Regime, d.Reference, d.Caisse, d.Reason, d.ImmediateAdmission = f.Regime, f.Reference, f.Caisse, f.Reason, f.Immediate
	var fromErr, toErr error
	d.EffectiveFrom, fromErr = parseFormDate("effective_from", f.From)
	d.EffectiveTo, toErr = parseFormDate("effective_to", f.To)
	return d, []error{fromErr, toErr}
}

// explain puts the French message of each error next to its field; false
// when one is not the client's. A reason typed for an opening is told
// apart from a refusal's missing one.
func (f *decisionForm) explain(errs ...error) bool { return f.explainAs("decision", nil, errs...) }

// explainAs is explain for form, whose own fields (more) come on top of
// the decision's: the correction form tells the decision's fields as the
// decision form does and has its own summaries.
func (f *decisionForm) explainAs(form string, more map[string]*string, errs ...error) bool {
	slots := map[string]*string{"decision": &f.DecisionErr, "regime": &f.RegimeErr,
		"effective_from": &f.FromErr, "effective_to": &f.ToErr, "reference": &f.ReferenceErr, "caisse": &f.CaisseErr,
		"immediate_admission": &f.ImmediateErr, "reason": &f.ReasonErr}
	maps.Copy(slots, more)
	if !explainEach(errs, form, slots, &f.Summary) {
		return false
	}
	if f.ReasonErr != "" && f.Decision != string(rights.Refused) {
		f.ReasonErr = messages[messageKey{"decision", "reason", "not_refusal"}]
	}
	return true
}

// Problems is the error summary of the form: each field's message, in the
// form's order, linking to the field by its id (the refusal's caisse has
// its own). A decision that is none, or a reason sent with an opening,
// has no field in the form: it is told above it, not linked.
func (f decisionForm) Problems() []problemLink {
	if f.Decision == string(rights.Refused) {
		return fieldProblems("reason", f.ReasonErr, "refusal-caisse", f.CaisseErr)
	}
	return fieldProblems("regime", f.RegimeErr, "effective_from", f.FromErr, "effective_to", f.ToErr,
		"immediate_admission", f.ImmediateErr, "reference", f.ReferenceErr, "caisse", f.CaisseErr)
}
