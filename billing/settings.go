package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/rights"
	"passd/sepa"
	"passd/text"
)

// Settings are the city's régie account and limits. RegieName, RegieIBAN
// and RegieBIC are empty until an admin sets them; no SEPA file can be
// produced before that.
type Settings struct {
	RegieName    string
	RegieIBAN    string
	RegieBIC     string
	RegieCeiling decimal.Decimal // the most one payout batch may pay
	AnnualBudget decimal.Decimal // the PASS budget of a calendar year
	DeadlineDays int             // 0: the server's default
	// AMELookbackDays: how long before the filing an AME period may start
	// (0: rights.DefaultAMELookbackDays). SubmissionLimitDays: how old a care
	// date may still be submitted (0: DefaultSubmissionLimitDays).
	AMELookbackDays     int
	SubmissionLimitDays int
	// RecoveryOffsetDays: how long a recovery from a provider waits to be
	// deducted from a payout batch before finance lists it for a titre de
	// recettes (0: DefaultRecoveryOffsetDays).
	RecoveryOffsetDays int
	// InvoiceCeiling: the convention's ceiling on an invoice's total (zero:
	// DefaultInvoiceCeiling). OverCeiling: what a unit price over its act's
	// ceiling or a total over InvoiceCeiling gets, OverCeilingRefuse or
	// OverCeilingReview ("": refuse). DefaultDrugClass: the class of a CIP13
	// the drug table does not list (0: DefaultDrugClass).
	InvoiceCeiling   decimal.Decimal
	OverCeiling      string
	DefaultDrugClass int
	// ReferralRetentionMonths: how long a closed referral or alert keeps
	// its identity and free texts before the retention job empties them
	// (0: DefaultReferralRetentionMonths).
	ReferralRetentionMonths int
	UpdatedAt               *time.Time
	UpdatedBy               string
}

// Complete reports whether the régie's account is set.
func (s Settings) Complete() bool { return s.RegieName != "" && s.RegieIBAN != "" && s.RegieBIC != "" }

const settingsColumns = `coalesce(s.regie_name, ''), coalesce(s.regie_iban, ''), coalesce(s.regie_bic, ''),
	s.regie_ceiling, s.annual_budget, coalesce(s.deadline_days, 0), coalesce(s.ame_lookback_days, 0),
	coalesce(s.submission_limit_days, 0), coalesce(s.recovery_offset_days, 0), coalesce(s.invoice_ceiling, 0),
	coalesce(s.over_ceiling, ''), coalesce(s.default_drug_class, 0), s.referral_retention_months, s.updated_at, coalesce(u.name, '')`

func scanSettings(row pgx.Row) (Settings, error) {
	var st Settings
	err := row.Scan(&st.RegieName, &st.RegieIBAN, &st.RegieBIC, &st.RegieCeiling, &st.AnnualBudget, &st.DeadlineDays, &st.AMELookbackDays,
		&st.SubmissionLimitDays, &st.RecoveryOffsetDays, &st.InvoiceCeiling, &st.OverCeiling, &st.DefaultDrugClass, &st.ReferralRetentionMonths,
		&st.UpdatedAt, &st.UpdatedBy)
	return st, err
}

// Settings returns the current settings.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	return readSettings(ctx, s.pool, false)
}

// readSettings reads the one settings row; lock takes it FOR UPDATE, which
// serialises the approvals that check the budget against each other.
func readSettings(ctx context.Context, q db.DBTX, lock bool) (Settings, error) {
	sql := `SELECT ` + settingsColumns + ` FROM settings s LEFT JOIN users u ON u.id = s.updated_by AND u.tenant_id = passd_tenant()
		WHERE s.tenant_id = passd_tenant()`
	if lock {
		sql += ` FOR UPDATE OF s`
	}
	st, err := scanSettings(q.QueryRow(ctx, sql))
	if err != nil {
		return Settings{}, db.Translate(fmt.Errorf("billing: settings: %w", err))
	}
	return st, nil
}

