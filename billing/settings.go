package billing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/ident"
	"passd/money"
	"passd/sepa"
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
	UpdatedAt    *time.Time
	UpdatedBy    string
}

// Complete reports whether the régie's account is set.
func (s Settings) Complete() bool { return s.RegieName != "" && s.RegieIBAN != "" && s.RegieBIC != "" }

const settingsColumns = `coalesce(s.regie_name, ''), coalesce(s.regie_iban, ''), coalesce(s.regie_bic, ''),
	s.regie_ceiling, s.annual_budget, coalesce(s.deadline_days, 0), s.updated_at, coalesce(u.name, '')`

func scanSettings(row pgx.Row) (Settings, error) {
	var st Settings
	err := row.Scan(&st.RegieName, &st.RegieIBAN, &st.RegieBIC, &st.RegieCeiling, &st.AnnualBudget, &st.DeadlineDays, &st.UpdatedAt, &st.UpdatedBy)
	return st, err
}

// Settings returns the current settings.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	return readSettings(ctx, s.pool, false)
}

// readSettings reads the one settings row; lock takes it FOR UPDATE, which
// serialises the approvals that check the budget against each other.
func readSettings(ctx context.Context, q db.DBTX, lock bool) (Settings, error) {
	sql := `SELECT ` + settingsColumns + ` FROM settings s LEFT JOIN users u ON u.id = s.updated_by`
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
		var days *int
		if in.DeadlineDays > 0 {
			days = &in.DeadlineDays
		}
		if _, err := tx.Exec(ctx, `UPDATE settings SET regie_name = $1, regie_iban = $2, regie_bic = $3, regie_ceiling = $4,
			annual_budget = $5, deadline_days = $6, updated_at = $7, updated_by = $8`,
			in.RegieName, in.RegieIBAN, in.RegieBIC, in.RegieCeiling, in.AnnualBudget, days, s.now(), nullID(actor.UserID)); err != nil {
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

func settingsAudit(st Settings) map[string]any {
	return map[string]any{"regie_name": st.RegieName, "regie_iban": st.RegieIBAN, "regie_bic": st.RegieBIC,
		"regie_ceiling": money.Format(st.RegieCeiling), "annual_budget": money.Format(st.AnnualBudget), "deadline_days": st.DeadlineDays}
}

// ---- HTTP ----

type settingsJSON struct {
	RegieName           string     `json:"regie_name"`
	RegieIBAN           string     `json:"regie_iban"`
	RegieBIC            string     `json:"regie_bic"`
	RegieCeiling        string     `json:"regie_ceiling"`
	AnnualBudget        string     `json:"annual_budget"`
	DeadlineDays        int        `json:"deadline_days"`
	DeadlineDaysDefault bool       `json:"deadline_days_is_default"`
	UpdatedAt           *time.Time `json:"updated_at"`
	UpdatedBy           string     `json:"updated_by"`
}

func (s *Store) toSettingsJSON(st Settings) settingsJSON {
	out := settingsJSON{RegieName: st.RegieName, RegieIBAN: st.RegieIBAN, RegieBIC: st.RegieBIC,
		RegieCeiling: money.Format(st.RegieCeiling), AnnualBudget: money.Format(st.AnnualBudget),
		DeadlineDays: st.DeadlineDays, UpdatedBy: st.UpdatedBy}
	if st.DeadlineDays == 0 {
		out.DeadlineDays, out.DeadlineDaysDefault = s.deadlineDays, true
	}
	if st.UpdatedAt != nil {
		t := st.UpdatedAt.UTC()
		out.UpdatedAt = &t
	}
	return out
}

type settingsRequest struct {
	RegieName    api.Value `json:"regie_name"`
	RegieIBAN    api.Value `json:"regie_iban"`
	RegieBIC     api.Value `json:"regie_bic"`
	RegieCeiling api.Value `json:"regie_ceiling"`
	AnnualBudget api.Value `json:"annual_budget"`
	DeadlineDays api.Value `json:"deadline_days"`
}

// maxSettingAmount keeps amounts inside NUMERIC(12,2).
var maxSettingAmount = decimal.RequireFromString("9999999999.99")

func (r settingsRequest) validate() (Settings, error) {
	var st Settings
	var err error
	if st.RegieName, err = r.RegieName.String("regie_name", 70); err != nil {
		return st, err
	}
	// The name is the debtor of every SEPA file, written in the SEPA
	// character set: a name with nothing left there (other scripts, only
	// symbols) would make every download fail, so it is refused here.
	if sepa.Text(st.RegieName, 70) == "" {
		return st, fault.Field("regie_name", "regie_name must contain Latin letters or digits: it is written in SEPA files")
	}
	iban, err := r.RegieIBAN.String("regie_iban", 64)
	if err != nil {
		return st, err
	}
	if st.RegieIBAN, err = ident.ParseIBAN(iban); err != nil {
		return st, fault.Field("regie_iban", "regie_iban is not a valid IBAN: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	bic, err := r.RegieBIC.String("regie_bic", 32)
	if err != nil {
		return st, err
	}
	if st.RegieBIC, err = ident.ParseBIC(bic); err != nil {
		return st, fault.Field("regie_bic", "regie_bic is not a valid BIC: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	if st.RegieCeiling, err = r.RegieCeiling.Amount("regie_ceiling"); err != nil {
		return st, err
	}
	if st.RegieCeiling.GreaterThan(maxSettingAmount) {
		return st, fault.Field("regie_ceiling", "regie_ceiling must be at most %s", maxSettingAmount)
	}
	if st.AnnualBudget, err = r.AnnualBudget.Amount("annual_budget"); err != nil {
		return st, err
	}
	if st.AnnualBudget.GreaterThan(maxSettingAmount) {
		return st, fault.Field("annual_budget", "annual_budget must be at most %s", maxSettingAmount)
	}
	if r.DeadlineDays.Present() {
		if st.DeadlineDays, err = r.DeadlineDays.Int("deadline_days", 1, 3650); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ParseSettings decodes and validates a settings body as PUT /settings
// does: the admin's web form builds this body and goes through here.
func ParseSettings(body []byte) (Settings, error) {
	var r settingsRequest
	if err := api.DecodeBytes(body, &r); err != nil {
		return Settings{}, err
	}
	return r.validate()
}

// DefaultDeadlineDays is the deadline in force when the settings leave it
// unset (DeadlineDays 0).
func (s *Store) DefaultDeadlineDays() int { return s.deadlineDays }

func (s *Store) getSettings(c echo.Context) error {
	st, err := s.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toSettingsJSON(st))
}

func (s *Store) putSettings(c echo.Context) error {
	var req settingsRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	st, err := req.validate()
	if err != nil {
		return err
	}
	st, err = s.PutSettings(c.Request().Context(), auth.From(c).Actor(), st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toSettingsJSON(st))
}
