package billing

import (
	"encoding/json"
	"fmt"

	"passd/calendar"
	"passd/fault"
	"passd/ident"
)

// The checks of the payout-batch request bodies, apart from their
// handlers so that they can be fuzzed without HTTP. The provider, invoice
// and settings requests have theirs next to their types.

// validate returns the provider a draft is restricted to, 0 for none.
func (r draftRequest) validate() (int64, error) {
	raw, ok, err := r.ProviderID.OptString("provider_id", 20)
	if err != nil || !ok {
		return 0, err
	}
	id, err := ident.ParseID(raw)
	if err != nil {
		return 0, fault.Field("provider_id", "provider_id must be an id")
	}
	return id, nil
}

// validate returns whether the approver overrides the annual budget.
func (r approveRequest) validate() (bool, error) {
	return r.Override.Bool("override")
}

// validate returns the day the batch was paid.
func (r paidRequest) validate() (calendar.Date, error) {
	return r.PaidOn.Date("paid_on")
}

// ParsePaidOn reads the day a batch was paid as the web form types it
// (YYYY-MM-DD), with the API's rule and error.
func ParsePaidOn(raw string) (calendar.Date, error) {
	var req paidRequest
	if raw != "" {
		body, err := json.Marshal(map[string]string{"paid_on": raw})
		if err != nil {
			return calendar.Date{}, fmt.Errorf("billing: paid_on: %w", err)
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return calendar.Date{}, fmt.Errorf("billing: paid_on: %w", err)
		}
	}
	return req.validate()
}
