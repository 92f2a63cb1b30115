package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/rights"
	"passd/spreadsheet"
	"passd/text"
)

// The bounds of the tariff's tables.
const (
	MaxActLabel  = 200
	MaxActSource = 200
	MaxRateNote  = 500
	// maxImportErrors is how many bad rows an import names in its error.
	maxImportErrors = 10
)

// rateScale is how many decimals a rate has (NUMERIC(4,3)).
const rateScale = 3

// Validate checks an act as an admin typed it and puts its code and kinds
// in their canonical form. Its errors name the field (code, label,
// provider_kinds, rate_class, max_unit_price, dispensing_fee, source).
func (a *Act) Validate() error { return fault.First(a.Problems()) }

// Problems checks every field of an act, as Validate does, and returns
// each one's error in Validate's order: a form shows them all at once.
func (a *Act) Problems() []error {
	var out []error
	if code, err := text.Required("code", a.Code, maxActCodeInput); err != nil {
		out = append(out, err)
	} else if nomenclature, canonical, err := ident.ParseActCode(code); err != nil || nomenclature == ident.ActCIP13 {
		out = append(out, fault.Field("code", "code must be an NGAP key or fee code (letters), a CCAM, NABM or LPP code; drugs go in the drug table"))
	} else {
		a.Code = canonical
	}
	var err error
	if a.Label, err = text.Required("label", a.Label, MaxActLabel); err != nil {
		out = append(out, err)
	}
	if err := a.checkKinds(); err != nil {
		out = append(out, err)
	}
	if a.RateClass != "" {
		if _, err := text.OneOf("rate_class", string(a.RateClass), ProviderKinds...); err != nil {
			out = append(out, fault.Field("rate_class", "rate_class must be empty (the billing provider's kind) or a provider kind: %s", strings.Join(ProviderKinds, ", ")))
		} else if a.DispensingFee {
			out = append(out, fault.Field("rate_class", "a dispensing fee is priced as the drug it follows: leave rate_class empty"))
		}
	}
	if a.MaxUnitPrice != nil {
		if err := checkAmount("max_unit_price", *a.MaxUnitPrice); err != nil {
			out = append(out, err)
		} else if a.MaxUnitPrice.GreaterThan(MaxUnitPrice) {
			out = append(out, fault.Field("max_unit_price", "max_unit_price is above %s", money.Format(MaxUnitPrice)))
		}
	}
	if a.Source, err = text.Clean("source", a.Source, MaxActSource); err != nil {
		out = append(out, err)
	}
	return out
}

