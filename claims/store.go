package claims

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/journal"
	"passd/keyring"
	"passd/rights"
	"passd/settlement"
)

// Store holds patient files, rights and claims in PostgreSQL. Identity is
// sealed with keys before it reaches the database and opened after.
type Store struct {
	pool *db.Pool
	keys *keyring.Ring
	now  func() time.Time
	// identityBatch is how many files a transaction of SealPending or
	// RotateKeys takes.
	identityBatch int
	// searchBatch is how many candidates a search reads at a time.
	searchBatch int
	policy      func(context.Context) (RightsPolicy, error)
	redecide    Redecider
}

// Option configures a Store.
type Option func(*Store)

// WithPolicy gives the store where it reads the settings that check a
// decision (the city's settings, which billing keeps); without it the
// defaults apply.
func WithPolicy(policy func(context.Context) (RightsPolicy, error)) Option {
	return func(s *Store) { s.policy = policy }
}

// NewStore returns a store; keys seal and open identity, now is the clock
// (injected for tests).
func NewStore(pool *db.Pool, keys *keyring.Ring, now func() time.Time, opts ...Option) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{pool: pool, keys: keys, now: now, identityBatch: identityBatch, searchBatch: searchBatch,
		policy: func(context.Context) (RightsPolicy, error) {
			return RightsPolicy{AMELookbackDays: rights.DefaultAMELookbackDays}, nil
		}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// patientColumns are a file's columns with its identity still sealed; they
// read from patients or from a CTE of its rows.
const patientColumns = `id, file_number, identity_pending, coalesce(last_name_enc, ''), coalesce(first_name_enc, ''),
	coalesce(birth_date_enc, ''), coalesce(nir_enc, ''),
	rights_status, coalesce(rights_regime, ''), rights_filed_on, rights_effective_from, rights_effective_to,
	coalesce(rights_reference, ''), coalesce(rights_reason, ''), rights_decided_at, created_at, coalesce(commune_code, '')`

// Today is the date by the store's clock, which bounds a new file's birth
// date (NewPatient.Validate).
func (s *Store) Today() calendar.Date { return calendar.Today(s.now()) }

func scanPatient(row pgx.Row) (Patient, sealedIdentity, error) {
	var p Patient
	var si sealedIdentity
	err := row.Scan(&p.ID, &p.FileNumber, &si.pending, &si.lastName, &si.firstName, &si.birthDate, &si.nirEnc,
		&p.Rights.Status, &p.Rights.Regime, &p.Rights.FiledOn, &p.Rights.EffectiveFrom, &p.Rights.EffectiveTo,
		&p.Rights.Reference, &p.Rights.Reason, &p.Rights.DecidedAt, &p.CreatedAt, &p.CommuneCode)
	return p, si, err
}

// scanOpenPatient scans a file and opens its identity.
func (s *Store) scanOpenPatient(row pgx.Row) (Patient, error) {
	p, si, err := scanPatient(row)
	if err != nil {
		return Patient{}, err
	}
	if err := s.openIdentity(&p, si); err != nil {
		return Patient{}, err
	}
	return p, nil
}

// errDuplicateNIR is the answer to a second file for one NIR.
func errDuplicateNIR() *fault.Error {
	return fault.New(fault.Conflict, "a file with this NIR already exists").WithField("nir").WithKind(fault.KindDuplicateNIR)
}

// CreatePatient opens a file and gives it the next file number of the year.
// A NIR already on a file is found by its keyed hash.
func (s *Store) CreatePatient(ctx context.Context, actor audit.Actor, np NewPatient) (Patient, error) {
	var p Patient
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// A file not sealed yet has no NIR hash: a duplicate of it would go
		// unseen, so no file is opened until passd has sealed them all.
		var unsealed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients_unsealed WHERE tenant_id = passd_tenant())`).Scan(&unsealed); err != nil {
			return fmt.Errorf("claims: unsealed files: %w", err)
		}
		if unsealed {
			return errUnsealed()
		}
		var nirHash []byte
		if np.NIR != "" {
			nirHash = s.nirHash(np.NIR)
			var existing int64
			err := tx.QueryRow(ctx, `SELECT id FROM patients WHERE nir_hash = $1 AND tenant_id = passd_tenant()`, nirHash).Scan(&existing)
			if err == nil {
				return errDuplicateNIR().WithDetail("existing_id", ident.FormatID(existing))
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("claims: nir lookup: %w", err)
			}
		}
		year := calendar.Today(s.now()).Year()
		var n int
		err := tx.QueryRow(ctx, `
			INSERT INTO file_number_counters (year, last) VALUES ($1, 1)
			ON CONFLICT (tenant_id, year) DO UPDATE SET last = file_number_counters.last + 1
			RETURNING last`, year).Scan(&n)
		if err != nil {
			return fmt.Errorf("claims: file number: %w", err)
		}
		// The id is taken first: each sealed value is bound to its row.
		var id int64
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('patients', 'id'))`).Scan(&id); err != nil {
			return fmt.Errorf("claims: patient id: %w", err)
		}
		sealer := s.keys.Sealer()
		si, err := s.sealIdentity(sealer, id, np.LastName, np.FirstName, np.BirthDate, np.NIR)
		if err != nil {
			return err
		}
		p, _, err = scanPatient(tx.QueryRow(ctx, `
			INSERT INTO patients (id, file_number, identity_key, last_name_enc, first_name_enc, birth_date_enc, nir_enc, nir_hash, created_at, commune_code)
			OVERRIDING SYSTEM VALUE
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8, $9, nullif($10, ''))
			RETURNING `+patientColumns, id, FileNumber(year, n), sealer.Key(), si.lastName, si.firstName, si.birthDate, si.nirEnc, nirHash, s.now(), np.CommuneCode))
		if db.IsConstraint(err, "patients_nir_hash_key") {
			return errDuplicateNIR()
		}
		if err != nil {
			return fmt.Errorf("claims: insert patient: %w", err)
		}
		if err := writeTerms(ctx, tx, []int64{id}, [][]int32{si.terms}); err != nil {
			return err
		}
		p.LastName, p.FirstName, p.BirthDate, p.NIR = np.LastName, np.FirstName, np.BirthDate, normalizeNIR(np.NIR)
		// The audit row names the file, never the identity: the log is
		// read by more people than the file itself.
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "patient.create", Entity: "patient",
			EntityID: ident.FormatID(p.ID), After: map[string]any{"file_number": p.FileNumber, "rights_status": rights.None}}); err != nil {
			return err
		}
		return logAccess(ctx, tx, s.now(), actor, AccessCreate, p.ID)
	})
	return p, db.Translate(err)
}

