package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"passd/db"
)

// Actor is who caused a change: a user, or a job acting for the system.
type Actor struct {
	UserID int64  // 0 for the system (jobs)
	Name   string // a user's name, or "job:release"
}

// Job returns the actor for a scheduled job.
func Job(name string) Actor { return Actor{Name: "job:" + name} }

// Entry is one audit row. Before and After are marshalled to JSON.
type Entry struct {
	Actor    Actor
	Action   string // e.g. "invoice.create", "invoice.decide"
	Entity   string // e.g. "invoice"
	EntityID string
	Before   any
	After    any
}

// Append writes entries in one statement; call it inside the transaction
// that makes the change.
func Append(ctx context.Context, q db.DBTX, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	actorIDs := make([]*int64, n)
	actors := make([]string, n)
	actions := make([]string, n)
	entities := make([]string, n)
	ids := make([]string, n)
	befores := make([][]byte, n)
	afters := make([][]byte, n)
	for i, e := range entries {
		if e.Actor.UserID != 0 {
			id := e.Actor.UserID
			actorIDs[i] = &id
		}
		actors[i], actions[i], entities[i], ids[i] = e.Actor.Name, e.Action, e.Entity, e.EntityID
		var err error
		if befores[i], err = marshal(e.Before); err != nil {
			return fmt.Errorf("audit: %s before: %w", e.Action, err)
		}
		if afters[i], err = marshal(e.After); err != nil {
			return fmt.Errorf("audit: %s after: %w", e.Action, err)
		}
	}
	_, err := q.Exec(ctx, `
		`+Insert+`
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])`,
		actorIDs, actors, actions, entities, ids, jsonbArray(befores), jsonbArray(afters))
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Insert is the head of the one statement shape an audit row is written
// with; the rows it takes are (actor_id, actor, action, entity, entity_id,
// before, after) in that order. Append and AppendSame use it; a store that
// must write its row inside a larger statement (a submission, in one round
// trip) selects those columns after it, never its own column list.
const Insert = `INSERT INTO audit_log (actor_id, actor, action, entity, entity_id, before, after)`

// AppendSame writes one row per id for a change that was the same for
// every entity (a batch of claims transmitted, of payouts approved): the
// before and after documents are encoded once, so memory does not grow
// with a row per entity.
func AppendSame(ctx context.Context, q db.DBTX, actor Actor, action, entity string, ids []int64, before, after any) error {
	if len(ids) == 0 {
		return nil
	}
	b, err := marshal(before)
	if err != nil {
		return fmt.Errorf("audit: %s before: %w", action, err)
	}
	a, err := marshal(after)
	if err != nil {
		return fmt.Errorf("audit: %s after: %w", action, err)
	}
	var actorID *int64
	if actor.UserID != 0 {
		actorID = &actor.UserID
	}
	docs := jsonbArray([][]byte{b, a})
	_, err = q.Exec(ctx, `
		`+Insert+`
		SELECT $1, $2, $3, $4, id::text, $6::jsonb, $7::jsonb FROM unnest($5::bigint[]) WITH ORDINALITY AS u (id, n) ORDER BY n`,
		actorID, actor.Name, action, entity, ids, docs[0], docs[1])
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", action, err)
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// jsonbArray passes raw JSON documents as text so that NULL stays NULL.
func jsonbArray(docs [][]byte) []*string {
	out := make([]*string, len(docs))
	for i, d := range docs {
		if d != nil {
			s := string(d)
			out[i] = &s
		}
	}
	return out
}

// Row is an audit row as read back.
type Row struct {
	ID       int64           `json:"id"`
	At       string          `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
}

// ForEntity returns the audit rows of one entity, oldest first.
func ForEntity(ctx context.Context, q db.DBTX, entity, id string) ([]Row, error) {
	rows, err := q.Query(ctx, `
		SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, action, entity, entity_id,
		       coalesce(before, 'null'::jsonb)::text, coalesce(after, 'null'::jsonb)::text
		FROM audit_log WHERE entity = $1 AND entity_id = $2 AND tenant_id = passd_tenant() ORDER BY id`, entity, id)
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var before, after string
		if err := rows.Scan(&r.ID, &r.At, &r.Actor, &r.Action, &r.Entity, &r.EntityID, &before, &after); err != nil {
			return nil, fmt.Errorf("audit: scan: %w", err)
		}
		r.Before, r.After = json.RawMessage(before), json.RawMessage(after)
		out = append(out, r)
	}
	return out, rows.Err()
}
