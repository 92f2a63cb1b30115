package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/fault"
	"passd/ident"
	"passd/money"
)

// The routes of money under four eyes: a provider's edit and the bank
// details changes it makes, the budget override, holds and voids of
// payouts. The roles are the contract's (openapi.yaml); the domain checks
// the second person again.
func fourEyesRoutes(g *echo.Group, h billingHandlers) {
	g.PATCH("/providers/:id", h.patchProvider)
	g.GET("/bank-changes", h.listBankChanges)
	g.GET("/bank-changes/:id", h.getBankChange)
	g.POST("/bank-changes/:id/confirm", h.confirmBankChange)
	g.POST("/bank-changes/:id/reject", h.rejectBankChange)
	g.POST("/payout-batches/:id/budget-override", h.overrideBudget)
	g.POST("/payouts/:id/hold", h.holdPayout)
	g.POST("/payouts/:id/release", h.releasePayout)
	g.POST("/payouts/:id/void", h.requestVoid)
	g.GET("/payout-voids", h.listVoids)
	g.POST("/payout-voids/:id/confirm", h.confirmVoid)
	g.POST("/payout-voids/:id/reject", h.rejectVoid)
}

type bankDetailsJSON struct {
	Name string `json:"name"`
	IBAN string `json:"iban"`
	BIC  string `json:"bic"`
}

type bankChangeJSON struct {
	ID          string           `json:"id"`
	ProviderID  *string          `json:"provider_id"` // null: the régie's account
	Details     bankDetailsJSON  `json:"details"`
	Previous    *bankDetailsJSON `json:"previous"` // null: a new provider's first details
	Status      string           `json:"status"`
	RequestedBy *string          `json:"requested_by"`
	RequestedAt time.Time        `json:"requested_at"`
	DecidedBy   *string          `json:"decided_by"`
	DecidedAt   *time.Time       `json:"decided_at"`
	Reason      *string          `json:"reason"`
}

func toBankChangeJSON(c billing.BankChange) bankChangeJSON {
	out := bankChangeJSON{ID: ident.FormatID(c.ID), ProviderID: optID(c.ProviderID),
		Details: bankDetailsJSON{c.New.Name, c.New.IBAN, c.New.BIC}, Status: string(c.Status), RequestedBy: nullable(c.RequestedBy),
		RequestedAt: c.RequestedAt.UTC(), DecidedBy: nullable(c.DecidedBy), DecidedAt: utc(c.DecidedAt), Reason: nullable(c.Reason)}
	if c.Old != nil {
		out.Previous = &bankDetailsJSON{c.Old.Name, c.Old.IBAN, c.Old.BIC}
	}
	return out
}

func optBankChange(c *billing.BankChange) *bankChangeJSON {
	if c == nil {
		return nil
	}
	j := toBankChangeJSON(*c)
	return &j
}

// providerPatchRequest is the body of PATCH /providers/{id}: the fields to
// change, the others left out.
type providerPatchRequest struct {
	Kind   api.Value `json:"kind"`
	Name   api.Value `json:"name"`
	RPPS   api.Value `json:"rpps"`
	FINESS api.Value `json:"finess"`
	IBAN   api.Value `json:"iban"`
	BIC    api.Value `json:"bic"`
}

func (r providerPatchRequest) patch() (billing.ProviderPatch, error) {
	var p billing.ProviderPatch
	for _, f := range []struct {
		v     api.Value
		field string
		dst   **string
	}{{r.Kind, "kind", &p.Kind}, {r.Name, "name", &p.Name}, {r.RPPS, "rpps", &p.RPPS}, {r.FINESS, "finess", &p.FINESS},
		{r.IBAN, "iban", &p.IBAN}, {r.BIC, "bic", &p.BIC}} {
		if !f.v.Present() {
			continue
		}
		s, err := f.v.Text(f.field)
		if err != nil {
			return p, err
		}
		*f.dst = &s
	}
	return p, nil
}

// providerPatchJSON is a provider as PATCH leaves it, with the change of
// its bank details that now waits for a confirmation.
type providerPatchJSON struct {
	providerJSON
	PendingBankChange *bankChangeJSON `json:"pending_bank_change"`
}

func (h billingHandlers) patchProvider(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	patch, err := decodeBody(c, providerPatchRequest.patch)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, _, err := h.s.UpdateProvider(ctx, auth.From(c).Actor(), id, patch)
	if err != nil {
		return err
	}
	pending, err := h.s.PendingBankChange(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, providerPatchJSON{toProviderJSON(p), optBankChange(pending)})
}

