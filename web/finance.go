package web

import (
	"context"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/money"
	"passd/settlement"
)

// The finance role's pages: the dashboard, the payout batches and their
// steps (draft, submit, approve by another agent, cancel, mark paid), the
// SEPA file and the CSV exports. Every step calls the billing.Store method
// its API route calls; the rules (four eyes, budget, statuses) stay there.

// ---- the dashboard ----

type batchCount struct {
	Label string
	Count int
}

type financeHome struct {
	Budget               billing.Budget
	Used                 decimal.Decimal // committed + paid
	UsedValue, BudgetMax string          // plain decimals for <meter>, never floats
	Overspent            bool
	Due                  []billing.ProviderDue
	DueTotal             decimal.Decimal
	Batches              []batchCount
	Stages               []stageRow
}

// stageRow is one step of the payouts' way out, in French.
type stageRow struct {
	Label  string
	Count  int
	Amount decimal.Decimal
}

// stageLabels say where payouts stand, as finance says it.
var stageLabels = map[billing.Stage]string{
	billing.StageDue: "À mettre dans un lot", billing.StageHeld: "Mis de côté (suspendus)",
	billing.StageDraft: "Dans un lot en préparation", billing.StageSubmitted: "Dans un lot soumis, à approuver",
	billing.StageApproved: "Approuvés, à virer", billing.StagePaid: "Payés cette année",
}

func (s *Server) financeHome(c echo.Context) error {
	ctx := c.Request().Context()
	budget, err := s.billing.BudgetReport(ctx, calendar.Today(s.now()).Year())
	if err != nil {
		return err
	}
	summary, err := s.billing.FinanceSummary(ctx, calendar.Today(s.now()).Year())
	if err != nil {
		return err
	}
	used := budget.Committed.Add(budget.Paid)
	page := financeHome{Budget: budget, Used: used, UsedValue: money.Format(decimal.Min(used, budget.Budget)),
		BudgetMax: money.Format(budget.Budget), Overspent: budget.Remaining.IsNegative(), Due: summary.Due, DueTotal: decimal.Zero}
	for _, d := range summary.Due {
		page.DueTotal = page.DueTotal.Add(d.Amount)
	}
	for _, st := range summary.Stages {
		page.Stages = append(page.Stages, stageRow{Label: stageLabels[st.Stage], Count: st.Count, Amount: st.Amount})
	}
	for _, st := range billing.BatchStatuses {
		page.Batches = append(page.Batches, batchCount{Label: st.Label(), Count: summary.BatchesByState[st]})
	}
	return s.render(c, http.StatusOK, "finance-home.html", "Tableau de bord", page)
}

// ---- the batches ----

type batchRow struct {
	Batch  billing.PayoutBatch
	Status string
}

type batchListPage struct {
	api.Page[batchRow] // the batches, newest first unless Order says
	Error              string
	Filter             statusFilter
	Order              listOrder
}

func (s *Server) payoutBatchList(c echo.Context) error {
	return s.renderBatchList(c, http.StatusOK, "")
}

func (s *Server) renderBatchList(c echo.Context, status int, message string) error {
	only, filter := readStatusFilter(c, billing.BatchStatuses, billing.BatchStatus.Label)
	order := readListOrder(c, "Créé le", url.Values{"statut": {filter.Status}})
	filter.Sort = order.Sort()
	batches, err := readOrderedPage(c, order, func(ctx context.Context, page db.PageRequest) ([]billing.PayoutBatch, error) {
		return s.billing.PayoutBatches(ctx, only, page)
	}, func(b billing.PayoutBatch) int64 { return b.ID }, func(b billing.PayoutBatch) batchRow {
		return batchRow{Batch: b, Status: b.Status.Label()}
	})
	if err != nil {
		return err
	}
	if filter.Matching, err = s.billing.CountPayoutBatches(c.Request().Context(), only); err != nil {
		return err
	}
	return s.render(c, status, "finance-batches.html", "Lots de paiement",
		batchListPage{Page: batches, Error: message, Filter: filter, Order: order})
}

