package billing

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"passd/calendar"
	"passd/db"
	"passd/rights"
)

// tariffCache is a process's copy of the tariff and of its providers'
// kinds. Nothing invalidates it from outside: the statement that stores
// an invoice names the version and the kind it priced with, and stores
// nothing when either has moved on (insertInvoice then reloads).
type tariffCache struct {
	mu     sync.Mutex
	tariff *Tariff
	kinds  map[int64]string
}

// tariff returns the cached tariff, loading it when there is none or when
// fresh asks for the database's current one.
func (s *Store) tariff(ctx context.Context, fresh bool) (*Tariff, error) {
	s.cache.mu.Lock()
	t := s.cache.tariff
	s.cache.mu.Unlock()
	if t != nil && !fresh {
		return t, nil
	}
	t, err := loadTariff(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.tariff == nil || s.cache.tariff.Version <= t.Version {
		s.cache.tariff = t
	}
	s.cache.mu.Unlock()
	return t, nil
}

// tariffVersion is the database's current tariff version.
func (s *Store) tariffVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT version FROM tariff_state WHERE tenant_id = passd_tenant()`).Scan(&v); err != nil {
		return 0, db.Translate(fmt.Errorf("billing: tariff version: %w", err))
	}
	return v, nil
}

// providerKind returns the kind of a provider, cached unless fresh.
func (s *Store) providerKind(ctx context.Context, providerID int64, fresh bool) (string, error) {
	s.cache.mu.Lock()
	kind, ok := s.cache.kinds[providerID]
	s.cache.mu.Unlock()
	if ok && !fresh {
		return kind, nil
	}
	if err := s.pool.QueryRow(ctx, `SELECT kind FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`, providerID).Scan(&kind); err != nil {
		return "", db.Translate(fmt.Errorf("billing: provider %d: %w", providerID, err))
	}
	s.cache.mu.Lock()
	if s.cache.kinds == nil {
		s.cache.kinds = map[int64]string{}
	}
	s.cache.kinds[providerID] = kind
	s.cache.mu.Unlock()
	return kind, nil
}

// loadTariff reads the catalogue, the drug classes and the settings of
// the ceilings as of one snapshot, with its version.
func loadTariff(ctx context.Context, pool db.TxBeginner) (*Tariff, error) {
	t := &Tariff{Acts: map[string]Act{}, DrugClasses: map[string]int{}}
	err := db.InTxOptions(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM tariff_state WHERE tenant_id = passd_tenant()`).Scan(&t.Version); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		st, err := readSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		t.DefaultDrugClass, t.InvoiceCeiling, t.OverCeiling = st.DrugClass(), st.Ceiling(), st.OverCeilingAction()
		acts, err := readActs(ctx, tx, "")
		if err != nil {
			return err
		}
		for _, a := range acts {
			t.Acts[a.Code] = a
		}
		var cip string
		var class int
		rows, err := tx.Query(ctx, `SELECT cip13, drug_class FROM drugs WHERE tenant_id = passd_tenant()`)
		if err != nil {
			return fmt.Errorf("drugs: %w", err)
		}
		_, err = pgx.ForEachRow(rows, []any{&cip, &class}, func() error {
			t.DrugClasses[cip] = class
			return nil
		})
		return err
	})
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: load the tariff: %w", err))
	}
	return t, nil
}

const actColumns = `a.code, a.label, a.provider_kinds, coalesce(a.rate_class, ''), a.max_unit_price, a.dispensing_fee, a.source,
	a.updated_at, coalesce(u.name, '')`

// scanAct reads a row of actColumns.
func scanAct(r pgx.CollectableRow) (Act, error) {
	var a Act
	err := r.Scan(&a.Code, &a.Label, &a.ProviderKinds, &a.RateClass, &a.MaxUnitPrice, &a.DispensingFee, &a.Source, &a.UpdatedAt, &a.UpdatedBy)
	return a, err
}

// readActs reads the catalogue, or the one act of code when code is set.
func readActs(ctx context.Context, q db.DBTX, code string) ([]Act, error) {
	rows, err := q.Query(ctx, `SELECT `+actColumns+` FROM acts a LEFT JOIN users u ON u.id = a.updated_by AND u.tenant_id = passd_tenant()
		WHERE a.tenant_id = passd_tenant() AND ($1 = '' OR a.code = $1) ORDER BY a.code`, code)
	if err != nil {
		return nil, fmt.Errorf("acts: %w", err)
	}
	acts, err := pgx.CollectRows(rows, scanAct)
	if err != nil {
		return nil, fmt.Errorf("acts: %w", err)
	}
	return acts, nil
}

// readRateBook reads the rates' history.
func readRateBook(ctx context.Context, q db.DBTX) (RateBook, error) {
	rates, err := readRates(ctx, q)
	if err != nil {
		return RateBook{}, err
	}
	return NewRateBook(rates), nil
}

func readRates(ctx context.Context, q db.DBTX) ([]Rate, error) {
	rows, err := q.Query(ctx, `SELECT r.regime, r.rate_class, r.effective_from, r.rate, r.reason, r.created_at, coalesce(u.name, '')
		FROM rates r LEFT JOIN users u ON u.id = r.created_by AND u.tenant_id = passd_tenant()
		WHERE r.tenant_id = passd_tenant()
		ORDER BY r.regime, r.rate_class, r.effective_from`)
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	rates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rate, error) {
		var rt Rate
		err := r.Scan(&rt.Regime, &rt.Class, &rt.EffectiveFrom, &rt.Rate, &rt.Reason, &rt.CreatedAt, &rt.CreatedBy)
		return rt, err
	})
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	return rates, nil
}

// BirthDates opens patients' birth dates for the tariff's age rule (an
// adult's 15 % drugs under AME). The claims side holds the keys; a file
// whose identity it cannot open is left out, and its patient counted as
// an adult (Adult).
type BirthDates interface {
	BirthDates(ctx context.Context, tx pgx.Tx, patientIDs []int64) (map[int64]calendar.Date, error)
}

// lineSplit works out the CPAM's and the city's shares of the released
// candidates: each line at the rate of its class under the regime of the
// period that released it, in force on the care date (RateBook.LineRates).
// Birth dates are opened only for AME invoices with a 15 % drug line.
func (s *Store) splitReleased(ctx context.Context, tx pgx.Tx, cands []candidate, book RateBook, released []int64) error {
	lines, err := linesOf(ctx, tx, released)
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	var ask []int64
	for i := range cands {
		if c := &cands[i]; c.outcome.Status == StatusReleased && c.outcome.Period.Regime == rights.AME && hasClass(lines[c.id], ClassDrug15) {
			ask = append(ask, c.patientID)
		}
	}
	births := map[int64]calendar.Date{}
	if len(ask) > 0 {
		if births, err = s.claims.BirthDates(ctx, tx, ask); err != nil {
			return fmt.Errorf("birth dates: %w", err)
		}
	}
	return shareReleased(cands, book, lines, births)
}

func hasClass(lines []Line, class RateClass) bool {
	for _, l := range lines {
		if l.RateClass == class {
			return true
		}
	}
	return false
}
