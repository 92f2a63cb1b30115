package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/rights"
)

// TariffRoutes registers the acts catalogue, the drug table, the rates and
// the review of invoices over a ceiling on g (see BillingRoutes).
func TariffRoutes(g *echo.Group, s *billing.Store) {
	h := billingHandlers{s}
	g.GET("/acts", h.listActs)
	g.POST("/acts/import", h.importActs)
	g.GET("/acts/:code", h.getAct)
	g.PUT("/acts/:code", h.putAct)
	g.DELETE("/acts/:code", h.deleteAct)
	g.GET("/drugs", h.listDrugs)
	g.POST("/drugs/import", h.importDrugs)
	g.GET("/drugs/:cip13", h.getDrug)
	g.PUT("/drugs/:cip13", h.putDrug)
	g.DELETE("/drugs/:cip13", h.deleteDrug)
	g.GET("/rates", h.listRates)
	g.POST("/rates", h.addRate)
	g.POST("/invoices/:id/review", h.acceptReview)
}

// ---- acts ----

type actJSON struct {
	Code          string    `json:"code"`
	Label         string    `json:"label"`
	ProviderKinds []string  `json:"provider_kinds"`
	RateClass     *string   `json:"rate_class"`
	MaxUnitPrice  *string   `json:"max_unit_price"`
	DispensingFee bool      `json:"dispensing_fee"`
	Source        string    `json:"source"`
	UpdatedAt     time.Time `json:"updated_at"`
	UpdatedBy     *string   `json:"updated_by"`
}

func toActJSON(a billing.Act) actJSON {
	return actJSON{Code: a.Code, Label: a.Label, ProviderKinds: a.ProviderKinds, RateClass: nullable(string(a.RateClass)),
		MaxUnitPrice: optAmount(a.MaxUnitPrice), DispensingFee: a.DispensingFee, Source: a.Source, UpdatedAt: a.UpdatedAt.UTC(),
		UpdatedBy: nullable(a.UpdatedBy)}
}

type actRequest struct {
	Label         api.Value `json:"label"`
	ProviderKinds api.Value `json:"provider_kinds"`
	RateClass     api.Value `json:"rate_class"`
	MaxUnitPrice  api.Value `json:"max_unit_price"`
	DispensingFee api.Value `json:"dispensing_fee"`
	Source        api.Value `json:"source"`
}

func (r actRequest) act(code string) (billing.Act, error) {
	var v valueReader
	a := billing.Act{Code: code, Label: v.text(r.Label, "label")}
	a.RateClass = billing.RateClass(v.text(r.RateClass, "rate_class"))
	a.Source = v.text(r.Source, "source")
	if v.err != nil {
		return a, v.err
	}
	kinds, err := r.ProviderKinds.Array("provider_kinds")
	if err != nil {
		return a, err
	}
	for i, k := range kinds {
		kind, err := k.Text("provider_kinds[" + strconv.Itoa(i) + "]")
		if err != nil {
			return a, err
		}
		a.ProviderKinds = append(a.ProviderKinds, kind)
	}
	if r.MaxUnitPrice.Present() {
		price, err := r.MaxUnitPrice.Amount("max_unit_price")
		if err != nil {
			return a, err
		}
		a.MaxUnitPrice = &price
	}
	if r.DispensingFee.Present() {
		if a.DispensingFee, err = r.DispensingFee.Bool("dispensing_fee"); err != nil {
			return a, err
		}
	}
	return a, a.Validate()
}

