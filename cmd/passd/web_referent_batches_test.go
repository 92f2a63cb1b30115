package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// upload posts a multipart form with one file, as a browser's file input.
func (b *browser) upload(t *testing.T, page, path, field, fileName, content string) *httptest.ResponseRecorder {
	t.Helper()
	csrf := b.csrf(t, page)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("_csrf", csrf); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile(field, fileName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(fw, content); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.h.app.echo.ServeHTTP(rec, req)
	return rec
}

func TestWebReferentBatchesClaimsExportsAndImportsTheReturn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Lot", "general_practitioner", "10000000033")
	_, paid := h.releasedClaim(t, gp, "Ba", "ame", "F-1", "30.00")
	_, rejected := h.releasedClaim(t, gp, "Cissé", "ame", "F-2", "25.00")
	b := mustSignIn(t, h, h.referent)

	list := b.page(t, http.StatusOK, "/cpam/lots")
	wantContains(t, "the batches page", list, `<button type="submit">Créer un lot</button>`, "Aucun lot")
	code, location, body := b.post(t, "/cpam/lots", "/cpam/lots", url.Values{})
	if code != http.StatusSeeOther || !strings.HasPrefix(location, "/cpam/lots/") {
		t.Fatalf("create a batch: %d → %q:\n%s", code, location, body)
	}
	batchID := strings.TrimPrefix(location, "/cpam/lots/")
	fromAPI := h.mustDo(t, http.StatusOK, "GET", "/api/v1/claim-batches/"+batchID, h.referent, "")
	if fmt.Sprint(fromAPI["claim_count"]) != "2" || fromAPI["total"] != "55.00" {
		t.Errorf("the batch as the API reads it: %v", fromAPI)
	}
	if n := h.count(t, "audit_log", "action = 'claim_batch.create'"); n != 1 {
		t.Errorf("%d claim_batch.create audit rows, want 1", n)
	}
	code, _, body = b.post(t, "/cpam/lots", "/cpam/lots", url.Values{})
	if code != http.StatusConflict || !strings.Contains(body, "Aucune demande de remboursement") {
		t.Errorf("a batch with nothing to send: %d", code)
	}
	list = b.page(t, http.StatusOK, "/cpam/lots")
	wantContains(t, "the batches page's count and order", htmlText(b.page(t, http.StatusOK, "/cpam/lots?tri=anciens")), "1 lot.",
		`aria-sort="ascending"`, `href="/cpam/lots/`+batchID+`"`, `href="/cpam/lots.csv?tri=anciens"`)
	if csv := b.do(t, "GET", "/cpam/lots.csv", nil); csv.Code != http.StatusOK || strings.Count(csv.Body.String(), "\r\n") != 2 ||
		!strings.Contains(csv.Body.String(), "\r\n"+batchID+";") {
		t.Errorf("the batches' CSV (%d):\n%s", csv.Code, csv.Body)
	}
	wantContains(t, "the batches page", list, `href="/cpam/lots/`+batchID+`/export/json">Export JSON</a>`, `href="/cpam/lots/`+batchID+`/export/csv">Export CSV</a>`, "55,00\u00a0€")

	// The exports are the API's, byte for byte.
	for _, format := range []string{"json", "csv"} {
		web := b.do(t, "GET", "/cpam/lots/"+batchID+"/export/"+format, nil)
		api := h.doRaw(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format="+format, h.referent, "")
		if web.Code != http.StatusOK || web.Body.String() != api.Body.String() || web.Header().Get("Content-Type") != api.Header().Get("Content-Type") {
			t.Errorf("%s export: web %d %q, API %d %q", format, web.Code, web.Header().Get("Content-Type"), api.Code, api.Header().Get("Content-Type"))
		}
	}

	batch := b.page(t, http.StatusOK, "/cpam/lots/"+batchID)
	wantContains(t, "the batch page", batch, `<label for="return_file">Fichier retour de la CPAM</label>`, `type="file" id="return_file"`,
		`enctype="multipart/form-data"`, `<button type="submit">Importer</button>`)

	rec := b.upload(t, "/cpam/lots/"+batchID, "/cpam/lots/"+batchID+"/retour", "return_file", "retour.csv",
		"claim_id;outcome;paid_amount;paid_on;reason\r\n"+str(t, paid, "id")+";paid;30,00;;\r\n")
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "La ligne 1 du fichier n") {
		t.Errorf("a paid line without a date: %d:\n%s", rec.Code, rec.Body.String())
	}
	rec = b.upload(t, "/cpam/lots/"+batchID, "/cpam/lots/"+batchID+"/retour", "return_file", "retour.csv",
		"claim_id;outcome;paid_amount;paid_on;reason\r\n"+str(t, paid, "id")+";paid;30,00;2026-06-12;\r\n"+
			str(t, rejected, "id")+";rejected;;;droits clos\r\n")
	report := strings.ReplaceAll(rec.Body.String(), "&#39;", "'")
	if rec.Code != http.StatusOK {
		t.Fatalf("import: %d:\n%s", rec.Code, report)
	}
	wantContains(t, "the import report", report, "Compte rendu de l'import", "payée : 1", "rejetée : 1", "<td>payée</td>", "<td>rejetée</td>", "25,00\u00a0€")
	wantFields(t, "paid", h.claim(t, str(t, paid, "id")), map[string]any{"status": "paid", "paid_amount": "30.00"})
	wantFields(t, "rejected", h.claim(t, str(t, rejected, "id")), map[string]any{"status": "rejected", "rejection_reason": "droits clos"})

	for _, path := range []string{"/cpam/lots", "/cpam/lots/" + batchID, "/cpam/lots/" + batchID + "/export/csv"} {
		if rec := mustSignIn(t, h, h.coordinator).do(t, "GET", path, nil); rec.Code != http.StatusForbidden {
			t.Errorf("coordinator GET %s: %d, want 403", path, rec.Code)
		}
	}
	if rec := b.do(t, "GET", "/cpam/lots/"+batchID+"/export/xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown export format: %d, want 404", rec.Code)
	}
}
