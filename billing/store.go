package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/settlement"
)

// ClaimQueue creates the CPAM's claims for released invoices, inside the
// transaction that releases them.
type ClaimQueue interface {
	Queue(ctx context.Context, tx pgx.Tx, actor audit.Actor, claims []settlement.NewClaim) error
	BirthDates
	Attestations
}

// Attestations checks the patient a submission names: the claims side
// holds the keys that open birth dates. Attested returns the id of the
// file numbered fileNumber when birth is its patient's birth date, and ok
// false, the same whichever is wrong, when no file has both.
type Attestations interface {
	Attested(ctx context.Context, q db.DBTX, fileNumber string, birth calendar.Date) (patientID int64, ok bool, err error)
}

// Store holds providers, invoices and payouts in PostgreSQL.
type Store struct {
	pool         *db.Pool
	claims       ClaimQueue
	deadlineDays int
	now          func() time.Time
	batchSize    int
	cache        tariffCache
	submissions  *db.Coalescer[*queuedInsert]
}

// Config is what a Store needs beyond its collaborators.
type Config struct {
	DeadlineDays int              // the convention's deadline, in days after the care date
	Now          func() time.Time // the clock; time.Now when nil
	BatchSize    int              // invoices decided per transaction by the jobs; 1000 when 0
}

// NewStore returns a store.
func NewStore(pool *db.Pool, claims ClaimQueue, cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.DeadlineDays <= 0 {
		cfg.DeadlineDays = 90
	}
	s := &Store{pool: pool, claims: claims, deadlineDays: cfg.DeadlineDays, now: cfg.Now, batchSize: cfg.BatchSize}
	s.submissions = db.NewCoalescer(maxGroup, groupsInFlight, s.commitGroup)
	return s
}

// Today is the store's Paris date, by its clock: the day requests are
// checked against and the default end of reports.
func (s *Store) Today() calendar.Date { return calendar.Today(s.now()) }

// ---- providers ----

// providerColumns are read into a Provider by name (its db tags).
const providerColumns = `id, kind, name, coalesce(rpps, '') AS rpps, coalesce(finess, '') AS finess, iban, bic, created_at,
	bank_change_id IS NOT NULL AS bank_confirmed, deactivated_at`

func nullable[T ~string](s T) *T {
	if s == "" {
		return nil
	}
	return &s
}

// CreateProvider registers a partner provider. A provider already known by
// its RPPS (or, without RPPS, its FINESS) is a conflict naming it.
func (s *Store) CreateProvider(ctx context.Context, actor audit.Actor, p Provider) (Provider, error) {
	var out Provider
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var existing int64
		err := tx.QueryRow(ctx, `SELECT id FROM providers
			WHERE (($1 <> '' AND rpps = $1) OR ($1 = '' AND rpps IS NULL AND finess = $2)) AND tenant_id = passd_tenant()`,
			p.RPPS, p.FINESS).Scan(&existing)
		if err == nil {
			field := "rpps"
			if p.RPPS == "" {
				field = "finess"
			}
			return fault.New(fault.Conflict, "a provider with this %s already exists", field).WithField(field).
				WithKind(fault.KindDuplicateProvider).WithDetail("existing_id", ident.FormatID(existing))
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("billing: provider lookup: %w", err)
		}
		out, err = db.One[Provider](ctx, tx, `
			INSERT INTO providers (kind, name, rpps, finess, iban, bic, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+providerColumns, p.Kind, p.Name, nullable(p.RPPS), nullable(p.FINESS), p.IBAN, p.BIC, s.now())
		if db.IsConstraint(err, "providers_rpps_key") || db.IsConstraint(err, "providers_finess_key") {
			return fault.New(fault.Conflict, "a provider with this identifier already exists").WithKind(fault.KindDuplicateProvider)
		}
		if err != nil {
			return fmt.Errorf("billing: insert provider: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "provider.create", Entity: "provider",
			EntityID: ident.FormatID(out.ID), After: providerAudit(out)}); err != nil {
			return err
		}
		// Its first bank details wait for a finance user's confirmation
		// (the operator's CLI records them confirmed).
		details := BankDetails{out.Name, out.IBAN, out.BIC}
		changeID, err := requestBankChange(ctx, tx, actor, s.now(), out.ID, nil, details)
		if err != nil {
			return err
		}
		if actor.UserID == 0 {
			if err := applyBankChange(ctx, tx, changeID, BankChange{ProviderID: out.ID, New: details}); err != nil {
				return err
			}
			out.BankConfirmed = true
		}
		return nil
	})
	return out, err
}

func providerAudit(p Provider) map[string]any {
	return map[string]any{"kind": p.Kind, "name": p.Name, "rpps": p.RPPS, "finess": p.FINESS, "iban": p.IBAN, "bic": p.BIC}
}

// Provider returns one provider.
func (s *Store) Provider(ctx context.Context, id int64) (Provider, error) {
	p, err := db.One[Provider](ctx, s.pool, `SELECT `+providerColumns+` FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`, id)
	return p, db.Translate(err)
}

// Providers lists providers, newest first.
// ProviderOrder is the order of a list of providers: the newest first
// (""), or by name with the place where the previous page ended.
type ProviderOrder struct {
	ByName    bool
	AfterName string
	AfterID   int64
}

// ProvidersOfKind lists the providers of kind ("" for all) in order.
func (s *Store) ProvidersOfKind(ctx context.Context, kind string, order ProviderOrder, page db.PageRequest) ([]Provider, error) {
	sql, args := `SELECT `+providerColumns+` FROM providers
		WHERE ($1 = '' OR kind = $1) AND ($2::bigint = 0 OR id < $2) AND tenant_id = passd_tenant() ORDER BY id DESC LIMIT $3`, []any{kind, page.Before, page.Limit + 1}
	if order.ByName {
		sql, args = `SELECT `+providerColumns+` FROM providers
			WHERE ($1 = '' OR kind = $1) AND ($2::bigint = 0 OR (name, id) > ($4, $2)) AND tenant_id = passd_tenant()
			ORDER BY name, id LIMIT $3`,
			[]any{kind, order.AfterID, page.Limit + 1, order.AfterName}
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list providers: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Provider])
	return out, db.Translate(err)
}

// CountProviders is how many providers are of kind ("" for all).
func (s *Store) CountProviders(ctx context.Context, kind string) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM providers WHERE ($1 = '' OR kind = $1) AND tenant_id = passd_tenant()`, kind).Scan(&n); err != nil {
		return 0, db.Translate(fmt.Errorf("billing: count providers: %w", err))
	}
	return n, nil
}

