// Package cpamfile reads and writes the files passd exchanges with the CPAM:
// the claim batch it sends (claims, and cancellations of claims sent
// earlier that a rights correction withdrew), and the return in which the
// CPAM says, claim by claim, whether it paid or rejected.
//
// The CPAM's own flows (norme B2 for invoices, NOEMIE for returns) are
// licensed formats, so passd speaks a documented, versioned format of its
// own, in JSON and in CSV (docs/claims-export.md). Writers sit behind the
// Writer interface so that a B2 writer can be added without touching the
// callers.
//
// Invariants a writer enforces while it streams, so that a batch file never
// contradicts itself:
//   - every claim has at least one line, and its amount is exactly the sum of
//     its lines' CPAM shares;
//   - amounts are non-negative with at most two decimals;
//   - every claim and cancellation has a known kind (claim or recovery);
//   - a cancellation names the earlier batch that sent its claim, and a date;
//   - the batch header's counts and total equal the claims and the
//     cancellations written.
//
// A writer that finds a broken invariant returns an error after part of the
// file may already be written: the caller must discard the output.
//
// ParseReturn trusts nothing: any malformed line makes the whole return
// invalid, and the error (a *fault.Error) names the line and field at fault
// with a JSON path such as "lines[2].paid_amount", for JSON and CSV alike.
// What a valid return does to claims is decided by the claims package.
package cpamfile
