package claims

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"passd/audit"
	"passd/calendar"
	"passd/db/dbtest"
	"passd/fault"
	"passd/keyring/keyringtest"
	"passd/rights"
)

// TestFileNumbersAreUniqueAndCountPerYear creates files concurrently across
// a new year in Paris: numbers never repeat and restart at 1 each year.
func TestFileNumbersAreUniqueAndCountPerYear(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	// 23:30 UTC on 31 December is already the new year in Paris.
	now := time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC)
	s := NewStore(pool, keyringtest.New(t), func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	var actor audit.Actor
	if err := pool.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ('c', 'coordinator') RETURNING id`).Scan(&actor.UserID); err != nil {
		t.Fatal(err)
	}
	create := func(n int) []string {
		var wg sync.WaitGroup
		numbers := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := s.CreatePatient(ctx, actor, NewPatient{LastName: "L", FirstName: "F", BirthDate: calendar.NewDate(1990, 1, 1)})
				if err != nil {
					t.Error(err)
					return
				}
				numbers[i] = p.FileNumber
			}()
		}
		wg.Wait()
		return numbers
	}
	seen := map[string]bool{}
	check := func(numbers []string, year, n int) {
		t.Helper()
		for i := 1; i <= n; i++ {
			seen[FileNumber(year, i)] = false
		}
		for _, fn := range numbers {
			if done, ok := seen[fn]; !ok || done {
				t.Fatalf("file number %s is unexpected or repeated (got %v)", fn, numbers)
			}
			seen[fn] = true
		}
	}
	check(create(20), 2026, 20)
	mu.Lock()
	now = time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	mu.Unlock()
	check(create(5), 2027, 5)
	if FileNumber(2026, 42) != "PASS-2026-000042" {
		t.Fatalf("FileNumber(2026, 42) = %s", FileNumber(2026, 42))
	}
}

func TestRightsHistoryKeepsEveryStep(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := NewStore(pool, keyringtest.New(t), func() time.Time { return time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC) })
	var coord, referent audit.Actor
	_ = pool.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ('c', 'coordinator') RETURNING id`).Scan(&coord.UserID)
	_ = pool.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ('r', 'cpam_referent') RETURNING id`).Scan(&referent.UserID)
	p, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "L", FirstName: "F", BirthDate: calendar.NewDate(1990, 1, 1), NIR: "290049935012309"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePatient(ctx, coord, NewPatient{LastName: "X", FirstName: "Y", BirthDate: calendar.NewDate(1991, 1, 1), NIR: "290049935012309"}); !fault.Is(err, fault.Conflict) {
		t.Fatalf("second file with the same NIR: %v, want conflict", err)
	}
	steps := []func() (Patient, error){
		func() (Patient, error) {
			return s.RequestRights(ctx, coord, p.ID, RightsRequest{Regime: "puma", FiledOn: calendar.NewDate(2026, 5, 1)})
		},
		func() (Patient, error) {
			return s.DecideRights(ctx, referent, p.ID, RightsDecision{Decision: "refused", Reason: "no"})
		},
		func() (Patient, error) {
			return s.RequestRights(ctx, coord, p.ID, RightsRequest{Regime: "ame", FiledOn: calendar.NewDate(2026, 5, 20)})
		},
		func() (Patient, error) {
			return s.DecideRights(ctx, referent, p.ID, RightsDecision{Decision: "opened", Regime: "ame",
				EffectiveFrom: calendar.NewDate(2026, 4, 20), EffectiveTo: calendar.NewDate(2027, 5, 19), Reference: "AME-1", Caisse: "931"})
		},
	}
	wantStatus := []rights.Status{rights.Requested, rights.Refused, rights.Requested, rights.Opened}
	for i, step := range steps {
		got, err := step()
		if err != nil || got.Rights.Status != wantStatus[i] {
			t.Fatalf("step %d: %s, %v; want %s", i, got.Rights.Status, err, wantStatus[i])
		}
	}
	if _, err := s.RequestRights(ctx, coord, p.ID, RightsRequest{Regime: "puma", FiledOn: calendar.NewDate(2026, 5, 30)}); !fault.Is(err, fault.Conflict) {
		t.Fatalf("request while rights are open: %v, want conflict", err)
	}
	got, history, err := s.Patient(ctx, coord, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rights.Regime != "ame" || got.Rights.EffectiveFrom != calendar.NewDate(2026, 4, 20) || got.Rights.Reference != "AME-1" {
		t.Fatalf("current rights %+v", got.Rights)
	}
	// Each decision is a row of the file's history, with the application
	// it answers.
	var decisions []string
	for _, d := range got.Decisions {
		decisions = append(decisions, fmt.Sprintf("%s %s %s %s %s %s by %s", d.Decision, d.Regime, d.EffectiveFrom, d.Reference, d.Caisse, d.FiledOn, d.DecidedBy))
	}
	want := []string{"refused     2026-05-01 by r", "opened ame 2026-04-20 AME-1 931 2026-05-20 by r"}
	if !slices.Equal(decisions, want) {
		t.Fatalf("decisions %q, want %q", decisions, want)
	}
	var kinds []rights.Status
	for _, e := range history {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 4 || kinds[0] != "requested" || kinds[1] != "refused" || kinds[2] != "requested" || kinds[3] != "opened" {
		t.Fatalf("history %v", kinds)
	}
	var audits int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE entity = 'patient' AND entity_id = $1`, strconv.FormatInt(p.ID, 10)).Scan(&audits); err != nil || audits != 5 {
		t.Fatalf("%d audit rows for the file, want 5 (create + 4 steps): %v", audits, err)
	}
}