// Patient returns one file with its rights history; actor's reading of the
// identity is logged first.
func (s *Store) Patient(ctx context.Context, actor audit.Actor, id int64) (Patient, []RightsEvent, error) {
	userID, name := accessActor(actor)
	p, err := s.scanOpenPatient(s.pool.QueryRow(ctx, `
		WITH p AS (SELECT * FROM patients WHERE id = $1 AND tenant_id = passd_tenant()),
		logged AS (
			INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
			SELECT $2, $3, $4, id, '`+AccessRead+`' FROM p)
		SELECT `+patientColumns+` FROM p`, id, s.now(), userID, name))
	if err != nil {
		return Patient{}, nil, db.Translate(fmt.Errorf("claims: patient %d: %w", id, err))
	}
	rows, err := s.pool.Query(ctx, `
		SELECT e.id, e.kind, coalesce(e.regime, '') AS regime, e.filed_on, e.effective_from, e.effective_to,
		       coalesce(e.reference, '') AS reference, coalesce(e.reason, '') AS reason, u.name AS actor, e.created_at
		FROM rights_events e JOIN users u ON u.id = e.actor_id AND u.tenant_id = passd_tenant()
		WHERE e.patient_id = $1 AND e.tenant_id = passd_tenant() ORDER BY e.id`, id)
	if err != nil {
		return Patient{}, nil, db.Translate(fmt.Errorf("claims: rights history: %w", err))
	}
	history, err := pgx.CollectRows(rows, pgx.RowToStructByName[RightsEvent])
	if err != nil {
		return Patient{}, nil, db.Translate(fmt.Errorf("claims: rights history: %w", err))
	}
	if p.Decisions, err = s.decisions(ctx, id); err != nil {
		return Patient{}, nil, err
	}
	return p, history, nil
}