func (s *Store) Providers(ctx context.Context, page db.PageRequest) ([]Provider, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+providerColumns+` FROM providers WHERE ($1::bigint = 0 OR id < $1) AND tenant_id = passd_tenant()
		ORDER BY id DESC LIMIT $2`,
		page.Before, page.Limit+1)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list providers: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Provider])
	return out, db.Translate(err)
}

// ---- invoices ----

// Idempotency identifies a retried request: the caller's key and a hash of
// the request body.
type Idempotency struct {
	UserID int64
	Key    string
	Hash   []byte
}

// keptInvoice is the status of an idempotency key whose response holds
// the invoice as it was created (its JSON in Go's field names), from
// which the transport writes its answer again. Keys stored before, with
// an HTTP status and body, are refused rather than replayed.
const keptInvoice = 1

// CreateInvoice checks a new invoice (Validate, on the store's today) and
// holds it. A file number that no file has, or a birth date that is not
// its patient's, is the same refusal (unknown_file_number on
// patient_file_number), and an external_ref the provider used already is
// a conflict whatever the patient named: the answers tell a provider
// nothing of files it does not know.
func (s *Store) CreateInvoice(ctx context.Context, actor audit.Actor, providerID int64, in NewInvoice) (Invoice, error) {
	if err := in.Validate(s.Today()); err != nil {
		return Invoice{}, err
	}
	// Nothing to keep beside the invoice: the patient's check, then one
	// statement, committed with the submissions that come beside it
	// (Store.insert), are two round trips to the database.
	inv, err := s.insertInvoice(ctx, s.pool, actor, providerID, in)
	return inv, db.Translate(err)
}

