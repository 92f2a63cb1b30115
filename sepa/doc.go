// Package sepa writes the SEPA credit-transfer files (ISO 20022
// pain.001.001.03, "CustomerCreditTransferInitiationV03") that the city's
// régie hands to its bank to pay providers.
//
// A file is one message with one payment batch (PmtInf) from the régie's
// account, executed on one date, holding one transaction (CdtTrfTxInf) per
// provider payment. Write streams it: the header, which carries the number
// of transactions and their sum, is written first from totals the caller
// computed beforehand, then each transaction as it comes from the caller's
// iterator, so that a batch of any size is never held in memory.
//
// Invariants of a file Write completes without error:
//
//   - it validates against the official XSD (Validate checks that with
//     xmllint, for tests);
//   - NbOfTxs and CtrlSum, in the header and in the batch, equal the count
//     and the sum of the transactions written;
//   - every EndToEndId is unique within the file;
//   - every amount is positive, in euros, with exactly two decimals;
//   - all free text is in the EPC's restricted Latin character set (see
//     Text), within the lengths the schema and the rulebook allow.
//
// The XSD checks only structure, types and lengths; the last four points are
// checked here. When Write returns an error the output is incomplete (it may
// stop in the middle of an element) and must be discarded: a bank must never
// receive it.
//
// It imports calendar, ident.
package sepa
