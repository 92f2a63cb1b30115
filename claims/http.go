package claims

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/auth"
	"passd/calendar"
	"passd/claims/cpamfile"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/money"
	"passd/rights"
	"passd/settlement"
)

// Routes registers the patient, rights and claim routes on g, which must
// already authenticate and enforce the API contract (openapi.Guard): the
// contract, not this list, says which roles may call each route (the
// export, which names patients, is the CPAM referent's only).
func (s *Store) Routes(g *echo.Group) {
	g.POST("/patients", s.createPatient)
	g.GET("/patients", s.listPatients)
	g.GET("/patients/:id", s.getPatient)
	g.GET("/patients/:id/access-log", s.getAccessLog)
	g.POST("/patients/:id/rights-request", s.requestRights)
	g.POST("/patients/:id/rights-decision", s.decideRights)
	g.GET("/claims", s.listClaims)
	g.POST("/claim-batches", s.createClaimBatch)
	g.GET("/claim-batches", s.listClaimBatches)
	g.GET("/claim-batches/:id", s.getClaimBatch)
	g.GET("/claim-batches/:id/export", s.exportClaimBatch)
	g.POST("/claim-batches/:id/returns", s.importReturn)
	g.GET("/reminders", s.listReminders)
}

type patientJSON struct {
	ID            string             `json:"id"`
	FileNumber    string             `json:"file_number"`
	LastName      string             `json:"last_name"`
	FirstName     string             `json:"first_name"`
	BirthDate     calendar.Date      `json:"birth_date"`
	NIR           *string            `json:"nir"`
	Rights        rightsJSON         `json:"rights"`
	CreatedAt     time.Time          `json:"created_at"`
	RightsHistory *[]rightsEventJSON `json:"rights_history,omitempty"`
}

type rightsJSON struct {
	Status        rights.Status `json:"status"`
	Regime        string        `json:"regime,omitempty"`
	FiledOn       calendar.Date `json:"filed_on,omitzero"`
	EffectiveFrom calendar.Date `json:"effective_from,omitzero"`
	EffectiveTo   calendar.Date `json:"effective_to,omitzero"`
	Reference     string        `json:"reference,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	DecidedAt     *time.Time    `json:"decided_at,omitempty"`
}

type rightsEventJSON struct {
	Kind          rights.Status `json:"kind"`
	Regime        string        `json:"regime,omitempty"`
	FiledOn       calendar.Date `json:"filed_on,omitzero"`
	EffectiveFrom calendar.Date `json:"effective_from,omitzero"`
	EffectiveTo   calendar.Date `json:"effective_to,omitzero"`
	Reference     string        `json:"reference,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	By            string        `json:"by"`
	At            time.Time     `json:"at"`
}

func toPatientJSON(p Patient) patientJSON {
	out := patientJSON{
		ID: ident.FormatID(p.ID), FileNumber: p.FileNumber, LastName: p.LastName, FirstName: p.FirstName,
		BirthDate: p.BirthDate, CreatedAt: p.CreatedAt.UTC(),
		Rights: rightsJSON{Status: p.Rights.Status, Regime: p.Rights.Regime, FiledOn: p.Rights.FiledOn,
			EffectiveFrom: p.Rights.EffectiveFrom, EffectiveTo: p.Rights.EffectiveTo,
			Reference: p.Rights.Reference, Reason: p.Rights.Reason, DecidedAt: p.Rights.DecidedAt},
	}
	if p.NIR != "" {
		nir := p.NIR
		out.NIR = &nir
	}
	return out
}

type newPatientRequest struct {
	LastName  api.Value `json:"last_name"`
	FirstName api.Value `json:"first_name"`
	BirthDate api.Value `json:"birth_date"`
	NIR       api.Value `json:"nir"`
}

func (s *Store) createPatient(c echo.Context) error {
	var req newPatientRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	np, err := req.validate(calendar.Today(s.now()))
	if err != nil {
		return err
	}
	p, err := s.CreatePatient(c.Request().Context(), auth.From(c).Actor(), np)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toPatientJSON(p))
}

func (s *Store) listPatients(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	f := PatientFilter{FileNumber: c.QueryParam("file_number")}
	if len(f.FileNumber) > 32 || !utf8.ValidString(f.FileNumber) || strings.ContainsRune(f.FileNumber, 0) {
		return fault.Field("file_number", "file_number is not a file number")
	}
	if f.RightsStatus, err = httpapi.QueryEnum(c, "rights_status", rights.Statuses); err != nil {
		return err
	}
	list, err := s.Patients(c.Request().Context(), auth.From(c).Actor(), f, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(p Patient) int64 { return p.ID }, toPatientJSON))
}

