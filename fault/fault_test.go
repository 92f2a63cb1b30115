package fault

import (
	"errors"
	"testing"
)

func TestCollectKeepsEveryErrorAndFirstAnswersTheFirst(t *testing.T) {
	var errs []error
	keep := Collect(&errs)
	a, b := Field("name", "name is required"), errors.New("second")
	keep(nil)
	keep(a)
	keep(nil)
	keep(b)
	if len(errs) != 2 || errs[0] != error(a) || errs[1] != b {
		t.Fatalf("collected %v, want [%v %v]", errs, a, b)
	}
	if got := First(errs); got != error(a) {
		t.Errorf("First = %v, want %v", got, a)
	}
	if got := First(nil); got != nil {
		t.Errorf("First(nil) = %v, want nil", got)
	}
}
