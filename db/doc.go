// Package db opens passd's PostgreSQL pool and runs transactions. It knows
// nothing of the domain: it registers decimal support so amounts never pass
// through float, retries transactions that lost a serialization race, and
// translates the errors every store shares.
//
// It imports fault.
package db
