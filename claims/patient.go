package claims

import (
	"fmt"
	"time"

	"passd/calendar"
	"passd/rights"
)

// Regimes the CPAM can open.
var Regimes = []string{"puma", "puma_css", "ame"}

// Patient is a PASS patient file.
type Patient struct {
	ID         int64
	FileNumber string
	LastName   string
	FirstName  string
	BirthDate  calendar.Date
	NIR        string // empty when unknown
	Rights     Rights
	CreatedAt  time.Time
}

// Rights is a file's current rights situation.
type Rights struct {
	Status        rights.Status
	Regime        string
	FiledOn       calendar.Date
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date // zero: no end
	Reference     string
	Reason        string
	DecidedAt     *time.Time
}

// RightsEvent is one request or decision in a file's history.
type RightsEvent struct {
	ID            int64
	Kind          rights.Status // requested, opened or refused
	Regime        string
	FiledOn       calendar.Date
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date
	Reference     string
	Reason        string
	Actor         string
	CreatedAt     time.Time
}

// FileNumber formats the n-th file of a year: PASS-2026-000042.
func FileNumber(year, n int) string { return fmt.Sprintf("PASS-%d-%06d", year, n) }

// NewPatient is a validated request to open a file.
type NewPatient struct {
	LastName  string
	FirstName string
	BirthDate calendar.Date
	NIR       string
}

// RightsRequest records that an application was filed with the CPAM.
type RightsRequest struct {
	Regime  string
	FiledOn calendar.Date
}

// RightsDecision is the CPAM's answer: opened with a regime and period, or
// refused with a reason.
type RightsDecision struct {
	Decision      rights.Status // rights.Opened or rights.Refused
	Regime        string
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date
	Reference     string
	Reason        string
}
