package lifecycle

import (
	"slices"
	"testing"
)

type (
	state  string
	action string
)

var door = New([]state{"open", "closed", "locked"},
	Edge[state, action]{Action: "close", From: []state{"open"}, To: "closed"},
	Edge[state, action]{Action: "open", From: []state{"closed"}, To: "open"},
	Edge[state, action]{Action: "lock", From: []state{"closed"}, To: "locked"},
	Edge[state, action]{Action: "unlock", From: []state{"locked"}, To: "closed"},
)

func TestMachineAnswersEveryPair(t *testing.T) {
	want := map[[2]string]string{
		{"open", "close"}: "closed", {"closed", "open"}: "open", {"closed", "lock"}: "locked", {"locked", "unlock"}: "closed",
	}
	for _, s := range door.States() {
		for _, a := range door.Actions() {
			next, ok := door.Next(s, a)
			to, allowed := want[[2]string{string(s), string(a)}]
			if ok != allowed || door.Allowed(s, a) != allowed || string(next) != to {
				t.Errorf("%s --%s--> %q, %v; want %q, %v", s, a, next, ok, to, allowed)
			}
		}
	}
	if door.Allowed("open", "fly") {
		t.Error("an undeclared action is allowed")
	}
	if got := door.From("unlock"); !slices.Equal(got, []state{"locked"}) {
		t.Errorf("From(unlock) = %v", got)
	}
	if door.Target("lock") != "locked" || !door.Valid("locked") || door.Valid("ajar") {
		t.Error("Target or Valid is wrong")
	}
}

func TestNewRefusesABadTable(t *testing.T) {
	for name, edges := range map[string][]Edge[state, action]{
		"unknown state": {{Action: "x", From: []state{"open"}, To: "ajar"}},
		"action twice":  {{Action: "x", From: []state{"open"}, To: "closed"}, {Action: "x", From: []state{"closed"}, To: "open"}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New accepted the table")
				}
			}()
			New([]state{"open", "closed"}, edges...)
		})
	}
}
