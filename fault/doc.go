// Package fault is passd's one error model. Every error a client can cause
// carries a code, a human message and, when one field is to blame, the
// field's JSON path (for example "lines[2].unit_price"). The HTTP layer maps
// codes to statuses in one place; everything else just returns the error.
//
// It imports nothing of passd.
package fault