// decisions reads a file's decisions, oldest first.
func (s *Store) decisions(ctx context.Context, patientID int64) ([]Decision, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT d.id, d.decision, coalesce(d.regime, '') AS regime, d.effective_from, d.effective_to,
		       coalesce(d.reference, '') AS reference, coalesce(d.caisse, '') AS caisse, coalesce(d.reason, '') AS reason,
		       d.filed_on, coalesce(u.name, '') AS decided_by, d.decided_at, coalesce(d.supersedes, 0) AS supersedes,
		       d.superseded_at, coalesce(v.name, '') AS superseded_by, coalesce(d.correction_reason, '') AS correction_reason
		FROM rights_decisions d
		LEFT JOIN users u ON u.id = d.decided_by AND u.tenant_id = passd_tenant()
		LEFT JOIN users v ON v.id = d.superseded_by AND v.tenant_id = passd_tenant()
		WHERE d.patient_id = $1 AND d.tenant_id = passd_tenant() ORDER BY d.id`, patientID)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: decisions: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Decision])
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: decisions: %w", err))
	}
	return out, nil
}

// PatientFilter narrows a list of files (GET /patients): by file number
// or NIR (through its hash), never by name; the coordinator's search by
// name or birth date is SearchPatients.
type PatientFilter struct {
	RightsStatus rights.Status
	FileNumber   string
	NIR          string // looked up by its keyed hash, never in clear
}

// Patients lists files, newest first: up to page.Limit+1 rows, the extra
// one only telling that another page exists. Each file of the page
// (page.Limit at most) is logged as read by actor, in the same statement.
func (s *Store) Patients(ctx context.Context, actor audit.Actor, f PatientFilter, page db.PageRequest) ([]Patient, error) {
	userID, name := accessActor(actor)
	var nirHash []byte
	if f.NIR != "" {
		nirHash = s.nirHash(f.NIR)
	}
	rows, err := s.pool.Query(ctx, `
		WITH page AS (
			SELECT * FROM patients
			WHERE ($1 = '' OR rights_status = $1) AND ($2 = '' OR file_number = $2) AND ($3::bigint = 0 OR id < $3)
			  AND ($9::bytea IS NULL OR nir_hash = $9) AND tenant_id = passd_tenant()
			ORDER BY id DESC LIMIT $4),
		logged AS (
			INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
			SELECT $5, $6, $7, id, '`+AccessList+`' FROM page ORDER BY id DESC LIMIT $8)
		SELECT `+patientColumns+` FROM page ORDER BY id DESC`,
		f.RightsStatus, f.FileNumber, page.Before, page.Limit+1, s.now(), userID, name, page.Limit, nirHash)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: list patients: %w", err))
	}
	n := 0
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Patient, error) {
		p, si, err := scanPatient(r)
		if n++; err != nil || n > page.Limit {
			return p, err // the extra row: its identity is neither logged nor opened
		}
		return p, s.openIdentity(&p, si)
	})
	return out, db.Translate(err)
}

// lockPatientRights reads a file, its identity still sealed, and locks it
// for the rest of tx, so that two decisions on its rights cannot interleave.
// An unknown file is not found.
func lockPatientRights(ctx context.Context, tx pgx.Tx, id int64) (Patient, error) {
	p, _, err := scanPatient(tx.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1 AND tenant_id = passd_tenant() FOR NO KEY UPDATE`, id))
	if err != nil {
		return Patient{}, db.Translate(fmt.Errorf("claims: patient %d: %w", id, err))
	}
	return p, nil
}

