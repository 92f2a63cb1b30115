// Package billing holds the providers' invoices while the patient's rights
// are decided, and settles each one exactly once: the CPAM's share becomes a
// claim (through the claims package, behind the ClaimQueue interface), the
// rest becomes a payout the city owes the provider.
//
// The life of an invoice:
//
//	pending ──(rights opened, care date covered)─────────► released  ─► claim (CPAM share) + payout (ticket modérateur, if any)
//	   ├──(rights refused)──────────────────────────────► city_due  ─► payout (all), rights_refused
//	   ├──(rights opened, care date not covered)─────────► city_due  ─► payout (all), not_covered
//	   ├──(covered, but past the CPAM's two-year limit)──► city_due  ─► payout (all), prescribed
//	   ├──(deadline passed, no covering rights in time)──► city_due  ─► payout (all), deadline_passed
//	   └──(withdrawn by its provider / voided)───────────► cancelled
//
// Invariants, each enforced by PostgreSQL and not only here:
//   - pending is left once: every decision is a guarded
//     UPDATE … WHERE status = 'pending' in the transaction that writes the
//     claim, payouts and audit rows, and a trigger refuses any later move;
//   - a decided invoice's cpam_amount + city_amount = total (check
//     constraint), the claim equals cpam_amount and the decision's payout
//     equals city_amount; at most one claim and one decision payout exist per
//     invoice (unique keys);
//   - shares are computed per line: CPAM share = line total × rate rounded
//     half-up to the cent, the city's share is the exact remainder;
//   - a payout batch's total is the gross of its payouts, its offset_total
//     the recoveries from its providers it deducts (each whole, each
//     provider still receiving at least a cent), and its SEPA file pays
//     the difference; a recovery is deducted from one batch at a time
//     (offset_batch_id) and journal.Check holds both sums.
//
// The statuses are typed values whose machines (InvoiceMachine,
// BatchMachine, settlement.PayoutMachine) the stores, handlers and pages
// ask; the triggers hold the same tables (migrations/machines_test.go).
//
// The rights of a file are read from the patients table that the claims
// package writes: that schema is the contract between the two packages,
// which never import each other. What both need — the money's statuses and
// reasons, and settlement.Owe — is in package settlement; rights statuses
// in package rights. billing imports neither claims nor scheduler (its
// sweeps read shutdown.Requested) nor any transport: the JSON handlers are
// in package httpapi, the pages in web, and both build this package's
// typed values (Provider, NewInvoice, Settings) and call their Validate.
package billing