// CreateInvoiceOnce is CreateInvoice for a request its client may retry
// under the same key: the invoice is kept beside the key in the same
// transaction, and a retry with the same body gets that invoice back,
// as it was created, with replayed true. A retry that comes while the
// first is still running waits on the key until it commits.
func (s *Store) CreateInvoiceOnce(ctx context.Context, actor audit.Actor, providerID int64, in NewInvoice,
	idem Idempotency) (inv Invoice, replayed bool, err error) {
	if err := in.Validate(s.Today()); err != nil {
		return Invoice{}, false, err
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var kept []byte
		if kept, replayed, err = claimIdempotencyKey(ctx, tx, idem); err != nil || replayed {
			if replayed {
				if err := json.Unmarshal(kept, &inv); err != nil {
					return fmt.Errorf("billing: read the kept invoice: %w", err)
				}
			}
			return err
		}
		if inv, err = s.insertInvoice(ctx, tx, actor, providerID, in); err != nil {
			return err
		}
		if kept, err = json.Marshal(inv); err != nil {
			return fmt.Errorf("billing: keep the created invoice: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = $3, response = $4
			WHERE user_id = $1 AND key = $2 AND tenant_id = passd_tenant()`,
			idem.UserID, idem.Key, keptInvoice, kept); err != nil {
			return fmt.Errorf("billing: store idempotent response: %w", err)
		}
		return nil
	})
	if err != nil {
		return Invoice{}, false, db.Translate(err)
	}
	return inv, replayed, nil
}

// insertInvoice checks the patient the submission names (Attested),
// prices the lines (Tariff.Price, on this process's copy of the tariff)
// and stores the invoice (storeInvoice). The statement stores nothing
// when the tariff or the provider's kind has changed since the copy was
// made: the copy is then reloaded and the invoice priced again.
func (s *Store) insertInvoice(ctx context.Context, q db.DBTX, actor audit.Actor, providerID int64, in NewInvoice) (Invoice, error) {
	inv, err := s.attestAndStore(ctx, q, actor, providerID, in)
	if err == nil {
		return inv, nil
	}
	// storeInvoice's statement stores nothing for a deactivated provider;
	// reading deactivated_at only when a submission is refused saves a round
	// trip on every one that is not, and a deactivated provider is told so
	// before any other refusal. If the read fails (an aborted transaction),
	// the first error is the one to tell.
	var inactive bool
	if q.QueryRow(ctx, `SELECT deactivated_at IS NOT NULL FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`, providerID).Scan(&inactive) == nil && inactive {
		return Invoice{}, errProviderInactive
	}
	return Invoice{}, err
}

// attestAndStore is insertInvoice but for the provider's deactivation,
// which it tells only as a refusal that has no other reason.
func (s *Store) attestAndStore(ctx context.Context, q db.DBTX, actor audit.Actor, providerID int64, in NewInvoice) (Invoice, error) {
	patientID, ok, err := s.claims.Attested(ctx, q, in.PatientFileNumber, in.BirthDate)
	if err != nil {
		return Invoice{}, err
	}
	if !ok {
		return Invoice{}, s.whyNotAttested(ctx, q, providerID, in)
	}
	const attempts = 3
	for attempt := 0; ; attempt++ {
		fresh := attempt > 0
		p, err := s.price(ctx, providerID, in.Lines, fresh)
		if err != nil {
			return Invoice{}, err
		}
		inv, err := s.storeInvoice(ctx, q, actor, providerID, patientID, in, p)
		if !errors.Is(err, errTariffMoved) || attempt == attempts-1 {
			return inv, err
		}
	}
}

// priced is a submission's lines as the tariff of version priced them for
// a provider of kind.
type priced struct {
	version int64
	kind    string
	classes []RateClass
	review  []ReviewReason
}

// price prices lines with the cached tariff (fresh: the database's). A
// refusal from a copy that is no longer current is checked again on the
// current one, so that a code just added to the catalogue is not refused
// by a process that has not seen it yet.
func (s *Store) price(ctx context.Context, providerID int64, lines []Line, fresh bool) (priced, error) {
	t, err := s.tariff(ctx, fresh)
	if err != nil {
		return priced{}, err
	}
	kind, err := s.providerKind(ctx, providerID, fresh)
	if err != nil {
		return priced{}, err
	}
	classes, review, err := t.Price(kind, lines)
	if err != nil && !fresh {
		if v, verr := s.tariffVersion(ctx); verr != nil || v != t.Version {
			return s.price(ctx, providerID, lines, true)
		}
	}
	if err != nil {
		return priced{}, err
	}
	return priced{version: t.Version, kind: kind, classes: classes, review: review}, nil
}

// errTariffMoved is storeInvoice's answer when the tariff or the
// provider's kind it priced with is no longer the database's.
var errTariffMoved = errors.New("billing: the tariff changed while the invoice was priced")

// insertInvoiceSQL is storeInvoice's statement: $2 is the patient, which
// orders the statements of a group (Store.commitGroup).
const insertInvoiceSQL = `
		WITH patient AS (
			SELECT id FROM patients WHERE id = $2 AND patients.tenant_id = passd_tenant()
			  AND $4::date >= $16::date - coalesce((SELECT submission_limit_days FROM settings WHERE settings.tenant_id = passd_tenant()), $17::int)
			  AND (SELECT version FROM tariff_state WHERE tariff_state.tenant_id = passd_tenant()) = $18
			  AND (SELECT kind FROM providers WHERE id = $1 AND deactivated_at IS NULL AND providers.tenant_id = passd_tenant()) = $19
		), inv AS (
			INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by, created_at,
			                      review_status, review_reasons)
			SELECT $1, patient.id, $3, $4, $4::date + coalesce(nullif((SELECT deadline_days FROM settings WHERE settings.tenant_id = passd_tenant()), 0), $9::int), $5, $6, $7,
			       $21, $22::jsonb
			FROM patient
			ON CONFLICT ON CONSTRAINT invoices_external_ref_key DO NOTHING
			RETURNING id, patient_id, deadline, created_at
		), changed AS (
			-- A file with a decision already: the release job decides the new
			-- invoice at its next run.
			INSERT INTO rights_changes (patient_id, changed_at)
			SELECT inv.patient_id, $7 FROM inv
			WHERE EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = inv.patient_id AND d.tenant_id = passd_tenant())
			ON CONFLICT (patient_id) DO UPDATE SET seq = nextval('rights_changes_seq'), changed_at = EXCLUDED.changed_at
		), lines AS (
			INSERT INTO invoice_lines (invoice_id, position, code, label, quantity, unit_price, rate_class)
			SELECT inv.id, u.* FROM inv, unnest($10::int[], $11::text[], $12::text[], $13::int[], $14::numeric[], $20::text[]) AS u
		), logged AS (
			` + audit.Insert + `
			SELECT $6, $8, 'invoice.create', 'invoice', inv.id::text, NULL,
			       $15::jsonb || jsonb_build_object('deadline', to_char(inv.deadline, 'YYYY-MM-DD'))
			FROM inv
		)
		SELECT id, deadline, created_at FROM inv`

// storeInvoice writes the invoice of the patient patientID (Attested),
// its lines and its audit row (the row audit.Append would write: entity_id
// the id in decimal, no before) in one statement, looking up the
// submission limit and the deadline days in force as it goes: a
// submission is the hot path of bursts of pharmacy invoices, and on a busy
// pair of cores each round trip costs CPU on both sides. A care date past
// the submission limit, a duplicate external_ref or a tariff that moved
// inserts nothing; a second look tells which it was.
func (s *Store) storeInvoice(ctx context.Context, q db.DBTX, actor audit.Actor, providerID, patientID int64, in NewInvoice, p priced) (Invoice, error) {
	total := TotalOf(in.Lines)
	lines := slices.Clone(in.Lines)
	for i := range lines {
		lines[i].RateClass = p.classes[i]
	}
	inv := Invoice{ProviderID: providerID, PatientFileNumber: in.PatientFileNumber, ExternalRef: in.ExternalRef,
		CareDate: in.CareDate, Status: StatusPending, Total: total, Lines: lines, OutcomeNo: 1}
	var reviewStatus, reviewReasons *string
	if len(p.review) > 0 {
		doc, err := json.Marshal(p.review)
		if err != nil {
			return Invoice{}, fmt.Errorf("billing: review reasons: %w", err)
		}
		flagged, reasons := ReviewFlagged, string(doc)
		reviewStatus, reviewReasons = &flagged, &reasons
		inv.ReviewStatus, inv.ReviewReasons = ReviewFlagged, p.review
	}
	// The deadline is the database's to compute (the settings may change
	// it); the statement adds it to the audit document.
	doc := invoiceAudit(inv)
	delete(doc, "deadline")
	after, err := json.Marshal(doc)
	if err != nil {
		return Invoice{}, fmt.Errorf("billing: invoice audit: %w", err)
	}
	n := len(lines)
	positions, codes, labels, quantities, prices := make([]int32, n), make([]string, n), make([]string, n), make([]int32, n), make([]decimal.Decimal, n)
	for i, l := range lines {
		positions[i], codes[i], labels[i], quantities[i], prices[i] = int32(i+1), l.Code, l.Label, int32(l.Quantity), l.UnitPrice
	}
	a := s.insert(ctx, q, []any{providerID, patientID, in.ExternalRef, in.CareDate, total, actor.UserID, s.now(), actor.Name, s.deadlineDays,
		positions, codes, labels, quantities, prices, string(after), s.Today(), DefaultSubmissionLimitDays,
		p.version, p.kind, p.classes, reviewStatus, reviewReasons})
	if a.err != nil {
		return Invoice{}, a.err
	}
	if a.stored {
		inv.ID, inv.Deadline, inv.CreatedAt = a.row.ID, a.row.Deadline, a.row.CreatedAt
		return inv, nil
	}
	return Invoice{}, s.whyNotStored(ctx, q, providerID, in, p)
}

// whyNotStored tells why storeInvoice stored nothing. A deactivated
// provider is told first; a duplicate external_ref before a care date
// past the limit, as whyNotAttested tells it before the patient.
func (s *Store) whyNotStored(ctx context.Context, q db.DBTX, providerID int64, in NewInvoice, p priced) error {
	var existing *int64
	var limitDays int
	var version int64
	var kind string
	var inactive bool
	if err := q.QueryRow(ctx, `SELECT (SELECT id FROM invoices WHERE provider_id = $1 AND external_ref = $2 AND invoices.tenant_id = passd_tenant()),
		coalesce((SELECT submission_limit_days FROM settings WHERE settings.tenant_id = passd_tenant()), $3::int),
		(SELECT version FROM tariff_state WHERE tariff_state.tenant_id = passd_tenant()), p.kind, p.deactivated_at IS NOT NULL
		FROM providers p WHERE p.id = $1 AND p.tenant_id = passd_tenant()`,
		providerID, in.ExternalRef, DefaultSubmissionLimitDays).Scan(&existing, &limitDays, &version, &kind, &inactive); err != nil {
		return fmt.Errorf("billing: invoice refused, looking why: %w", err)
	}
	// Deactivated: no new price would store it.
	if inactive {
		return errProviderInactive
	}
	if version != p.version || kind != p.kind {
		return errTariffMoved
	}
	if existing != nil {
		return duplicateInvoice(*existing)
	}
	if in.CareDate.Before(s.Today().AddDays(-limitDays)) {
		return fault.Field("care_date", "care_date is more than %d days ago (submission_limit_days)", limitDays).WithCause(ErrCareTooOld)
	}
	// Nothing deletes invoices: the one ON CONFLICT met must be there.
	return fmt.Errorf("billing: invoice %q of provider %d neither stored nor found", in.ExternalRef, providerID)
}

// whyNotAttested is the refusal of a submission whose file number and
// birth date match no file (Attested): an external_ref the provider used
// already is the conflict it would be for a file that exists, anything
// else is the one answer of an unknown file, whichever of the two was
// wrong.
func (s *Store) whyNotAttested(ctx context.Context, q db.DBTX, providerID int64, in NewInvoice) error {
	var existing int64
	err := q.QueryRow(ctx, `SELECT id FROM invoices WHERE provider_id = $1 AND external_ref = $2 AND tenant_id = passd_tenant()`,
		providerID, in.ExternalRef).Scan(&existing)
	switch {
	case err == nil:
		return duplicateInvoice(existing)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("billing: invoice refused, looking for its external_ref: %w", err)
	}
	return fault.Field("patient_file_number", "no patient file has this number and this birth date").WithKind(fault.KindUnknownFileNumber)
}

// duplicateInvoice is the conflict of an external_ref the provider used
// already for its invoice existing.
func duplicateInvoice(existing int64) error {
	return fault.New(fault.Conflict, "an invoice with this external_ref already exists").WithField("external_ref").
		WithKind(fault.KindDuplicateInvoice).WithDetail("existing_id", ident.FormatID(existing))
}

// claimIdempotencyKey reserves the key for this transaction, or returns
// the invoice kept by the request that used it first (found true). A
// concurrent request with the same key waits on the primary key until
// the first commits.
func claimIdempotencyKey(ctx context.Context, tx pgx.Tx, idem Idempotency) (kept []byte, found bool, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, response)
		VALUES ($1, $2, $3, 0, '') ON CONFLICT DO NOTHING`, idem.UserID, idem.Key, idem.Hash)
	if err != nil {
		return nil, false, fmt.Errorf("billing: idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, false, nil
	}
	var hash []byte
	var status int
	if err := tx.QueryRow(ctx, `SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND tenant_id = passd_tenant()`,
		idem.UserID, idem.Key).Scan(&hash, &status, &kept); err != nil {
		return nil, false, fmt.Errorf("billing: idempotency replay: %w", err)
	}
	if string(hash) != string(idem.Hash) {
		return nil, false, fault.New(fault.Invalid, "this Idempotency-Key was already used with another request body").
			WithKind(fault.KindIdempotencyKeyReused).WithField("Idempotency-Key")
	}
	if status != keptInvoice {
		return nil, false, fault.New(fault.Conflict, "this Idempotency-Key was used before an upgrade of passd; send the request with a new key").
			WithField("Idempotency-Key")
	}
	return kept, true, nil
}

func invoiceAudit(inv Invoice) map[string]any {
	out := map[string]any{"status": inv.Status, "total": money.Format(inv.Total), "care_date": inv.CareDate.String(),
		"deadline": inv.Deadline.String(), "external_ref": inv.ExternalRef, "provider_id": ident.FormatID(inv.ProviderID)}
	if inv.DecisionReason != "" {
		out["decision_reason"] = inv.DecisionReason
	}
	if inv.ReviewStatus != "" {
		out["review_status"] = inv.ReviewStatus
	}
	if inv.CPAMAmount != nil {
		out["cpam_amount"] = money.Format(*inv.CPAMAmount)
		out["city_amount"] = money.Format(*inv.CityAmount)
	}
	return out
}

// invoiceColumns are read into an Invoice by name (its db tags).
const invoiceColumns = `i.id, i.provider_id, p.file_number, i.external_ref, i.care_date, i.deadline, i.status, i.total,
	coalesce(i.decision_reason, '') AS decision_reason, i.cpam_amount, i.city_amount, i.decided_at, i.created_at,
	i.outcome_no, coalesce(i.outcome_cause, '') AS outcome_cause,
	coalesce(i.review_status, '') AS review_status, i.review_reasons`

// Invoice returns one invoice with its lines. onlyProvider, when non-zero,
// hides other providers' invoices: to a provider they do not exist.
func (s *Store) Invoice(ctx context.Context, id, onlyProvider int64) (Invoice, error) {
	inv, err := db.One[Invoice](ctx, s.pool, `SELECT `+invoiceColumns+`
		FROM invoices i JOIN patients p ON p.id = i.patient_id AND p.tenant_id = passd_tenant()
		WHERE i.id = $1 AND ($2::bigint = 0 OR i.provider_id = $2) AND i.tenant_id = passd_tenant()`, id, onlyProvider)
	if err != nil {
		return Invoice{}, db.Translate(fmt.Errorf("billing: invoice %d: %w", id, err))
	}
	list := []Invoice{inv}
	if err := s.loadLines(ctx, list); err != nil {
		return Invoice{}, err
	}
	inv = list[0]
	inv.Timeline, err = s.timeline(ctx, inv)
	return inv, err
}

// PastOutcome is one outcome of an invoice's history: the earlier ones, kept
// when the invoice was decided again, and the current one (Current).
type PastOutcome struct {
	No         int               `db:"outcome_no"`
	Status     InvoiceStatus     `db:"status"`
	Reason     settlement.Reason `db:"decision_reason"`
	CPAMAmount decimal.Decimal   `db:"cpam_amount"`
	CityAmount decimal.Decimal   `db:"city_amount"`
	DecidedAt  time.Time         `db:"decided_at"`
	Cause      string            `db:"cause"`
	ReplacedAt *time.Time        `db:"replaced_at"`
	Current    bool              `db:"-"`
}

// timeline reads the invoice's earlier outcomes and appends its current
// one; an undecided invoice has none.
func (s *Store) timeline(ctx context.Context, inv Invoice) ([]PastOutcome, error) {
	if inv.DecidedAt == nil {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT outcome_no, status, decision_reason, cpam_amount, city_amount, decided_at,
		coalesce(cause, '') AS cause, replaced_at
		FROM invoice_outcomes WHERE invoice_id = $1 AND tenant_id = passd_tenant() ORDER BY outcome_no`, inv.ID)
	if err != nil {
		return nil, fmt.Errorf("billing: invoice %d outcomes: %w", inv.ID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[PastOutcome])
	if err != nil {
		return nil, fmt.Errorf("billing: invoice %d outcomes: %w", inv.ID, err)
	}
	return append(out, PastOutcome{No: inv.OutcomeNo, Status: inv.Status, Reason: inv.DecisionReason, CPAMAmount: *inv.CPAMAmount,
		CityAmount: *inv.CityAmount, DecidedAt: *inv.DecidedAt, Cause: inv.OutcomeCause, Current: true}), nil
}

// InvoiceFilter narrows a list of invoices.
type InvoiceFilter struct {
	Status     InvoiceStatus
	ProviderID int64 // 0: all providers
	Flagged    bool  // only pending invoices waiting for the coordinator's review
	// CareFrom and CareTo bound the care date (zero: unbounded).
	CareFrom, CareTo calendar.Date
	// Order: by receipt, newest first (""), or by care date, either way.
	// After is where the previous page of a care-date order ended.
	Order InvoiceOrder
	After InvoiceKey
}

// InvoiceOrder is the order of a list of invoices.
type InvoiceOrder string

// Orders of a list of invoices other than by receipt.
const (
	ByCareDateDesc InvoiceOrder = "care_desc"
	ByCareDateAsc  InvoiceOrder = "care_asc"
)

// InvoiceKey is an invoice's place in a care-date order: its care date,
// then its id among invoices of the same day.
type InvoiceKey struct {
	CareDate calendar.Date
	ID       int64
}

// invoiceFilterSQL is the WHERE of InvoiceFilter, its values $1 to $6.
const invoiceFilterSQL = `($1 = '' OR i.status = $1) AND ($2::bigint = 0 OR i.provider_id = $2)
		  AND (NOT $3 OR (i.review_status = 'flagged' AND i.status = 'pending'))
		  AND ($4::date IS NULL OR i.care_date >= $4) AND ($5::date IS NULL OR i.care_date <= $5)`

func (f InvoiceFilter) args() []any {
	var from, to *calendar.Date
	if !f.CareFrom.IsZero() {
		from = &f.CareFrom
	}
	if !f.CareTo.IsZero() {
		to = &f.CareTo
	}
	return []any{f.Status, f.ProviderID, f.Flagged, from, to}
}

// CountInvoices is how many invoices f matches, for a list that says it.
func (s *Store) CountInvoices(ctx context.Context, f InvoiceFilter) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM invoices i WHERE i.tenant_id = passd_tenant() AND `+invoiceFilterSQL, f.args()...).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("billing: count invoices: %w", err))
	}
	return n, nil
}

