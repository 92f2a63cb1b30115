package ident

import (
	"fmt"
	"strconv"
)

// ParseID parses the id of one of passd's rows as a client gives it, in a
// path, a query or a body: the canonical decimal form of a positive
// integer, so that "+1" or "01" name nothing.
func ParseID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		return 0, fmt.Errorf("ident: %q is not an id", raw)
	}
	return id, nil
}

// FormatID renders a row's id as clients, files and audit rows see it:
// ids are opaque strings to them.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