// draftPayoutBatch is "Préparer un lot": POST /payout-batches without a
// provider filter.
func (s *Server) draftPayoutBatch(c echo.Context) error {
	p, _ := principal(c)
	b, ok, err := s.billing.DraftPayoutBatch(c.Request().Context(), p.Actor(), 0)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderBatchList(c, http.StatusConflict,
			"Aucun paiement à verser ne peut entrer dans un lot : il n'y en a pas sous le plafond de la régie, ou un autre lot est en cours de préparation.")
	}
	return redirectWithFlash(c, "batch-drafted", fmt.Sprintf("/finances/lots/%d", b.ID))
}

// ---- one batch ----

type payoutRow struct {
	Payout         billing.Payout
	Invoice        billing.InvoiceName
	Status, Reason string
}

type batchPage struct {
	Batch                                                  billing.PayoutBatch
	Status                                                 string
	Payouts                                                []payoutRow
	Recoveries                                             []billing.Recovery // deducted from the batch
	More                                                   bool               // the batch holds more payouts than the page lists
	Error                                                  string
	PaidOn                                                 string
	PaidErr                                                string
	CanSubmit, CanApprove, CanCancel, CanMarkPaid, HasSEPA bool
	SEPAHash                                               string // the frozen file's SHA-256, hexadecimal
}

// batchPageLimit is how many of a batch's payouts the page lists; the CSV
// has them all.
const batchPageLimit = db.MaxLimit

func (s *Server) payoutBatchPage(c echo.Context) error {
	return s.renderBatch(c, http.StatusOK, batchPage{})
}

// renderBatch reads the batch named in the path and renders it with what
// page already says (an error, the typed date).
func (s *Server) renderBatch(c echo.Context, status int, page batchPage) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	b, err := s.billing.PayoutBatch(ctx, id)
	if err != nil {
		return err
	}
	payouts, err := s.billing.Payouts(ctx, billing.PayoutFilter{BatchID: id}, db.PageRequest{Limit: batchPageLimit})
	if err != nil {
		return err
	}
	if len(payouts) > batchPageLimit {
		payouts, page.More = payouts[:batchPageLimit], true
	}
	// A batch deducts a few recoveries per provider at most: one page
	// holds them all.
	if page.Recoveries, err = s.billing.Recoveries(ctx, billing.RecoveryFilter{BatchID: id}, db.PageRequest{Limit: db.MaxLimit}); err != nil {
		return err
	}
	page.Batch, page.Status = b, b.Status.Label()
	invoices, err := invoiceNamesOf(ctx, s, payouts, func(p billing.Payout) int64 { return p.InvoiceID })
	if err != nil {
		return err
	}
	for _, po := range payouts {
		page.Payouts = append(page.Payouts, payoutRow{Payout: po, Invoice: invoices[po.InvoiceID], Status: po.Status.Label(), Reason: po.Reason.Label()})
	}
	// The buttons are the actions the batch's machine allows: the store
	// asks the same table before it changes anything.
	page.CanSubmit = b.Status.Allowed(billing.BatchSubmit)
	page.CanApprove = b.Status.Allowed(billing.BatchApprove)
	page.CanCancel = b.Status.Allowed(billing.BatchCancel)
	page.CanMarkPaid = b.Status.Allowed(billing.BatchMarkPaid)
	page.HasSEPA = b.Status.HasSEPA()
	if b.SEPASHA256 != nil {
		page.SEPAHash = hex.EncodeToString(b.SEPASHA256)
	}
	if page.PaidOn == "" && page.PaidErr == "" {
		page.PaidOn = calendar.Today(s.now()).String() // a refused date stays as typed, even blank
	}
	return s.render(c, status, "finance-batch.html", fmt.Sprintf("Lot de paiement n° %d", b.ID), page)
}

// batchStep runs one step of a batch and comes back to its page; a refusal
// the agent can understand is shown there in French.
func (s *Server) batchStep(flash string, step func(c echo.Context, p auth.Principal, id int64) error, confirm batchConfirmation) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principal(c)
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		if confirm != nil && c.FormValue(confirmField) != "oui" {
			b, err := s.billing.PayoutBatch(c.Request().Context(), id)
			if err != nil {
				return err
			}
			// A step billing would refuse (the preparer approving, a
			// batch no longer open) is refused at once, not asked about.
			if page, ask := confirm(b, p); ask {
				return s.render(c, http.StatusOK, "admin-confirm.html", page.Heading, page)
			}
		}
		if err := step(c, p, id); err != nil {
			status, refusal, ok := explainBatchError(err)
			if !ok {
				return err
			}
			return s.renderBatch(c, status, batchPage{Error: refusal})
		}
		return redirectWithFlash(c, flash, fmt.Sprintf("/finances/lots/%d", id))
	}
}