func (s *Store) getPatient(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	p, history, err := s.Patient(c.Request().Context(), auth.From(c).Actor(), id)
	if err != nil {
		return err
	}
	out := toPatientJSON(p)
	events := make([]rightsEventJSON, len(history))
	for i, e := range history {
		events[i] = rightsEventJSON{Kind: e.Kind, Regime: e.Regime, FiledOn: e.FiledOn, EffectiveFrom: e.EffectiveFrom,
			EffectiveTo: e.EffectiveTo, Reference: e.Reference, Reason: e.Reason, By: e.Actor, At: e.CreatedAt.UTC()}
	}
	out.RightsHistory = &events
	return c.JSON(http.StatusOK, out)
}

type patientAccessJSON struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	UserID   *string   `json:"user_id"`
	UserName string    `json:"user_name"`
	Purpose  string    `json:"purpose"`
}

func toPatientAccessJSON(a PatientAccess) patientAccessJSON {
	out := patientAccessJSON{ID: ident.FormatID(a.ID), At: a.At.UTC(), UserName: a.UserName, Purpose: a.Purpose}
	if a.UserID != 0 {
		id := ident.FormatID(a.UserID)
		out.UserID = &id
	}
	return out
}

// getAccessLog lists who read a file's identity. It names no identity
// itself, so reading it is not logged.
func (s *Store) getAccessLog(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := s.AccessLog(c.Request().Context(), id, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(a PatientAccess) int64 { return a.ID }, toPatientAccessJSON))
}

type rightsRequestBody struct {
	Regime  api.Value `json:"regime"`
	FiledOn api.Value `json:"filed_on"`
}

func (s *Store) requestRights(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var body rightsRequestBody
	if err := httpapi.Decode(c, &body); err != nil {
		return err
	}
	req, err := body.validate()
	if err != nil {
		return err
	}
	p, err := s.RequestRights(c.Request().Context(), auth.From(c).Actor(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPatientJSON(p))
}

type rightsDecisionBody struct {
	Decision      api.Value `json:"decision"`
	Regime        api.Value `json:"regime"`
	EffectiveFrom api.Value `json:"effective_from"`
	EffectiveTo   api.Value `json:"effective_to"`
	Reference     api.Value `json:"reference"`
	Reason        api.Value `json:"reason"`
}

func (s *Store) decideRights(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var body rightsDecisionBody
	if err := httpapi.Decode(c, &body); err != nil {
		return err
	}
	d, err := body.validate()
	if err != nil {
		return err
	}
	p, err := s.DecideRights(c.Request().Context(), auth.From(c).Actor(), id, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPatientJSON(p))
}

func (body rightsDecisionBody) validate() (RightsDecision, error) {
	var d RightsDecision
	var err error
	if d.Decision, err = api.Enum(body.Decision, "decision", rights.Opened, rights.Refused); err != nil {
		return d, err
	}
	if d.Decision == rights.Refused {
		opening := []struct {
			field string
			value api.Value
		}{{"regime", body.Regime}, {"effective_from", body.EffectiveFrom}, {"effective_to", body.EffectiveTo}, {"reference", body.Reference}}
		for _, o := range opening {
			if o.value.Present() {
				return d, fault.Field(o.field, "%s is not part of a refusal", o.field)
			}
		}
		d.Reason, err = body.Reason.String("reason", 500)
		return d, err
	}
	if body.Reason.Present() {
		return d, fault.Field("reason", "reason is only for a refusal")
	}
	if d.Regime, err = body.Regime.Enum("regime", Regimes...); err != nil {
		return d, err
	}
	if d.EffectiveFrom, err = body.EffectiveFrom.Date("effective_from"); err != nil {
		return d, err
	}
	if d.EffectiveTo, err = body.EffectiveTo.OptDate("effective_to"); err != nil {
		return d, err
	}
	if !d.EffectiveTo.IsZero() && d.EffectiveTo.Before(d.EffectiveFrom) {
		return d, fault.Field("effective_to", "effective_to must not be before effective_from")
	}
	d.Reference, err = body.Reference.String("reference", 64)
	return d, err
}

type claimJSON struct {
	ID              string                 `json:"id"`
	InvoiceID       string                 `json:"invoice_id"`
	Amount          string                 `json:"amount"`
	Status          settlement.ClaimStatus `json:"status"`
	BatchID         *string                `json:"batch_id"`
	PaidAmount      *string                `json:"paid_amount"`
	PaidOn          *calendar.Date         `json:"paid_on"`
	RejectionReason *string                `json:"rejection_reason"`
	CreatedAt       time.Time              `json:"created_at"`
}

func toClaimJSON(cl Claim) claimJSON {
	out := claimJSON{ID: ident.FormatID(cl.ID), InvoiceID: ident.FormatID(cl.InvoiceID), Amount: money.Format(cl.Amount), Status: cl.Status,
		CreatedAt: cl.CreatedAt.UTC()}
	if cl.BatchID != 0 {
		b := ident.FormatID(cl.BatchID)
		out.BatchID = &b
	}
	if cl.PaidAmount != nil {
		p := money.Format(*cl.PaidAmount)
		out.PaidAmount = &p
	}
	if !cl.PaidOn.IsZero() {
		d := cl.PaidOn
		out.PaidOn = &d
	}
	if cl.RejectionReason != "" {
		r := cl.RejectionReason
		out.RejectionReason = &r
	}
	return out
}

func (s *Store) listClaims(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	var f ClaimFilter
	if f.Status, err = httpapi.QueryEnum(c, "status", settlement.ClaimStatuses); err != nil {
		return err
	}
	if b := c.QueryParam("batch_id"); b != "" {
		if f.BatchID, err = ident.ParseID(b); err != nil {
			return fault.Field("batch_id", "batch_id must be an id")
		}
	}
	list, err := s.Claims(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(cl Claim) int64 { return cl.ID }, toClaimJSON))
}

