package web

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/calendar"
	"passd/claims"
	"passd/claims/cpamfile"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/settlement"
	"passd/spreadsheet"
)

// The referent's claim batches: create one, download its export (the
// API's writers), and import the CPAM's return file through the API's
// parser and store call.

// returnFileField is the form's file input.
const returnFileField = "return_file"

// returnResultFR names a return line's result in French.
var returnResultFR = map[string]string{
	claims.ReturnPaid:       "payée",
	claims.ReturnPartial:    "payée en partie",
	claims.ReturnRejected:   "rejetée",
	claims.ReturnUnchanged:  "déjà enregistrée",
	claims.ReturnConflict:   "contredit le résultat déjà enregistré",
	claims.ReturnNotInBatch: "absente du lot",
	claims.ReturnInvalid:    "invalide",
	claims.ReturnCancelled:  "annulée après une correction des droits",
}

// ReturnResultLabel is a return line's result in French.
func ReturnResultLabel(result string) string {
	if fr, ok := returnResultFR[result]; ok {
		return fr
	}
	return result
}

type claimBatchesPage struct {
	api.Page[claims.ClaimBatch] // the batches, newest first unless Order says
	Error                       string
	Order                       listOrder
	Count                       int64
	// The filters, from the query string: the CPAM's return (?statut=),
	// the rejections (?rejets=) and the days of creation (?du=, ?au=);
	// FilterErr says what read as none, and is left out.
	Status, Rejections statusFilter
	Period             periodFilter
	FilterErr          string
	Filtered           bool
}

// readClaimBatchFilter reads the list's filters and its order; the links
// it writes keep what was read, not what was ignored.
func readClaimBatchFilter(c echo.Context) (claims.BatchFilter, claimBatchesPage) {
	var f claims.BatchFilter
	var page claimBatchesPage
	f.Status, page.Status = readStatusFilter(c, settlement.ClaimBatchStatuses, settlement.ClaimBatchStatus.Label)
	page.Status.Label = "Retour de la CPAM"
	f.Rejections, page.Rejections = readFilter(c, "rejets", "Rejets", claims.BatchRejectionsChoices, claims.BatchRejections.Label)
	page.Period = readPeriod(c, "de création")
	f.CreatedFrom, f.CreatedTo = page.Period.FromDay, page.Period.ToDay
	var said []string
	if page.Status.FilterErr != "" || page.Rejections.FilterErr != "" {
		said = append(said, "Ce filtre ne correspond à rien : il est ignoré.")
	}
	if page.Period.FilterErr != "" {
		said = append(said, page.Period.FilterErr)
	}
	page.FilterErr = strings.Join(said, " ")
	page.Filtered = f != claims.BatchFilter{}
	page.Order = readListOrder(c, "Créé le", url.Values{"statut": {page.Status.Status}, "rejets": {page.Rejections.Status},
		"du": {f.CreatedFrom.String()}, "au": {f.CreatedTo.String()}})
	return f, page
}

// claimBatchesOf reads a page of the batches f matches.
func (s *Server) claimBatchesOf(f claims.BatchFilter) func(context.Context, db.PageRequest) ([]claims.ClaimBatch, error) {
	return func(ctx context.Context, page db.PageRequest) ([]claims.ClaimBatch, error) {
		return s.claims.ClaimBatches(ctx, f, page)
	}
}

func (s *Server) claimBatches(c echo.Context) error {
	return s.renderClaimBatches(c, http.StatusOK, "")
}

func (s *Server) renderClaimBatches(c echo.Context, status int, message string) error {
	f, page := readClaimBatchFilter(c)
	batches, err := readOrderedPage(c, page.Order, s.claimBatchesOf(f), func(b claims.ClaimBatch) int64 { return b.ID }, asRead)
	if err != nil {
		return err
	}
	if page.Count, err = s.claims.CountClaimBatches(c.Request().Context(), f); err != nil {
		return err
	}
	page.Page, page.Error = batches, message
	return s.render(c, status, "referent-batches.html", "Lots de demandes de remboursement", page)
}

// claimBatchesCSV downloads the batches as the list shows them, filtered
// and in its order: each batch's claims, amount and what the CPAM's
// returns said.
func (s *Server) claimBatchesCSV(c echo.Context) error {
	f, page := readClaimBatchFilter(c)
	return httpapi.Stream(c, "text/csv; charset=utf-8", "lots-cpam.csv", func(w io.Writer) error {
		out := spreadsheet.NewWriter(w)
		err := out.Write("Lot", "Créé le", "Demandes", "Montant", "Payées", "Montant payé", "Rejetées", "Annulées", "Annulations", "Retour de la CPAM")
		if err != nil {
			return err
		}
		err = eachRow(c.Request().Context(), page.Order, s.claimBatchesOf(f), func(b claims.ClaimBatch) int64 { return b.ID }, func(b claims.ClaimBatch) error {
			return out.Write(strconv.FormatInt(b.ID, 10), spreadsheet.Date(calendar.Today(b.CreatedAt)), strconv.Itoa(b.ClaimCount),
				spreadsheet.Amount(b.Total), strconv.Itoa(b.Paid), spreadsheet.Amount(b.PaidAmount), strconv.Itoa(b.Rejected),
				strconv.Itoa(b.Cancelled), strconv.Itoa(b.CancellationCount), b.Status().Label())
		})
		if err != nil {
			return err
		}
		return out.Flush()
	})
}

