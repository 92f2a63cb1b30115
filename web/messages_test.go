package web

import (
	"strconv"
	"strings"
	"testing"

	"passd/billing"
	"passd/claims"
)

// TestEveryMessageReadsWell: no message is blank or carries a formatting
// slip, every form has its two summaries, and the limits come from the
// domains' constants.
func TestEveryMessageReadsWell(t *testing.T) {
	forms := map[string]bool{}
	for k, m := range messages {
		if strings.TrimSpace(m) == "" || strings.Contains(m, "%!") {
			t.Errorf("%+v: %q", k, m)
		}
		if k.form != "line" {
			forms[k.form] = true
		}
	}
	for form := range forms {
		for _, why := range []string{whyUnread, whyNotSaved} {
			if messages[messageKey{form, "", why}] == "" {
				t.Errorf("form %s has no %s summary", form, why)
			}
		}
	}
	for key, limit := range map[messageKey]int{
		{"patient", "last_name", ""}:    claims.MaxNameLength,
		{"decision", "reason", ""}:      claims.MaxReasonLength,
		{"invoice", "external_ref", ""}: billing.MaxExternalRef,
		{"line", "quantity", ""}:        billing.MaxQuantity,
	} {
		if !strings.Contains(messages[key], strconv.Itoa(limit)+" ") && !strings.HasSuffix(messages[key], strconv.Itoa(limit)+".") {
			t.Errorf("%+v does not state its limit %d: %q", key, limit, messages[key])
		}
	}
}