// explainBatchError turns a refusal of billing into a status and the
// batch page's French message for it; false when the table has none (the
// error is then a 500 or 503 page). Only the four-eyes rule is about who
// asks (403); every other refusal is about the batch's state (409).
func explainBatchError(err error) (int, string, bool) {
	fe, ok := fault.As(err)
	if !ok {
		return 0, "", false
	}
	m := message("payout_batch", "", fe)
	if m == "" {
		return 0, "", false
	}
	if fe.Kind == fault.KindFourEyes {
		return http.StatusForbidden, m, true
	}
	return http.StatusConflict, m, true
}

func (s *Server) submitPayoutBatch(c echo.Context, p auth.Principal, id int64) error {
	_, err := s.billing.SubmitPayoutBatch(c.Request().Context(), p.Actor(), id)
	return err
}

// batchConfirmation is the page that asks before an irreversible step of
// a batch, with its figures, and whether to ask (false: billing refuses
// the step, which says why); nil: the step needs no confirmation.
type batchConfirmation func(b billing.PayoutBatch, p auth.Principal) (confirmPage, bool)

// batchFigures is "12 virements, 1 234,56 €, vers 5 effecteurs".
func batchFigures(b billing.PayoutBatch) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	return fmt.Sprintf("%s, %s, vers %s", plural(b.PayoutCount, "virement", "virements"), FormatAmount(b.Net()),
		plural(len(b.Providers), "effecteur", "effecteurs"))
}

func batchBack(b billing.PayoutBatch) navLink {
	return navLink{Href: fmt.Sprintf("/finances/lots/%d", b.ID), Label: fmt.Sprintf("Revenir au lot n° %d sans rien changer", b.ID)}
}

func confirmApproval(b billing.PayoutBatch, p auth.Principal) (confirmPage, bool) {
	return confirmPage{
		Heading: fmt.Sprintf("Approuver le lot n° %d : %s ?", b.ID, batchFigures(b)),
		Warnings: []string{
			fmt.Sprintf("Contrôle à quatre yeux : le lot a été préparé par %s ; vous, %s, l'approuvez.", ActorLabel(b.PreparedBy), p.Name),
			"Le fichier de virements SEPA est figé à l'approbation : il ne pourra plus changer, seulement être téléchargé.",
			fmt.Sprintf("Le budget de l'année comptera ces %s comme utilisés.", FormatAmount(b.Total)),
		},
		Action: fmt.Sprintf("/finances/lots/%d/approuver", b.ID), Button: fmt.Sprintf("Approuver le lot n° %d", b.ID), Back: batchBack(b),
	}, b.Status == billing.BatchSubmitted && b.PreparedByID != p.UserID
}

func confirmBatchCancel(b billing.PayoutBatch, _ auth.Principal) (confirmPage, bool) {
	return confirmPage{
		Heading: fmt.Sprintf("Annuler le lot n° %d (%s) ?", b.ID, batchFigures(b)),
		Warnings: []string{
			"Le lot est annulé pour de bon ; ses paiements reviennent « à mettre dans un lot » et entreront dans le prochain.",
		},
		Action: fmt.Sprintf("/finances/lots/%d/annuler", b.ID), Button: fmt.Sprintf("Annuler le lot n° %d", b.ID), Back: batchBack(b),
	}, b.Status == billing.BatchDraft || b.Status == billing.BatchSubmitted
}

func (s *Server) approvePayoutBatch(c echo.Context, p auth.Principal, id int64) error {
	_, err := s.billing.ApprovePayoutBatch(c.Request().Context(), p.Actor(), id)
	return err
}

