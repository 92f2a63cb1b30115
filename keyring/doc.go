// Package keyring seals patient identity at rest with AES-256-GCM and
// computes the keyed hashes passd looks identity up by. It uses only the Go
// standard library's crypto (crypto/aes, crypto/cipher, crypto/hmac,
// crypto/sha256, crypto/rand).
//
// A ring holds one lookup key and one or more data keys, each 256 bits and
// named by an id. New values are sealed under the current data key; the
// others stay in the ring so that what they sealed can still be opened
// until `passd rotate-key` has sealed it anew. The ring's text form, read
// from PASSD_DATA_KEY or from the file PASSD_DATA_KEY_FILE names, is a list
// of entries separated by newlines, commas or spaces ("#" starts a comment
// line):
//
//	lookup=<base64 of 32 bytes>   the HMAC-SHA-256 key of lookups (exactly one)
//	<id>=<base64 of 32 bytes>     a data key; id is 1–32 of A–Z a–z 0–9 _ -
//	current=<id>                  optional: the data key to seal with;
//	                              without it, the last data key listed
//
// A sealed value is text: "v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>"
// with a random 96-bit nonce. The caller passes associated data naming
// where the value lives (table, column, row), so a value copied to another
// column or row fails to open.
//
// It imports nothing of passd.
package keyring
