// Package payout is what the city owes providers: the statuses a payout
// goes through, the reasons money is owed (one vocabulary with an
// invoice's decision reasons), and Owe, which records payouts in the
// caller's transaction with their journal postings and audit rows.
//
// Both billing (which decides invoices) and claims (which reads the CPAM's
// returns) make the city owe money; they depend on this package, never on
// each other. It imports audit, journal, ident, lifecycle and rights, nothing of
// HTTP.
package settlement