// Invoices lists invoices with their lines, newest first.
func (s *Store) Invoices(ctx context.Context, f InvoiceFilter, page db.PageRequest) ([]Invoice, error) {
	// Keyset paging in each order: by id, or by (care date, id) past the
	// previous page's last row.
	keyset, order := page.IDKeyset("i.id", 6)
	args := append(f.args(), page.IDKeysetArg(), page.Limit+1)
	if f.Order == ByCareDateDesc || f.Order == ByCareDateAsc {
		keyset, order = `($6::bigint = 0 OR (i.care_date, i.id) < ($8::date, $6))`, `i.care_date DESC, i.id DESC`
		if f.Order == ByCareDateAsc {
			keyset, order = `($6::bigint = 0 OR (i.care_date, i.id) > ($8::date, $6))`, `i.care_date, i.id`
		}
		args = append(f.args(), f.After.ID, page.Limit+1, f.After.CareDate)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+invoiceColumns+`
		FROM invoices i JOIN patients p ON p.id = i.patient_id AND p.tenant_id = passd_tenant()
		WHERE i.tenant_id = passd_tenant() AND `+invoiceFilterSQL+` AND `+keyset+`
		ORDER BY `+order+` LIMIT $7`, args...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list invoices: %w", err))
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Invoice])
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list invoices: %w", err))
	}
	return list, s.loadLines(ctx, list)
}

