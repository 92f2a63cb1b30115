// Package rights is the vocabulary of a patient file's rights with the
// CPAM: where an application stands and what moves it. claims records the
// rights; billing reads them to decide invoices; both speak through this
// package, which imports only lifecycle.
//
// It imports lifecycle.
package rights
