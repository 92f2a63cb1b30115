// Package keyringtest gives tests a fresh keyring of random keys, as
// httptest gives them a server.
//
// It imports keyring.
package keyringtest
