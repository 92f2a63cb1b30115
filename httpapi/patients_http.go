package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/calendar"
	"passd/claims"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/rights"
)

type patientJSON struct {
	ID            string             `json:"id"`
	FileNumber    string             `json:"file_number"`
	LastName      string             `json:"last_name"`
	FirstName     string             `json:"first_name"`
	BirthDate     calendar.Date      `json:"birth_date"`
	NIR           *string            `json:"nir"`
	CommuneCode   *string            `json:"commune_code"`
	Rights        rightsJSON         `json:"rights"`
	CreatedAt     time.Time          `json:"created_at"`
	RightsHistory *[]rightsEventJSON `json:"rights_history,omitempty"`
	Decisions     *[]decisionJSON    `json:"rights_decisions,omitempty"`
}

// decisionJSON is one decision of a file's history of periods.
type decisionJSON struct {
	ID               string        `json:"id"`
	Decision         rights.Status `json:"decision"`
	Regime           rights.Regime `json:"regime,omitempty"`
	EffectiveFrom    calendar.Date `json:"effective_from,omitzero"`
	EffectiveTo      calendar.Date `json:"effective_to,omitzero"`
	Reference        string        `json:"reference,omitempty"`
	Caisse           string        `json:"caisse,omitempty"`
	Reason           string        `json:"reason,omitempty"`
	FiledOn          calendar.Date `json:"filed_on,omitzero"`
	DecidedBy        string        `json:"decided_by"`
	DecidedAt        time.Time     `json:"decided_at"`
	Supersedes       string        `json:"supersedes,omitempty"`
	SupersededAt     *time.Time    `json:"superseded_at,omitempty"`
	SupersededBy     string        `json:"superseded_by,omitempty"`
	CorrectionReason string        `json:"correction_reason,omitempty"`
}

func toDecisionJSON(d claims.Decision) decisionJSON {
	out := decisionJSON{ID: ident.FormatID(d.ID), Decision: d.Decision, Regime: rights.Regime(d.Regime), EffectiveFrom: d.EffectiveFrom,
		EffectiveTo: d.EffectiveTo, Reference: d.Reference, Caisse: d.Caisse, Reason: d.Reason, FiledOn: d.FiledOn,
		DecidedBy: d.DecidedBy, DecidedAt: d.DecidedAt.UTC(), SupersededBy: d.SupersededBy, CorrectionReason: d.CorrectionReason}
	if d.Supersedes != 0 {
		out.Supersedes = ident.FormatID(d.Supersedes)
	}
	if d.SupersededAt != nil {
		at := d.SupersededAt.UTC()
		out.SupersededAt = &at
	}
	return out
}

// rightsTermsJSON are the terms of an application or a decision, which a
// file's current rights and each event of its history both carry;
// embedded, its members stand in line with the others.
type rightsTermsJSON struct {
	Regime        string        `json:"regime,omitempty"`
	FiledOn       calendar.Date `json:"filed_on,omitzero"`
	EffectiveFrom calendar.Date `json:"effective_from,omitzero"`
	EffectiveTo   calendar.Date `json:"effective_to,omitzero"`
	Reference     string        `json:"reference,omitempty"`
	Reason        string        `json:"reason,omitempty"`
}

