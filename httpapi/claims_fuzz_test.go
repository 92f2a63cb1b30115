package httpapi

import (
	"slices"
	"strings"
	"testing"
	"time"

	"passd/api/apitest"
	"passd/calendar"
	"passd/claims"
	"passd/fault/faulttest"
	"passd/ident"
	"passd/rights"
)

var fuzzToday = calendar.NewDate(2026, time.June, 15)

// FuzzPatientRequest checks POST /patients bodies: an accepted file has
// clean names, a plausible birth date and a canonical NIR, if any.
func FuzzPatientRequest(f *testing.F) {
	for _, b := range []string{
		`{"last_name":"Diallo","first_name":"Aminata","birth_date":"1990-04-12","nir":"290049935012309"}`,
		`{"last_name":"Diallo","first_name":"Aminata","birth_date":"1990-04-12","nir":"2 90 04 99 350 123 09"}`,
		`{"last_name":"Diallo","first_name":"Aminata","birth_date":"1990-04-12"}`,
		`{"last_name":"Diallo","LAST_NAME":"X","first_name":"A","birth_date":"1990-04-12"}`,
		`{"last_name":"<script>alert(1)</script>","first_name":"1' OR '1'='1","birth_date":"2026-06-16","nir":"1' OR '1'='1"}`,
		`{"last_name":"a\ud800","first_name":"\u0000","birth_date":"1895-01-01","nir":290049935012309}`,
		`{"last_name":"A","first_name":"B","birth_date":"٢٠٢٦-٠١-٠١","nir":"２９００４９９３５０１２３０９"}`,
	} {
		f.Add([]byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		np, err := decodeNewPatient(body, fuzzToday)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if !apitest.CleanText(np.LastName, claims.MaxNameLength) || !apitest.CleanText(np.FirstName, claims.MaxNameLength) {
			t.Fatalf("accepted names %q %q", np.LastName, np.FirstName)
		}
		if np.BirthDate.IsZero() || np.BirthDate.After(fuzzToday) || np.BirthDate.Before(fuzzToday.AddYears(-claims.MaxAgeYears)) {
			t.Fatalf("accepted birth date %v", np.BirthDate)
		}
		if np.NIR != "" {
			if again, err := ident.ParseNIR(np.NIR); err != nil || again != np.NIR {
				t.Fatalf("accepted NIR %q, which is not canonical", np.NIR)
			}
		}
	})
}

// FuzzRightsRequest checks POST /patients/{id}/rights-request bodies.
func FuzzRightsRequest(f *testing.F) {
	for _, b := range []string{`{"regime":"puma","filed_on":"2026-06-01"}`, `{"regime":"PUMA","filed_on":"2026-06-01"}`,
		`{"regime":"puma ","filed_on":"2026-06-01"}`, `{"regime":"puma\u0000","filed_on":"2026-06-01"}`, `{"regime":1,"filed_on":20260601}`,
		`{"regime":"puma","REGIME":"ame","filed_on":"2026-06-01"}`, `{"regime":"puma' OR '1'='1","filed_on":"2026-06-01T00:00:00Z"}`} {
		f.Add([]byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRightsRequest(body)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		if !slices.Contains(claims.Regimes, req.Regime) || req.FiledOn.IsZero() {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzRightsDecision checks POST /patients/{id}/rights-decision bodies: an
// opening carries a regime, a period in order and a reference, a refusal a
// reason and nothing of an opening.
func FuzzRightsDecision(f *testing.F) {
	for _, b := range []string{
		`{"decision":"opened","regime":"puma","effective_from":"2026-05-01","effective_to":"2027-04-30","reference":"PUMA-93-1"}`,
		`{"decision":"opened","regime":"ame","effective_from":"2026-05-01","reference":"R"}`,
		`{"decision":"refused","reason":"résidence non établie"}`,
		`{"decision":"refused","reason":"x","regime":"puma"}`,
		`{"decision":"opened","regime":"puma","effective_from":"2026-05-01","effective_to":"2026-04-30","reference":"R"}`,
		`{"decision":"OPENED","DECISION":"refused","reason":"x"}`,
		`{"decision":"opened","regime":"puma","effective_from":"2026-05-01","reference":"\ud800"}`,
		`{"decision":"refused","reason":"` + strings.Repeat("r", 501) + `"}`,
		`{"decision":"refused","reason":"\u001b[2J"}`,
	} {
		f.Add([]byte(b))
	}
	for _, b := range apitest.HostileBodies {
		f.Add([]byte(b.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeRightsDecision(body)
		if err != nil {
			faulttest.RequireInvalid(t, err)
			return
		}
		switch d.Decision {
		case rights.Opened:
			if !slices.Contains(claims.Regimes, d.Regime) || d.EffectiveFrom.IsZero() || !apitest.CleanText(d.Reference, claims.MaxReferenceLength) || d.Reason != "" ||
				(!d.EffectiveTo.IsZero() && d.EffectiveTo.Before(d.EffectiveFrom)) {
				t.Fatalf("accepted opening %+v", d)
			}
		case rights.Refused:
			if !apitest.CleanText(d.Reason, claims.MaxReasonLength) || d.Regime != "" || !d.EffectiveFrom.IsZero() || !d.EffectiveTo.IsZero() || d.Reference != "" {
				t.Fatalf("accepted refusal %+v", d)
			}
		default:
			t.Fatalf("accepted decision %q", d.Decision)
		}
	})
}