// RequestRights records an application filed with the CPAM.
func (s *Store) RequestRights(ctx context.Context, actor audit.Actor, id int64, req RightsRequest) (Patient, error) {
	var p Patient
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockPatientRights(ctx, tx, id)
		if err != nil {
			return err
		}
		today := calendar.Today(s.now())
		if req.FiledOn.After(today) {
			return fault.Field("filed_on", "filed_on cannot be in the future").WithCause(calendar.ErrFuture)
		}
		if before.Rights.Status == rights.Opened && (before.Rights.EffectiveTo.IsZero() || !before.Rights.EffectiveTo.Before(today)) {
			return fault.New(fault.Conflict, "rights are already opened for this file").WithKind(fault.KindRightsAlreadyOpened)
		}
		p, err = s.scanOpenPatient(tx.QueryRow(ctx, `
			UPDATE patients SET rights_status = 'requested', rights_regime = $2, rights_filed_on = $3,
			       rights_effective_from = NULL, rights_effective_to = NULL, rights_reference = NULL,
			       rights_reason = NULL, rights_decided_at = NULL
			WHERE id = $1 AND tenant_id = passd_tenant() RETURNING `+patientColumns, id, req.Regime, req.FiledOn))
		if err != nil {
			return fmt.Errorf("claims: request rights: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rights_events (patient_id, kind, regime, filed_on, actor_id, created_at)
			VALUES ($1, 'requested', $2, $3, $4, $5)`, id, req.Regime, req.FiledOn, actor.UserID, s.now()); err != nil {
			return fmt.Errorf("claims: rights event: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "patient.rights_request", Entity: "patient",
			EntityID: ident.FormatID(id), Before: rightsAudit(before.Rights), After: rightsAudit(p.Rights)}); err != nil {
			return err
		}
		// The answer carries the file's identity.
		return logAccess(ctx, tx, s.now(), actor, AccessRightsRequest, id)
	})
	return p, err
}

// DecideRights records the CPAM's decision: a new row of the file's
// history, checked against the application it answers (a file with none
// is a 409 no_application) and, for an opening, by regime
// (RightsDecision.CheckPeriod). The latest decision is also the file's
// current state. It decides no invoice itself: the release job does, in
// bounded batches.
func (s *Store) DecideRights(ctx context.Context, actor audit.Actor, id int64, d RightsDecision) (Patient, error) {
	policy, err := s.policy(ctx)
	if err != nil {
		return Patient{}, fmt.Errorf("claims: rights policy: %w", err)
	}
	var p Patient
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockPatientRights(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if before.Rights.FiledOn.IsZero() {
			return fault.New(fault.Conflict, "no application is recorded on this file: record the application (rights-request) first").
				WithKind(fault.KindNoApplication)
		}
		if err := d.CheckPeriod(before.Rights.FiledOn, calendar.Today(now), policy); err != nil {
			return err
		}
		decisionID, err := insertDecision(ctx, tx, actor, id, before.Rights.FiledOn, d, now, 0)
		if err != nil {
			return err
		}
		if err := noteRightsChange(ctx, tx, id, now); err != nil {
			return err
		}
		if p, err = s.setCurrentRights(ctx, tx, actor, id, d, before.Rights.Regime, now); err != nil {
			return err
		}
		after := rightsAudit(p.Rights)
		after["rights_decision_id"] = ident.FormatID(decisionID)
		if d.Caisse != "" {
			after["caisse"] = d.Caisse
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "patient.rights_decision", Entity: "patient",
			EntityID: ident.FormatID(id), Before: rightsAudit(before.Rights), After: after}); err != nil {
			return err
		}
		// The answer carries the file's identity.
		return logAccess(ctx, tx, now, actor, AccessRightsDecision, id)
	})
	return p, err
}

// setCurrentRights makes decision d the file's current rights state (the
// patients row, which lists and filters read) and logs the event. A
// refusal keeps the regime applied for (priorRegime).
func (s *Store) setCurrentRights(ctx context.Context, tx pgx.Tx, actor audit.Actor, id int64, d RightsDecision, priorRegime string, now time.Time) (Patient, error) {
	var regime, reference, reason *string
	var from, to calendar.Date
	if d.Decision == rights.Opened {
		regime, reference, from, to = &d.Regime, &d.Reference, d.EffectiveFrom, d.EffectiveTo
	} else {
		reason = &d.Reason
		if priorRegime != "" {
			regime = &priorRegime
		}
	}
	p, err := s.scanOpenPatient(tx.QueryRow(ctx, `
		UPDATE patients SET rights_status = $2, rights_regime = $3, rights_effective_from = $4,
		       rights_effective_to = $5, rights_reference = $6, rights_reason = $7, rights_decided_at = $8
		WHERE id = $1 AND tenant_id = passd_tenant() RETURNING `+patientColumns, id, d.Decision, regime, from, to, reference, reason, now))
	if err != nil {
		return Patient{}, fmt.Errorf("claims: decide rights: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rights_events (patient_id, kind, regime, effective_from, effective_to,
		reference, reason, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, d.Decision, regime, from, to, reference, reason, actor.UserID, now); err != nil {
		return Patient{}, fmt.Errorf("claims: rights event: %w", err)
	}
	return p, nil
}

// noteRightsChange tells the release job that the file's rights changed:
// it decides the file's invoices at its next run. The sequence number
// moves on at each change, so that a run forgets only the change it saw.
func noteRightsChange(ctx context.Context, tx pgx.Tx, patientID int64, at time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO rights_changes (patient_id, changed_at) VALUES ($1, $2)
		ON CONFLICT (patient_id) DO UPDATE SET seq = nextval('rights_changes_seq'), changed_at = EXCLUDED.changed_at`, patientID, at)
	if err != nil {
		return fmt.Errorf("claims: note rights change: %w", err)
	}
	return nil
}

// insertDecision writes a decision as a new row of the file's history.
// supersedes is the decision it corrects (0: none).
func insertDecision(ctx context.Context, tx pgx.Tx, actor audit.Actor, patientID int64, filedOn calendar.Date, d RightsDecision, at time.Time,
	supersedes int64) (int64, error) {
	// A validated decision leaves empty what is not part of it (a
	// refusal's regime and period, an opening's reason): those are NULL.
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, effective_to, reference, caisse, reason,
		                              filed_on, decided_by, decided_at, supersedes)
		VALUES ($1, $2, nullif($3, ''), $4, $5, nullif($6, ''), nullif($7, ''), nullif($8, ''), $9, nullif($10, 0), $11, nullif($12, 0))
		RETURNING id`,
		patientID, d.Decision, d.Regime, d.EffectiveFrom, d.EffectiveTo, d.Reference, d.Caisse, d.Reason, filedOn, actor.UserID, at,
		supersedes).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("claims: insert decision: %w", err)
	}
	return id, nil
}

func rightsAudit(r Rights) map[string]any {
	out := map[string]any{"status": r.Status}
	if r.Regime != "" {
		out["regime"] = r.Regime
	}
	if !r.EffectiveFrom.IsZero() {
		out["effective_from"] = r.EffectiveFrom.String()
	}
	if !r.EffectiveTo.IsZero() {
		out["effective_to"] = r.EffectiveTo.String()
	}
	if r.Reference != "" {
		out["reference"] = r.Reference
	}
	return out
}

// Queue creates one queued claim per released invoice, in the caller's
// transaction (the one that decides the invoices), with the rights period
// that released it, and posts each to the journal. The unique key on
// invoice_id makes a second claim for an invoice impossible.
func (s *Store) Queue(ctx context.Context, tx pgx.Tx, actor audit.Actor, claims []settlement.NewClaim) error {
	if len(claims) == 0 {
		return nil
	}
	now := s.now()
	n := len(claims)
	invoiceIDs, decisionIDs := make([]int64, n), make([]int64, n)
	amounts, rates := make([]decimal.Decimal, n), make([]string, n)
	regimes, references := make([]rights.Regime, n), make([]string, n)
	kinds, outcomes := make([]settlement.ClaimKind, n), make([]int, n)
	for i, c := range claims {
		invoiceIDs[i], amounts[i], rates[i] = c.InvoiceID, c.Amount, rateArray(c.LineRates)
		decisionIDs[i], regimes[i], references[i] = c.Period.DecisionID, c.Period.Regime, c.Period.Reference
		kinds[i], outcomes[i] = c.Kind, max(c.OutcomeNo, 1)
		if kinds[i] == "" {
			kinds[i] = settlement.ClaimOrdinary
		}
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO claims (invoice_id, amount, line_rates, rights_decision_id, regime, reference, created_at, kind, outcome_no)
		SELECT i, a, r::numeric[], d, g, f, $7, k, o
		FROM unnest($1::bigint[], $2::numeric[], $3::text[], $4::bigint[], $5::text[], $6::text[], $8::text[], $9::int[])
		     AS u (i, a, r, d, g, f, k, o)
		RETURNING id, invoice_id, amount, kind`, invoiceIDs, amounts, rates, decisionIDs, regimes, references, now, kinds, outcomes)
	if err != nil {
		return fmt.Errorf("claims: queue: %w", err)
	}
	var postings []journal.Posting
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, invoiceID int64
		var amount decimal.Decimal
		var kind string
		if err := r.Scan(&id, &invoiceID, &amount, &kind); err != nil {
			return audit.Entry{}, err
		}
		postings = append(postings, journal.Posting{Movement: journal.ClaimQueued, Amount: amount, InvoiceID: invoiceID, ClaimID: id})
		return audit.Entry{Actor: actor, Action: "claim.queue", Entity: "claim", EntityID: ident.FormatID(id),
			After: map[string]any{"invoice_id": ident.FormatID(invoiceID), "amount": amount.StringFixed(2), "status": settlement.ClaimQueued,
				"kind": kind}}, nil
	})
	if err != nil {
		return fmt.Errorf("claims: queue: %w", err)
	}
	if err := journal.Post(ctx, tx, now, postings...); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entries...)
}

