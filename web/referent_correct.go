package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/calendar"
	"passd/claims"
	"passd/fault"
	"passd/httpapi"
	"passd/rights"
)

// The CPAM referent's correction of a decision: the decision's two forms
// again (an opening, a refusal), the one of the corrected decision's kind
// filled with it, each with the reason of the correction. A form becomes
// the body of POST /patients/{id}/rights-decisions/{did}/correct and goes
// through the same rules and store call (claims.Store.CorrectRights),
// which decides the file's invoices again in its transaction.

type correctionForm struct {
	decisionForm
	CorrectionReason, CorrectionReasonErr string
}

// IDPrefix starts the ids of the refusal form's fields that the opening
// form has too (its caisse, its correction reason), so that every id of
// the page is its own, as the decision page names its refusal's caisse.
func (f correctionForm) IDPrefix() string {
	if f.Decision == string(rights.Refused) {
		return "refusal-"
	}
	return ""
}

type correctionPage struct {
	Patient claims.Patient
	Old     claims.Decision
	// Open and Refuse are the two forms: the one of Old's kind filled
	// with it, the other as the decision page proposes it; a refused post
	// puts what was typed in its own.
	Open, Refuse correctionForm
	// Closed, when not empty, says that the decision was corrected
	// already and which to correct instead: no form is shown.
	Closed string
}

func (s *Server) correctionForm(c echo.Context) error {
	return s.renderCorrection(c, http.StatusOK, nil)
}

// renderCorrection reads the file (logging the read of its identity) and
// its decision, and shows the two correction forms: the one form stands
// for as typed when not nil, the other (or both) filled by
// correctionForms.
func (s *Server) renderCorrection(c echo.Context, status int, form *correctionForm) error {
	patient, _, err := s.pathPatient(c)
	if err != nil {
		return err
	}
	did, err := httpapi.PathID(c, "did")
	if err != nil {
		return err
	}
	old, ok := findDecision(patient.Decisions, did)
	if !ok {
		return fault.New(fault.NotFound, "file %d has no rights decision %d", patient.ID, did)
	}
	st, err := s.billing.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	page := correctionPage{Patient: patient, Old: old}
	page.Open, page.Refuse = correctionForms(old, patient.Rights, st.AMELookback(), calendar.Today(s.now()))
	if form != nil {
		typed := *form
		typed.Correcting = typed.Decision == string(old.Decision)
		if typed.Decision == string(rights.Refused) {
			page.Refuse = typed
		} else {
			page.Open = typed
		}
	}
	if old.SupersededAt != nil {
		page.Closed = messages[messageKey{"correction", "", string(fault.KindAlreadySuperseded)}]
		if status == http.StatusOK {
			status = http.StatusConflict
		}
	}
	return s.render(c, status, "referent-correction.html", "Corriger une décision du dossier "+patient.FileNumber, page)
}

func findDecision(decisions []claims.Decision, id int64) (claims.Decision, bool) {
	for _, d := range decisions {
		if d.ID == id {
			return d, true
		}
	}
	return claims.Decision{}, false
}

// correctionForms fills the two forms: the one of d's kind with d as it
// stands (Correcting), the other as the decision page would propose it:
// for an opening, the one proposed from the application d answered (its
// regime, d's filing); for a refusal, an empty reason.
func correctionForms(d claims.Decision, r claims.Rights, ameLookbackDays int, today calendar.Date) (open, refuse correctionForm) {
	asIs := decisionForm{Decision: string(d.Decision), Regime: d.Regime, Reference: d.Reference, Caisse: d.Caisse, Reason: d.Reason,
		From: d.EffectiveFrom.String(), To: d.EffectiveTo.String(), Correcting: true}
	if d.Decision == rights.Refused {
		proposed := proposedDecision(claims.Rights{Regime: r.Regime, FiledOn: d.FiledOn}, ameLookbackDays, today)
		return correctionForm{decisionForm: *proposed}, correctionForm{decisionForm: asIs}
	}
	return correctionForm{decisionForm: asIs}, correctionForm{decisionForm: decisionForm{Decision: string(rights.Refused)}}
}

func (s *Server) correctRights(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	did, err := httpapi.PathID(c, "did")
	if err != nil {
		return err
	}
	f := correctionForm{decisionForm: readDecisionForm(c), CorrectionReason: strings.TrimSpace(c.FormValue("correction_reason"))}
	// The same typed value as the API's: the decision as the decision form
	// builds it, with the correction's own rules; every field's problem
	// is told at once.
	d, read := f.decision()
	corr := claims.Correction{RightsDecision: d, CorrectionReason: f.CorrectionReason}
	if problems := eachFieldOnce(read, corr.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, func(status int) error { return s.renderCorrection(c, status, &f) })
	}
	if _, _, err = s.claims.CorrectRights(c.Request().Context(), p.Actor(), id, did, corr); err != nil {
		if !f.explain(err) {
			return err
		}
		status := http.StatusUnprocessableEntity
		if fault.Is(err, fault.Conflict) {
			status = http.StatusConflict
		}
		return s.renderCorrection(c, status, &f)
	}
	return redirectWithFlash(c, "rights-corrected", fmt.Sprintf("/cpam/dossiers/%d#decisions", id))
}

// explain puts the French message of each error of a refused correction
// next to its field, or above the form for a refusal of the whole
// correction (a payout in a batch not yet paid names the batch); false
// when one is not the client's.
func (f *correctionForm) explain(errs ...error) bool {
	if !f.explainAs("correction", map[string]*string{"correction_reason": &f.CorrectionReasonErr}, errs...) {
		return false
	}
	for _, err := range errs {
		if fe, _ := fault.As(err); fe.Kind == fault.KindPayoutBatched {
			f.Summary = payoutBatchedMessage(fe)
		}
	}
	return true
}

// Problems is the error summary of the form: the decision's fields', then
// the correction reason's, each linking to its field.
func (f correctionForm) Problems() []problemLink {
	return append(f.decisionForm.Problems(), fieldProblems(f.IDPrefix()+"correction_reason", f.CorrectionReasonErr)...)
}