// checkKinds checks the kinds of provider that may bill an act and keeps
// each once, in its canonical spelling.
func (a *Act) checkKinds() error {
	if len(a.ProviderKinds) == 0 {
		return fault.Field("provider_kinds", "provider_kinds must name at least one kind of provider")
	}
	kinds := make([]string, 0, len(a.ProviderKinds))
	for _, k := range a.ProviderKinds {
		k, err := text.OneOf("provider_kinds", strings.TrimSpace(k), ProviderKinds...)
		if err != nil {
			return err
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	a.ProviderKinds = kinds
	return nil
}

// Validate checks a drug entry and puts its CIP13 in canonical form. Its
// errors name the field (cip13, label, class).
func (d *Drug) Validate() error { return fault.First(d.Problems()) }

// Problems checks every field of a drug entry, as Validate does, and
// returns each one's error in Validate's order.
func (d *Drug) Problems() []error {
	var out []error
	if code, err := text.Required("cip13", d.CIP13, maxActCodeInput); err != nil {
		out = append(out, err)
	} else if nomenclature, canonical, err := ident.ParseActCode(code); err != nil || nomenclature != ident.ActCIP13 {
		out = append(out, fault.Field("cip13", "cip13 must be 34009 + 7 digits + its check digit"))
	} else {
		d.CIP13 = canonical
	}
	var err error
	if d.Label, err = text.Required("label", d.Label, MaxActLabel); err != nil {
		out = append(out, err)
	}
	if !slices.Contains(DrugClasses, d.Class) {
		out = append(out, fault.Field("class", "class must be 100, 65, 30 or 15 (percent)"))
	}
	return out
}

// Validate checks a rate change. Its errors name the field (regime,
// rate_class, effective_from, rate, reason).
func (r *Rate) Validate() error { return fault.First(r.Problems()) }

// Problems checks every field of a rate change, as Validate does, and
// returns each one's error in Validate's order.
func (r *Rate) Problems() []error {
	var out []error
	if regime, err := text.OneOf("regime", string(r.Regime), rights.Regimes...); err != nil {
		out = append(out, err)
	} else {
		r.Regime = regime
	}
	var err error
	if r.Class, err = text.OneOf("rate_class", string(r.Class), RateClasses...); err != nil {
		out = append(out, err)
	}
	if r.EffectiveFrom.IsZero() {
		out = append(out, fault.Field("effective_from", "effective_from is required"))
	}
	if r.Rate.IsNegative() || r.Rate.GreaterThan(decimal.NewFromInt(1)) || !r.Rate.Equal(r.Rate.Truncate(rateScale)) {
		out = append(out, fault.Field("rate", "rate must be between 0 and 1 with at most 3 decimals (0.70 for 70 %%)"))
	}
	if r.Reason, err = text.Required("reason", r.Reason, MaxRateNote); err != nil {
		out = append(out, err)
	}
	return out
}

// Acts lists the catalogue by code.
func (s *Store) Acts(ctx context.Context) ([]Act, error) {
	acts, err := readActs(ctx, s.pool, "")
	return acts, db.Translate(err)
}

// listedCode reports whether code is written as the catalogue lists
// codes; another spelling (spaces, lower case, a byte no code holds) is
// not found rather than looked up.
func listedCode(code string) bool {
	kind, canonical, err := ident.ParseActCode(code)
	return err == nil && kind != ident.ActCIP13 && canonical == code
}

// listedCIP13 is listedCode for the drug table.
func listedCIP13(cip string) bool {
	kind, canonical, err := ident.ParseActCode(cip)
	return err == nil && kind == ident.ActCIP13 && canonical == cip
}

// Act returns one act of the catalogue, by its code exactly as listed.
func (s *Store) Act(ctx context.Context, code string) (Act, error) {
	if !listedCode(code) {
		return Act{}, fault.New(fault.NotFound, "no act has this code in the catalogue")
	}
	acts, err := readActs(ctx, s.pool, code)
	if err != nil {
		return Act{}, db.Translate(err)
	}
	if len(acts) == 0 {
		return Act{}, fault.New(fault.NotFound, "no act has this code in the catalogue")
	}
	return acts[0], nil
}

func actAudit(a Act) map[string]any {
	out := map[string]any{"label": a.Label, "provider_kinds": a.ProviderKinds, "rate_class": a.RateClass,
		"dispensing_fee": a.DispensingFee, "source": a.Source}
	if a.MaxUnitPrice != nil {
		out["max_unit_price"] = money.Format(*a.MaxUnitPrice)
	}
	return out
}

// upsertActs writes acts (checked) and their audit rows, the row before a
// replacement included; action names the audit rows' action.
func (s *Store) upsertActs(ctx context.Context, tx pgx.Tx, actor audit.Actor, acts []Act, action string) (created, updated int, err error) {
	codes := make([]string, len(acts))
	for i, a := range acts {
		codes[i] = a.Code
	}
	before := map[string]Act{}
	rows, err := tx.Query(ctx, `SELECT `+actColumns+` FROM acts a LEFT JOIN users u ON u.id = a.updated_by AND u.tenant_id = passd_tenant()
		WHERE a.code = ANY($1) AND a.tenant_id = passd_tenant() FOR UPDATE OF a`, codes)
	if err == nil {
		var olds []Act
		olds, err = pgx.CollectRows(rows, scanAct)
		for _, a := range olds {
			before[a.Code] = a
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("billing: acts: %w", err)
	}
	entries := make([]audit.Entry, 0, len(acts))
	for _, a := range acts {
		if _, err := tx.Exec(ctx, `
			INSERT INTO acts (code, label, provider_kinds, rate_class, max_unit_price, dispensing_fee, source, updated_at, updated_by)
			VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, code) DO UPDATE SET label = EXCLUDED.label, provider_kinds = EXCLUDED.provider_kinds,
				rate_class = EXCLUDED.rate_class, max_unit_price = EXCLUDED.max_unit_price, dispensing_fee = EXCLUDED.dispensing_fee,
				source = EXCLUDED.source, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
			a.Code, a.Label, a.ProviderKinds, string(a.RateClass), a.MaxUnitPrice, a.DispensingFee, a.Source, s.now(), nullID(actor.UserID)); err != nil {
			return 0, 0, fmt.Errorf("billing: act %s: %w", a.Code, err)
		}
		e := audit.Entry{Actor: actor, Action: action, Entity: "act", EntityID: a.Code, After: actAudit(a)}
		if old, ok := before[a.Code]; ok {
			e.Before = actAudit(old)
			updated++
		} else {
			created++
		}
		entries = append(entries, e)
	}
	return created, updated, audit.Append(ctx, tx, entries...)
}

// PutAct creates the act of a.Code, or replaces it.
func (s *Store) PutAct(ctx context.Context, actor audit.Actor, a Act) (Act, error) {
	if err := a.Validate(); err != nil {
		return Act{}, err
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, _, err := s.upsertActs(ctx, tx, actor, []Act{a}, "act.put")
		return err
	})
	if err != nil {
		return Act{}, db.Translate(err)
	}
	return s.Act(ctx, a.Code)
}

// DeleteAct takes an act out of the catalogue: a key is then unknown, a
// CCAM, NABM or LPP code billed by its format. Invoices keep their lines.
func (s *Store) DeleteAct(ctx context.Context, actor audit.Actor, code string) error {
	if !listedCode(code) {
		return fault.New(fault.NotFound, "no act has this code in the catalogue")
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		acts, err := readActs(ctx, tx, code)
		if err != nil {
			return err
		}
		if len(acts) == 0 {
			return fault.New(fault.NotFound, "no act has this code in the catalogue")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM acts WHERE code = $1 AND tenant_id = passd_tenant()`, code); err != nil {
			return fmt.Errorf("billing: delete act %s: %w", code, err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "act.delete", Entity: "act", EntityID: code, Before: actAudit(acts[0])})
	})
	return db.Translate(err)
}

// ImportResult is what an import changed.
type ImportResult struct {
	Created int
	Updated int
}

// importErrors gathers the bad rows of an import, to refuse it whole.
type importErrors struct {
	lines []string
	msgs  []string
}

func (e *importErrors) add(line int, err error) {
	msg := err.Error()
	if fe, ok := fault.As(err); ok {
		msg = fe.Message
	}
	e.lines = append(e.lines, strconv.Itoa(line))
	if len(e.msgs) < maxImportErrors {
		e.msgs = append(e.msgs, fmt.Sprintf("line %d: %s", line, msg))
	}
}

func (e *importErrors) err(rows int) error {
	switch {
	case len(e.lines) > 0:
		more := ""
		if n := len(e.lines) - len(e.msgs); n > 0 {
			more = fmt.Sprintf(" (and %d more)", n)
		}
		return fault.Field("file", "%d of %d rows are invalid, nothing was imported: %s%s", len(e.lines), rows, strings.Join(e.msgs, "; "), more).
			WithDetail("lines", strings.Join(e.lines, ","))
	case rows == 0:
		return fault.Field("file", "the file has a header and no rows")
	}
	return nil
}

// actColumnsCSV are the columns of an acts import.
var actColumnsCSV = []string{"code", "label", "provider_kinds", "rate_class", "max_unit_price", "dispensing_fee", "source"}

// ImportActs adds or replaces the acts of a CSV file (header: code, label,
// provider_kinds — kinds separated by spaces, commas or '|' —, and
// optionally rate_class, max_unit_price, dispensing_fee — oui/non —,
// source). Acts the file does not name stay as they are. One bad row and
// nothing is stored; the error names every bad row by its line.
func (s *Store) ImportActs(ctx context.Context, actor audit.Actor, body []byte) (ImportResult, error) {
	rows, err := spreadsheet.ReadTable(body, actColumnsCSV, actColumnsCSV[:3])
	if err != nil {
		return ImportResult{}, err
	}
	var bad importErrors
	acts := make([]Act, 0, len(rows))
	seen := map[string]int{}
	for _, r := range rows {
		a, err := actFromRow(r.Cells)
		if err == nil {
			if first, dup := seen[a.Code]; dup {
				err = fault.Field("code", "code %s is on line %d already", a.Code, first)
			}
		}
		if err != nil {
			bad.add(r.Line, err)
			continue
		}
		seen[a.Code] = r.Line
		acts = append(acts, a)
	}
	if err := bad.err(len(rows)); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		res.Created, res.Updated, err = s.upsertActs(ctx, tx, actor, acts, "act.import")
		return err
	})
	return res, db.Translate(err)
}

