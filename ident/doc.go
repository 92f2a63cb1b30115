// Package ident validates identifiers that come from outside passd (forms,
// imports, CPAM returns): NIR, RPPS, FINESS, IBAN, BIC and act codes.
//
// Nothing typed by a human or sent by another system is trusted. Each parser
// takes the raw string, tolerates what people habitually add (surrounding
// spaces, inner spaces in NIR and IBAN, lower case), and returns one
// canonical form, so that two spellings of the same identifier compare equal
// once stored. Only ASCII letters are upper-cased: a Unicode look-alike is
// rejected rather than folded into a valid code.
//
// Errors are short English messages prefixed by "ident:", fit to show to a
// user next to the offending field.
//
// It imports nothing of passd.
package ident