type rightsJSON struct {
	Status rights.Status `json:"status"`
	rightsTermsJSON
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

type rightsEventJSON struct {
	Kind rights.Status `json:"kind"`
	rightsTermsJSON
	By string    `json:"by"`
	At time.Time `json:"at"`
}

func toPatientJSON(p claims.Patient) patientJSON {
	return patientJSON{
		ID: ident.FormatID(p.ID), FileNumber: p.FileNumber, LastName: p.LastName, FirstName: p.FirstName,
		BirthDate: p.BirthDate, CreatedAt: p.CreatedAt.UTC(),
		Rights: rightsJSON{Status: p.Rights.Status, DecidedAt: p.Rights.DecidedAt, rightsTermsJSON: rightsTermsJSON{
			Regime: p.Rights.Regime, FiledOn: p.Rights.FiledOn, EffectiveFrom: p.Rights.EffectiveFrom,
			EffectiveTo: p.Rights.EffectiveTo, Reference: p.Rights.Reference, Reason: p.Rights.Reason}},
		NIR: nullable(p.NIR), CommuneCode: nullable(p.CommuneCode),
	}
}

func (h claimsHandlers) listPatients(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	f := claims.PatientFilter{FileNumber: c.QueryParam("file_number")}
	if len(f.FileNumber) > 32 || !utf8.ValidString(f.FileNumber) || strings.ContainsRune(f.FileNumber, 0) {
		return fault.Field("file_number", "file_number is not a file number")
	}
	if f.RightsStatus, err = QueryEnum(c, "rights_status", rights.Statuses); err != nil {
		return err
	}
	list, err := h.store.Patients(c.Request().Context(), auth.From(c).Actor(), f, page)
	return answerPage(c, page, list, err, func(p claims.Patient) int64 { return p.ID }, toPatientJSON)
}

func (h claimsHandlers) getPatient(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	p, history, err := h.store.Patient(c.Request().Context(), auth.From(c).Actor(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPatientFileJSON(p, history))
}

// toPatientFileJSON is a file with its rights history and decisions.
func toPatientFileJSON(p claims.Patient, history []claims.RightsEvent) patientJSON {
	out := toPatientJSON(p)
	events := make([]rightsEventJSON, len(history))
	for i, e := range history {
		events[i] = rightsEventJSON{Kind: e.Kind, By: e.Actor, At: e.CreatedAt.UTC(), rightsTermsJSON: rightsTermsJSON{
			Regime: e.Regime, FiledOn: e.FiledOn, EffectiveFrom: e.EffectiveFrom,
			EffectiveTo: e.EffectiveTo, Reference: e.Reference, Reason: e.Reason}}
	}
	out.RightsHistory = &events
	decisions := make([]decisionJSON, len(p.Decisions))
	for i, d := range p.Decisions {
		decisions[i] = toDecisionJSON(d)
	}
	out.Decisions = &decisions
	return out
}

type patientAccessJSON struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	UserID   *string   `json:"user_id"`
	UserName string    `json:"user_name"`
	Purpose  string    `json:"purpose"`
}

func toPatientAccessJSON(a claims.PatientAccess) patientAccessJSON {
	return patientAccessJSON{ID: ident.FormatID(a.ID), At: a.At.UTC(), UserID: optID(a.UserID), UserName: a.UserName, Purpose: a.Purpose}
}

// getAccessLog lists who read a file's identity. It names no identity
// itself, so reading it is not logged.
func (h claimsHandlers) getAccessLog(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.store.AccessLog(c.Request().Context(), id, page)
	return answerPage(c, page, list, err, func(a claims.PatientAccess) int64 { return a.ID }, toPatientAccessJSON)
}

// newPatientBody is POST /patients' body. Its members are api.Values so
// that a value of the wrong JSON type is blamed on its field; what the
// values must be is claims.NewPatient.Validate's to say.
type newPatientBody struct {
	LastName  api.Value `json:"last_name"`
	FirstName api.Value `json:"first_name"`
	BirthDate api.Value `json:"birth_date"`
	NIR       api.Value `json:"nir"`
	Commune   api.Value `json:"commune_code"`
}

// patient turns the body into the domain's request, unvalidated.
func (b newPatientBody) patient() (claims.NewPatient, error) {
	var r valueReader
	np := claims.NewPatient{LastName: r.text(b.LastName, "last_name"), FirstName: r.text(b.FirstName, "first_name"),
		BirthDate: r.dateOrZero(b.BirthDate, "birth_date"), NIR: r.text(b.NIR, "nir"), CommuneCode: r.text(b.Commune, "commune_code")}
	return np, r.err
}

// decodeValid decodes a JSON body into its Values (B), turns them into the
// domain's request (T) with conv and checks it with validate: the one path
// of every request body of the claims routes, which their fuzzers follow.
func decodeValid[B, T any](body []byte, conv func(B) (T, error), validate func(*T) error) (T, error) {
	var b B
	var v T
	if err := api.DecodeBytes(body, &b); err != nil {
		return v, err
	}
	v, err := conv(b)
	if err != nil {
		return v, err
	}
	return v, validate(&v)
}

// decodeNewPatient reads and validates a POST /patients body; today bounds
// the birth date.
func decodeNewPatient(body []byte, today calendar.Date) (claims.NewPatient, error) {
	return decodeValid(body, newPatientBody.patient, func(np *claims.NewPatient) error { return np.Validate(today) })
}

func (h claimsHandlers) createPatient(c echo.Context) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	np, err := decodeNewPatient(body, h.store.Today())
	if err != nil {
		return err
	}
	p, err := h.store.CreatePatient(c.Request().Context(), auth.From(c).Actor(), np)
	return answerJSON(c, http.StatusCreated, p, err, toPatientJSON)
}

// rightsRequestBody is POST /patients/{id}/rights-request's body.
type rightsRequestBody struct {
	Regime  api.Value `json:"regime"`
	FiledOn api.Value `json:"filed_on"`
}

// request turns the body into the domain's application, unvalidated.
func (b rightsRequestBody) request() (claims.RightsRequest, error) {
	var r valueReader
	req := claims.RightsRequest{Regime: r.text(b.Regime, "regime"), FiledOn: r.dateOrZero(b.FiledOn, "filed_on")}
	return req, r.err
}

// decodeRightsRequest reads and validates a rights application.
func decodeRightsRequest(body []byte) (claims.RightsRequest, error) {
	return decodeValid(body, rightsRequestBody.request, (*claims.RightsRequest).Validate)
}

// rightsDecisionBody is POST /patients/{id}/rights-decision's body.
type rightsDecisionBody struct {
	Decision      api.Value `json:"decision"`
	Regime        api.Value `json:"regime"`
	EffectiveFrom api.Value `json:"effective_from"`
	EffectiveTo   api.Value `json:"effective_to"`
	Reference     api.Value `json:"reference"`
	Caisse        api.Value `json:"caisse"`
	Reason        api.Value `json:"reason"`
	Immediate     api.Value `json:"immediate_admission"`
}

