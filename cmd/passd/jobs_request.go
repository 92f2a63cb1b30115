package main

import (
	"slices"

	"passd/api"
	"passd/fault"
)

// jobToRun checks a POST /jobs/{name}/run request apart from HTTP, so that
// it can be fuzzed: the name must be one of known, and the body, which
// carries nothing, absent or {}.
func jobToRun(known []string, name, contentType string, body []byte) (string, error) {
	if !slices.Contains(known, name) {
		return "", fault.New(fault.NotFound, "no job is called %q", name)
	}
	if err := api.DecodeOptionalBody(contentType, body, nil); err != nil {
		return "", err
	}
	return name, nil
}
