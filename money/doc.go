// Package money parses, formats and splits euro amounts.
//
// Amounts are shopspring decimals, never floats: an invoice must add up to
// the cent, and the split between the CPAM and the city must leave nothing
// lost or created by rounding. Amounts are non-negative and carry at most
// two decimals; this package rejects anything else at the boundary so that
// the rest of passd can rely on it.
//
// It imports nothing of passd.
package money