// decision turns the body into the domain's decision, unvalidated.
func (b rightsDecisionBody) decision() (claims.RightsDecision, error) {
	var r valueReader
	d := claims.RightsDecision{Decision: rights.Status(r.text(b.Decision, "decision")), Regime: r.text(b.Regime, "regime"),
		EffectiveFrom: r.dateOrZero(b.EffectiveFrom, "effective_from"), EffectiveTo: r.dateOrZero(b.EffectiveTo, "effective_to"),
		Reference: r.text(b.Reference, "reference"), Caisse: r.text(b.Caisse, "caisse"), Reason: r.text(b.Reason, "reason"),
		ImmediateAdmission: r.flag(b.Immediate, "immediate_admission")}
	return d, r.err
}

// decodeRightsDecision reads and validates the CPAM's decision.
func decodeRightsDecision(body []byte) (claims.RightsDecision, error) {
	return decodeValid(body, rightsDecisionBody.decision, (*claims.RightsDecision).Validate)
}

// rightsCorrectionBody is POST /patients/{id}/rights-decisions/{did}/correct's body.
type rightsCorrectionBody struct {
	rightsDecisionBody
	CorrectionReason api.Value `json:"correction_reason"`
}

// correction turns the body into the domain's correction, unvalidated.
func (b rightsCorrectionBody) correction() (claims.Correction, error) {
	d, err := b.decision()
	if err != nil {
		return claims.Correction{}, err
	}
	var r valueReader
	c := claims.Correction{RightsDecision: d, CorrectionReason: r.text(b.CorrectionReason, "correction_reason")}
	return c, r.err
}

func (h claimsHandlers) correctRights(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	did, err := PathID(c, "did")
	if err != nil {
		return err
	}
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	corr, err := decodeValid(body, rightsCorrectionBody.correction, (*claims.Correction).Validate)
	if err != nil {
		return err
	}
	p, history, err := h.store.CorrectRights(c.Request().Context(), auth.From(c).Actor(), id, did, corr)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPatientFileJSON(p, history))
}

// updateRights serves a POST that records something on one file's rights:
// decode reads and validates the body, record is the store's method; the
// answer is the file as it now stands.
func updateRights[T any](decode func([]byte) (T, error),
	record func(context.Context, audit.Actor, int64, T) (claims.Patient, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := PathID(c, "id")
		if err != nil {
			return err
		}
		body, err := readJSON(c)
		if err != nil {
			return err
		}
		v, err := decode(body)
		if err != nil {
			return err
		}
		p, err := record(c.Request().Context(), auth.From(c).Actor(), id, v)
		return answerJSON(c, http.StatusOK, p, err, toPatientJSON)
	}
}

type reminderJSON struct {
	PatientID        string         `json:"patient_id"`
	FileNumber       string         `json:"file_number"`
	LastName         string         `json:"last_name"`
	FirstName        string         `json:"first_name"`
	PendingInvoices  int            `json:"pending_invoices"`
	PendingTotal     string         `json:"pending_total"`
	EarliestDeadline calendar.Date  `json:"earliest_deadline"`
	DaysLeft         int            `json:"days_left"`
	FirstRemindedOn  *calendar.Date `json:"first_reminded_on"`
}

func (h claimsHandlers) listReminders(c echo.Context) error {
	list, err := h.store.Reminders(c.Request().Context(), auth.From(c).Actor())
	if err != nil {
		return err
	}
	today := h.store.Today()
	items := make([]reminderJSON, len(list))
	for i, m := range list {
		items[i] = reminderJSON{PatientID: ident.FormatID(m.PatientID), FileNumber: m.FileNumber, LastName: m.LastName, FirstName: m.FirstName,
			PendingInvoices: m.PendingInvoices, PendingTotal: money.Format(m.PendingTotal), EarliestDeadline: m.EarliestDeadline,
			DaysLeft: m.DaysLeft(today), FirstRemindedOn: optDate(m.FirstRemindedOn)}
	}
	return c.JSON(http.StatusOK, map[string]any{"window_days": claims.ReminderWindow, "items": items})
}

// patientPatchBody is PATCH /patients/{id}'s body: the commune, the one
// thing of a file that changes without a decision ("" clears it).
type patientPatchBody struct {
	Commune api.Value `json:"commune_code"`
}

func (h claimsHandlers) patchPatient(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	code, err := decodeBody(c, func(b patientPatchBody) (string, error) {
		if !b.Commune.Present() {
			return "", fault.Field("commune_code", `commune_code is required ("" clears it)`)
		}
		raw, err := b.Commune.Text("commune_code")
		if err != nil {
			return "", err
		}
		return claims.ParseCommune(raw)
	})
	if err != nil {
		return err
	}
	p, history, err := h.store.SetCommune(c.Request().Context(), auth.From(c).Actor(), id, code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPatientFileJSON(p, history))
}