func actFromRow(c map[string]string) (Act, error) {
	a := Act{Code: c["code"], Label: c["label"], RateClass: RateClass(c["rate_class"]), Source: c["source"]}
	a.ProviderKinds = strings.FieldsFunc(c["provider_kinds"], func(r rune) bool { return r == ' ' || r == ',' || r == '|' })
	if p := c["max_unit_price"]; p != "" {
		price, err := money.ParseAmount(strings.Replace(p, ",", ".", 1))
		if err != nil {
			return Act{}, fault.Field("max_unit_price", "max_unit_price %q is not an amount", p)
		}
		a.MaxUnitPrice = &price
	}
	switch strings.ToLower(c["dispensing_fee"]) {
	case "", "non", "no", "false", "0":
	case "oui", "yes", "true", "1":
		a.DispensingFee = true
	default:
		return Act{}, fault.Field("dispensing_fee", "dispensing_fee must be oui or non")
	}
	return a, a.Validate()
}

// DrugFilter narrows the drug table: a class, and the start of a CIP13 or
// of a label.
type DrugFilter struct {
	Class  int
	Search string
}

// Drugs lists the drug table by CIP13, page.After being the last CIP13 of
// the previous page.
func (s *Store) Drugs(ctx context.Context, f DrugFilter, after string, limit int) ([]Drug, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+drugColumns+drugFrom+`
		AND ($1 = 0 OR d.drug_class = $1) AND d.cip13 > $2
		  AND ($3 = '' OR d.cip13 LIKE $3 || '%' OR lower(d.label) LIKE '%' || lower($3) || '%')
		ORDER BY d.cip13 LIMIT $4`, f.Class, after, likeLiteral.Replace(f.Search), limit)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: drugs: %w", err))
	}
	drugs, err := pgx.CollectRows(rows, scanDrug)
	return drugs, db.Translate(err)
}

