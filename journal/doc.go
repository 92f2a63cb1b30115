// Package journal keeps passd's double-entry books. Every movement of money
// (a claim queued, paid or rejected, a payout due or paid) posts one
// balanced transaction in the same database transaction as the movement:
// the debit line and the credit line of one amount. Lines are never
// changed; a correction is a reversing transaction.
//
// The accounts, from the city's PASS point of view:
//   - provider_payable: what providers are owed for held care (credit balance);
//   - cpam_receivable:  the part of it the CPAM is expected to pay (debit balance);
//   - pass_expense:     what the city takes on its PASS budget (debit balance);
//   - regie_bank:       what the régie has paid out (credit balance).
//
// It imports db.
package journal