// PutSettings replaces the settings.
func (s *Store) PutSettings(ctx context.Context, actor audit.Actor, in Settings) (Settings, error) {
	var out Settings
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := readSettings(ctx, tx, true)
		if err != nil {
			return err
		}
		// The régie's account changes only once another person confirms
		// it: here it stays as it is, and the change waits.
		if err := s.requestRegieChange(ctx, tx, actor, before, BankDetails{in.RegieName, in.RegieIBAN, in.RegieBIC}); err != nil {
			return err
		}
		// The régie's account is not written here: only a confirmed
		// change writes it (applyBankChange).
		if _, err := tx.Exec(ctx, `UPDATE settings SET regie_ceiling = $1,
			annual_budget = $2, deadline_days = nullif($3, 0), updated_at = $4, updated_by = $5,
			ame_lookback_days = nullif($6, 0), submission_limit_days = nullif($7, 0), recovery_offset_days = nullif($8, 0),
			invoice_ceiling = nullif($9::numeric, 0), over_ceiling = nullif($10::text, ''), default_drug_class = nullif($11::int, 0),
			referral_retention_months = $12 WHERE tenant_id = passd_tenant()`,
			in.RegieCeiling, in.AnnualBudget, in.DeadlineDays, s.now(), nullID(actor.UserID),
			in.AMELookbackDays, in.SubmissionLimitDays, in.RecoveryOffsetDays, in.InvoiceCeiling, in.OverCeiling, in.DefaultDrugClass,
			in.RetentionMonths()); err != nil {
			return fmt.Errorf("billing: put settings: %w", err)
		}
		if out, err = readSettings(ctx, tx, false); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "settings.update", Entity: "settings", EntityID: "1",
			Before: settingsAudit(before), After: settingsAudit(out)})
	})
	return out, err
}

// requestRegieChange records a change of the régie's account asked for in
// a PUT of the settings, unless it is the account in force or the change
// already waiting. The operator's CLI (no user) puts it in force at once.
func (s *Store) requestRegieChange(ctx context.Context, tx pgx.Tx, actor audit.Actor, cur Settings, next BankDetails) error {
	old := BankDetails{cur.RegieName, cur.RegieIBAN, cur.RegieBIC}
	if next == old {
		return nil
	}
	var pending BankDetails
	err := tx.QueryRow(ctx, `SELECT name, iban, bic FROM bank_detail_changes WHERE provider_id IS NULL AND status = 'pending' AND tenant_id = passd_tenant()`).
		Scan(&pending.Name, &pending.IBAN, &pending.BIC)
	if err == nil && pending == next {
		return nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("billing: pending régie change: %w", err)
	}
	var was *BankDetails
	if cur.Complete() {
		was = &old
	}
	id, err := requestBankChange(ctx, tx, actor, s.now(), 0, was, next)
	if err != nil {
		return err
	}
	if actor.UserID == 0 {
		return applyBankChange(ctx, tx, id, BankChange{New: next})
	}
	return nil
}

func settingsAudit(st Settings) map[string]any {
	return map[string]any{"regie_name": st.RegieName, "regie_iban": st.RegieIBAN, "regie_bic": st.RegieBIC,
		"regie_ceiling": money.Format(st.RegieCeiling), "annual_budget": money.Format(st.AnnualBudget), "deadline_days": st.DeadlineDays,
		"ame_lookback_days": st.AMELookbackDays, "submission_limit_days": st.SubmissionLimitDays,
		"recovery_offset_days": st.RecoveryOffsetDays, "invoice_ceiling": money.Format(st.InvoiceCeiling), "over_ceiling": st.OverCeiling,
		"default_drug_class": st.DefaultDrugClass, "referral_retention_months": st.ReferralRetentionMonths}
}

// DefaultDeadlineDays is the deadline in force when the settings leave it
// unset (DeadlineDays 0).
func (s *Store) DefaultDeadlineDays() int { return s.deadlineDays }