func (s *Server) createClaimBatch(c echo.Context) error {
	p, _ := principal(c)
	b, ok, err := s.claims.CreateClaimBatch(c.Request().Context(), p.Actor())
	if err != nil {
		return err
	}
	if !ok {
		return s.renderClaimBatches(c, http.StatusConflict, "Aucune demande de remboursement ni annulation n'attend d'être mise en lot.")
	}
	return redirectWithFlash(c, "claim-batch-created", fmt.Sprintf("/cpam/lots/%d", b.ID))
}

type returnRow struct {
	claims.ReturnResult
	Label string
}

type claimBatchPage struct {
	Batch claims.ClaimBatch
	// The claims whose cancellation the batch carried, the first
	// maxCancellationsShown of them.
	Cancellations          []claims.Claim
	CancellationsTruncated bool
	Imported               bool
	Counts                 []returnCount
	Rows                   []returnRow
	ImportErr              string
}

type returnCount struct {
	Label string
	N     int
}

func (s *Server) claimBatch(c echo.Context) error {
	return s.renderClaimBatch(c, http.StatusOK, claimBatchPage{})
}

func (s *Server) renderClaimBatch(c echo.Context, status int, page claimBatchPage) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if page.Batch, err = s.claims.ClaimBatch(c.Request().Context(), id); err != nil {
		return err
	}
	if page.Batch.CancellationCount > 0 {
		list, err := s.claims.Claims(c.Request().Context(), claims.ClaimFilter{CancelBatchID: id}, db.PageRequest{Limit: maxCancellationsShown})
		if err != nil {
			return err
		}
		page.CancellationsTruncated = len(list) > maxCancellationsShown
		page.Cancellations = list[:min(len(list), maxCancellationsShown)]
	}
	return s.render(c, status, "referent-batch.html", fmt.Sprintf("Lot %d", id), page)
}

// maxCancellationsShown bounds the batch page: corrections are few, and
// the export lists every cancellation.
const maxCancellationsShown = 200

// exportClaimBatch is GET /claim-batches/{id}/export for the signed-in
// referent: the same writers, the same access log.
func (s *Server) exportClaimBatch(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	w, ok := cpamfile.WriterFor(c.Param("format"))
	if !ok {
		return fault.New(fault.NotFound, "no such export format")
	}
	if _, err := s.claims.ClaimBatch(c.Request().Context(), id); err != nil {
		return err
	}
	return httpapi.Stream(c, w.ContentType(), fmt.Sprintf("passd-claims-%d.%s", id, w.Format()), func(out io.Writer) error {
		return s.claims.ExportClaimBatch(c.Request().Context(), p.Actor(), id, out, w)
	})
}

func (s *Server) importReturn(c echo.Context) error {
	p, _ := principal(c)
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	fh, err := c.FormFile(returnFileField)
	if err != nil {
		return s.renderClaimBatch(c, http.StatusUnprocessableEntity, claimBatchPage{ImportErr: "Choisissez le fichier retour de la CPAM (CSV ou JSON)."})
	}
	body, err := readUpload(fh)
	if err != nil {
		return err
	}
	lines, err := cpamfile.ParseReturn(uploadContentType(fh), body)
	var results []claims.ReturnResult
	if err == nil {
		results, err = s.claims.ImportReturn(c.Request().Context(), p.Actor(), id, lines)
	}
	if err != nil {
		fe, ok := fault.As(err)
		if !ok || fe.Code != fault.Invalid {
			return err
		}
		return s.renderClaimBatch(c, http.StatusUnprocessableEntity, claimBatchPage{ImportErr: returnFileError(fe)})
	}
	page := claimBatchPage{Imported: true}
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Result]++
		page.Rows = append(page.Rows, returnRow{ReturnResult: r, Label: ReturnResultLabel(r.Result)})
	}
	for _, result := range []string{claims.ReturnPaid, claims.ReturnPartial, claims.ReturnRejected, claims.ReturnUnchanged,
		claims.ReturnConflict, claims.ReturnNotInBatch, claims.ReturnInvalid, claims.ReturnCancelled} {
		if counts[result] > 0 {
			page.Counts = append(page.Counts, returnCount{Label: ReturnResultLabel(result), N: counts[result]})
		}
	}
	return s.renderClaimBatch(c, http.StatusOK, page)
}

func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("web: open upload: %w", err)
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("web: read upload: %w", err)
	}
	return body, nil
}

// uploadContentType trusts the file's extension before the browser's
// label: browsers label a .csv file differently (text/csv,
// application/vnd.ms-excel, …).
func uploadContentType(fh *multipart.FileHeader) string {
	switch strings.ToLower(path.Ext(fh.Filename)) {
	case ".csv":
		return "text/csv"
	case ".json":
		return "application/json"
	}
	return fh.Header.Get("Content-Type")
}

// returnFileError says in French why a return file was refused, naming
// where the parser found the problem.
func returnFileError(fe *fault.Error) string {
	switch {
	case fe.Field == "content_type":
		return "Le fichier retour doit être un fichier CSV ou JSON en UTF-8."
	case fe.Field == "header":
		return "La ligne d'en-tête du fichier n'est pas valide (colonnes attendues : claim_id, outcome, paid_amount, paid_on, reason)."
	case fe.Field == "lines":
		return "Le fichier ne contient aucune ligne, ou en contient trop."
	case strings.HasPrefix(fe.Field, "lines["):
		var i int
		if _, err := fmt.Sscanf(fe.Field, "lines[%d]", &i); err == nil {
			return fmt.Sprintf("La ligne %d du fichier n'est pas valide (%s) : corrigez-la et importez le fichier à nouveau ; rien n'a été enregistré.", i+1, fe.Field)
		}
	}
	return "Le fichier retour n'a pas pu être lu ; rien n'a été enregistré."
}