// loadLines fetches the lines of all listed invoices in one query.
func (s *Store) loadLines(ctx context.Context, list []Invoice) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i, inv := range list {
		ids[i] = inv.ID
	}
	lines, err := linesOf(ctx, s.pool, ids)
	if err != nil {
		return db.Translate(fmt.Errorf("billing: lines: %w", err))
	}
	for i := range list {
		list[i].Lines = lines[list[i].ID]
	}
	return nil
}

// linesOf reads the lines of the given invoices in one query, each
// invoice's in the order they were submitted. An invoice without lines has
// none in the map.
func linesOf(ctx context.Context, q db.DBTX, invoiceIDs []int64) (map[int64][]Line, error) {
	rows, err := q.Query(ctx, `SELECT invoice_id, code, label, quantity, unit_price, rate_class FROM invoice_lines
		WHERE invoice_id = ANY($1) AND tenant_id = passd_tenant() ORDER BY invoice_id, position`, invoiceIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	lines := make(map[int64][]Line, len(invoiceIDs))
	for rows.Next() {
		var id int64
		var l Line
		if err := rows.Scan(&id, &l.Code, &l.Label, &l.Quantity, &l.UnitPrice, &l.RateClass); err != nil {
			return nil, err
		}
		lines[id] = append(lines[id], l)
	}
	return lines, rows.Err()
}

// Cancel withdraws (its provider) or voids (a coordinator) a pending
// invoice. onlyProvider non-zero restricts it to that provider's invoices.
// Anything but a pending invoice is a conflict.
func (s *Store) Cancel(ctx context.Context, actor audit.Actor, id, onlyProvider int64, reason settlement.Reason) (Invoice, error) {
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `
			UPDATE invoices SET status = 'cancelled', decision_reason = $3, cpam_amount = 0, city_amount = 0, decided_at = $4
			WHERE id = $1 AND ($2::bigint = 0 OR provider_id = $2) AND status = 'pending' AND tenant_id = passd_tenant()
			RETURNING status`, id, onlyProvider, reason, s.now()).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			var current string
			err := tx.QueryRow(ctx, `SELECT status FROM invoices WHERE id = $1 AND ($2::bigint = 0 OR provider_id = $2) AND tenant_id = passd_tenant()`,
				id, onlyProvider).Scan(&current)
			if errors.Is(err, pgx.ErrNoRows) {
				return fault.New(fault.NotFound, "not found")
			}
			if err != nil {
				return fmt.Errorf("billing: cancel lookup: %w", err)
			}
			return fault.New(fault.Conflict, "the invoice is %s; only a pending invoice can be cancelled", current).WithKind(fault.KindNotPending)
		}
		if err != nil {
			return fmt.Errorf("billing: cancel: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "invoice.cancel", Entity: "invoice", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": StatusPending}, After: map[string]any{"status": StatusCancelled, "decision_reason": reason}})
	})
	if err != nil {
		return Invoice{}, db.Translate(err)
	}
	return s.Invoice(ctx, id, onlyProvider)
}

