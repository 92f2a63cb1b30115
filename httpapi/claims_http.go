package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"passd/calendar"
	"passd/claims"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/rights"
	"passd/settlement"
)

// claimsHandlers serves the patient, rights and claim routes over one
// claims store.
type claimsHandlers struct {
	store *claims.Store
}

// ClaimsRoutes registers the patient, rights and claim routes on g, which
// must already authenticate and enforce the API contract (openapi.Guard):
// the contract, not this list, says which roles may call each route (the
// export, which names patients, is the CPAM referent's only).
func ClaimsRoutes(g *echo.Group, s *claims.Store) {
	h := claimsHandlers{store: s}
	g.POST("/patients", h.createPatient)
	g.GET("/patients", h.listPatients)
	g.GET("/patients/:id", h.getPatient)
	g.PATCH("/patients/:id", h.patchPatient)
	g.GET("/patients/:id/access-log", h.getAccessLog)
	g.POST("/patients/:id/rights-request", updateRights(decodeRightsRequest, s.RequestRights))
	g.POST("/patients/:id/rights-decision", updateRights(decodeRightsDecision, s.DecideRights))
	g.POST("/patients/:id/rights-decisions/:did/correct", h.correctRights)
	g.GET("/claims", h.listClaims)
	g.POST("/claim-batches", h.createClaimBatch)
	g.GET("/claim-batches", h.listClaimBatches)
	g.GET("/claim-batches/:id", h.getClaimBatch)
	g.GET("/claim-batches/:id/export", h.exportClaimBatch)
	g.POST("/claim-batches/:id/returns", h.importReturn)
	g.GET("/reminders", h.listReminders)
}

func (h claimsHandlers) listClaims(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	var f claims.ClaimFilter
	if f.Status, err = QueryEnum(c, "status", settlement.ClaimStatuses); err != nil {
		return err
	}
	if b := c.QueryParam("batch_id"); b != "" {
		if f.BatchID, err = ident.ParseID(b); err != nil {
			return fault.Field("batch_id", "batch_id must be an id")
		}
	}
	list, err := h.store.Claims(c.Request().Context(), f, page)
	return answerPage(c, page, list, err, func(cl claims.Claim) int64 { return cl.ID }, toClaimJSON)
}

type claimJSON struct {
	ID              string                 `json:"id"`
	InvoiceID       string                 `json:"invoice_id"`
	Kind            settlement.ClaimKind   `json:"kind"`
	Amount          string                 `json:"amount"`
	Status          settlement.ClaimStatus `json:"status"`
	BatchID         *string                `json:"batch_id"`
	PaidAmount      *string                `json:"paid_amount"`
	PaidOn          *calendar.Date         `json:"paid_on"`
	RejectionReason *string                `json:"rejection_reason"`
	CreatedAt       time.Time              `json:"created_at"`
	CancelledAt     *time.Time             `json:"cancelled_at"`
	CancelBatchID   *string                `json:"cancel_batch_id"`
	// The rights period that released it, kept with the claim (null for
	// claims queued before periods were kept).
	RightsDecisionID *string       `json:"rights_decision_id"`
	Regime           rights.Regime `json:"regime,omitempty"`
	Reference        string        `json:"reference,omitempty"`
}

func toClaimJSON(cl claims.Claim) claimJSON {
	var cancelledAt *time.Time
	if cl.CancelledAt != nil {
		at := cl.CancelledAt.UTC()
		cancelledAt = &at
	}
	return claimJSON{ID: ident.FormatID(cl.ID), InvoiceID: ident.FormatID(cl.InvoiceID), Kind: cl.Kind, Amount: money.Format(cl.Amount), Status: cl.Status,
		BatchID: optID(cl.BatchID), PaidAmount: optAmount(cl.PaidAmount), PaidOn: optDate(cl.PaidOn),
		RejectionReason: nullable(cl.RejectionReason), CreatedAt: cl.CreatedAt.UTC(),
		CancelledAt: cancelledAt, CancelBatchID: optID(cl.CancelBatchID),
		RightsDecisionID: optID(cl.RightsDecisionID), Regime: cl.Regime, Reference: cl.Reference}
}
