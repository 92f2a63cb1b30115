package lifecycle

import (
	"fmt"
	"slices"
)

// Edge is one action: from any of From, it leads to To.
type Edge[S, A ~string] struct {
	Action A
	From   []S
	To     S
}

// Machine is a finite state machine in which each action leads to one
// state. The zero Machine allows nothing.
type Machine[S, A ~string] struct {
	states  []S
	actions []A
	edges   map[A]Edge[S, A]
}

// New returns the machine over states with the given edges. It panics on a
// table that names a state not in states or an action twice: machines are
// package-level values, so a bad table fails at start-up and in every test.
func New[S, A ~string](states []S, edges ...Edge[S, A]) Machine[S, A] {
	m := Machine[S, A]{states: slices.Clone(states), edges: make(map[A]Edge[S, A], len(edges))}
	for _, e := range edges {
		if _, dup := m.edges[e.Action]; dup {
			panic(fmt.Sprintf("lifecycle: action %q declared twice", e.Action))
		}
		for _, s := range append(slices.Clone(e.From), e.To) {
			if !slices.Contains(states, s) {
				panic(fmt.Sprintf("lifecycle: action %q names unknown state %q", e.Action, s))
			}
		}
		m.edges[e.Action] = Edge[S, A]{Action: e.Action, From: slices.Clone(e.From), To: e.To}
		m.actions = append(m.actions, e.Action)
	}
	return m
}

// Allowed reports whether action may be taken from state.
func (m Machine[S, A]) Allowed(from S, action A) bool {
	e, ok := m.edges[action]
	return ok && slices.Contains(e.From, from)
}

// Next is the state action leads to from state; false when it is not
// allowed there.
func (m Machine[S, A]) Next(from S, action A) (S, bool) {
	if !m.Allowed(from, action) {
		var zero S
		return zero, false
	}
	return m.edges[action].To, true
}

// From lists the states action may be taken from, in the table's order.
func (m Machine[S, A]) From(action A) []S { return slices.Clone(m.edges[action].From) }

// Target is the state action leads to, wherever it is allowed.
func (m Machine[S, A]) Target(action A) S { return m.edges[action].To }

// States lists every state, in the table's order.
func (m Machine[S, A]) States() []S { return slices.Clone(m.states) }

// Actions lists every action, in the table's order.
func (m Machine[S, A]) Actions() []A { return slices.Clone(m.actions) }

// Valid reports whether s is one of the machine's states.
func (m Machine[S, A]) Valid(s S) bool { return slices.Contains(m.states, s) }

// Labels names each value of a status or reason type in the words people
// read (French, for passd's pages and spreadsheets).
type Labels[K ~string] map[K]string

// Of is k's label; a value with none reads as itself, so that a missing
// label shows rather than hides (each package tests that none is missing).
func (l Labels[K]) Of(k K) string {
	if label, ok := l[k]; ok {
		return label
	}
	return string(k)
}
