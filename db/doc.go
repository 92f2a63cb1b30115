// Package db opens passd's PostgreSQL pool and runs transactions. It knows
// nothing of the domain: it registers decimal support so amounts never pass
// through float, retries transactions that lost a serialization race or
// whose server failed over before their commit was sent (dropping the
// connections left on a server that no longer takes writes), and
// translates the errors every store shares.
//
// It imports fault.
package db
