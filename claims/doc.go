// Package claims keeps the patient files of the PASS, the rights the CPAM
// grants or refuses them, and the claims passd sends to the CPAM for its
// share of released invoices.
//
// A file's rights move like this; every request and decision is kept in the
// file's history (rights_events), the latest decision is the current one.
// The table is rights.Machine (also the trigger patients_rights_transition):
//
//	none ──request──► requested ──decision──► opened | refused
//	  └───────────────decision (no request needed)──────┘
//	refused ──request──► requested          (a new application)
//	opened ──request──► requested           (once the rights have ended)
//
// A claim is created by billing's release decision, in the transaction that
// decides the invoice, through Store.Queue; at most one claim exists per
// invoice (the schema's claims_invoice_key):
//
//	queued ─► transmitted (in a claim batch) ─► paid | rejected
//	  │           │
//	  └───────────┴─► cancelled (settlement.CancelClaims, after a rights correction)
//
// (settlement.ClaimMachine). What the CPAM does not pay of a claim becomes
// a payout through settlement.OweForClaims, in the return's transaction. A
// claim cancelled once transmitted is withdrawn by a cancellation line in
// exactly one later claim batch (cancel_batch_id, set once); one cancelled
// while queued is never sent. A return line on a cancelled claim changes
// nothing.
//
// Invariants: a file number is unique and never reused (a counter per year);
// an opened decision always carries a regime and a start date; nothing here
// decides an invoice — billing reads a file's current rights.
//
// A file's identity (names, birth date, NIR) is stored only sealed with the
// store's keyring, each value bound to its column and row (identity.go); the
// NIR is unique on its keyed hash. Every answer that carries identity is
// recorded in patient_access_log by the statement or transaction that reads
// it, so identity never leaves unlogged (access.go). The audit log names a
// file, never its identity.
//
// A file is found by part of a name or by its birth date through a blind
// index (patient_search_terms: keyed hashes of the folded names' trigrams,
// of each name whole and of the birth date, cut to 32 bits), which every write of sealed
// identity rewrites (a new file, SealPending, RotateKeys); what the index
// gives is confirmed by opening the candidates, and only what is returned
// is logged (search.go). The work list (Files) carries no identity.
//
// Requests come in as typed values (NewPatient, RightsRequest,
// RightsDecision) whose Validate holds the rules and the limits (the Max
// constants of patient.go), whichever transport built them: the JSON
// handlers in httpapi or the pages in web.
//
// Imports: settlement, rights, journal, audit, keyring, db, text and the
// parsers; never billing, scheduler, Echo nor a transport (api, httpapi).
package claims
