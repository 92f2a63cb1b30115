package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReportCommandPrintsTheYearAsAnA4PDF runs `passd report` as a shell
// would on a year with data, and reads the PDF back with poppler (which
// scripts/test.sh installs): A4 pages, each with the convention's name and
// the period at its top and "Page n / N" at its foot, the figures inside.
func TestReportCommandPrintsTheYearAsAnA4PDF(t *testing.T) {
	asPassdMain()
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	for i := range 6 {
		p := h.newPatient(t, "Patient"+string(rune('A'+i)))
		h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/patients/"+p.id, h.coordinator, `{"commune_code": "91228"}`)
		h.requestRights(t, p, "puma", "2026-06-01")
		h.submit(t, gp, p, "R-"+string(rune('A'+i)), "2026-06-02", anyAct("25.00"))
	}
	pdf := filepath.Join(t.TempDir(), "bilan.pdf")
	stdout, stderr, code := runPassd(t, h.app.cfg.DatabaseURL, "report", "--year", "2026", "--out", pdf)
	if code != 0 || stdout != "wrote "+pdf+": the programme's report for 2026\n" {
		t.Fatalf("passd report: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}

	info := poppler(t, "pdfinfo", pdf)
	pages, err := strconv.Atoi(regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(info + "\nPages: x")[1])
	if err != nil || pages < 2 || pages > 8 {
		t.Fatalf("the report has %d pages (%v), want 2 to 8:\n%s", pages, err, info)
	}
	if !strings.Contains(info, "(A4)") {
		t.Errorf("the pages are not A4:\n%s", info)
	}
	text := strings.Split(strings.TrimRight(poppler(t, "pdftotext", "-layout", pdf, "-"), "\f\n"), "\f")
	if len(text) != pages {
		t.Fatalf("pdftotext gives %d pages, pdfinfo %d", len(text), pages)
	}
	for i, page := range text {
		wantContains(t, fmt.Sprint("page ", i+1), page, "Régie PASS de la Ville d'Évry", "Du 01/01/2026 au 31/12/2026",
			fmt.Sprintf("Page %d / %d", i+1, pages))
	}
	all := strings.Join(text, "\n")
	wantContains(t, "the report", all, "Bilan du programme 2026", "Dossiers ouverts", "Budget restant au fil de l'année",
		"Personnes suivies par commune", "91228", "Soins par effecteur", "Dr A (Médecin généraliste)",
		"Le CCAS et SOS Médecins")

	// Without --out, or with a year that is none, it refuses.
	for _, args := range [][]string{{"report"}, {"report", "--year", "1999", "--out", pdf}, {"report", "--out", pdf, "extra"}} {
		if _, _, code := runPassd(t, h.app.cfg.DatabaseURL, args...); code != 1 {
			t.Errorf("passd %v: exit %d, want 1", args, code)
		}
	}
}

// poppler runs one of poppler's tools and returns what it printed.
func poppler(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s (make test installs poppler-utils: scripts/lib/tools.sh ensure_poppler)", tool, args, err, out)
	}
	return string(out)
}
