package main

// Payout batches under real concurrency: requests sent at the same moment
// from goroutines against one harness. Goroutines only send (doRaw reports
// a 5xx with t.Errorf, which is goroutine-safe); every answer is checked
// after they are all back. The money invariants are checked by newHarness's
// cleanup at the end of each test.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// raceRequest is one request of a race.
type raceRequest struct {
	method, path, token, body string
}

// race sends every request at once, each from its own goroutine, and
// returns the answers in the order of the requests.
func (h *harness) race(t *testing.T, reqs ...raceRequest) []*httptest.ResponseRecorder {
	t.Helper()
	out := make([]*httptest.ResponseRecorder, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = h.doRaw(t, r.method, r.path, r.token, r.body)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// errorCode returns error.code of an answer ("" for a success).
func errorCode(t *testing.T, what string, rec *httptest.ResponseRecorder) string {
	t.Helper()
	body := decodeObject(t, what, rec)
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// submittedBatches makes n submitted batches of one 10.00 payout each,
// prepared by h.finance, and returns their ids with their payout's id.
func (h *harness) submittedBatches(t *testing.T, n int) (batches, payouts []string) {
	t.Helper()
	h.setRegie(t, "10.00", "1000000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	amounts := make([]string, n)
	for i := range amounts {
		amounts[i] = "10.00"
	}
	h.cityDue(t, gp, h.newPatient(t, "Diallo"), "R", amounts...)
	for range n {
		b := h.pbDraft(t, h.finance, "")
		ps := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts?batch_id="+str(t, b, "id"), h.finance, ""))
		if len(ps) != 1 || fmt.Sprint(b["payout_count"]) != "1" {
			t.Fatalf("batch %v holds payouts %v, want one", b, ps)
		}
		id := str(t, b, "id")
		h.mustDo(t, http.StatusOK, "POST", pbPath(id, "submit"), h.finance, "")
		batches, payouts = append(batches, id), append(payouts, str(t, ps[0], "id"))
	}
	return batches, payouts
}

func TestTwoApproversOfOneBatchAtOnceOnlyOneApproves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	approvers := map[string]string{"finance-c": h.newFinance(t, "finance-c"), "finance-d": h.newFinance(t, "finance-d")}
	const rounds = 20
	batches, payouts := h.submittedBatches(t, rounds)
	wins := map[string]int{}
	for i, id := range batches {
		recs := h.race(t,
			raceRequest{"POST", pbPath(id, "approve"), approvers["finance-c"], ""},
			raceRequest{"POST", pbPath(id, "approve"), approvers["finance-d"], ""})
		var ok []string
		for j, rec := range recs {
			who := []string{"finance-c", "finance-d"}[j]
			switch code := errorCode(t, "approve", rec); {
			case rec.Code == http.StatusOK:
				ok = append(ok, who)
			case rec.Code != http.StatusConflict || code != "batch_status":
				t.Errorf("round %d: %s's approval: status %d %s, want 200 or 409 batch_status: %s", i, who, rec.Code, code, rec.Body)
			}
		}
		if len(ok) != 1 {
			t.Errorf("round %d: %d approvals succeeded (%v), want exactly one", i, len(ok), ok)
			continue
		}
		wins[ok[0]]++
		b := h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, "")
		wantFields(t, fmt.Sprintf("round %d", i), b, map[string]any{"status": "approved", "approved_by": ok[0], "prepared_by": "finance"})
		if got := h.pbPayoutStatuses(t)[payouts[i]]; got != "approved "+id {
			t.Errorf("round %d: payout is %q, want approved in %s", i, got, id)
		}
	}
	t.Logf("approvals won: %v", wins)
	if n := h.count(t, "audit_log", "action = 'payout_batch.approve'"); n != rounds {
		t.Errorf("%d approval audit rows, want %d", n, rounds)
	}
	if n := h.count(t, "audit_log", "action = 'payout.approve'"); n != rounds {
		t.Errorf("%d payout approval audit rows, want %d", n, rounds)
	}
}

func TestApproveAndCancelOfOneBatchAtOnceOnlyOneWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	approver := h.newFinance(t, "finance-c")
	const rounds = 20
	batches, payouts := h.submittedBatches(t, rounds)
	approvedN, cancelledN := 0, 0
	for i, id := range batches {
		recs := h.race(t,
			raceRequest{"POST", pbPath(id, "approve"), approver, ""},
			raceRequest{"POST", pbPath(id, "cancel"), h.finance, ""})
		approve, cancel := recs[0], recs[1]
		for j, rec := range recs {
			if code := errorCode(t, "race", rec); rec.Code != http.StatusOK && (rec.Code != http.StatusConflict || code != "batch_status") {
				t.Errorf("round %d: %s: status %d %s, want 200 or 409 batch_status: %s", i, []string{"approve", "cancel"}[j], rec.Code, code, rec.Body)
			}
		}
		b := h.mustDo(t, http.StatusOK, "GET", pbPath(id), h.admin, "")
		payout := h.pbPayoutStatuses(t)[payouts[i]]
		switch {
		case approve.Code == http.StatusOK && cancel.Code == http.StatusConflict:
			approvedN++
			if b["status"] != "approved" || b["cancelled_at"] != nil || payout != "approved "+id {
				t.Errorf("round %d: approval won, but the batch is %v and its payout %q", i, b, payout)
			}
		case cancel.Code == http.StatusOK && approve.Code == http.StatusConflict:
			cancelledN++
			if b["status"] != "cancelled" || b["approved_by"] != nil || payout != "due -" {
				t.Errorf("round %d: cancellation won, but the batch is %v and its payout %q", i, b, payout)
			}
		default:
			t.Errorf("round %d: approve %d, cancel %d: want exactly one 200", i, approve.Code, cancel.Code)
		}
	}
	t.Logf("approved %d, cancelled %d", approvedN, cancelledN)
	if n := h.count(t, "payouts", "status = 'due'"); n != int64(cancelledN) {
		t.Errorf("%d payouts due, want the %d of the cancelled batches", n, cancelledN)
	}
	// The payouts of the cancelled batches can be batched again.
	if cancelledN > 0 {
		h.setRegie(t, "1000.00", "1000000.00")
		b := h.pbDraft(t, h.finance, "")
		wantFields(t, "batch of the returned payouts", b, map[string]any{"payout_count": cancelledN, "total": fmt.Sprintf("%d.00", 10*cancelledN)})
	}
}

func TestCPAMReturnWhileFinanceDraftsPayoutBatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "100.00", "1000000.00")
	other := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet infirmier", "nurse", "10000000002")

	// 30 claims sent to the CPAM, for patients under AME (the CPAM pays all).
	const claims = 30
	for i := range claims {
		pr := []providerFixture{gp, nurse}[i%2]
		p := h.newPatient(t, fmt.Sprintf("Patient%02d", i))
		h.submit(t, pr, p, fmt.Sprintf("AME-%02d", i), "2026-06-01", anyAct("30.00"))
		h.openRights(t, p, "ame", "2026-05-01")
	}
	h.runJob(t, "release")
	claimBatch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	var claimIDs []string
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims?limit=500", h.referent, "")) {
		if c["status"] != "transmitted" || c["amount"] != "30.00" {
			t.Fatalf("claim %v, want transmitted for 30.00", c)
		}
		claimIDs = append(claimIDs, str(t, c, "id"))
	}
	if len(claimIDs) != claims {
		t.Fatalf("%d claims, want %d", len(claimIDs), claims)
	}
	// And a few payouts already due, so that drafting has work at once.
	h.cityDue(t, gp, h.newPatient(t, "Diallo"), "D", "25.00", "25.00", "25.00")
	if n := h.count(t, "payouts"); n != 3 {
		t.Fatalf("%d payouts before the return, want 3", n)
	}

	// The referent imports the return in five parts, rejecting every claim,
	// while two finance users draft batches in a loop.
	const parts = 5
	returns := make([]*httptest.ResponseRecorder, parts)
	drafts := make([][]*httptest.ResponseRecorder, 2)
	done := make(chan struct{})
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(done)
		<-start
		per := claims / parts
		for k := range parts {
			var lines [][]string
			for _, id := range claimIDs[k*per : (k+1)*per] {
				lines = append(lines, []string{id, "rejected", "assuré inconnu"})
			}
			returns[k] = h.doRaw(t, "POST", "/api/v1/claim-batches/"+claimBatch+"/returns", h.referent, returnJSON(t, lines...))
		}
	}()
	for d, token := range []string{h.finance, other} {
		go func() {
			defer wg.Done()
			<-start
			// Until the return is in, then once more: bounded, in case
			// drafting never says there is nothing left.
			for range 200 {
				finished := false
				select {
				case <-done:
					finished = true
				default:
				}
				drafts[d] = append(drafts[d], h.doRaw(t, "POST", "/api/v1/payout-batches", token, ""))
				if finished {
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	for k, rec := range returns {
		if rec.Code != http.StatusOK {
			t.Fatalf("return part %d: status %d: %s", k+1, rec.Code, rec.Body)
		}
		results := lineResults(t, decodeObject(t, "return", rec))
		if len(results) != claims/parts || slices.ContainsFunc(results, func(r string) bool { return r != "rejected" }) {
			t.Errorf("return part %d: results %v, want all rejected", k+1, results)
		}
	}
	made := 0
	for d, recs := range drafts {
		for _, rec := range recs {
			switch code := errorCode(t, "draft", rec); {
			case rec.Code == http.StatusCreated:
				made++
			case rec.Code != http.StatusConflict || code != "nothing_to_batch":
				t.Errorf("drafter %d: status %d %s, want 201 or 409 nothing_to_batch: %s", d, rec.Code, code, rec.Body)
			}
		}
	}
	// Whatever drafting missed while the return was coming in, it takes now.
	for range claims {
		rec := h.doRaw(t, "POST", "/api/v1/payout-batches", h.finance, "")
		if rec.Code == http.StatusConflict {
			break
		}
		if rec.Code != http.StatusCreated {
			t.Fatalf("draft after the race: status %d: %s", rec.Code, rec.Body)
		}
		made++
	}
	t.Logf("%d batches drafted, %d during the race", made, len(drafts[0])+len(drafts[1]))

	if n := h.count(t, "payouts"); n != 3+claims {
		t.Errorf("%d payouts, want %d (3 due before, one per rejected claim)", n, 3+claims)
	}
	if n := h.count(t, "payouts", "reason = 'cpam_rejected'"); n != claims {
		t.Errorf("%d payouts for rejected claims, want %d", n, claims)
	}
	if n := h.count(t, "payouts", "status <> 'batched' OR batch_id IS NULL"); n != 0 {
		t.Errorf("%d payouts not in a batch after drafting until nothing was left", n)
	}
	if n := h.count(t, "payout_batches"); n != int64(made) {
		t.Errorf("%d batches stored, %d answered 201", n, made)
	}
	h.assertBatchesHoldTheirPayouts(t, "100.00")
	// Each payout went into a batch exactly once.
	if n := h.count(t, "(SELECT entity_id FROM audit_log WHERE action = 'payout.batch' GROUP BY entity_id HAVING count(*) <> 1) x"); n != 0 {
		t.Errorf("%d payouts batched more than once", n)
	}
}

// assertBatchesHoldTheirPayouts checks every batch that is not cancelled
// against its payouts: count and total, total at most ceiling (the one in
// force when they were drafted), and that no payout is counted twice.
func (h *harness) assertBatchesHoldTheirPayouts(t *testing.T, ceiling string) {
	t.Helper()
	rows, err := h.pool.Query(t.Context(), `
		SELECT b.id, b.status, b.payout_count, b.total::text, b.ceiling::text,
		       (SELECT count(*) FROM payouts p WHERE p.batch_id = b.id), (SELECT coalesce(sum(amount), 0)::text FROM payouts p WHERE p.batch_id = b.id)
		FROM payout_batches b ORDER BY b.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var inBatches int64
	for rows.Next() {
		var id, count, n int64
		var status, total, ceil, sum string
		if err := rows.Scan(&id, &status, &count, &total, &ceil, &n, &sum); err != nil {
			t.Fatal(err)
		}
		if ceil != ceiling {
			t.Errorf("batch %d: ceiling %s, want %s", id, ceil, ceiling)
		}
		var tot, c float64
		fmt.Sscan(total, &tot)
		fmt.Sscan(ceil, &c)
		if tot > c {
			t.Errorf("batch %d: total %s above the ceiling %s", id, total, ceil)
		}
		if status == "cancelled" {
			if n != 0 {
				t.Errorf("cancelled batch %d still holds %d payouts", id, n)
			}
			continue
		}
		inBatches += count
		if n != count || sum != total {
			t.Errorf("batch %d (%s): %d payouts for %s, its payouts are %d for %s", id, status, count, total, n, sum)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t, "payouts", "batch_id IS NOT NULL"); n != inBatches {
		t.Errorf("%d payouts in a batch, the batches count %d", n, inBatches)
	}
}

func TestConcurrentDraftsNeverShareAPayout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "30.00", "1000000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet infirmier", "nurse", "10000000002")
	p := h.newPatient(t, "Diallo")
	amounts := make([]string, 20)
	for i := range amounts {
		amounts[i] = []string{"10.00", "5.00", "15.00", "7.50"}[i%4]
	}
	h.cityDue(t, gp, p, "A", amounts...)
	h.cityDue(t, nurse, p, "B", amounts...)
	const payouts = 40

	drafters := []raceRequest{
		{"POST", "/api/v1/payout-batches", h.finance, ""},
		{"POST", "/api/v1/payout-batches", h.newFinance(t, "finance-b"), ""},
		{"POST", "/api/v1/payout-batches", h.newFinance(t, "finance-c"), mustJSON(t, map[string]any{"provider_id": gp.id})},
		{"POST", "/api/v1/payout-batches", h.newFinance(t, "finance-d"), mustJSON(t, map[string]any{"provider_id": nurse.id})},
	}
	// Two passes: draft until nothing is left, cancel every draft, again.
	rounds := 0
	for pass := range 2 {
		for {
			rounds++
			if rounds > 100 {
				t.Fatalf("still drafting after %d rounds", rounds)
			}
			created := 0
			for j, rec := range h.race(t, drafters...) {
				switch code := errorCode(t, "draft", rec); {
				case rec.Code == http.StatusCreated:
					created++
				case rec.Code != http.StatusConflict || code != "nothing_to_batch":
					t.Errorf("pass %d round %d drafter %d: status %d %s: %s", pass, rounds, j, rec.Code, code, rec.Body)
				}
			}
			h.assertBatchesHoldTheirPayouts(t, "30.00")
			// A round where every drafter found nothing means nothing was
			// due: a drafter that locks a payout always takes at least it.
			if created == 0 {
				break
			}
		}
		if n := h.count(t, "payouts", "status = 'due'"); n != 0 {
			t.Fatalf("pass %d: %d payouts left due", pass, n)
		}
		if pass == 0 {
			drafts := ids(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches?status=draft&limit=500", h.finance, ""))
			// Cancelled two at a time, to race with each other too.
			for i := 0; i < len(drafts); i += 2 {
				reqs := []raceRequest{{"POST", pbPath(drafts[i], "cancel"), h.finance, ""}}
				if i+1 < len(drafts) {
					reqs = append(reqs, raceRequest{"POST", pbPath(drafts[i+1], "cancel"), h.finance, ""})
				}
				for _, rec := range h.race(t, reqs...) {
					if rec.Code != http.StatusOK {
						t.Errorf("cancel: status %d: %s", rec.Code, rec.Body)
					}
				}
			}
			if n := h.count(t, "payouts", "status = 'due'"); n != payouts {
				t.Fatalf("%d payouts due after cancelling every draft, want %d", n, payouts)
			}
		}
	}
	t.Logf("%d rounds, %d batches", rounds, h.count(t, "payout_batches"))

	// Each payout is in exactly one batch, the one its audit trail says.
	batchOf := h.pbPayoutStatuses(t)
	if len(batchOf) != payouts {
		t.Fatalf("%d payouts, want %d", len(batchOf), payouts)
	}
	perBatch := map[string]int{}
	for id, s := range batchOf {
		status, batch, _ := strings.Cut(s, " ")
		if status != "batched" || batch == "-" {
			t.Errorf("payout %s is %q, want batched", id, s)
		}
		perBatch[batch]++
	}
	var audit []string
	rows, err := h.pool.Query(t.Context(), `
		SELECT entity_id || ' ' || (array_agg(after->>'batch_id' ORDER BY id) FILTER (WHERE action = 'payout.batch'))[count(*) FILTER (WHERE action = 'payout.batch')]
		       || ' ' || (count(*) FILTER (WHERE action = 'payout.batch') - count(*) FILTER (WHERE action = 'payout.unbatch'))
		FROM audit_log WHERE entity = 'payout' AND action IN ('payout.batch', 'payout.unbatch') GROUP BY entity_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		audit = append(audit, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(audit)
	var want []string
	for id, s := range batchOf {
		_, batch, _ := strings.Cut(s, " ")
		want = append(want, id+" "+batch+" 1")
	}
	sort.Strings(want)
	if !slices.Equal(audit, want) {
		t.Errorf("audit trail (payout, last batch, batched − unbatched) = %v, want %v", audit, want)
	}
	for _, b := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payout-batches?status=draft&limit=500", h.admin, "")) {
		if fmt.Sprint(b["payout_count"]) != fmt.Sprint(perBatch[str(t, b, "id")]) {
			t.Errorf("batch %v: %d payouts point to it", b, perBatch[str(t, b, "id")])
		}
	}
}