func (s *Server) cancelPayoutBatch(c echo.Context, p auth.Principal, id int64) error {
	_, err := s.billing.CancelPayoutBatch(c.Request().Context(), p.Actor(), id)
	return err
}

// markPayoutBatchPaid is the form "Marquer payé"; the date goes through
// the store's checks (not in the future, not before the approval).
func (s *Server) markPayoutBatchPaid(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("paid_on"))
	paidOn, err := formDate("paid_on", raw)
	var b billing.PayoutBatch
	if err == nil && c.FormValue(confirmField) != "oui" {
		if b, err = s.billing.PayoutBatch(c.Request().Context(), id); err == nil {
			err = b.CheckPaid(paidOn, calendar.Today(s.now()))
		}
	}
	if err == nil && c.FormValue(confirmField) != "oui" {
		return s.render(c, http.StatusOK, "admin-confirm.html", "Marquer le lot payé", confirmPage{
			Heading: fmt.Sprintf("Marquer le lot n° %d payé le %s : %s ?", b.ID, FormatDate(paidOn), batchFigures(b)),
			Warnings: []string{
				"Dites-le une fois la banque de la régie ayant exécuté les virements : les effecteurs verront leurs factures payées.",
				"Un lot payé ne change plus ; une erreur se corrige par une reprise sur l'effecteur.",
			},
			Action: fmt.Sprintf("/finances/lots/%d/paye", b.ID), Button: fmt.Sprintf("Marquer le lot n° %d payé", b.ID), Back: batchBack(b),
			Hidden: []hiddenField{{"paid_on", raw}},
		})
	}
	if err == nil {
		_, err = s.billing.MarkPayoutBatchPaid(c.Request().Context(), p.Actor(), id, paidOn)
	}
	if err != nil {
		fe, ok := fault.As(err)
		if ok && fe.Field == "paid_on" {
			return s.renderBatch(c, http.StatusUnprocessableEntity, batchPage{PaidOn: raw, PaidErr: message("payout_batch", "paid_on", fe)})
		}
		status, refusal, ok := explainBatchError(err)
		if !ok {
			return err
		}
		return s.renderBatch(c, status, batchPage{PaidOn: raw, Error: refusal})
	}
	return redirectWithFlash(c, "batch-paid", fmt.Sprintf("/finances/lots/%d", id))
}

// ---- files ----

// batchSEPA is GET /payout-batches/{id}/sepa.xml: the same checks and writer.
func (s *Server) batchSEPA(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	p, _ := principal(c)
	if _, err := s.billing.OpenSEPA(c.Request().Context(), p.Actor(), id); err != nil {
		if _, refusal, ok := explainBatchError(err); ok {
			return s.renderBatch(c, http.StatusConflict, batchPage{Error: refusal})
		}
		return err
	}
	return httpapi.Stream(c, "application/xml", fmt.Sprintf("passd-virements-lot-%d.xml", id), func(w io.Writer) error {
		return s.billing.WriteSEPA(c.Request().Context(), id, w)
	})
}

// ---- what the city gets back ----

type recoveriesPage struct {
	Titres, Open         []billing.Recovery
	TitresTotal          decimal.Decimal
	MoreTitres, MoreOpen bool // the CSV has them all
	Refunds              []billing.CPAMRefund
	RefundsTotal         decimal.Decimal
	MoreRefunds          bool
	Days                 int // the settings' recovery_offset_days in force
}

// recoveriesPageLimit is how many rows each list of the page shows.
const recoveriesPageLimit = db.MaxLimit

