package main

// The sweep benchmark's data: seedSweep fills a fresh database with
// pending invoices through COPY, and sweepSummary reads what a sweep left
// so that passd's copy and the raw SQL's (sweep_raw.go) can be compared.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/keyring"
)

// The shape of the seeded world.
const (
	// A backlog's patients have five invoices each.
	invoicesPerPatient  = 5
	linesPerInvoice     = 3
	invoicesPerProvider = 1000
	// Enough providers that every kind, hence every rate, is present even
	// in a small test.
	minProviders = 20
	// For every twenty patients whose rights are opened, one is refused.
	refusedPerOpened = 20
	// The convention's deadline (PASSD_DEADLINE_DAYS' default).
	deadlineDays = 90
)

// providerKinds weighs the kinds as a city's partners are: pharmacies and
// GPs first. Twenty entries, so that minProviders covers them all.
var providerKinds = [20]string{
	billing.KindPharmacy, billing.KindGP, billing.KindPharmacy, billing.KindNurse, billing.KindLaboratory,
	billing.KindPharmacy, billing.KindGP, billing.KindHealthCentre, billing.KindPharmacy, billing.KindGP,
	billing.KindNurse, billing.KindLaboratory, billing.KindPharmacy, billing.KindGP, billing.KindRadiology,
	billing.KindPharmacy, billing.KindGP, billing.KindHealthCentre, billing.KindLaboratory, billing.KindNurse,
}

// seedAct is a line the seed bills: a code its provider's kind may bill
// (the acts catalogue as migrated, or the code's nomenclature), with the
// catalogue's ceiling on its unit price, in cents, when it has one (0:
// none). seedRateClasses holds the seed to it through billing.Tariff.Price.
type seedAct struct {
	code, label  string
	ceilingCents int64
}

// actCodes are plausible codes per provider kind (ident.ParseActCode
// accepts them), so that exports of the seeded claims look like real ones,
// and lines priced in several classes: a health centre's nurse act is
// priced as a nurse's, a pharmacy's dispensing fee as the drug it follows
// (a 15 % one, seedDrugs; the other drug takes the default class).
var actCodes = map[string][linesPerInvoice]seedAct{
	billing.KindGP:           {{"GS", "Consultation", 0}, {"VG", "Visite", 0}, {"APC", "Avis ponctuel", 0}},
	billing.KindHealthCentre: {{"G", "Consultation", 3000}, {"AMX", "Acte infirmier", 0}, {"TCG", "Téléconsultation", 0}},
	billing.KindNurse:        {{"AMI", "Soin infirmier", 315}, {"IFD", "Déplacement", 275}, {"AIS", "Soins", 0}},
	billing.KindPharmacy: {{"3400930000007", "Médicament", 0}, {"HD", "Honoraire de dispensation", 102},
		{"3400930000014", "Médicament", 0}},
	billing.KindRadiology:  {{"ZBQK002", "Radiographie du thorax", 0}, {"ZCQK004", "Radiographie", 0}, {"YYYY600", "Forfait", 0}},
	billing.KindLaboratory: {{"0552", "Hémogramme", 0}, {"1104", "Glycémie", 0}, {"0323", "Ionogramme", 0}},
}

// seedDrugs is the seeded drug table: the pharmacies' first drug is
// reimbursed at 15 %, which AME does not cover for an adult; their other
// one is not listed (settings.default_drug_class: 65 %).
var seedDrugs = []billing.Drug{{CIP13: "3400930000007", Label: "Médicament à service médical rendu faible", Class: 15}}

// soloAct is the first of kind's seed acts that may make an invoice on
// its own at any price: no ceiling, and not a dispensing fee (which must
// follow a drug line).
func soloAct(kind string) int {
	for j, a := range actCodes[kind] {
		if a.ceilingCents == 0 {
			return j
		}
	}
	panic("passd-bench: no seed act of kind " + kind + " without a ceiling")
}

