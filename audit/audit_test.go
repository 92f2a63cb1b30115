package audit_test

import (
	"context"
	"testing"

	"passd/audit"
	"passd/db/dbtest"
)

func TestAppendSameWritesOneRowPerEntityInOrder(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	actor := audit.Job("claim-batch")
	if err := audit.AppendSame(ctx, pool, actor, "claim.transmit", "claim", nil, nil, map[string]any{"status": "transmitted"}); err != nil {
		t.Fatal(err)
	}
	ids := []int64{30, 10, 20}
	if err := audit.AppendSame(ctx, pool, actor, "claim.transmit", "claim", ids,
		map[string]any{"status": "queued"}, map[string]any{"status": "transmitted", "batch_id": "7"}); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT entity_id, actor, actor_id IS NULL, before::text, after::text FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, who, before, after string
		var system bool
		if err := rows.Scan(&id, &who, &system, &before, &after); err != nil {
			t.Fatal(err)
		}
		if who != "job:claim-batch" || !system || before != `{"status": "queued"}` || after != `{"status": "transmitted", "batch_id": "7"}` {
			t.Errorf("row %s: actor %q system %v before %s after %s", id, who, system, before, after)
		}
		got = append(got, id)
	}
	if len(got) != 3 || got[0] != "30" || got[1] != "10" || got[2] != "20" {
		t.Errorf("rows for %v, want 30, 10, 20 (and none for an empty list)", got)
	}
}