// recoveries is /finances/reprises: the recoveries from providers to put
// on a titre de recettes, those still waiting for a payout batch, and the
// refunds due to the CPAM; the data of GET /recoveries and GET
// /cpam-refunds.
func (s *Server) recoveries(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.billing.Settings(ctx)
	if err != nil {
		return err
	}
	page := recoveriesPage{Days: st.RecoveryOffset(), TitresTotal: decimal.Zero, RefundsTotal: decimal.Zero}
	limit := db.PageRequest{Limit: recoveriesPageLimit}
	if page.Titres, err = s.billing.Recoveries(ctx, billing.RecoveryFilter{Status: billing.RecoveryTitre}, limit); err != nil {
		return err
	}
	if page.Open, err = s.billing.Recoveries(ctx, billing.RecoveryFilter{Status: billing.RecoveryOpen}, limit); err != nil {
		return err
	}
	if page.Refunds, err = s.billing.CPAMRefunds(ctx, limit); err != nil {
		return err
	}
	page.Titres, page.MoreTitres = cut(page.Titres, recoveriesPageLimit)
	page.Open, page.MoreOpen = cut(page.Open, recoveriesPageLimit)
	page.Refunds, page.MoreRefunds = cut(page.Refunds, recoveriesPageLimit)
	for _, r := range page.Titres {
		page.TitresTotal = page.TitresTotal.Add(r.Amount)
	}
	for _, f := range page.Refunds {
		page.RefundsTotal = page.RefundsTotal.Add(f.Amount)
	}
	return s.render(c, http.StatusOK, "finance-recoveries.html", "Reprises et remboursements", page)
}

// cut keeps the first n rows of a list read with one more; more says
// whether there was one.
func cut[T any](rows []T, n int) ([]T, bool) {
	if len(rows) > n {
		return rows[:n], true
	}
	return rows, false
}

// titresCSV is GET /recoveries?status=titre&format=csv.
func (s *Server) titresCSV(c echo.Context) error {
	f := billing.RecoveryFilter{Status: billing.RecoveryTitre}
	return httpapi.Stream(c, "text/csv; charset=utf-8", httpapi.RecoveriesFileName(f.Status), func(w io.Writer) error {
		return s.billing.RecoveriesCSV(c.Request().Context(), f, w)
	})
}

// cpamRefundsCSV is GET /cpam-refunds?format=csv.
func (s *Server) cpamRefundsCSV(c echo.Context) error {
	return httpapi.Stream(c, "text/csv; charset=utf-8", httpapi.CPAMRefundsFileName, func(w io.Writer) error {
		return s.billing.CPAMRefundsCSV(c.Request().Context(), w)
	})
}

// payoutsCSV is GET /payouts?format=csv (optionally of one batch).
func (s *Server) payoutsCSV(c echo.Context) error {
	var page payoutListPage
	f := readPayoutFilter(c, &page)
	if raw := c.QueryParam("lot"); raw != "" {
		id, err := ident.ParseID(raw)
		if err != nil {
			return fault.Field("lot", "lot must be an id")
		}
		f.BatchID = id
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "paiements-pass.csv", func(w io.Writer) error {
		return s.billing.PayoutsCSV(c.Request().Context(), f, w)
	})
}

// payoutBatchesCSV is GET /payout-batches?format=csv.
func (s *Server) payoutBatchesCSV(c echo.Context) error {
	return httpapi.Stream(c, "text/csv; charset=utf-8", "lots-de-paiement-pass.csv", func(w io.Writer) error {
		only, filter := readStatusFilter(c, billing.BatchStatuses, billing.BatchStatus.Label)
		// In the list's order: newest first unless it was turned.
		order := readListOrder(c, "Créé le", url.Values{"statut": {filter.Status}})
		return s.billing.PayoutBatchesCSV(c.Request().Context(), only, !order.Oldest, w)
	})
}

// ---- the payouts ----

// invoiceNamesOf names the invoices rows refer to (payouts, claims), as
// people know them: one query for a page.
func invoiceNamesOf[T any](ctx context.Context, s *Server, rows []T, invoiceID func(T) int64) (map[int64]billing.InvoiceName, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = invoiceID(r)
	}
	return s.billing.InvoiceNames(ctx, ids)
}

// payoutListPage is /finances/paiements: every payout, filtered by status
// and provider from the query string, counted, paged, and downloadable as
// filtered.
type payoutListPage struct {
	Rows             []payoutListRow
	NextCursor       string
	Status, Provider string
	StatusFilter     statusFilter // its select, id "statut"
	ReasonFilter     statusFilter // by reason (?motif=)
	Providers        []choice
	Matching         int64
	Filtered         bool
	Query            template.URL
	FilterErr        string
	ByAmount         bool         // ?tri=montant: the largest first
	SortLink, Next   template.URL // the amount column's link; the next page's
}