// seedRateClasses gives each kind's seed lines their rate classes as a
// submission would (billing.Tariff.Price), against the acts catalogue,
// drug table and settings the database holds. Each kind's lines are
// priced at their largest quantity and unit price: a line its kind may not
// bill, or over a ceiling, is an error, since passd would refuse (or hold
// for review) an invoice the seed writes as pending.
func seedRateClasses(ctx context.Context, tx pgx.Tx) (map[string][linesPerInvoice]billing.RateClass, error) {
	t := billing.Tariff{Acts: map[string]billing.Act{}, DrugClasses: map[string]int{}, OverCeiling: billing.OverCeilingRefuse}
	var ceiling *decimal.Decimal
	if err := tx.QueryRow(ctx, `SELECT coalesce(default_drug_class, 0), invoice_ceiling FROM settings WHERE tenant_id = passd_tenant()`).Scan(&t.DefaultDrugClass, &ceiling); err != nil {
		return nil, fmt.Errorf("bench: seed: tariff settings: %w", err)
	}
	t.InvoiceCeiling = billing.DefaultInvoiceCeiling
	if ceiling != nil {
		t.InvoiceCeiling = *ceiling
	}
	rows, err := tx.Query(ctx, `SELECT code, label, provider_kinds, coalesce(rate_class, ''), max_unit_price, dispensing_fee FROM acts WHERE tenant_id = passd_tenant()`)
	if err != nil {
		return nil, fmt.Errorf("bench: seed: acts: %w", err)
	}
	var a billing.Act
	if _, err := pgx.ForEachRow(rows, []any{&a.Code, &a.Label, &a.ProviderKinds, &a.RateClass, &a.MaxUnitPrice, &a.DispensingFee}, func() error {
		t.Acts[a.Code] = a
		a = billing.Act{}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bench: seed: acts: %w", err)
	}
	var cip string
	var class int
	rows, err = tx.Query(ctx, `SELECT cip13, drug_class FROM drugs WHERE tenant_id = passd_tenant()`)
	if err != nil {
		return nil, fmt.Errorf("bench: seed: drugs: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&cip, &class}, func() error {
		t.DrugClasses[cip] = class
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bench: seed: drugs: %w", err)
	}
	out := make(map[string][linesPerInvoice]billing.RateClass, len(actCodes))
	for kind, acts := range actCodes {
		lines := make([]billing.Line, linesPerInvoice)
		for j, act := range acts {
			lines[j] = billing.Line{Code: act.code, Label: act.label, Quantity: maxSeedQuantity, UnitPrice: decimal.New(maxUnitCents(act), -2)}
		}
		classes, review, err := t.Price(kind, lines)
		if err != nil || len(review) > 0 {
			return nil, fmt.Errorf("bench: seed: the lines of a %s are not what passd accepts: %v %v", kind, err, review)
		}
		out[kind] = [linesPerInvoice]billing.RateClass(classes)
	}
	return out, nil
}

// worldShape is the world a sweep case seeds.
type worldShape struct {
	invoices   int // pending
	opened     int // patients whose rights are opened
	perPatient int // invoices per patient
	// day makes an ordinary day's world rather than a backlog: every
	// pending invoice is within its deadline (the deadline job decided the
	// others), the opened patients' rights were decided in the last hours,
	// covering all their care, and nobody is refused.
	day bool
}

// backlog is the world of the deadline and release cases: n invoices, five
// per patient, half past their deadline, opened patients decided over
// the last months (and a twentieth as many refused).
func backlog(n, opened int) worldShape {
	return worldShape{invoices: n, opened: opened, perPatient: invoicesPerPatient}
}

// sweepWorld is the deterministic plan seedSweep writes: which patient has
// which rights, and which invoice has which provider, dates and lines. It
// is computed, not stored, so a million invoices cost no memory to plan.
type sweepWorld struct {
	today      calendar.Date
	now        time.Time // the instant "today" was taken at
	n          int       // invoices
	perPatient int
	day        bool
	patients   int
	providers  int
	opened     int
	refused    int
	// tenant is the convention the world is seeded into (0: the bench's
	// session's, the first); base is added to every id it writes, so that
	// several worlds share one database's sequences (conventions phase).
	tenant, base int64
}

func newSweepWorld(now time.Time, shape worldShape) (sweepWorld, error) {
	n, opened, per := shape.invoices, shape.opened, shape.perPatient
	if per < 1 {
		return sweepWorld{}, fmt.Errorf("bench: seed: %d invoices per patient", per)
	}
	patients := (n + per - 1) / per
	if n <= 0 || opened < 0 || opened > patients {
		return sweepWorld{}, fmt.Errorf("bench: seed: %d invoices give %d patients; %d cannot have their rights opened", n, patients, opened)
	}
	refused := min(opened/refusedPerOpened, patients-opened)
	if shape.day {
		refused = 0
	}
	return sweepWorld{today: calendar.Today(now), now: now, n: n, perPatient: per, day: shape.day, patients: patients,
		providers: max(minProviders, n/invoicesPerProvider), opened: opened, refused: refused}, nil
}

// spread reports whether item i of total is one of count items spread
// evenly over them (exactly count are), and its rank among those.
func spread(i, total, count int) (rank int, ok bool) {
	lo := int64(i) * int64(count) / int64(total)
	hi := int64(i+1) * int64(count) / int64(total)
	return int(lo), hi > lo
}

// patientRights is a seeded patient's file.
type patientRights struct {
	status    string // none, requested, opened, refused
	regime    string
	filedOn   calendar.Date
	from, to  calendar.Date
	decidedAt time.Time // zero when not decided
	reference string
	reason    string
	oldRights bool // decided in time long ago, for care either side of the CPAM's two-year limit
}

var regimes = [3]string{"puma", "puma_css", "ame"}

// patient p's rights. Opened rights take effect three months before the
// application and cover all the care; most were decided in time for
// every invoice, one in five in the last ten days, too late for the
// invoices past their deadline (deadline_passed). One in ten opened
// patients, decided lately too, holds rights that begin (and, but for
// puma, end) exactly on the care date of one of their recent invoices, so
// that older care is not covered. One in fifty holds rights decided in
// time more than two years ago, covering care on either side of the
// CPAM's limit (prescribed or not).
func (w sweepWorld) patient(p int) patientRights {
	if o, ok := spread(p, w.patients, w.opened); ok {
		if w.day {
			return w.decidedToday(o)
		}
		r := patientRights{status: "opened", regime: openedRegime(o), reference: fmt.Sprintf("CPAM-%08d", o)}
		// Most decisions came in time for every invoice of the file; one
		// in five came lately: on the deadline day of the patient's first
		// invoice past its deadline (just in time for it), too late for
		// the others past theirs.
		decided := w.today.AddDays(-200 - o%10)
		if firstPast := p*w.perPatient + p%2; o%5 == 0 && firstPast < w.n {
			decided = w.invoice(firstPast, r).deadline
		}
		r.filedOn = decided.AddDays(-15 - o%30)
		r.from = r.filedOn.AddDays(-90)
		if r.regime != "puma" {
			r.to = r.from.AddYears(1).AddDays(-1)
		}
		// The first two of the patient's invoices that are not past their
		// deadline (their care date does not depend on the rights).
		first := p*w.perPatient + 1 - p%2
		switch {
		case o%50 == 7:
			r.oldRights = true
			decided = w.today.AddDays(-820)
			r.from, r.filedOn = w.today.AddDays(-1000), w.today.AddDays(-910)
			if r.regime != "puma" {
				r.to = r.from.AddYears(1).AddDays(-1)
			}
		case o%10 == 3 && first+2 < w.n: // puma or puma_css
			decided = w.today.AddDays(-(o % 10))
			a, b := w.invoice(first, r).care, w.invoice(first+2, r).care
			if b.Before(a) {
				a, b = b, a
			}
			r.from = a
			if r.regime != "puma" {
				r.to = b
			}
		}
		r.decidedAt = atParisTime(decided, 10)
		return r
	}
	q := p - int(int64(p)*int64(w.opened)/int64(w.patients)) // rank among the others
	others := w.patients - w.opened
	if f, ok := spread(q, others, w.refused); ok {
		decided := w.today.AddDays(-(f % 10))
		return patientRights{status: "refused", regime: regimes[f%2*2], filedOn: decided.AddDays(-30),
			decidedAt: atParisTime(decided, 11), reason: "ressources au-dessus du plafond"}
	}
	if q%2 == 0 {
		return patientRights{status: "requested", regime: regimes[q%3], filedOn: w.today.AddDays(-(q % 60))}
	}
	return patientRights{status: "none"}
}

// openedRegime is the regime of the o-th opened file: puma for twelve in
// twenty, puma_css for five, ame for three.
func openedRegime(o int) string {
	switch m := o % 20; {
	case m < 12:
		return "puma"
	case m < 17:
		return "puma_css"
	default:
		return "ame"
	}
}

// decidedToday is the o-th opened file of an ordinary day: the
// application made two to six weeks ago, the rights taking effect three
// months before it (for a year, but for puma), so covering every pending
// invoice, the decision taken in the last four hours.
func (w sweepWorld) decidedToday(o int) patientRights {
	r := patientRights{status: "opened", regime: openedRegime(o), reference: fmt.Sprintf("CPAM-%08d", o)}
	r.filedOn = w.today.AddDays(-15 - o%30)
	r.from = r.filedOn.AddDays(-90)
	if r.regime != "puma" {
		r.to = r.from.AddYears(1).AddDays(-1)
	}
	r.decidedAt = w.now.Add(-time.Duration(1+o%240) * time.Minute).Truncate(time.Second)
	return r
}

func atParisTime(d calendar.Date, hour int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, calendar.Paris())
}

// invoiceShape is a seeded invoice.
type invoiceShape struct {
	patient, provider int // 0-based
	care, deadline    calendar.Date
	quantity          [linesPerInvoice]int
	unitCents         [linesPerInvoice]int64
}

func (s invoiceShape) totalCents() int64 {
	var t int64
	for j := range linesPerInvoice {
		t += int64(s.quantity[j]) * s.unitCents[j]
	}
	return t
}

// pastDeadline reports whether invoice k's deadline is before today: in a
// backlog every even one, so half of them; on an ordinary day none.
func (w sweepWorld) pastDeadline(k int) bool { return !w.day && k%2 == 0 }

// invoice k: w.perPatient per patient in a row; in a backlog, past its
// deadline (care 91 to 270 days ago) or not (care within the last 90
// days), alternately; on an ordinary day, care on one of the last 91 days
// picked by a hash of k; from a provider picked by another hash of k;
// three lines (actCodes) whose prices make the CPAM's share fall on half
// cents often enough to exercise the rounding, within the catalogue's
// ceilings.
func (w sweepWorld) invoice(k int, rights patientRights) invoiceShape {
	s := invoiceShape{patient: k / w.perPatient, provider: int(mix(uint64(k)) % uint64(w.providers))}
	h := k / 2
	if w.day {
		h = int(mix(^uint64(k)) % 91)
	}
	switch {
	case w.pastDeadline(k) && rights.oldRights:
		// Either side of the two-year limit, which depends on the quarter.
		s.care = w.today.AddDays(-700 - h%200)
	case w.pastDeadline(k):
		s.care = w.today.AddDays(-91 - h%180)
	default:
		// Down to a deadline of today, which is not yet past.
		s.care = w.today.AddDays(-(h % 91))
	}
	s.deadline = s.care.AddDays(deadlineDays)
	acts := actCodes[providerKinds[s.provider%len(providerKinds)]]
	for j := range linesPerInvoice {
		s.quantity[j] = 1 + (k+j)%maxSeedQuantity
		s.unitCents[j] = 150 + int64((k*131+j*977)%9850)
		// An act with a ceiling in the catalogue is billed at most at it,
		// from half of it up.
		if c := acts[j].ceilingCents; c > 0 {
			s.unitCents[j] = c - s.unitCents[j]%(c/2)
		}
	}
	return s
}

// maxSeedQuantity is the largest quantity of a seeded line.
const maxSeedQuantity = 3

// maxUnitCents is the largest unit price, in cents, invoice gives a line
// of act.
func maxUnitCents(act seedAct) int64 {
	if act.ceilingCents > 0 {
		return act.ceilingCents
	}
	return 150 + 9850 - 1
}

// mix is SplitMix64's finaliser: a cheap, well-spread hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// expected is how many pending invoices each job decides on the seeded
// world: the deadline job every invoice past its deadline, the release job
// every invoice of a patient whose rights were decided (Decide always
// settles those: by their content, or deadline_passed), among the patients
// of the changes one run takes (releaseChangesPerRun, in patient order:
// copyRightsChanges). The release job may then decide some of them again.
func (w sweepWorld) expected() (deadline, release int64) {
	if !w.day {
		deadline = int64((w.n + 1) / 2)
	}
	changes := 0
	for p := 0; p < w.patients && changes < releaseChangesPerRun; p++ {
		if st := w.patient(p).status; st == "opened" || st == "refused" {
			release += int64(min(w.perPatient, w.n-p*w.perPatient))
			changes++
		}
	}
	return deadline, release
}

// seedSweep loads with COPY, into the freshly migrated database at ownerURL
// (owner/superuser URL), the world shape asks for: its pending invoices of
// 3 lines each with their providers (and one user each, who created the
// invoices) and patients (shape.perPatient invoices each); in a backlog
// half are past their deadline today (Europe/Paris). shape.opened patients
// get their rights opened (a mix of puma, puma_css and ame, covering their
// recent care), and in a backlog a twentieth as many are refused, each
// decision also a row of rights_decisions, where passd reads the periods,
// and a row of rights_changes, where the release job finds the patients to
// look at; half the others have applied. The lines are the provider
// kind's actCodes, each with the rate class billing.Tariff.Price gives it,
// and the drug table lists seedDrugs. Identity is sealed under keys, the
// ring passd runs with: a sweep opens the birth dates of AME patients with
// a 15 % drug line (billing.AdultAge), and about one patient in five is a
// minor.
// No audit row is written: the seed is set-up, not a change passd made.
// Returns how many pending invoices the job is expected to decide: the
// deadline job when nobody is opened, the release job otherwise.
func seedSweep(ctx context.Context, ownerURL string, shape worldShape, keys *keyring.Ring) (expected int64, err error) {
	w, err := newSweepWorld(time.Now(), shape)
	if err != nil {
		return 0, err
	}
	if err := w.seed(ctx, ownerURL, keys); err != nil {
		return 0, err
	}
	deadline, release := w.expected()
	if shape.opened == 0 {
		return deadline, nil
	}
	return release, nil
}

func (w sweepWorld) seed(ctx context.Context, ownerURL string, keys *keyring.Ring) error {
	pool, err := db.Open(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("bench: seed: %w", err)
	}
	defer pool.Close()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if w.tenant != 0 {
			if _, err := tx.Exec(ctx, `SELECT set_config('passd.tenant', $1, true)`, strconv.FormatInt(w.tenant, 10)); err != nil {
				return fmt.Errorf("bench: seed: convention: %w", err)
			}
		}
		// The seed runs as the owner, whom row-level security does not
		// hold: it names its convention in each statement, as passd does.
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invoices WHERE tenant_id = passd_tenant())
			OR EXISTS (SELECT 1 FROM patients WHERE tenant_id = passd_tenant()) OR EXISTS (SELECT 1 FROM providers WHERE tenant_id = passd_tenant())`).
			Scan(&used); err != nil {
			return fmt.Errorf("bench: seed: %w", err)
		}
		if used {
			return errors.New("bench: seed: the database already holds providers, patients or invoices; seedSweep needs a freshly migrated one")
		}
		// Generated data, consistent by construction: the superuser skips
		// the foreign-key triggers of the 4 million rows (the constraints'
		// checks and the schema's CHECKs still apply).
		var super bool
		if err := tx.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
			return fmt.Errorf("bench: seed: %w", err)
		}
		if super {
			if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return fmt.Errorf("bench: seed: %w", err)
			}
		}
		if err := w.copyProviders(ctx, tx); err != nil {
			return err
		}
		ids := make([]int64, w.providers)
		for i := range ids {
			ids[i] = w.base + int64(i+1)
		}
		users, err := providerUsers(ctx, tx, "bench-provider-", ids)
		if err != nil {
			return err
		}
		if err := w.copyPatients(ctx, tx, keys); err != nil {
			return err
		}
		if err := w.copyRightsDecisions(ctx, tx); err != nil {
			return err
		}
		if err := copyDrugs(ctx, tx); err != nil {
			return err
		}
		classes, err := seedRateClasses(ctx, tx)
		if err != nil {
			return err
		}
		if err := w.copyInvoices(ctx, tx, users, classes); err != nil {
			return err
		}
		// setval refuses 0: a world without decisions leaves that sequence
		// unused (is_called false).
		_, err = tx.Exec(ctx, `
			SELECT setval(pg_get_serial_sequence('providers', 'id'), $1),
			       setval(pg_get_serial_sequence('patients', 'id'), $2),
			       setval(pg_get_serial_sequence('invoices', 'id'), $3),
			       setval(pg_get_serial_sequence('rights_decisions', 'id'), greatest($4, 1), $4 > 0),
			       setval('rights_changes_seq', greatest($4, 1), $4 > 0)`,
			w.base+int64(w.providers), w.base+int64(w.patients), w.base+int64(w.n), w.base+int64(w.opened+w.refused))
		if err != nil {
			return fmt.Errorf("bench: seed: sequences: %w", err)
		}
		// The next file passd opens follows the seeded ones.
		if _, err := tx.Exec(ctx, `INSERT INTO file_number_counters (year, last) VALUES ($1, $2)`, w.today.Year(), w.patients); err != nil {
			return fmt.Errorf("bench: seed: file numbers: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Statistics for the planner and a visibility map, as a table that has
	// lived would have: otherwise the first sweep pays for hint bits.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) providers, users, patients, rights_decisions, rights_changes, drugs, invoices, invoice_lines`); err != nil {
		return fmt.Errorf("bench: seed: vacuum: %w", err)
	}
	return nil
}

