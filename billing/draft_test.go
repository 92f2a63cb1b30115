package billing

import (
	"slices"
	"testing"
)

// TestFitUnderCeiling covers the rule of DraftPayoutBatch without a
// database: oldest first, within the ceiling, stopping at the first payout
// that would go over, passing over one that no batch could hold.
func TestFitUnderCeiling(t *testing.T) {
	t.Parallel()
	due := func(amounts ...string) []duePayout {
		out := make([]duePayout, len(amounts))
		for i, a := range amounts {
			out[i] = duePayout{id: int64(i + 1), amount: cents(a)}
		}
		return out
	}
	tests := []struct {
		name           string
		due            []duePayout
		total, ceiling string // total: what the batch holds from earlier chunks
		wantIDs        []int64
		wantTotal      string
		wantFull       bool
	}{
		{"nothing due", nil, "0", "1000", nil, "0", false},
		{"all fit", due("100", "200.50", "0.01"), "0", "1000", []int64{1, 2, 3}, "300.51", false},
		{"the ceiling reached exactly", due("333.33", "333.33", "333.34"), "0", "1000", []int64{1, 2, 3}, "1000", false},
		{"one cent over the ceiling stops the batch", due("333.33", "333.33", "333.35"), "0", "1000", []int64{1, 2}, "666.66", true},
		{"after the ceiling is reached, the next stops it", due("600", "400", "0.01"), "0", "1000", []int64{1, 2}, "1000", true},
		{"a later, smaller payout does not jump the queue", due("600", "500", "100"), "0", "1000", []int64{1}, "600", true},
		{"one larger than the ceiling alone is passed over", due("1000.01", "200", "5000", "300"), "0", "1000", []int64{2, 4}, "500", false},
		{"one equal to the ceiling alone fills the batch", due("1000", "0.01"), "0", "1000", []int64{1}, "1000", true},
		{"a chunk after an earlier one starts from its total", due("5", "6"), "90", "100", []int64{1}, "95", true},
		{"a chunk after a full earlier one takes nothing", due("0.01"), "100", "100", nil, "100", true},
		{"a ceiling of zero holds nothing", due("0.01", "10"), "0", "0", nil, "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ids, total, full := fitUnderCeiling(tt.due, cents(tt.total), cents(tt.ceiling))
			if !slices.Equal(ids, tt.wantIDs) || !total.Equal(cents(tt.wantTotal)) || full != tt.wantFull {
				t.Fatalf("fitUnderCeiling = %v, %s, full %v; want %v, %s, full %v", ids, total, full, tt.wantIDs, tt.wantTotal, tt.wantFull)
			}
		})
	}
}
