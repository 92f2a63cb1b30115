package api

import "math"

// Integer returns a required JSON integer of any size an int holds, for a
// caller whose domain value checks its bounds (its Validate).
func (v Value) Integer(field string) (int, error) { return v.Int(field, math.MinInt, math.MaxInt) }
