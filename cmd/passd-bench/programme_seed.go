package main

// The programme report benchmark's data (issue 16 §3): two years of a
// PASS programme, its patient files, their applications and decisions,
// their invoices in every status, the claims to the CPAM and the city's
// payouts, written by set-based SQL (generate_series) but for the files'
// sealed identity, which goes through COPY.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/keyring"
)

// programmeWorld is the seeded programme: files opened from the first
// day of the year before the report's year up to yesterday, invoices for
// care over the same days.
type programmeWorld struct {
	today       calendar.Date
	year        int           // the year reported on
	first, last calendar.Date // the seeded days, both included
	patients    int
	invoices    int
	providers   int
}

// reportYear is the year the benchmark reports on: the year of half a year
// ago, so that it always holds at least six months of data and the year
// before it (which the report also computes) a whole year.
func reportYear(today calendar.Date) int { return today.AddDays(-183).Year() }

func newProgrammeWorld(today calendar.Date, patients, invoices int) (programmeWorld, error) {
	if patients < 1 || invoices < patients {
		return programmeWorld{}, fmt.Errorf("bench: programme seed: %d files and %d invoices (at least one file, and an invoice each)", patients, invoices)
	}
	y := reportYear(today)
	return programmeWorld{today: today, year: y, first: calendar.NewDate(y-1, time.January, 1), last: today.AddDays(-1),
		patients: patients, invoices: invoices, providers: max(minProviders, invoices/invoicesPerProvider)}, nil
}

// days is how many days the seed covers.
func (w programmeWorld) days() int {
	return int(w.last.Time().Sub(w.first.Time()).Hours()/24+0.5) + 1
}

// fileOpened is the day file q (0-based) was opened: the files are spread
// evenly over the seeded days.
func (w programmeWorld) fileOpened(q int) calendar.Date {
	return w.first.AddDays(int(int64(q) * int64(w.days()) / int64(w.patients)))
}

