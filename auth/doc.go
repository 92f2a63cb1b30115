// Package auth knows passd's users, their roles and their bearer tokens.
//
// A token is 32 random bytes (256 bits), shown once and stored only as its
// SHA-256: a database leak gives no usable token. Every user has exactly one
// role; a provider user is bound to exactly one provider (the schema
// enforces it).
//
// It imports audit, db, fault, and Echo.
package auth
