// Package openapi is passd's API contract, openapi.yaml, and what enforces
// it. The document describes every route, its parameters, bodies and
// answers, and lists in each operation's x-roles the roles allowed to call
// it: it is the one table of roles. Guard lets a request through to its
// handler only when its route is in the document, the caller's role is in
// x-roles and the request matches the operation; tests check every answer
// against it with CheckResponse.
//
// It imports api, fault, and Echo.
package openapi