// throwawayKeys is a fresh keyring for sealing seeded identity.
func throwawayKeys(now time.Time) (*keyring.Ring, error) {
	text, err := keyring.Generate(now)
	if err != nil {
		return nil, fmt.Errorf("bench: keyring: %w", err)
	}
	ring, err := keyring.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("bench: keyring: %w", err)
	}
	return ring, nil
}

// copyRows streams count rows into table through COPY; fill writes row i
// into the slice it is given, which is reused.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, count int, fill func(i int, row []any) error) error {
	row := make([]any, len(columns))
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == count {
			return nil, nil
		}
		clear(row)
		err := fill(i, row)
		i++
		return row, err
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
		return fmt.Errorf("bench: seed: copy %s: %w", table, err)
	}
	return nil
}

// copyProviders writes providers 1 to w.providers.
func (w sweepWorld) copyProviders(ctx context.Context, tx pgx.Tx) error {
	return copyRows(ctx, tx, "providers", []string{"id", "kind", "name", "rpps", "finess", "iban", "bic"}, w.providers,
		func(i int, row []any) error {
			id := w.base + int64(i+1)
			fillProvider(row, id, providerKinds[i%len(providerKinds)])
			return nil
		})
}

// fillProvider writes a provider row (id, kind, name, rpps, finess, iban,
// bic) whose identifiers derive from its id, so they never collide.
func fillProvider(row []any, id int64, kind string) {
	row[0], row[1] = id, kind
	row[2] = fmt.Sprintf("%s %d (banc d'essai)", kindNames[kind], id)
	if kind == billing.KindGP || kind == billing.KindNurse {
		row[3] = fmt.Sprintf("1%010d", id)
	} else {
		row[4] = fmt.Sprintf("93%07d", id)
	}
	row[5], row[6] = frenchIBAN(id), bics[id%int64(len(bics))]
}