func (h billingHandlers) listActs(c echo.Context) error {
	acts, err := h.s.Acts(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]actJSON, len(acts))
	for i, a := range acts {
		out[i] = toActJSON(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (h billingHandlers) getAct(c echo.Context) error {
	a, err := h.s.Act(c.Request().Context(), c.Param("code"))
	return answerJSON(c, http.StatusOK, a, err, toActJSON)
}

func (h billingHandlers) putAct(c echo.Context) error {
	a, err := decodeBody(c, func(r actRequest) (billing.Act, error) { return r.act(c.Param("code")) })
	if err != nil {
		return err
	}
	if a.Code != c.Param("code") {
		return fault.Field("code", "write the code in the path as %s", a.Code)
	}
	a, err = h.s.PutAct(c.Request().Context(), auth.From(c).Actor(), a)
	return answerJSON(c, http.StatusOK, a, err, toActJSON)
}

func (h billingHandlers) deleteAct(c echo.Context) error {
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	if err := h.s.DeleteAct(c.Request().Context(), auth.From(c).Actor(), c.Param("code")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type importJSON struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// readCSV reads the CSV body of an import.
func readCSV(c echo.Context) ([]byte, error) {
	if ContentType(c.Request()) != "text/csv" {
		return nil, fault.New(fault.Invalid, "send the file as text/csv").WithKind(fault.KindUnsupportedMediaType).
			WithStatus(http.StatusUnsupportedMediaType)
	}
	return ReadBody(c)
}

func (h billingHandlers) importActs(c echo.Context) error { return importCSV(c, h.s.ImportActs) }

// importCSV runs an import of a CSV body and answers what it changed.
func importCSV(c echo.Context, run func(context.Context, audit.Actor, []byte) (billing.ImportResult, error)) error {
	body, err := readCSV(c)
	if err != nil {
		return err
	}
	res, err := run(c.Request().Context(), auth.From(c).Actor(), body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, importJSON{Created: res.Created, Updated: res.Updated})
}

// ---- drugs ----

type drugJSON struct {
	CIP13     string    `json:"cip13"`
	Label     string    `json:"label"`
	Class     int       `json:"class"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy *string   `json:"updated_by"`
}

func toDrugJSON(d billing.Drug) drugJSON {
	return drugJSON{CIP13: d.CIP13, Label: d.Label, Class: d.Class, UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: nullable(d.UpdatedBy)}
}

type drugRequest struct {
	Label api.Value `json:"label"`
	Class api.Value `json:"class"`
}

func (h billingHandlers) listDrugs(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	f := billing.DrugFilter{Search: c.QueryParam("q")}
	if len(f.Search) > billing.MaxActLabel {
		return fault.Field("q", "q is longer than %d characters", billing.MaxActLabel)
	}
	if class := c.QueryParam("class"); class != "" {
		if f.Class, err = strconv.Atoi(class); err != nil || f.Class <= 0 {
			return fault.Field("class", "class must be 100, 65, 30 or 15")
		}
	}
	after := c.QueryParam("after")
	drugs, err := h.s.Drugs(c.Request().Context(), f, after, page.Limit+1)
	if err != nil {
		return err
	}
	out := map[string]any{"next_after": nil}
	if len(drugs) > page.Limit {
		drugs = drugs[:page.Limit]
		out["next_after"] = drugs[len(drugs)-1].CIP13
	}
	items := make([]drugJSON, len(drugs))
	for i, d := range drugs {
		items[i] = toDrugJSON(d)
	}
	out["items"] = items
	return c.JSON(http.StatusOK, out)
}

func (h billingHandlers) getDrug(c echo.Context) error {
	d, err := h.s.Drug(c.Request().Context(), c.Param("cip13"))
	return answerJSON(c, http.StatusOK, d, err, toDrugJSON)
}

func (h billingHandlers) putDrug(c echo.Context) error {
	d, err := decodeBody(c, func(r drugRequest) (billing.Drug, error) {
		var v valueReader
		d := billing.Drug{CIP13: c.Param("cip13"), Label: v.text(r.Label, "label"), Class: v.integer(r.Class, "class")}
		if v.err != nil {
			return d, v.err
		}
		return d, d.Validate()
	})
	if err != nil {
		return err
	}
	if d.CIP13 != c.Param("cip13") {
		return fault.Field("cip13", "write the CIP13 in the path as %s", d.CIP13)
	}
	d, err = h.s.PutDrug(c.Request().Context(), auth.From(c).Actor(), d)
	return answerJSON(c, http.StatusOK, d, err, toDrugJSON)
}

func (h billingHandlers) deleteDrug(c echo.Context) error {
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	if err := h.s.DeleteDrug(c.Request().Context(), auth.From(c).Actor(), c.Param("cip13")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h billingHandlers) importDrugs(c echo.Context) error { return importCSV(c, h.s.ImportDrugs) }

// ---- rates ----

type rateJSON struct {
	Regime        rights.Regime     `json:"regime"`
	RateClass     billing.RateClass `json:"rate_class"`
	EffectiveFrom calendar.Date     `json:"effective_from"`
	Rate          string            `json:"rate"`
	Reason        string            `json:"reason"`
	CreatedAt     time.Time         `json:"created_at"`
	CreatedBy     *string           `json:"created_by"`
}

func toRateJSON(r billing.Rate) rateJSON {
	return rateJSON{Regime: r.Regime, RateClass: r.Class, EffectiveFrom: r.EffectiveFrom, Rate: r.Rate.StringFixed(3),
		Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(), CreatedBy: nullable(r.CreatedBy)}
}

type rateRequest struct {
	Regime        api.Value `json:"regime"`
	RateClass     api.Value `json:"rate_class"`
	EffectiveFrom api.Value `json:"effective_from"`
	Rate          api.Value `json:"rate"`
	Reason        api.Value `json:"reason"`
}

func (r rateRequest) rate() (billing.Rate, error) {
	var v valueReader
	rt := billing.Rate{Regime: rights.Regime(v.text(r.Regime, "regime")), Class: billing.RateClass(v.text(r.RateClass, "rate_class")),
		EffectiveFrom: v.date(r.EffectiveFrom, "effective_from"), Reason: v.text(r.Reason, "reason")}
	if v.err != nil {
		return rt, v.err
	}
	rate, err := r.Rate.Text("rate")
	if err != nil {
		return rt, err
	}
	if rt.Rate, err = parseRate(rate); err != nil {
		return rt, err
	}
	return rt, rt.Validate()
}

// parseRate reads a rate as a decimal string ("0.70"): digits, a dot and
// at most three decimals, nothing else.
func parseRate(s string) (decimal.Decimal, error) {
	bad := fault.Field("rate", "rate must be a decimal string between \"0\" and \"1\" with at most 3 decimals, like \"0.70\"")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 1 || len(frac) > 3 || strings.Trim(whole+frac, "0123456789") != "" {
		return decimal.Zero, bad
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, bad
	}
	return d, nil
}

// listRates answers the rates' history, or with ?on= the rates in force
// on that day.
func (h billingHandlers) listRates(c echo.Context) error {
	rates, err := h.s.Rates(c.Request().Context())
	if err != nil {
		return err
	}
	if on := c.QueryParam("on"); on != "" {
		day, err := calendar.Parse(on)
		if err != nil {
			return fault.Field("on", "on must be a date (YYYY-MM-DD)")
		}
		rates = billing.RatesOn(rates, day)
	}
	out := make([]rateJSON, len(rates))
	for i, r := range rates {
		out[i] = toRateJSON(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (h billingHandlers) addRate(c echo.Context) error {
	r, err := decodeBody(c, rateRequest.rate)
	if err != nil {
		return err
	}
	r, err = h.s.AddRate(c.Request().Context(), auth.From(c).Actor(), r)
	return answerJSON(c, http.StatusCreated, r, err, toRateJSON)
}

// ---- review ----

// acceptReview lets an invoice held over a ceiling be decided. The body
// is optional; when given it must be an empty JSON object.
func (h billingHandlers) acceptReview(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	inv, err := h.s.AcceptReview(c.Request().Context(), auth.From(c).Actor(), id)
	return answerJSON(c, http.StatusOK, inv, err, toInvoiceJSON)
}
