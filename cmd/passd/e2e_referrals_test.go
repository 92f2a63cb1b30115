package main

import (
	"testing"
	"time"

	"passd/auth"
	"passd/calendar"
	"passd/db/dbtest"
)

// TestE2EReferral is issue 17's referral in a browser: the social worker's
// form, the doctor's answer and outcome, the feedback the CCAS reads.
func TestE2EReferral(t *testing.T) {
	t.Parallel()
	runE2EConvention(t, "referral.mjs")
}

// TestE2EAlert is issue 17's alert in a browser: refused without consent,
// sent with it, taken on and followed up by the CCAS, read back by the
// doctor.
func TestE2EAlert(t *testing.T) {
	t.Parallel()
	runE2EConvention(t, "alert.mjs")
}

func runE2EConvention(t *testing.T, script string) {
	t.Helper()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	ccas, association := seed.convention()
	social := seed.user("Assistante sociale du CCAS", auth.SocialWorker, ccas)
	doctor := seed.user("Dr SOS Médecins", auth.Doctor, association)
	p := startPassd(t, "passd", url)
	p.waitStartupRuns(pool)
	runE2EScenario(t, script,
		"E2E_BASE_URL="+p.base,
		"E2E_SOCIAL_TOKEN="+social,
		"E2E_DOCTOR_TOKEN="+doctor,
		"E2E_TODAY="+calendar.Today(time.Now()).String(),
	)
	passdCheck(t, url)
}
