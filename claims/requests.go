package claims

import (
	"strings"

	"passd/api"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
)

// The checks of the patient and rights request bodies, apart from their
// handlers so that they can be fuzzed without HTTP. The rights decision
// has its own next to its type.

// validate checks a new patient file; today bounds the birth date.
func (r newPatientRequest) validate(today calendar.Date) (NewPatient, error) {
	var np NewPatient
	var err error
	if np.LastName, err = r.LastName.String("last_name", 100); err != nil {
		return np, err
	}
	if np.FirstName, err = r.FirstName.String("first_name", 100); err != nil {
		return np, err
	}
	if np.BirthDate, err = r.BirthDate.Date("birth_date"); err != nil {
		return np, err
	}
	if np.BirthDate.After(today) || np.BirthDate.Before(today.AddYears(-130)) {
		return np, fault.Field("birth_date", "birth_date must be in the past and plausible")
	}
	nir, ok, err := r.NIR.OptString("nir", 32)
	if err != nil {
		return np, err
	}
	if ok {
		if np.NIR, err = ident.ParseNIR(nir); err != nil {
			return np, fault.Field("nir", "nir is not a valid NIR: %s", strings.TrimPrefix(err.Error(), "ident: "))
		}
	}
	return np, nil
}

// validate checks a rights application.
func (r rightsRequestBody) validate() (RightsRequest, error) {
	var req RightsRequest
	var err error
	if req.Regime, err = r.Regime.Enum("regime", Regimes...); err != nil {
		return req, err
	}
	req.FiledOn, err = r.FiledOn.Date("filed_on")
	return req, err
}

// ParseNewPatient applies POST /patients' rules to a JSON body, for callers
// that build one from something else (the web form); today bounds the
// birth date.
func ParseNewPatient(body []byte, today calendar.Date) (NewPatient, error) {
	var r newPatientRequest
	if err := api.DecodeBytes(body, &r); err != nil {
		return NewPatient{}, err
	}
	return r.validate(today)
}

// ParseRightsRequest applies POST /patients/{id}/rights-request's rules to
// a JSON body.
func ParseRightsRequest(body []byte) (RightsRequest, error) {
	var r rightsRequestBody
	if err := api.DecodeBytes(body, &r); err != nil {
		return RightsRequest{}, err
	}
	return r.validate()
}

// ParseRightsDecision applies POST /patients/{id}/rights-decision's rules
// to a JSON body.
func ParseRightsDecision(body []byte) (RightsDecision, error) {
	var r rightsDecisionBody
	if err := api.DecodeBytes(body, &r); err != nil {
		return RightsDecision{}, err
	}
	return r.validate()
}