// likeLiteral makes a search text match itself in LIKE: its % and _ are
// characters, not wildcards (backslash is LIKE's default escape).
var likeLiteral = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// drugColumns, from drugFrom, are read into a Drug by scanDrug.
const (
	drugColumns = `d.cip13, d.label, d.drug_class, d.updated_at, coalesce(u.name, '')`
	drugFrom    = ` FROM drugs d LEFT JOIN users u ON u.id = d.updated_by AND u.tenant_id = passd_tenant() WHERE d.tenant_id = passd_tenant()`
)

func scanDrug(r pgx.CollectableRow) (Drug, error) {
	var d Drug
	err := r.Scan(&d.CIP13, &d.Label, &d.Class, &d.UpdatedAt, &d.UpdatedBy)
	return d, err
}

// Drug returns one entry of the drug table.
func (s *Store) Drug(ctx context.Context, cip13 string) (Drug, error) {
	if !listedCIP13(cip13) {
		return Drug{}, fault.New(fault.NotFound, "no drug has this CIP13 in the drug table")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+drugColumns+drugFrom+` AND d.cip13 = $1`, cip13)
	if err != nil {
		return Drug{}, db.Translate(fmt.Errorf("billing: drug: %w", err))
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDrug)
	if errors.Is(err, pgx.ErrNoRows) {
		return Drug{}, fault.New(fault.NotFound, "no drug has this CIP13 in the drug table")
	}
	return d, db.Translate(err)
}