// rateArray writes a claim's line rates as a PostgreSQL array literal: one
// text per claim, since unnest would flatten an array of arrays.
func rateArray(rates []decimal.Decimal) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, r := range rates {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	b.WriteByte('}')
	return b.String()
}

// ClaimFilter narrows a list of claims.
type ClaimFilter struct {
	Status        settlement.ClaimStatus
	BatchID       int64 // the batch that sent the claim
	CancelBatchID int64 // the batch that carried the claim's cancellation
}

// CountClaims is how many claims f matches, for a list that says it.
func (s *Store) CountClaims(ctx context.Context, f ClaimFilter) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM claims WHERE ($1 = '' OR status = $1) AND ($2::bigint = 0 OR batch_id = $2)
		AND ($3::bigint = 0 OR cancel_batch_id = $3) AND tenant_id = passd_tenant()`, f.Status, f.BatchID, f.CancelBatchID).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("claims: count: %w", err))
	}
	return n, nil
}

// Claims lists claims, newest first (or oldest first, as page says).
func (s *Store) Claims(ctx context.Context, f ClaimFilter, page db.PageRequest) ([]Claim, error) {
	keyset, order := page.IDKeyset("id", 3)
	rows, err := s.pool.Query(ctx, `SELECT id, invoice_id, kind, amount, status, coalesce(batch_id, 0) AS batch_id, paid_amount, paid_on,
		coalesce(rejection_reason, '') AS rejection_reason, created_at, cancelled_at, coalesce(cancel_batch_id, 0) AS cancel_batch_id,
		coalesce(rights_decision_id, 0) AS rights_decision_id, coalesce(regime, '') AS regime, coalesce(reference, '') AS reference FROM claims
		WHERE ($1 = '' OR status = $1) AND ($2::bigint = 0 OR batch_id = $2) AND ($5::bigint = 0 OR cancel_batch_id = $5)
		  AND tenant_id = passd_tenant() AND `+keyset+`
		ORDER BY `+order+` LIMIT $4`,
		f.Status, f.BatchID, page.IDKeysetArg(), page.Limit+1, f.CancelBatchID)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: list: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Claim])
	return out, db.Translate(err)
}