// The bounds of the settings.
const (
	MaxRegieName           = 70 // the SEPA files' debtor name
	MaxDeadlineDays        = 3650
	minDeadlineDays        = 1
	MaxAMELookbackDays     = 365
	MaxSubmissionLimitDays = 3650
	MaxRecoveryOffsetDays  = 365 // as the settings' check constraint
	minSettingDays         = 1
	// MaxReferralRetentionMonths is the settings' check constraint (ten
	// years): past it a referral is kept longer than its purpose needs.
	MaxReferralRetentionMonths = 120
)

// DefaultReferralRetentionMonths is how long closed referrals keep their
// identity when the settings leave it unset: a year, enough to answer a
// question about the case (issue 17).
const DefaultReferralRetentionMonths = 12

// RetentionMonths is the referral retention in force.
func (st Settings) RetentionMonths() int {
	if st.ReferralRetentionMonths == 0 {
		return DefaultReferralRetentionMonths
	}
	return st.ReferralRetentionMonths
}

// CheckReferralRetentionMonths checks a referral retention typed by an admin.
func CheckReferralRetentionMonths(months int) error {
	if months < 1 || months > MaxReferralRetentionMonths {
		return fault.Field("referral_retention_months", "referral_retention_months must be between 1 and %d", MaxReferralRetentionMonths)
	}
	return nil
}

// The defaults of the settings left unset. Care may be submitted up to
// three years back, so that the CPAM's two-year limit (Prescribed) can
// still be met by care submitted late.
const (
	DefaultSubmissionLimitDays = 1095
	// DefaultRecoveryOffsetDays is about two monthly payout batches: a
	// provider still paid by the city sees its recovery deducted by then.
	DefaultRecoveryOffsetDays = 60
)

// MaxSettingAmount keeps the ceiling and the budget inside NUMERIC(12,2).
var MaxSettingAmount = decimal.RequireFromString("9999999999.99")

// Validate checks settings as an admin typed them and puts the régie's
// IBAN and BIC in their canonical form. DeadlineDays 0 leaves the
// server's default, and so does 0 for the other numbers of days. Its
// errors name the field (regie_name, regie_iban, regie_bic, regie_ceiling,
// annual_budget, deadline_days, ame_lookback_days, submission_limit_days,
// recovery_offset_days, invoice_ceiling, over_ceiling, default_drug_class,
// referral_retention_months).
func (st *Settings) Validate() error {
	return fault.First(st.Problems())
}

// Problems checks every field of the settings, as Validate does, and
// returns each one's error, in Validate's order: a form shows them all at
// once rather than one per attempt. A field has one error at most.
func (st *Settings) Problems() []error {
	var out []error
	keep := fault.Collect(&out)
	var err error
	st.RegieName, err = text.Required("regie_name", st.RegieName, MaxRegieName)
	// The name is the debtor of every SEPA file, written in the SEPA
	// character set: a name with nothing left there (other scripts, only
	// symbols) would make every download fail, so it is refused here.
	if err == nil && sepa.Text(st.RegieName, MaxRegieName) == "" {
		err = fault.Field("regie_name", "regie_name must contain Latin letters or digits: it is written in SEPA files")
	}
	keep(err)
	st.RegieIBAN, err = identifier("regie_iban", "IBAN", st.RegieIBAN, maxIBANInput, ident.ParseIBAN)
	keep(err)
	st.RegieBIC, err = identifier("regie_bic", "BIC", st.RegieBIC, maxIDInput, ident.ParseBIC)
	keep(err)
	keep(checkSettingAmount("regie_ceiling", st.RegieCeiling))
	keep(checkSettingAmount("annual_budget", st.AnnualBudget))
	for _, d := range []struct {
		n     int
		check func(int) error
	}{
		{st.DeadlineDays, CheckDeadlineDays}, {st.AMELookbackDays, CheckAMELookbackDays},
		{st.SubmissionLimitDays, CheckSubmissionLimitDays}, {st.RecoveryOffsetDays, CheckRecoveryOffsetDays},
		{st.ReferralRetentionMonths, CheckReferralRetentionMonths},
	} {
		if d.n != 0 {
			keep(d.check(d.n))
		}
	}
	return append(out, st.tariffProblems()...)
}