// ---- payouts ----

// PayoutFilter narrows a list of payouts.
type PayoutFilter struct {
	Status     settlement.PayoutStatus
	ProviderID int64
	BatchID    int64
	Reason     settlement.Reason // "": every reason
	// ForProvider leaves out what tells the patient's rights (a payout's
	// reason: rights refused, not covered…), for the provider's own list
	// (issue 15 §4).
	ForProvider bool
	// ByAmount lists the largest first (by id among equal amounts), from
	// past AfterAmount/AfterID, the previous page's last row; false: the
	// newest first.
	ByAmount    bool
	AfterAmount decimal.Decimal
	AfterID     int64
}

// payoutColumns are read into a Payout by name (its db tags).
const payoutColumns = `p.id, p.invoice_id, p.provider_id, coalesce(p.claim_id, 0) AS claim_id, p.amount, p.reason,
	coalesce(p.note, '') AS note, p.status, coalesce(p.batch_id, 0) AS batch_id, p.paid_on, p.created_at, p.held_at,
	coalesce(p.hold_reason, '') AS hold_reason`

// InvoiceName is how people name an invoice: the provider's reference
// and the care date.
type InvoiceName struct {
	ExternalRef string
	CareDate    calendar.Date
}

// InvoiceNames names the invoices ids, for lists of what refers to them
// (payouts, recoveries): one query for a page.
func (s *Store) InvoiceNames(ctx context.Context, ids []int64) (map[int64]InvoiceName, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, external_ref, care_date FROM invoices WHERE id = ANY($1) AND tenant_id = passd_tenant()`, ids)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: invoice names: %w", err))
	}
	out := make(map[int64]InvoiceName, len(ids))
	var id int64
	var n InvoiceName
	if _, err := pgx.ForEachRow(rows, []any{&id, &n.ExternalRef, &n.CareDate}, func() error { out[id] = n; return nil }); err != nil {
		return nil, db.Translate(fmt.Errorf("billing: invoice names: %w", err))
	}
	return out, nil
}

// payoutWhere is the WHERE of PayoutFilter, its values (args) $1 to $4.
const payoutWhere = `($1 = '' OR p.status = $1) AND ($2::bigint = 0 OR p.provider_id = $2) AND ($3::bigint = 0 OR p.batch_id = $3)
	AND ($4 = '' OR p.reason = $4)`

func (f PayoutFilter) args() []any { return []any{f.Status, f.ProviderID, f.BatchID, f.Reason} }

// CountPayouts is how many payouts f matches, for a list that says it.
func (s *Store) CountPayouts(ctx context.Context, f PayoutFilter) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM payouts p WHERE p.tenant_id = passd_tenant() AND `+payoutWhere, f.args()...).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("billing: count payouts: %w", err))
	}
	return n, nil
}

// Payouts lists payouts, newest first.
func (s *Store) Payouts(ctx context.Context, f PayoutFilter, page db.PageRequest) ([]Payout, error) {
	if f.ByAmount {
		rows, err := s.pool.Query(ctx, `SELECT `+payoutColumns+` FROM payouts p
			WHERE p.tenant_id = passd_tenant() AND `+payoutWhere+` AND ($5::bigint = 0 OR (p.amount, p.id) < ($7::numeric, $5))
			ORDER BY p.amount DESC, p.id DESC LIMIT $6`, append(f.args(), f.AfterID, page.Limit+1, f.AfterAmount)...)
		if err != nil {
			return nil, db.Translate(fmt.Errorf("billing: list payouts: %w", err))
		}
		out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Payout])
		return out, db.Translate(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+payoutColumns+` FROM payouts p
		WHERE p.tenant_id = passd_tenant() AND `+payoutWhere+` AND ($5::bigint = 0 OR p.id < $5)
		ORDER BY p.id DESC LIMIT $6`, append(f.args(), page.Before, page.Limit+1)...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list payouts: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Payout])
	return out, db.Translate(err)
}