type claimBatchJSON struct {
	ID          string    `json:"id"`
	ClaimCount  int       `json:"claim_count"`
	Total       string    `json:"total"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Transmitted int       `json:"transmitted"`
	Paid        int       `json:"paid"`
	Rejected    int       `json:"rejected"`
	PaidAmount  string    `json:"paid_amount"`
}

func toClaimBatchJSON(b ClaimBatch) claimBatchJSON {
	return claimBatchJSON{ID: ident.FormatID(b.ID), ClaimCount: b.ClaimCount, Total: money.Format(b.Total), CreatedAt: b.CreatedAt.UTC(),
		CreatedBy: b.Creator, Transmitted: b.Transmitted, Paid: b.Paid, Rejected: b.Rejected, PaidAmount: money.Format(b.PaidAmount)}
}

func (s *Store) createClaimBatch(c echo.Context) error {
	if err := httpapi.DecodeOptional(c, nil); err != nil {
		return err
	}
	b, ok, err := s.CreateClaimBatch(c.Request().Context(), auth.From(c).Actor())
	if err != nil {
		return err
	}
	if !ok {
		return errNothingToBatch("queued claims")
	}
	return c.JSON(http.StatusCreated, toClaimBatchJSON(b))
}

func (s *Store) listClaimBatches(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := s.ClaimBatches(c.Request().Context(), page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(b ClaimBatch) int64 { return b.ID }, toClaimBatchJSON))
}

func (s *Store) getClaimBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.ClaimBatch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toClaimBatchJSON(b))
}

func (s *Store) exportClaimBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "json"
	}
	w, ok := cpamfile.WriterFor(format)
	if !ok {
		return fault.Field("format", "format must be json or csv")
	}
	// Check the batch exists before the first byte goes out.
	if _, err := s.ClaimBatch(c.Request().Context(), id); err != nil {
		return err
	}
	name := fmt.Sprintf("passd-claims-%d.%s", id, w.Format())
	return httpapi.Stream(c, w.ContentType(), name, func(out io.Writer) error {
		return s.ExportClaimBatch(c.Request().Context(), auth.From(c).Actor(), id, out, w)
	})
}

type returnResultJSON struct {
	Line       int     `json:"line"`
	ClaimID    string  `json:"claim_id"`
	Result     string  `json:"result"`
	Message    string  `json:"message,omitempty"`
	OwedAmount *string `json:"owed_amount,omitempty"`
}

type returnReportJSON struct {
	BatchID string             `json:"batch_id"`
	Counts  map[string]int     `json:"counts"`
	Lines   []returnResultJSON `json:"lines"`
}

func (s *Store) importReturn(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	body, err := httpapi.ReadBody(c)
	if err != nil {
		return err
	}
	lines, err := cpamfile.ParseReturn(httpapi.ContentType(c.Request()), body)
	if err != nil {
		return err
	}
	results, err := s.ImportReturn(c.Request().Context(), auth.From(c).Actor(), id, lines)
	if err != nil {
		return err
	}
	out := returnReportJSON{BatchID: ident.FormatID(id), Counts: map[string]int{}, Lines: make([]returnResultJSON, len(results))}
	for i, r := range results {
		out.Counts[r.Result]++
		out.Lines[i] = returnResultJSON{Line: r.Line, ClaimID: ident.FormatID(r.ClaimID), Result: r.Result, Message: r.Message}
		if r.Owed.IsPositive() {
			owed := money.Format(r.Owed)
			out.Lines[i].OwedAmount = &owed
		}
	}
	return c.JSON(http.StatusOK, out)
}