func drugAudit(d Drug) map[string]any { return map[string]any{"label": d.Label, "class": d.Class} }

// upsertDrugs writes drugs (checked) and an audit row per drug, or one
// summary row for an import (action drug.import: a drug table runs to
// thousands of rows).
func (s *Store) upsertDrugs(ctx context.Context, tx pgx.Tx, actor audit.Actor, drugs []Drug, summary bool) (ImportResult, error) {
	n := len(drugs)
	cips, labels, classes := make([]string, n), make([]string, n), make([]int32, n)
	for i, d := range drugs {
		cips[i], labels[i], classes[i] = d.CIP13, d.Label, int32(d.Class)
	}
	type old struct {
		label string
		class int
	}
	before := map[string]old{}
	var cip string
	var o old
	rows, err := tx.Query(ctx, `SELECT cip13, label, drug_class FROM drugs WHERE cip13 = ANY($1) AND tenant_id = passd_tenant() FOR UPDATE`, cips)
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&cip, &o.label, &o.class}, func() error {
			before[cip] = o
			return nil
		})
	}
	if err != nil {
		return ImportResult{}, fmt.Errorf("billing: drugs: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO drugs (cip13, label, drug_class, updated_at, updated_by)
		SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[]) AS u, (VALUES ($4::timestamptz, $5::bigint)) AS w
		ON CONFLICT (tenant_id, cip13) DO UPDATE SET label = EXCLUDED.label, drug_class = EXCLUDED.drug_class,
			updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		cips, labels, classes, s.now(), nullID(actor.UserID)); err != nil {
		return ImportResult{}, fmt.Errorf("billing: drugs: %w", err)
	}
	var res ImportResult
	entries := make([]audit.Entry, 0, n)
	for _, d := range drugs {
		e := audit.Entry{Actor: actor, Action: "drug.put", Entity: "drug", EntityID: d.CIP13, After: drugAudit(d)}
		if o, ok := before[d.CIP13]; ok {
			res.Updated++
			e.Before = map[string]any{"label": o.label, "class": o.class}
		} else {
			res.Created++
		}
		entries = append(entries, e)
	}
	if summary {
		entries = []audit.Entry{{Actor: actor, Action: "drug.import", Entity: "drug", EntityID: "*",
			After: map[string]any{"rows": n, "created": res.Created, "updated": res.Updated}}}
	}
	return res, audit.Append(ctx, tx, entries...)
}

// PutDrug creates or replaces a drug's entry.
func (s *Store) PutDrug(ctx context.Context, actor audit.Actor, d Drug) (Drug, error) {
	if err := d.Validate(); err != nil {
		return Drug{}, err
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := s.upsertDrugs(ctx, tx, actor, []Drug{d}, false)
		return err
	})
	if err != nil {
		return Drug{}, db.Translate(err)
	}
	return s.Drug(ctx, d.CIP13)
}

// DeleteDrug takes a drug out of the table: it then takes the default
// class. Invoices keep the class their lines were priced in.
func (s *Store) DeleteDrug(ctx context.Context, actor audit.Actor, cip13 string) error {
	if !listedCIP13(cip13) {
		return fault.New(fault.NotFound, "no drug has this CIP13 in the drug table")
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var label string
		var class int
		err := tx.QueryRow(ctx, `DELETE FROM drugs WHERE cip13 = $1 AND tenant_id = passd_tenant() RETURNING label, drug_class`, cip13).Scan(&label, &class)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "no drug has this CIP13 in the drug table")
		}
		if err != nil {
			return fmt.Errorf("billing: delete drug: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "drug.delete", Entity: "drug", EntityID: cip13,
			Before: map[string]any{"label": label, "class": class}})
	})
	return db.Translate(err)
}

var drugColumnsCSV = []string{"cip13", "label", "class"}

