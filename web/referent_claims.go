package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/httpapi"
	"passd/ident"
	"passd/settlement"
	"passd/spreadsheet"
)

// /cpam/demandes: the claims sent or to send to the CPAM, filtered by
// status and by batch, in either order, counted, paged and downloadable as
// filtered. Each names its invoice by reference and care date.

type claimRow struct {
	Claim   claims.Claim
	Invoice billing.InvoiceName
}

type claimsPage struct {
	api.Page[claimRow]
	Filter   statusFilter // by status (?statut=)
	Order    listOrder
	Batch    string // ?lot=, the batch that sent them ("" all)
	BatchErr string
}

// readClaimFilter reads ?statut= and ?lot=; a batch that is no number is
// said, and every batch is listed.
func readClaimFilter(c echo.Context) (claims.ClaimFilter, claimsPage) {
	var f claims.ClaimFilter
	var page claimsPage
	f.Status, page.Filter = readStatusFilter(c, settlement.ClaimStatuses, settlement.ClaimStatus.Label)
	if raw := c.QueryParam("lot"); raw != "" {
		if id, err := ident.ParseID(raw); err == nil {
			f.BatchID, page.Batch = id, raw
		} else {
			page.BatchErr = "Ce lot n'existe pas : les demandes de tous les lots sont montrées."
		}
	}
	page.Order = readListOrder(c, "Créée le", url.Values{"statut": {page.Filter.Status}, "lot": {page.Batch}})
	page.Filter.Sort = page.Order.Sort()
	return f, page
}

func (s *Server) claimList(c echo.Context) error {
	f, page := readClaimFilter(c)
	ctx := c.Request().Context()
	list, err := readOrderedPage(c, page.Order, func(ctx context.Context, p db.PageRequest) ([]claims.Claim, error) {
		return s.claims.Claims(ctx, f, p)
	}, func(cl claims.Claim) int64 { return cl.ID }, func(cl claims.Claim) claimRow { return claimRow{Claim: cl} })
	if err != nil {
		return err
	}
	names, err := invoiceNamesOf(ctx, s, list.Items, func(r claimRow) int64 { return r.Claim.InvoiceID })
	if err != nil {
		return err
	}
	for i := range list.Items {
		list.Items[i].Invoice = names[list.Items[i].Claim.InvoiceID]
	}
	if page.Filter.Matching, err = s.claims.CountClaims(ctx, f); err != nil {
		return err
	}
	page.Page = list
	return s.render(c, http.StatusOK, "referent-claims.html", "Demandes de remboursement", page)
}

// claimsCSV downloads the claims as the list shows them, filtered and
// ordered.
func (s *Server) claimsCSV(c echo.Context) error {
	f, page := readClaimFilter(c)
	return httpapi.Stream(c, "text/csv; charset=utf-8", "demandes-cpam.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		err := out.Write("Demande", "Facture", "Date des soins", "Régime", "Montant", "Statut", "Lot", "Payé", "Payée le", "Motif du rejet", "Créée le")
		if err != nil {
			return err
		}
		read := func(ctx context.Context, p db.PageRequest) ([]claims.Claim, error) { return s.claims.Claims(ctx, f, p) }
		err = eachPage(c.Request().Context(), page.Order, read, func(cl claims.Claim) int64 { return cl.ID }, func(list []claims.Claim) error {
			names, err := invoiceNamesOf(c.Request().Context(), s, list, func(cl claims.Claim) int64 { return cl.InvoiceID })
			if err != nil {
				return err
			}
			for _, cl := range list {
				if err := writeClaimLine(out, cl, names[cl.InvoiceID]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return out.Flush()
	})
}

// writeClaimLine is one claim of the CSV.
func writeClaimLine(out *spreadsheet.Writer, cl claims.Claim, inv billing.InvoiceName) error {
	batch, paid, paidOn := "", "", ""
	if cl.BatchID != 0 {
		batch = strconv.FormatInt(cl.BatchID, 10)
	}
	if cl.PaidAmount != nil {
		paid = spreadsheet.Amount(*cl.PaidAmount)
	}
	if !cl.PaidOn.IsZero() {
		paidOn = spreadsheet.Date(cl.PaidOn)
	}
	return out.Write(strconv.FormatInt(cl.ID, 10), spreadsheet.Text(inv.ExternalRef), spreadsheet.Date(inv.CareDate), RegimeLabel(string(cl.Regime)),
		spreadsheet.Amount(cl.Amount), cl.Status.Label(), batch, paid, paidOn, spreadsheet.Text(cl.RejectionReason),
		spreadsheet.Date(calendar.Today(cl.CreatedAt)))
}