func (h billingHandlers) listBankChanges(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	var f billing.BankChangeFilter
	if f.Status, err = QueryEnum(c, "status", billing.BankChangeStatuses); err != nil {
		return err
	}
	if f.Provider, err = queryID(c, "provider_id"); err != nil {
		return err
	}
	f.Regie = c.QueryParam("account") == "regie"
	if a := c.QueryParam("account"); a != "" && a != "regie" {
		return fault.Field("account", "account must be regie, or left out")
	}
	list, err := h.s.BankChanges(c.Request().Context(), f, page)
	return answerPage(c, page, list, err, func(b billing.BankChange) int64 { return b.ID }, toBankChangeJSON)
}

func (h billingHandlers) getBankChange(c echo.Context) error {
	return answerByID(c, h.s.BankChange, toBankChangeJSON)
}

func (h billingHandlers) confirmBankChange(c echo.Context) error {
	return decided(c, h.s.ConfirmBankChange, toBankChangeJSON)
}

// reasonRequest is a body of one required reason.
type reasonRequest struct {
	Reason api.Value `json:"reason"`
}

func (r reasonRequest) reason() (string, error) { return r.Reason.Text("reason") }

func (h billingHandlers) rejectBankChange(c echo.Context) error {
	return withReason(c, h.s.RejectBankChange, toBankChangeJSON)
}

func (h billingHandlers) overrideBudget(c echo.Context) error {
	return withReason(c, h.s.OverrideBudget, toPayoutBatchJSON)
}

func (h billingHandlers) holdPayout(c echo.Context) error {
	return withReason(c, h.s.HoldPayout, toPayoutJSON)
}

func (h billingHandlers) releasePayout(c echo.Context) error {
	return decided(c, h.s.ReleasePayout, toPayoutJSON)
}

type payoutVoidJSON struct {
	ID          string     `json:"id"`
	PayoutID    string     `json:"payout_id"`
	InvoiceID   string     `json:"invoice_id"`
	Amount      string     `json:"amount"`
	Reason      string     `json:"reason"`
	Status      string     `json:"status"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedBy   *string    `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
}

func toPayoutVoidJSON(v billing.PayoutVoid) payoutVoidJSON {
	return payoutVoidJSON{ID: ident.FormatID(v.ID), PayoutID: ident.FormatID(v.PayoutID), InvoiceID: ident.FormatID(v.InvoiceID),
		Amount: money.Format(v.Amount), Reason: v.Reason, Status: string(v.Status), RequestedBy: v.RequestedBy,
		RequestedAt: v.RequestedAt.UTC(), DecidedBy: nullable(v.DecidedBy), DecidedAt: utc(v.DecidedAt)}
}

func (h billingHandlers) requestVoid(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	reason, err := decodeBody(c, reasonRequest.reason)
	if err != nil {
		return err
	}
	v, err := h.s.RequestVoid(c.Request().Context(), auth.From(c).Actor(), id, reason)
	return answerJSON(c, http.StatusCreated, v, err, toPayoutVoidJSON)
}

func (h billingHandlers) listVoids(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	status, err := QueryEnum(c, "status", billing.VoidStatuses)
	if err != nil {
		return err
	}
	list, err := h.s.PayoutVoids(c.Request().Context(), status, page)
	return answerPage(c, page, list, err, func(v billing.PayoutVoid) int64 { return v.ID }, toPayoutVoidJSON)
}

func (h billingHandlers) confirmVoid(c echo.Context) error {
	return decided(c, h.s.ConfirmVoid, toPayoutVoidJSON)
}

func (h billingHandlers) rejectVoid(c echo.Context) error {
	return decided(c, h.s.RejectVoid, toPayoutVoidJSON)
}

// decided answers a step on the thing of the path that takes no body (an
// empty object at most), taken by the caller.
func decided[D, T any](c echo.Context, step func(context.Context, audit.Actor, int64) (D, error), conv func(D) T) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	row, err := step(c.Request().Context(), auth.From(c).Actor(), id)
	return answerJSON(c, http.StatusOK, row, err, conv)
}

// withReason answers a step on the thing of the path whose body gives its
// reason.
func withReason[D, T any](c echo.Context, step func(context.Context, audit.Actor, int64, string) (D, error), conv func(D) T) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	reason, err := decodeBody(c, reasonRequest.reason)
	if err != nil {
		return err
	}
	row, err := step(c.Request().Context(), auth.From(c).Actor(), id, reason)
	return answerJSON(c, http.StatusOK, row, err, conv)
}