// ImportDrugs adds or replaces the drugs of a CSV file (header: cip13,
// label, class — 100, 65, 30 or 15, "65 %" too). Drugs the file does not
// name stay as they are. One bad row and nothing is stored; the error
// names every bad row by its line.
func (s *Store) ImportDrugs(ctx context.Context, actor audit.Actor, body []byte) (ImportResult, error) {
	rows, err := spreadsheet.ReadTable(body, drugColumnsCSV, drugColumnsCSV)
	if err != nil {
		return ImportResult{}, err
	}
	var bad importErrors
	drugs := make([]Drug, 0, len(rows))
	seen := map[string]int{}
	for _, r := range rows {
		d := Drug{CIP13: r.Cells["cip13"], Label: r.Cells["label"]}
		class := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r.Cells["class"]), "%"))
		var err error
		if d.Class, err = strconv.Atoi(class); err != nil {
			err = fault.Field("class", "class %q must be 100, 65, 30 or 15", r.Cells["class"])
		} else {
			err = d.Validate()
		}
		if err == nil {
			if first, dup := seen[d.CIP13]; dup {
				err = fault.Field("cip13", "cip13 %s is on line %d already", d.CIP13, first)
			}
		}
		if err != nil {
			bad.add(r.Line, err)
			continue
		}
		seen[d.CIP13] = r.Line
		drugs = append(drugs, d)
	}
	if err := bad.err(len(rows)); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		res, err = s.upsertDrugs(ctx, tx, actor, drugs, true)
		return err
	})
	return res, db.Translate(err)
}

// Rates lists the rates' history by regime, class and date.
func (s *Store) Rates(ctx context.Context) ([]Rate, error) {
	rates, err := readRates(ctx, s.pool)
	return rates, db.Translate(err)
}

// RatesOn lists the rates in force on day: one per regime and class.
func RatesOn(history []Rate, day calendar.Date) []Rate {
	var out []Rate
	for _, r := range history {
		if r.EffectiveFrom.After(day) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Regime == r.Regime && out[n-1].Class == r.Class {
			out[n-1] = r // history is by date within a regime and class
			continue
		}
		out = append(out, r)
	}
	return out
}

// AddRate records a rate change: from r.EffectiveFrom (care dates), lines
// of r.Class under r.Regime are paid r.Rate. History is never edited, and
// an invoice already decided keeps its shares; one not yet decided takes
// the rate in force on its care date when it is. A change for a regime
// and class that already has one on that day is a conflict.
func (s *Store) AddRate(ctx context.Context, actor audit.Actor, r Rate) (Rate, error) {
	if err := r.Validate(); err != nil {
		return Rate{}, err
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var prev *decimal.Decimal
		if err := tx.QueryRow(ctx, `SELECT (SELECT rate FROM rates WHERE regime = $1 AND rate_class = $2 AND effective_from <= $3 AND tenant_id = passd_tenant()
			ORDER BY effective_from DESC LIMIT 1)`, r.Regime, r.Class, r.EffectiveFrom).Scan(&prev); err != nil {
			return fmt.Errorf("billing: rate: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rates (regime, rate_class, effective_from, rate, reason, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Regime, r.Class, r.EffectiveFrom, r.Rate, r.Reason, s.now(), nullID(actor.UserID)); err != nil {
			if db.IsConstraint(err, "rates_pkey") {
				return fault.New(fault.Conflict, "a rate of %s for %s already starts on %s", r.Regime, r.Class, r.EffectiveFrom).
					WithKind(fault.KindDuplicateRate).WithField("effective_from")
			}
			return fmt.Errorf("billing: add rate: %w", err)
		}
		after := map[string]any{"regime": r.Regime, "rate_class": r.Class, "effective_from": r.EffectiveFrom.String(),
			"rate": r.Rate.StringFixed(rateScale), "reason": r.Reason}
		var before map[string]any
		if prev != nil {
			before = map[string]any{"rate": prev.StringFixed(rateScale)}
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "rate.add", Entity: "rate",
			EntityID: fmt.Sprintf("%s/%s/%s", r.Regime, r.Class, r.EffectiveFrom), Before: before, After: after})
	})
	if err != nil {
		return Rate{}, db.Translate(err)
	}
	r.CreatedAt, r.CreatedBy = s.now(), actor.Name
	return r, nil
}
