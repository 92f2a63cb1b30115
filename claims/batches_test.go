package claims

import (
	"fmt"
	"testing"

	"passd/calendar"
	"passd/fault"
	"passd/settlement"
)

// TestBatchFilterArgs: a batch filter reads as the values its SQL takes
// (open, with rejections, the days; nil for either), and a status or a
// choice of rejections that is none is refused, never read as every batch.
func TestBatchFilterArgs(t *testing.T) {
	t.Parallel()
	june := func(d int) calendar.Date { return calendar.NewDate(2026, 6, d) }
	cases := []struct {
		f    BatchFilter
		want string
	}{
		{BatchFilter{}, "[<nil> <nil> <nil> <nil>]"},
		{BatchFilter{Status: settlement.ClaimBatchOpen}, "[true <nil> <nil> <nil>]"},
		{BatchFilter{Status: settlement.ClaimBatchSettled, Rejections: WithRejections}, "[false true <nil> <nil>]"},
		{BatchFilter{Rejections: WithoutRejections, CreatedFrom: june(12)}, "[<nil> false 2026-06-12 <nil>]"},
		{BatchFilter{CreatedFrom: june(1), CreatedTo: june(30)}, "[<nil> <nil> 2026-06-01 2026-06-30]"},
	}
	for _, c := range cases {
		args, err := c.f.args()
		if err != nil {
			t.Fatalf("%+v: %v", c.f, err)
		}
		var got []string
		for _, a := range args {
			got = append(got, shown(a))
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("%+v reads as %v, want %s", c.f, got, c.want)
		}
	}
	for _, f := range []BatchFilter{{Status: "closed"}, {Rejections: "some"}} {
		_, err := f.args()
		if fe, ok := fault.As(err); !ok || fe.Code != fault.Invalid {
			t.Errorf("%+v: %v, want an invalid filter", f, err)
		}
	}
}

// shown is an argument of BatchFilter.args as the cases write it.
func shown(a any) string {
	switch v := a.(type) {
	case *bool:
		if v != nil {
			return fmt.Sprint(*v)
		}
	case *calendar.Date:
		if v != nil {
			return v.String()
		}
	default:
		return fmt.Sprintf("%T", a)
	}
	return "<nil>"
}
