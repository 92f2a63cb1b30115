package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/settlement"
	"passd/spreadsheet"
)

// /coordination/factures: the invoices held for the coordinator's review
// (a price or a total over its ceiling, under settings over_ceiling =
// review). No job decides one until the coordinator accepts it
// (billing.AcceptReview), or voids it as any pending invoice (Cancel, as
// POST /invoices/{id}/cancel does for a coordinator).

type reviewRow struct {
	Invoice  billing.Invoice
	Provider string
	Reasons  []string
}

type reviewPage struct {
	Rows       []reviewRow
	NextCursor string
	Error      string
	Filter     statusFilter // by provider (?effecteur=)
	Order      listOrder    // by receipt: the oldest first to clear the backlog
}

func (s *Server) reviewList(c echo.Context) error {
	return s.renderReviewList(c, http.StatusOK, "")
}

func (s *Server) renderReviewList(c echo.Context, status int, message string) error {
	ctx := c.Request().Context()
	f, filter, order, names, err := s.readReviewFilter(c)
	if err != nil {
		return err
	}
	invoices, err := readOrderedPage(c, order, func(ctx context.Context, page db.PageRequest) ([]billing.Invoice, error) {
		return s.billing.Invoices(ctx, f, page)
	}, func(inv billing.Invoice) int64 { return inv.ID }, asRead)
	if err != nil {
		return err
	}
	if filter.Matching, err = s.billing.CountInvoices(ctx, f); err != nil {
		return err
	}
	page := reviewPage{NextCursor: invoices.NextCursor, Error: message, Filter: filter, Order: order}
	for _, inv := range invoices.Items {
		name := names[strconv.FormatInt(inv.ProviderID, 10)]
		page.Rows = append(page.Rows, reviewRow{Invoice: inv, Provider: name, Reasons: reviewReasons(inv)})
	}
	return s.render(c, status, "coordinator-review.html", "Factures à vérifier", page)
}

// readReviewFilter reads the review list's filter by provider (?effecteur=)
// and its order, with the providers' names by id.
func (s *Server) readReviewFilter(c echo.Context) (billing.InvoiceFilter, statusFilter, listOrder, map[string]string, error) {
	// The providers name the rows and the filter's choices; a PASS has far
	// fewer than a page's bound.
	providers, err := s.billing.Providers(c.Request().Context(), db.PageRequest{Limit: db.MaxLimit})
	if err != nil {
		return billing.InvoiceFilter{}, statusFilter{}, listOrder{}, nil, err
	}
	names, ids := map[string]string{}, []string{}
	for _, p := range providers {
		id := strconv.FormatInt(p.ID, 10)
		names[id] = p.Name
		ids = append(ids, id)
	}
	provider, filter := readFilter(c, "effecteur", "Effecteur", ids, func(id string) string { return names[id] })
	f := billing.InvoiceFilter{Flagged: true}
	if provider != "" {
		f.ProviderID, _ = strconv.ParseInt(provider, 10, 64)
	}
	order := readListOrder(c, "Reçue le", url.Values{"effecteur": {provider}})
	filter.Sort = order.Sort()
	return f, filter, order, names, nil
}

// reviewCSV downloads the invoices held for review as the list shows
// them, filtered and ordered.
func (s *Server) reviewCSV(c echo.Context) error {
	f, _, order, names, err := s.readReviewFilter(c)
	if err != nil {
		return err
	}
	return httpapi.Stream(c, "text/csv; charset=utf-8", "factures-a-verifier.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		if err := out.Write("Facture", "Effecteur", "Dossier", "Date des soins", "Reçue le", "Montant", "Motifs"); err != nil {
			return err
		}
		err := eachRow(c.Request().Context(), order, func(ctx context.Context, page db.PageRequest) ([]billing.Invoice, error) {
			return s.billing.Invoices(ctx, f, page)
		}, func(inv billing.Invoice) int64 { return inv.ID }, func(inv billing.Invoice) error {
			return out.Write(spreadsheet.Text(inv.ExternalRef), spreadsheet.Text(names[strconv.FormatInt(inv.ProviderID, 10)]), inv.PatientFileNumber,
				spreadsheet.Date(inv.CareDate), spreadsheet.Date(calendar.Today(inv.CreatedAt)), spreadsheet.Amount(inv.Total),
				strings.Join(reviewReasons(inv), " ; "))
		})
		if err != nil {
			return err
		}
		return out.Flush()
	})
}

// reviewReasons are an invoice's review reasons in French.
func reviewReasons(inv billing.Invoice) []string {
	out := make([]string, len(inv.ReviewReasons))
	for i, r := range inv.ReviewReasons {
		out[i] = ReviewReasonText(r)
	}
	return out
}

// acceptReview is "Accepter": the invoice goes to the jobs' next runs.
func (s *Server) acceptReview(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.billing.AcceptReview(c.Request().Context(), p.Actor(), id); err != nil {
		if fault.Is(err, fault.Conflict) {
			return s.renderReviewList(c, http.StatusConflict, fmt.Sprintf("La facture n° %d n'attend plus de vérification : "+
				"elle a déjà été acceptée ou annulée.", id))
		}
		return err
	}
	return redirectWithFlash(c, "review-accepted", "/coordination/factures")
}

// voidInvoice is "Annuler la facture", after a confirmation: the
// coordinator voids a pending invoice, as POST /invoices/{id}/cancel.
func (s *Server) voidInvoice(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	inv, err := s.billing.Invoice(ctx, id, 0)
	if err != nil {
		return err
	}
	if inv.Status != billing.StatusPending {
		return s.renderReviewList(c, http.StatusConflict, fmt.Sprintf("La facture n° %d est %s : seule une facture en attente "+
			"peut être annulée.", id, inv.Status.Label()))
	}
	if c.FormValue(confirmField) != "oui" {
		return s.render(c, http.StatusOK, "admin-confirm.html", "Annuler la facture "+inv.ExternalRef, confirmPage{
			Heading: fmt.Sprintf("Annuler la facture %s (n° %d, %s) ?", inv.ExternalRef, id, FormatAmount(inv.Total)),
			Warnings: []string{
				"L'annulation est définitive : ni la CPAM ni la ville ne paieront cette facture.",
				"L'effecteur la verra annulée ; s'il doit être payé, il enverra une nouvelle facture.",
			},
			Action: fmt.Sprintf("/coordination/factures/%d/annuler", id), Button: "Annuler la facture " + inv.ExternalRef,
			Back: navLink{Href: "/coordination/factures", Label: "Garder la facture et revenir aux factures à vérifier"},
		})
	}
	if _, err := s.billing.Cancel(ctx, p.Actor(), id, 0, settlement.Voided); err != nil {
		if fault.Is(err, fault.Conflict) {
			return s.renderReviewList(c, http.StatusConflict, fmt.Sprintf("La facture n° %d a été décidée entre-temps : "+
				"elle ne peut plus être annulée.", id))
		}
		return err
	}
	return redirectWithFlash(c, "invoice-voided", "/coordination/factures")
}
