// Package audit appends to passd's audit log. Every state change writes its
// row through Append, in the same transaction as the change, so a change
// without its audit row (or the reverse) cannot be committed. Rows are never
// updated or deleted: a trigger in the schema refuses it, and the
// application's role (passd_app) lacks the privileges. Shortly after it
// is committed, each row is chained to the one before by hash (Seal), so
// that an edit or a deletion by someone with the owner's rights shows in
// Verify.
//
// It imports db.
package audit