// programmeSeedSQL are the seed's statements after the files are copied,
// with the named arguments of programmeWorld.args: @first and @last, the
// seeded days; @today; @files and @invoices, how many; @providers; the
// users @coordinator, who recorded the rights, @preparer and @approver,
// who prepared and approved the payout batches.
//
// seed_files is each file's story: opened on its day (created_at), an
// application filed within two weeks for nine in ten, decided (when the
// decision is before today) after 3 to 35 days for six in ten, 36 to 90
// for three, 91 to 180 for one; one decision in seven a refusal, the
// others opened by regime (puma twelve in twenty, puma_css five, ame
// three) for the regime's period; one decision in 47 corrects an
// earlier one.
var programmeSeedSQL = []string{
	`CREATE TEMP TABLE seed_files ON COMMIT DROP AS
	 WITH p AS (
	     SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS q, (created_at AT TIME ZONE 'Europe/Paris')::date AS opened_on
	     FROM patients),
	 a AS (
	     SELECT p.*, least(opened_on + q % 15, @today::date - 1) AS filed_on, (hashint4(q) & 2147483647) % 100 AS h FROM p),
	 d AS (
	     SELECT a.*, filed_on + CASE WHEN h < 60 THEN 3 + h % 33 WHEN h < 90 THEN 36 + (h * 7) % 55 ELSE 91 + (h * 13) % 90 END AS due
	     FROM a)
	 SELECT id, q, opened_on, q % 10 <> 9 AS applied, filed_on,
	        CASE WHEN q % 10 <> 9 AND due < @today THEN due END AS decided_on,
	        CASE WHEN q % 10 = 9 OR due >= @today THEN NULL WHEN q % 7 = 3 THEN 'refused' ELSE 'opened' END AS decision,
	        (ARRAY['puma','puma','puma','puma','puma','puma','puma','puma','puma','puma','puma','puma',
	               'puma_css','puma_css','puma_css','puma_css','puma_css','ame','ame','ame'])[q % 20 + 1] AS regime,
	        q % 47 = 11 AS corrected
	 FROM d`,
	`ALTER TABLE seed_files ADD COLUMN decided_at timestamptz, ADD COLUMN eff_from date, ADD COLUMN eff_to date`,
	`UPDATE seed_files SET decided_at = (decided_on + make_time(11 + q % 6, q % 60, 0)) AT TIME ZONE 'Europe/Paris',
	        eff_from = CASE regime WHEN 'puma' THEN filed_on - 90 WHEN 'puma_css' THEN date_trunc('month', filed_on)::date
	                               ELSE filed_on - q % 30 END,
	        eff_to = CASE regime WHEN 'puma' THEN NULL WHEN 'puma_css' THEN (date_trunc('month', filed_on) + interval '1 year')::date - 1
	                             ELSE filed_on + 364 END
	 WHERE decision IS NOT NULL`,
	`CREATE UNIQUE INDEX ON seed_files (q)`,
	`ANALYZE seed_files`,
	// The corrected decisions first (an opening whose period began a
	// month late, corrected three days later), then the decisions as they
	// stand.
	`INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, effective_to, reference, filed_on, decided_at,
	                               superseded_at, superseded_by, correction_reason)
	 SELECT id, 'opened', regime, eff_from + 30, eff_to, 'CPAM-' || lpad(q::text, 8, '0') || '-0', filed_on, decided_at - interval '3 days',
	        decided_at, @coordinator, 'date d''effet erronée'
	 FROM seed_files WHERE decision IS NOT NULL AND corrected AND (eff_to IS NULL OR eff_to >= eff_from + 30) ORDER BY decided_at`,
	`INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, effective_to, reference, reason, filed_on, decided_by, decided_at, supersedes)
	 SELECT f.id, f.decision, CASE WHEN f.decision = 'opened' THEN f.regime END,
	        CASE WHEN f.decision = 'opened' THEN f.eff_from END, CASE WHEN f.decision = 'opened' THEN f.eff_to END,
	        CASE WHEN f.decision = 'opened' THEN 'CPAM-' || lpad(f.q::text, 8, '0') END,
	        CASE WHEN f.decision = 'refused' THEN 'ressources au-dessus du plafond' END, f.filed_on, @coordinator, f.decided_at, old.id
	 FROM seed_files f LEFT JOIN rights_decisions old ON old.patient_id = f.id
	 WHERE f.decision IS NOT NULL ORDER BY f.decided_at`,
	`INSERT INTO rights_events (patient_id, kind, regime, filed_on, effective_from, effective_to, reference, reason, actor_id, created_at)
	 SELECT * FROM (
	     SELECT id, 'requested', regime, filed_on, NULL::date, NULL::date, NULL, NULL, @coordinator::bigint,
	            (filed_on + make_time(9 + q % 8, q % 60, 0)) AT TIME ZONE 'Europe/Paris' AS at
	     FROM seed_files WHERE applied
	     UNION ALL
	     SELECT patient_id, decision, regime, filed_on, effective_from, effective_to, reference, reason, @coordinator, decided_at
	     FROM rights_decisions) e
	 ORDER BY at`,
	`UPDATE patients p SET rights_status = coalesce(f.decision, CASE WHEN f.applied THEN 'requested' ELSE 'none' END),
	        rights_regime = CASE WHEN f.decision = 'opened' OR (f.applied AND f.decision IS NULL) THEN f.regime END,
	        rights_filed_on = CASE WHEN f.applied THEN f.filed_on END,
	        rights_effective_from = CASE WHEN f.decision = 'opened' THEN f.eff_from END,
	        rights_effective_to = CASE WHEN f.decision = 'opened' THEN f.eff_to END,
	        rights_reference = CASE WHEN f.decision = 'opened' THEN 'CPAM-' || lpad(f.q::text, 8, '0') END,
	        rights_reason = CASE WHEN f.decision = 'refused' THEN 'ressources au-dessus du plafond' END,
	        rights_decided_at = f.decided_at
	 FROM seed_files f WHERE f.id = p.id AND f.applied`,
	// Each file has its share of the invoices, for care in the half year
	// after its opening (none after the last day: the last files' care is
	// packed into the days left);
	// from a provider picked by a hash. One in fifty is cancelled; the
	// others are released when decided in time (within the 90 days)
	// covering the care date, for the city when refused or not covered,
	// deadline_passed when their deadline passed undecided, and held
	// (pending) otherwise. The CPAM's share is the regime's and provider
	// kind's rate; the city pays the rest.
	`INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, status, decision_reason,
	                       cpam_amount, city_amount, decided_at, created_by, created_at)
	 SELECT i.provider_id, i.patient_id, i.ref, i.care, i.care + 90, i.total, s.status, s.reason,
	        CASE s.status WHEN 'pending' THEN NULL WHEN 'released' THEN round(i.total * i.rate, 2) ELSE 0 END,
	        CASE s.status WHEN 'pending' THEN NULL WHEN 'released' THEN i.total - round(i.total * i.rate, 2)
	                      WHEN 'city_due' THEN i.total ELSE 0 END,
	        CASE s.status WHEN 'pending' THEN NULL WHEN 'cancelled' THEN i.created_at + interval '2 hours'
	                      WHEN 'city_due' THEN CASE WHEN s.reason = 'deadline_passed' THEN (i.care + 91 + time '02:00') AT TIME ZONE 'Europe/Paris'
	                                                ELSE greatest(i.decided_at, i.created_at + interval '1 hour') END
	                      ELSE greatest(i.decided_at, i.created_at + interval '1 hour') END,
	        u.id, i.created_at
	 FROM (
	     SELECT k, f.id AS patient_id, 'B' || lpad(k::text, 9, '0') AS ref, c.care, f.decision, f.decided_on, f.decided_at, f.eff_from, f.eff_to,
	            (2000 + (hashint4(k * 3) & 2147483647) % 13000) / 100.0 AS total,
	            1 + (hashint4(k + 7) & 2147483647) % @providers::int AS provider_id,
	            CASE WHEN f.regime <> 'puma' THEN 1.00
	                 WHEN pr.kind IN ('nurse', 'laboratory') THEN 0.60 WHEN pr.kind = 'pharmacy' THEN 0.65 ELSE 0.70 END AS rate,
	            (c.care + time '18:00') AT TIME ZONE 'Europe/Paris' AS created_at
	     FROM generate_series(0, @invoices::int - 1) k
	     JOIN seed_files f ON f.q = k % @files::int
	     CROSS JOIN LATERAL (SELECT f.opened_on + ((k / @files::int) * 18 + (hashint4(k) & 2147483647) % 18)
	                                 % greatest(1, @last::date - f.opened_on + 1) AS care) c
	     JOIN providers pr ON pr.id = 1 + (hashint4(k + 7) & 2147483647) % @providers::int) i
	 CROSS JOIN LATERAL (SELECT CASE
	         WHEN i.k % 50 = 7 THEN 'cancelled'
	         WHEN i.decided_on <= i.care + 90 AND i.decision = 'opened' AND i.care >= i.eff_from AND i.care <= coalesce(i.eff_to, 'infinity') THEN 'released'
	         WHEN i.decided_on <= i.care + 90 THEN 'city_due'
	         WHEN i.care + 91 < @today THEN 'city_due'
	         ELSE 'pending' END AS status) st
	 CROSS JOIN LATERAL (SELECT st.status, CASE
	         WHEN st.status = 'cancelled' THEN CASE WHEN i.k % 100 = 7 THEN 'withdrawn' ELSE 'voided' END
	         WHEN st.status = 'released' THEN 'rights_opened'
	         WHEN st.status = 'city_due' AND i.decided_on <= i.care + 90 THEN CASE i.decision WHEN 'refused' THEN 'rights_refused' ELSE 'not_covered' END
	         WHEN st.status = 'city_due' THEN 'deadline_passed' END AS reason) s
	 JOIN users u ON u.provider_id = i.provider_id
	 ORDER BY i.care, i.k`,
	// The claims of the released invoices, sent in the monthly batch after
	// their release; a batch is settled 25 days on: nine claims in ten
	// paid (one in thirty of those in part), one in twenty rejected.
	`INSERT INTO claims (invoice_id, amount, status, created_at, rate, batch_id, paid_amount, paid_on, rejection_reason, settled_at,
	                     rights_decision_id, regime, reference)
	 SELECT i.id, i.cpam_amount, s.status, i.decided_at, round(i.cpam_amount / i.total, 3),
	        CASE WHEN s.status <> 'queued' THEN b.n END,
	        CASE WHEN s.status = 'paid' THEN CASE WHEN i.id % 30 = 0 AND i.cpam_amount > 1 THEN i.cpam_amount - 1 ELSE i.cpam_amount END END,
	        CASE WHEN s.status = 'paid' THEN b.sent + 25 END,
	        CASE WHEN s.status = 'rejected' THEN 'droits non retrouvés' END,
	        CASE WHEN s.status IN ('paid', 'rejected') THEN (b.sent + 25 + time '14:00') AT TIME ZONE 'Europe/Paris' END,
	        d.id, d.regime, d.reference
	 FROM invoices i
	 JOIN rights_decisions d ON d.patient_id = i.patient_id AND d.superseded_at IS NULL
	 CROSS JOIN LATERAL (SELECT (date_trunc('month', (i.decided_at AT TIME ZONE 'Europe/Paris')) + interval '1 month')::date AS sent) m
	 CROSS JOIN LATERAL (SELECT m.sent, (extract(year FROM m.sent) * 12 + extract(month FROM m.sent))::int
	                            - (extract(year FROM @first::date) * 12 + extract(month FROM @first::date))::int AS n) b
	 CROSS JOIN LATERAL (SELECT CASE WHEN b.sent >= @today THEN 'queued' WHEN b.sent + 25 >= @today THEN 'transmitted'
	                                 WHEN i.id % 20 = 3 THEN 'rejected' WHEN i.id % 10 = 4 THEN 'transmitted' ELSE 'paid' END AS status) s
	 WHERE i.status = 'released'
	 ORDER BY i.decided_at, i.id`,
	`INSERT INTO claim_batches (id, claim_count, total, created_at, creator)
	 OVERRIDING SYSTEM VALUE
	 SELECT batch_id, count(*), sum(amount), min(created_at) + interval '1 day', 'bench' FROM claims WHERE batch_id IS NOT NULL GROUP BY batch_id`,
	// The city's payouts: an invoice for the city, the city's part of a
	// released one, a rejected claim's amount. Paid on the 10th of the
	// month after, in that month's batch; those after the last paid batch
	// are approved in an open batch (two days ago), or due; one in fifty
	// held, one in a hundred cancelled.
	`INSERT INTO payouts (invoice_id, provider_id, amount, reason, status, created_at, claim_id, batch_id, paid_on, cancelled_at, held_at, hold_reason)
	 SELECT s.invoice_id, s.provider_id, s.amount, s.reason, st.status, s.at, s.claim_id,
	        CASE st.status WHEN 'paid' THEN b.n WHEN 'approved' THEN 1000 END,
	        CASE WHEN st.status = 'paid' THEN b.pay END,
	        CASE WHEN st.status = 'cancelled' THEN s.at + interval '1 day' END,
	        CASE WHEN st.status = 'held' THEN s.at + interval '1 day' END,
	        CASE WHEN st.status = 'held' THEN 'coordonnées bancaires à vérifier' END
	 FROM (
	     SELECT i.id AS invoice_id, i.provider_id, i.city_amount AS amount,
	            CASE WHEN i.status = 'released' THEN 'ticket_moderateur' ELSE i.decision_reason END AS reason, i.decided_at AS at, NULL::bigint AS claim_id
	     FROM invoices i WHERE i.status IN ('released', 'city_due') AND i.city_amount > 0
	     UNION ALL
	     SELECT c.invoice_id, i.provider_id, c.amount, 'cpam_rejected', c.settled_at, c.id
	     FROM claims c JOIN invoices i ON i.id = c.invoice_id WHERE c.status = 'rejected') s
	 CROSS JOIN LATERAL (SELECT (date_trunc('month', (s.at AT TIME ZONE 'Europe/Paris')) + interval '1 month')::date + 9 AS pay) m
	 CROSS JOIN LATERAL (SELECT m.pay, (extract(year FROM m.pay) * 12 + extract(month FROM m.pay))::int
	                            - (extract(year FROM @first::date) * 12 + extract(month FROM @first::date))::int AS n) b
	 CROSS JOIN LATERAL (SELECT CASE WHEN s.invoice_id % 100 = 17 AND s.at < @today::date - 1 THEN 'cancelled'
	                                 WHEN s.invoice_id % 50 = 21 AND s.at < @today::date - 1 THEN 'held'
	                                 WHEN b.pay < @today THEN 'paid'
	                                 WHEN s.at < @today::date - 2 THEN 'approved' ELSE 'due' END AS status) st
	 ORDER BY s.at, s.invoice_id`,
	`INSERT INTO payout_batches (id, status, payout_count, total, ceiling, created_at, creator, submitted_at, prepared_by,
	                             approved_at, approved_by, paid_on, paid_at)
	 OVERRIDING SYSTEM VALUE
	 SELECT batch_id, min(status), count(*), sum(amount), sum(amount), t.at - interval '2 days', 'bench', t.at - interval '1 day', @preparer::bigint,
	        t.at, @approver::bigint, min(paid_on), CASE WHEN min(status) = 'paid' THEN t.at + interval '4 hours' END
	 FROM payouts CROSS JOIN LATERAL (SELECT (coalesce(paid_on, @today::date - 2) + time '10:00') AT TIME ZONE 'Europe/Paris' AS at) t
	 WHERE batch_id IS NOT NULL GROUP BY batch_id, t.at`,
	// Refunds to the CPAM of a few paid claims, recoveries from a few
	// paid providers.
	`INSERT INTO cpam_refunds (invoice_id, claim_id, amount, created_at)
	 SELECT invoice_id, id, least(paid_amount, 5.00), (paid_on + 20 + time '10:00') AT TIME ZONE 'Europe/Paris'
	 FROM claims WHERE status = 'paid' AND id % 200 = 0 AND paid_on + 20 < @today`,
	`INSERT INTO provider_recoveries (invoice_id, provider_id, outcome_no, amount, created_at)
	 SELECT invoice_id, provider_id, outcome_no, least(amount, 10.00), (paid_on + 15 + time '10:00') AT TIME ZONE 'Europe/Paris'
	 FROM payouts WHERE status = 'paid' AND id % 300 = 0 AND paid_on + 15 < @today`,
	`SELECT setval(pg_get_serial_sequence('claim_batches', 'id'), (SELECT max(id) FROM claim_batches)),
	        setval(pg_get_serial_sequence('payout_batches', 'id'), (SELECT max(id) FROM payout_batches))`,
	// The budget: a tenth over what the city spends in the report's year.
	`UPDATE settings SET annual_budget = greatest(annual_budget, round((SELECT sum(amount) FROM payouts
	     WHERE status IN ('paid', 'approved') AND coalesce(paid_on, @today::date) >= @last::date - 364) * 1.1, -3))`,
	// status_counts as its triggers would have kept it.
	`INSERT INTO status_counts (kind, status, n, amount)
	 SELECT 'invoice', status, count(*), sum(total) FROM invoices GROUP BY status
	 UNION ALL SELECT 'payout', status, count(*), sum(amount) FROM payouts GROUP BY status`,
}

