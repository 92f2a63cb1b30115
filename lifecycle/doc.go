// Package lifecycle describes, as data, the states a record of passd goes
// through and the actions that move it: an invoice, a claim, a payout, a
// payout batch, a claim batch, a file's rights. Each domain package declares
// its machine once with New; its store, the JSON handlers and the web pages
// all ask that machine whether an action is allowed, and a test walks every
// (state, action) pair against the database's triggers, so that the Go table
// and PostgreSQL cannot drift apart.
//
// It imports nothing of passd.
//
// It imports nothing of passd.
package lifecycle
