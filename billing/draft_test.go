package billing

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
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

// TestPickOffsets covers which recoveries a draft deducts, without a
// database: oldest first, each whole, while the provider still receives at
// least a cent; one that does not fit is passed over, a later smaller one
// may be taken; a provider the batch does not pay has nothing deducted.
func TestPickOffsets(t *testing.T) {
	t.Parallel()
	open := func(specs ...string) []openRecovery { // "provider:amount"
		out := make([]openRecovery, len(specs))
		for i, s := range specs {
			var provider int64
			var amount string
			if _, err := fmt.Sscanf(s, "%d:%s", &provider, &amount); err != nil {
				t.Fatal(err)
			}
			out[i] = openRecovery{id: int64(i + 1), providerID: provider, amount: cents(amount)}
		}
		return out
	}
	tests := []struct {
		name      string
		gross     map[int64]string
		open      []openRecovery
		wantIDs   []int64
		wantTotal string
	}{
		{"nothing to deduct", map[int64]string{1: "50"}, nil, nil, "0"},
		{"one deducted, the rest paid", map[int64]string{1: "50"}, open("1:21"), []int64{1}, "21"},
		{"a cent must be left", map[int64]string{1: "30"}, open("1:29.99"), []int64{1}, "29.99"},
		{"nothing left is refused", map[int64]string{1: "30"}, open("1:30"), nil, "0"},
		{"larger than the batch waits", map[int64]string{1: "20"}, open("1:30"), nil, "0"},
		{"oldest first, until the net would go under a cent", map[int64]string{1: "50"}, open("1:20", "1:20", "1:20"), []int64{1, 2}, "40"},
		{"a later, smaller one still fits", map[int64]string{1: "50"}, open("1:45", "1:10", "1:4"), []int64{1, 3}, "49"},
		{"each provider on its own net", map[int64]string{1: "50", 2: "10"}, open("2:9", "1:30", "2:5", "1:19"), []int64{1, 2, 4}, "58"},
		{"a provider not in the batch", map[int64]string{1: "50"}, open("3:1"), nil, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gross := map[int64]decimal.Decimal{}
			for id, g := range tt.gross {
				gross[id] = cents(g)
			}
			ids, total := pickOffsets(gross, tt.open)
			if !slices.Equal(ids, tt.wantIDs) || !total.Equal(cents(tt.wantTotal)) {
				t.Fatalf("pickOffsets = %v, %s; want %v, %s", ids, total, tt.wantIDs, tt.wantTotal)
			}
		})
	}
}