type payoutListRow struct {
	Payout         billing.Payout
	Invoice        billing.InvoiceName
	Provider       string
	Status, Reason string
}

// readPayoutFilter reads ?statut=, ?effecteur= and ?motif=; a value that
// reads as none is said, and the list shows everything it would otherwise.
func readPayoutFilter(c echo.Context, out *payoutListPage) billing.PayoutFilter {
	var f billing.PayoutFilter
	f.Status, out.StatusFilter = readStatusFilter(c, settlement.PayoutStatuses, settlement.PayoutStatus.Label)
	out.StatusFilter.ID, out.Status, out.Provider = "statut", out.StatusFilter.Status, c.QueryParam("effecteur")
	if out.StatusFilter.FilterErr != "" {
		out.FilterErr = "Ce statut n'existe pas : tous les paiements sont montrés."
	}
	f.Reason, out.ReasonFilter = readFilter(c, "motif", "Motif", settlement.Reasons, settlement.Reason.Label)
	if out.ReasonFilter.FilterErr != "" {
		out.FilterErr = "Ce motif n'existe pas : tous les paiements sont montrés."
	}
	if out.Provider != "" {
		id, err := ident.ParseID(out.Provider)
		if err != nil {
			out.FilterErr, out.Provider = "Cet effecteur n'existe pas : tous les paiements sont montrés.", ""
		}
		f.ProviderID = id
	}
	q := url.Values{}
	for k, v := range map[string]string{"statut": out.Status, "effecteur": out.Provider, "motif": out.ReasonFilter.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	out.Filtered = len(q) > 0
	// ?tri=montant lists the largest first; ?apres=amount.id is where the
	// previous page of that order ended.
	sort := url.Values{}
	for k, v := range q {
		sort[k] = v
	}
	if c.QueryParam("tri") == "montant" {
		f.ByAmount, out.ByAmount = true, true
		q.Set("tri", "montant")
		if amount, id, found := strings.Cut(c.QueryParam("apres"), "_"); found {
			a, errA := money.ParseAmount(amount)
			n, errN := ident.ParseID(id)
			if errA == nil && errN == nil {
				f.AfterAmount, f.AfterID = a, n
			}
		}
	} else {
		sort.Set("tri", "montant")
	}
	out.SortLink, out.Query = template.URL(sort.Encode()), template.URL(q.Encode())
	return f
}

func (s *Server) payoutList(c echo.Context) error {
	var out payoutListPage
	f := readPayoutFilter(c, &out)
	ctx := c.Request().Context()
	providers, err := s.billing.Providers(ctx, db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, p := range providers {
		names[p.ID] = p.Name
		id := strconv.FormatInt(p.ID, 10)
		out.Providers = append(out.Providers, choice{Value: id, Label: p.Name, Selected: id == out.Provider})
	}
	list, err := readPage(c, func(ctx context.Context, page db.PageRequest) ([]billing.Payout, error) {
		return s.billing.Payouts(ctx, f, page)
	}, func(p billing.Payout) int64 { return p.ID }, func(p billing.Payout) payoutListRow {
		return payoutListRow{Payout: p, Provider: names[p.ProviderID], Status: p.Status.Label(), Reason: p.Reason.Label()}
	})
	if err != nil {
		return err
	}
	if out.Matching, err = s.billing.CountPayouts(ctx, f); err != nil {
		return err
	}
	out.Rows, out.NextCursor = list.Items, list.NextCursor
	invoices, err := invoiceNamesOf(ctx, s, out.Rows, func(r payoutListRow) int64 { return r.Payout.InvoiceID })
	if err != nil {
		return err
	}
	for i := range out.Rows {
		out.Rows[i].Invoice = invoices[out.Rows[i].Payout.InvoiceID]
	}
	if out.NextCursor != "" {
		out.Next = template.URL("cursor=" + out.NextCursor)
		if f.ByAmount {
			last := list.Items[len(list.Items)-1].Payout
			out.Next = template.URL("apres=" + url.QueryEscape(money.Format(last.Amount)+"_"+strconv.FormatInt(last.ID, 10)))
		}
	}
	return s.render(c, http.StatusOK, "finance-payouts.html", "Paiements aux effecteurs", out)
}