var kindNames = map[string]string{
	billing.KindGP: "Dr Martin", billing.KindHealthCentre: "Centre de santé", billing.KindNurse: "Cabinet infirmier",
	billing.KindPharmacy: "Pharmacie", billing.KindRadiology: "Cabinet de radiologie", billing.KindLaboratory: "Laboratoire",
}

var bics = [...]string{"AGRIFRPP", "BNPAFRPP", "SOGEFRPP", "CMCIFRPP", "PSSTFRPPPAR", "CEPAFRPP751"}

// providerUsers creates one provider user per provider of ids (named
// prefix + id), who creates its invoices, and returns them by provider id.
func providerUsers(ctx context.Context, tx pgx.Tx, prefix string, ids []int64) (map[int64]int64, error) {
	rows, err := tx.Query(ctx, `
		INSERT INTO users (name, role, provider_id)
		SELECT $1 || id, 'provider', id FROM providers WHERE id = ANY($2) ORDER BY id
		RETURNING provider_id, id`, prefix, ids)
	if err != nil {
		return nil, fmt.Errorf("bench: seed: users: %w", err)
	}
	users := make(map[int64]int64, len(ids))
	var provider, user int64
	_, err = pgx.ForEachRow(rows, []any{&provider, &user}, func() error {
		users[provider] = user
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: seed: users: %w", err)
	}
	return users, nil
}

// sealedIdentity seals a seeded patient's identity as claims does: each
// value bound to its column and row (claims.identityAAD).
func sealedIdentity(sealer keyring.Sealer, id int64, lastName, firstName string, birth calendar.Date) (last, first, birthDate string, err error) {
	seal := func(column, value string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = sealer.Seal([]byte(value), []byte(fmt.Sprintf("passd.patients.%s.%d", column, id)))
		return s
	}
	last, first, birthDate = seal("last_name", lastName), seal("first_name", firstName), seal("birth_date", birth.String())
	if err != nil {
		return "", "", "", fmt.Errorf("bench: seal patient %d: %w", id, err)
	}
	return last, first, birthDate, nil
}

var patientColumns = []string{"id", "file_number", "identity_key", "last_name_enc", "first_name_enc", "birth_date_enc",
	"rights_status", "rights_regime", "rights_filed_on", "rights_effective_from", "rights_effective_to",
	"rights_reference", "rights_reason", "rights_decided_at"}

// birth is patient p's birth date: born 1960 to 2019, so that about one
// in five is a minor (AME's rule on 15 % drugs spares them) and some turn
// eighteen among their care dates.
func (w sweepWorld) birth(p int) calendar.Date {
	return calendar.NewDate(1960+p%60, time.Month(1+p%12), 1+p%28)
}

// copyPatients writes patients 1 to w.patients with their rights.
func (w sweepWorld) copyPatients(ctx context.Context, tx pgx.Tx, keys *keyring.Ring) error {
	sealer := keys.Sealer()
	year := w.today.Year()
	return copyRows(ctx, tx, "patients", patientColumns, w.patients, func(i int, row []any) error {
		id := w.base + int64(i+1)
		last, first, birth, err := sealedIdentity(sealer, id, "Bench", fmt.Sprintf("Patient %d", id), w.birth(i))
		if err != nil {
			return err
		}
		r := w.patient(i)
		row[0], row[1], row[2], row[3], row[4], row[5] = id, claims.FileNumber(year, i+1), sealer.Key(), last, first, birth
		row[6], row[7], row[8], row[9], row[10] = r.status, nullText(r.regime), r.filedOn, r.from, r.to
		row[11], row[12] = nullText(r.reference), nullText(r.reason)
		if !r.decidedAt.IsZero() {
			row[13] = r.decidedAt
		}
		return nil
	})
}

// copyRightsDecisions writes the decision behind each decided patient's
// rights as passd records it (claims.Store.DecideRights): one row of
// rights_decisions, numbered 1 to w.opened+w.refused in patient order,
// holding what the patient's rights_* columns say (an opened period with
// its regime, dates and reference, or a refusal with its reason; a refusal
// carries no regime), the application it answers and when it was taken.
// Nobody seeded took it: decided_by is NULL. passd's sweeps read the
// periods from here, the file's columns only for its latest state. Each
// is then noted for the release job (copyRightsChanges).
func (w sweepWorld) copyRightsDecisions(ctx context.Context, tx pgx.Tx) error {
	p := -1 // the patient of the last row written
	err := copyRows(ctx, tx, "rights_decisions", []string{"id", "patient_id", "decision", "regime", "effective_from", "effective_to",
		"reference", "reason", "filed_on", "decided_at"},
		w.opened+w.refused, func(i int, row []any) error {
			var r patientRights
			for {
				if p++; p >= w.patients {
					return fmt.Errorf("bench: seed: decision %d: only %d decided patients", i+1, i)
				}
				if r = w.patient(p); r.status == "opened" || r.status == "refused" {
					break
				}
			}
			row[0], row[1], row[2], row[8], row[9] = w.base+int64(i+1), w.base+int64(p+1), r.status, r.filedOn, r.decidedAt
			if r.status == "opened" {
				row[3], row[4], row[5], row[6] = r.regime, r.from, r.to, r.reference
			} else {
				row[7] = r.reason
			}
			return nil
		})
	if err != nil {
		return err
	}
	return copyRightsChanges(ctx, tx)
}

// copyRightsChanges tells the release job of each seeded decision, as
// claims.noteRightsChange does in the decision's transaction: one change
// per decided file, when it was decided, numbered as its decision (patient
// order) so that the changes one run takes are known (expected).
func copyRightsChanges(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `INSERT INTO rights_changes (patient_id, seq, changed_at)
		SELECT patient_id, id, decided_at FROM rights_decisions WHERE tenant_id = passd_tenant()`)
	if err != nil {
		return fmt.Errorf("bench: seed: rights changes: %w", err)
	}
	return nil
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// copyDrugs writes seedDrugs into the drug table.
func copyDrugs(ctx context.Context, tx pgx.Tx) error {
	return copyRows(ctx, tx, "drugs", []string{"cip13", "label", "drug_class"}, len(seedDrugs), func(i int, row []any) error {
		row[0], row[1], row[2] = seedDrugs[i].CIP13, seedDrugs[i].Label, int16(seedDrugs[i].Class)
		return nil
	})
}

// copyInvoices writes invoices 1 to w.n and their lines, each with its
// rate class (classes, by provider kind: seedRateClasses).
func (w sweepWorld) copyInvoices(ctx context.Context, tx pgx.Tx, users map[int64]int64, classes map[string][linesPerInvoice]billing.RateClass) error {
	// The patients' rights, computed once: each shapes five invoices.
	var rights patientRights
	rightsPatient := -1
	rightsOf := func(p int) patientRights {
		if p != rightsPatient {
			rights, rightsPatient = w.patient(p), p
		}
		return rights
	}
	err := copyRows(ctx, tx, "invoices", []string{"id", "provider_id", "patient_id", "external_ref", "care_date", "deadline", "total", "created_by", "created_at"},
		w.n, func(k int, row []any) error {
			s := w.invoice(k, rightsOf(k/w.perPatient))
			row[0], row[1], row[2] = w.base+int64(k+1), w.base+int64(s.provider+1), w.base+int64(s.patient+1)
			row[3], row[4], row[5] = fmt.Sprintf("F%09d", k+1), s.care, s.deadline
			row[6], row[7], row[8] = decimal.New(s.totalCents(), -2), users[w.base+int64(s.provider+1)], atParisTime(s.care, 18)
			return nil
		})
	if err != nil {
		return err
	}
	rightsPatient = -1
	return copyRows(ctx, tx, "invoice_lines", []string{"invoice_id", "position", "code", "label", "quantity", "unit_price", "rate_class"},
		w.n*linesPerInvoice, func(i int, row []any) error {
			k, j := i/linesPerInvoice, i%linesPerInvoice
			s := w.invoice(k, rightsOf(k/w.perPatient))
			kind := providerKinds[s.provider%len(providerKinds)]
			act := actCodes[kind][j]
			row[0], row[1], row[2], row[3] = w.base+int64(k+1), int32(j+1), act.code, act.label
			row[4], row[5], row[6] = int32(s.quantity[j]), decimal.New(s.unitCents[j], -2), string(classes[kind][j])
			return nil
		})
}

// digest is the count of rows and the sum of a 60-bit hash (from md5) of
// each row's columns: any changed row changes it, bar a chance collision,
// and unlike an md5 of the rows in order it needs no sort of a million
// rows nor a string holding them.
func digest(columns string) string {
	return `format('rows=%s hash=%s', count(*), coalesce(sum(('x' || left(md5(concat_ws(':', ` + columns + `)), 15))::bit(60)::bigint), 0))`
}

// summaryQueries each give rows of (key, value) describing the outcome of
// sweeps without their timestamps or the surrogate ids of new rows: those
// rows are named by their invoice (and a payout also by its reason), and
// the links between them (a journal line's claim or payout, an audit row's
// entity) are checked to point at the row of the same invoice.
var summaryQueries = []string{
	// Invoices: per status and reason, counts and sums; every invoice's outcome.
	`SELECT 'invoices ' || status || ' ' || coalesce(decision_reason, '-'),
	        format('count=%s total=%s cpam=%s city=%s decided_at=%s', count(*), sum(total), coalesce(sum(cpam_amount), 0),
	               coalesce(sum(city_amount), 0), count(decided_at))
	 FROM invoices GROUP BY status, decision_reason`,
	`SELECT 'invoices digest', ` + digest(`id, status, decision_reason, cpam_amount, city_amount, outcome_no, outcome_cause`) + ` FROM invoices`,
	// The outcomes that decisions made again replaced.
	`SELECT 'invoice outcomes replaced', ` + digest(`invoice_id, outcome_no, status, decision_reason, cpam_amount, city_amount, cause`) + `
	 FROM invoice_outcomes`,
	// Claims.
	`SELECT 'claims ' || status, format('count=%s amount=%s', count(*), sum(amount)) FROM claims GROUP BY status`,
	`SELECT 'claims digest', ` + digest(`invoice_id, amount, rate, line_rates, rights_decision_id, regime, reference, status, batch_id, paid_amount, paid_on,
	        rejection_reason, kind, outcome_no, cancelled_at IS NULL`) + ` FROM claims`,
	`SELECT 'claims kind ' || kind, format('count=%s amount=%s', count(*), sum(amount)) FROM claims GROUP BY kind`,
	// The periods that released them (decision ids are the seed's, the
	// same in both copies).
	`SELECT 'claims by period ' || coalesce(regime, '-'), format('count=%s amount=%s decisions=%s', count(*), sum(amount), count(DISTINCT rights_decision_id))
	 FROM claims GROUP BY regime`,
	// Payouts.
	`SELECT 'payouts ' || reason || ' ' || status, format('count=%s amount=%s', count(*), sum(amount)) FROM payouts GROUP BY reason, status`,
	`SELECT 'payouts digest', ` + digest(`p.invoice_id, p.provider_id, p.amount, p.reason, p.status, c.invoice_id, p.note, p.paid_on,
	        p.outcome_no, p.cancelled_at IS NULL`) + `
	 FROM payouts p LEFT JOIN claims c ON c.id = p.claim_id`,
	// Journal: per movement and account; each transaction two balanced
	// lines; every line on its claim's or payout's invoice.
	`SELECT 'journal ' || movement || ' ' || account, format('lines=%s txns=%s debit=%s credit=%s', count(*), count(DISTINCT txn_id), sum(debit), sum(credit))
	 FROM journal_entries GROUP BY movement, account`,
	`SELECT 'journal txns not two balanced lines', count(*)::text FROM (
	     SELECT txn_id FROM journal_entries GROUP BY txn_id HAVING count(*) <> 2 OR sum(debit) <> sum(credit)) t`,
	`SELECT 'journal digest', ` + digest(`e.movement, e.account, e.debit, e.credit, e.invoice_id, c.invoice_id, p.invoice_id, p.reason,
	        e.reverses IS NULL`) + `
	 FROM journal_entries e LEFT JOIN claims c ON c.id = e.claim_id LEFT JOIN payouts p ON p.id = e.payout_id`,
	// Each reversal mirrors the transaction it reverses, line by line.
	`SELECT 'journal reversals of ' || o.movement, format('lines=%s debit=%s credit=%s', count(*), sum(e.debit), sum(e.credit))
	 FROM journal_entries e JOIN journal_entries o ON o.txn_id = e.reverses AND o.account = e.account AND o.debit = e.credit AND o.credit = e.debit
	 GROUP BY o.movement`,
	`SELECT 'journal lines off their invoice', count(*)::text FROM journal_entries e
	 LEFT JOIN claims c ON c.id = e.claim_id LEFT JOIN payouts p ON p.id = e.payout_id
	 WHERE (e.claim_id IS NOT NULL AND c.invoice_id IS DISTINCT FROM e.invoice_id)
	    OR (e.payout_id IS NOT NULL AND p.invoice_id IS DISTINCT FROM e.invoice_id)`,
	// Audit: per action and actor; every row's documents; the rows of new
	// claims and payouts name the right one; the chain has no gap.
	`SELECT 'audit ' || action || ' ' || actor, count(*)::text FROM audit_log GROUP BY action, actor`,
	`SELECT 'audit digest', ` + digest(`action, entity, actor, actor_id, CASE WHEN entity IN ('claim', 'payout') THEN '' ELSE entity_id END,
	        before::text, after::text`) + ` FROM audit_log`,
	`SELECT 'audit rows off their claim or payout', count(*)::text FROM audit_log a
	 LEFT JOIN claims c ON a.entity = 'claim' AND c.id::text = a.entity_id
	 LEFT JOIN payouts p ON a.entity = 'payout' AND p.id::text = a.entity_id
	 WHERE a.action IN ('claim.queue', 'payout.create')
	   AND (coalesce(c.invoice_id, p.invoice_id)::text IS DISTINCT FROM a.after->>'invoice_id'
	        OR coalesce(c.amount, p.amount)::text IS DISTINCT FROM a.after->>'amount'
	        OR (a.entity = 'payout' AND p.reason IS DISTINCT FROM a.after->>'reason'))`,
	// The changes the release job has not handled yet.
	`SELECT 'rights changes left', ` + digest(`patient_id, seq`) + ` FROM rights_changes`,
	`SELECT 'audit chain', format('rows=%s seq=%s..%s head=%s', count(*), min(chain_seq), max(chain_seq), (SELECT chain_seq FROM audit_chain_head()))
	 FROM audit_log`,
}

// sweepSummary reads a summary of the database's state after a sweep
// (counts and sums per status, payouts, claims, journal, audit rows by
// action) for comparing the passd copy with the raw-SQL copy; timestamps
// and generated ids excluded.
func sweepSummary(ctx context.Context, ownerURL string) (map[string]string, error) {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return nil, fmt.Errorf("bench: summary: %w", err)
	}
	defer conn.Close(ctx)
	// Audit rows are chained after their commit (migration 00007): passd's
	// sealer has chained its copy's, nothing has chained the raw SQL's. Seal
	// what is pending so that both chains can be compared.
	if _, err := audit.SealPending(ctx, conn, 50_000); err != nil {
		return nil, fmt.Errorf("bench: summary: seal: %w", err)
	}
	out := map[string]string{}
	// One snapshot for every query.
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, q := range summaryQueries {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			var key, value string
			if _, err := pgx.ForEachRow(rows, []any{&key, &value}, func() error {
				out[key] = value
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: summary: %w", err)
	}
	return out, nil
}
