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

// The CPAM referent's correction of a decision: the decision form again,
// filled with the decision corrected, and the reason of the correction.
// The form becomes the body of POST
// /patients/{id}/rights-decisions/{did}/correct and goes through the same
// rules and store call (claims.Store.CorrectRights), which decides the
// file's invoices again in its transaction.

type correctionForm struct {
	decisionForm
	CorrectionReason, CorrectionReasonErr string
}

type correctionPage struct {
	Patient claims.Patient
	Old     claims.Decision
	Form    correctionForm
	// Closed: the decision was corrected already, so the form is not
	// shown (the summary says which decision to correct instead).
	Closed bool
}

func (s *Server) correctionForm(c echo.Context) error {
	return s.renderCorrection(c, http.StatusOK, nil)
}

// renderCorrection reads the file (logging the read of its identity) and
// its decision, and shows the correction form: as typed when form is not
// nil, else filled with the decision as it stands.
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
	page := correctionPage{Patient: patient, Old: old}
	switch {
	case form != nil:
		page.Form = *form
	default:
		st, err := s.billing.Settings(c.Request().Context())
		if err != nil {
			return err
		}
		page.Form = correctionFormOf(old, patient.Rights, st.AMELookback(), calendar.Today(s.now()))
	}
	if old.SupersededAt != nil {
		page.Closed = true
		page.Form.Summary = messages[messageKey{"correction", "", string(fault.KindAlreadySuperseded)}]
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

// correctionFormOf fills the form with decision d as it stands. A refusal
// has no opening's fields: those are proposed as on the decision form,
// from the application the refusal answered, for a refusal corrected into
// an opening (a refusal sends only its reason, so they change nothing
// else).
func correctionFormOf(d claims.Decision, r claims.Rights, ameLookbackDays int, today calendar.Date) correctionForm {
	f := decisionForm{Decision: string(d.Decision), Regime: d.Regime, Reference: d.Reference, Caisse: d.Caisse, Reason: d.Reason,
		From: d.EffectiveFrom.String(), To: d.EffectiveTo.String(), Correcting: true}
	if d.Decision == rights.Refused {
		proposed := proposedDecision(claims.Rights{Regime: r.Regime, FiledOn: d.FiledOn}, ameLookbackDays, today)
		f.Regime, f.From, f.To = proposed.Regime, proposed.From, proposed.To
	}
	return correctionForm{decisionForm: f}
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
	f.Correcting = true
	// The same typed value as the API's: the decision as the decision form
	// builds it, then the correction's own rules.
	d, err := f.decision()
	corr := claims.Correction{RightsDecision: d, CorrectionReason: f.CorrectionReason}
	if err == nil {
		err = corr.Validate()
	}
	if err == nil {
		_, _, err = s.claims.CorrectRights(c.Request().Context(), p.Actor(), id, did, corr)
	}
	if err != nil {
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

// explain puts the French message of a refused correction next to its
// field, or above the form for a refusal of the whole correction (a
// payout in a batch not yet paid names the batch); false when the error
// is not the client's.
func (f *correctionForm) explain(err error) bool {
	if !f.explainAs("correction", err, map[string]*string{"correction_reason": &f.CorrectionReasonErr}) {
		return false
	}
	if fe, _ := fault.As(err); fe.Kind == fault.KindPayoutBatched {
		f.Summary = payoutBatchedMessage(fe)
	}
	return true
}
