// Package rights is the vocabulary of a patient file's rights with the
// CPAM: where an application stands and what moves it. claims records the
// rights; billing reads them to decide invoices; both speak through this
// package: the statuses of a file, the regimes, and the dated periods an
// invoice is decided against (InForce).
//
// It imports calendar and lifecycle.
package rights