// tariffProblems checks the settings of the tariff (zero or empty: the
// default).
func (st *Settings) tariffProblems() []error {
	var out []error
	if !st.InvoiceCeiling.IsZero() {
		if err := checkSettingAmount("invoice_ceiling", st.InvoiceCeiling); err != nil {
			out = append(out, err)
		}
	}
	if st.OverCeiling != "" {
		if _, err := text.OneOf("over_ceiling", st.OverCeiling, OverCeilingRefuse, OverCeilingReview); err != nil {
			out = append(out, err)
		}
	}
	if st.DefaultDrugClass != 0 && !slices.Contains(DrugClasses, st.DefaultDrugClass) {
		out = append(out, fault.Field("default_drug_class", "default_drug_class must be 100, 65, 30 or 15 (percent)"))
	}
	return out
}

// Ceiling is the convention's ceiling on an invoice's total in force.
func (st Settings) Ceiling() decimal.Decimal {
	if st.InvoiceCeiling.IsZero() {
		return DefaultInvoiceCeiling
	}
	return st.InvoiceCeiling
}

// OverCeilingAction is what an invoice over a ceiling gets.
func (st Settings) OverCeilingAction() string {
	if st.OverCeiling == "" {
		return OverCeilingRefuse
	}
	return st.OverCeiling
}

// DrugClass is the class in force of a CIP13 the drug table does not list.
func (st Settings) DrugClass() int {
	if st.DefaultDrugClass == 0 {
		return DefaultDrugClass
	}
	return st.DefaultDrugClass
}

// CheckAMELookbackDays checks an AME look-back given explicitly, 0
// included (as CheckDeadlineDays).
func CheckAMELookbackDays(days int) error {
	return checkDays("ame_lookback_days", days, MaxAMELookbackDays)
}

// CheckSubmissionLimitDays checks a submission limit given explicitly, 0
// included (as CheckDeadlineDays).
func CheckSubmissionLimitDays(days int) error {
	return checkDays("submission_limit_days", days, MaxSubmissionLimitDays)
}

// CheckRecoveryOffsetDays checks a recovery offset delay given
// explicitly, 0 included (as CheckDeadlineDays).
func CheckRecoveryOffsetDays(days int) error {
	return checkDays("recovery_offset_days", days, MaxRecoveryOffsetDays)
}

func checkDays(field string, days, max int) error {
	if days < minSettingDays || days > max {
		return fault.Field(field, "%s must be between %d and %d", field, minSettingDays, max)
	}
	return nil
}

// AMELookback is the AME look-back in force.
func (st Settings) AMELookback() int {
	if st.AMELookbackDays == 0 {
		return rights.DefaultAMELookbackDays
	}
	return st.AMELookbackDays
}

// SubmissionLimit is how many days back a care date may be submitted.
func (st Settings) SubmissionLimit() int {
	if st.SubmissionLimitDays == 0 {
		return DefaultSubmissionLimitDays
	}
	return st.SubmissionLimitDays
}

// RecoveryOffset is how many days a recovery may wait for a payout batch
// to deduct it; past that it is listed for a titre de recettes.
func (st Settings) RecoveryOffset() int {
	if st.RecoveryOffsetDays == 0 {
		return DefaultRecoveryOffsetDays
	}
	return st.RecoveryOffsetDays
}

func checkSettingAmount(field string, d decimal.Decimal) error {
	if err := checkAmount(field, d); err != nil {
		return err
	}
	if d.GreaterThan(MaxSettingAmount) {
		return fault.Field(field, "%s must be at most %s", field, MaxSettingAmount)
	}
	return nil
}

// CheckDeadlineDays checks a deadline given in days. Settings leave it 0
// for the server's default; a deadline given explicitly, as the JSON and
// the form may, is checked with this, 0 included.
func CheckDeadlineDays(days int) error {
	if days < minDeadlineDays || days > MaxDeadlineDays {
		return fault.Field("deadline_days", "deadline_days must be between %d and %d", minDeadlineDays, MaxDeadlineDays)
	}
	return nil
}