// seedProgramme loads the world into the freshly migrated database at
// ownerURL (a superuser's URL: the foreign-key and status-count triggers
// are skipped, as in seedSweep; the CHECKs still hold every row).
func seedProgramme(ctx context.Context, ownerURL string, w programmeWorld, keys *keyring.Ring) error {
	pool, err := db.Open(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("bench: programme seed: %w", err)
	}
	defer pool.Close()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invoices) OR EXISTS (SELECT 1 FROM patients) OR EXISTS (SELECT 1 FROM providers)
				OR EXISTS (SELECT 1 FROM claim_batches) OR EXISTS (SELECT 1 FROM payout_batches)`).Scan(&used); err != nil {
			return fmt.Errorf("bench: programme seed: %w", err)
		}
		if used {
			return errors.New("bench: programme seed: the database is not freshly migrated")
		}
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return fmt.Errorf("bench: programme seed: %w", err)
		}
		users, err := w.seedPeople(ctx, tx, keys)
		if err != nil {
			return err
		}
		args := w.args(users)
		for i, stmt := range programmeSeedSQL {
			if _, err := tx.Exec(ctx, stmt, args); err != nil {
				return fmt.Errorf("bench: programme seed, statement %d: %w", i+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("bench: programme seed: vacuum: %w", err)
	}
	return nil
}

// seedUsers are the users the seed's rows name.
type seedUsers struct{ coordinator, preparer, approver int64 }

func (w programmeWorld) args(u seedUsers) pgx.NamedArgs {
	return pgx.NamedArgs{"first": w.first, "last": w.last, "today": w.today, "files": w.patients, "invoices": w.invoices,
		"providers": w.providers, "coordinator": u.coordinator, "preparer": u.preparer, "approver": u.approver}
}

// seedPeople copies the providers (numbered from 1, one user each, who
// submits their invoices) and the patient files, each opened on its day
// (fileOpened) with its identity sealed under keys, and makes the
// coordinator and the two finance users.
func (w programmeWorld) seedPeople(ctx context.Context, tx pgx.Tx, keys *keyring.Ring) (seedUsers, error) {
	var u seedUsers
	if err := copyRows(ctx, tx, "providers", []string{"id", "kind", "name", "rpps", "finess", "iban", "bic"}, w.providers,
		func(i int, row []any) error {
			fillProvider(row, int64(i+1), providerKinds[i%len(providerKinds)])
			return nil
		}); err != nil {
		return u, err
	}
	ids := make([]int64, w.providers)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if _, err := providerUsers(ctx, tx, "bench-provider-", ids); err != nil {
		return u, err
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('providers', 'id'), $1)`, w.providers); err != nil {
		return u, fmt.Errorf("bench: programme seed: providers: %w", err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ('bench-coordinator', 'coordinator') RETURNING id`).Scan(&u.coordinator); err != nil {
		return u, fmt.Errorf("bench: programme seed: coordinator: %w", err)
	}
	var err error
	if u.preparer, err = financeUser(ctx, tx, "bench-finance-preparer"); err != nil {
		return u, err
	}
	if u.approver, err = financeUser(ctx, tx, "bench-finance-approver"); err != nil {
		return u, err
	}
	return u, w.copyFiles(ctx, tx, keys)
}

// copyFiles copies the patient files, numbered per year of opening as
// passd numbers them, and sets the counters passd numbers the next ones
// from.
func (w programmeWorld) copyFiles(ctx context.Context, tx pgx.Tx, keys *keyring.Ring) error {
	ids, err := reserveIDs(ctx, tx, "patients", w.patients)
	if err != nil {
		return err
	}
	sealer := keys.Sealer()
	counters := map[int]int{}
	if err := copyRows(ctx, tx, "patients", []string{"id", "file_number", "identity_key", "last_name_enc", "first_name_enc", "birth_date_enc",
		"rights_status", "created_at"}, w.patients, func(q int, row []any) error {
		opened := w.fileOpened(q)
		last, first, birth, err := sealedIdentity(sealer, ids[q], "Programme", fmt.Sprintf("Dossier %d", q), calendar.NewDate(1950+q%70, time.Month(1+q%12), 1+q%28))
		if err != nil {
			return err
		}
		counters[opened.Year()]++
		row[0], row[1], row[2], row[3], row[4], row[5] = ids[q], claims.FileNumber(opened.Year(), counters[opened.Year()]), sealer.Key(), last, first, birth
		row[6], row[7] = "none", atParisTime(opened, 9+q%8).Add(time.Duration(q%60)*time.Minute)
		return nil
	}); err != nil {
		return err
	}
	for year, last := range counters {
		if _, err := tx.Exec(ctx, `INSERT INTO file_number_counters (year, last) VALUES ($1, $2)`, year, last); err != nil {
			return fmt.Errorf("bench: programme seed: file numbers: %w", err)
		}
	}
	return nil
}
