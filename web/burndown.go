package web

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/programme"
)

// burnDown is the year's budget month by month: what is left of the
// envelope at the end of each month, drawn as a line falling from the
// envelope beside the even pace (the envelope spread over twelve months),
// with its numbers in a table.
type burnDown struct {
	Envelope    string
	Months      []burnMonth
	Line, Pace  string // SVG polyline points
	Ticks       []burnTick
	Overspent   bool
	Width, Base int // the SVG's width, and the y of the axis
}

type burnMonth struct {
	Label, Used, Left string
	X                 int // where the month's end is drawn
	Initial           string
}

type burnTick struct {
	Label string
	Y     int
}

// The drawing's frame, in SVG units: the plot starts right of the y
// labels; a month is monthStep wide; the envelope is at plotTop and the
// lowest value at plotBottom.
const (
	plotLeft   = 96
	monthStep  = 30
	plotTop    = 12
	plotBottom = 192
)

var monthInitial = []string{"J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"}

// newBurnDown lays out m's burn-down, leaving off the months after today's.
func newBurnDown(m programme.MoneyFigures, today calendar.Date) burnDown {
	b := burnDown{Envelope: FormatAmount(m.Budget), Width: plotLeft + 12*monthStep + 12, Base: plotBottom}
	now := today.String()[:7]
	top, bottom := m.Budget, decimal.Zero
	var shown []programme.BudgetMonth
	for _, month := range m.BudgetByMonth {
		if month.Month > now {
			break
		}
		shown = append(shown, month)
		top, bottom = decimal.Max(top, month.Left), decimal.Min(bottom, month.Left)
		b.Overspent = b.Overspent || month.Left.IsNegative()
	}
	if !top.GreaterThan(bottom) {
		top = bottom.Add(decimal.NewFromInt(1))
	}
	y := func(v decimal.Decimal) int {
		return plotTop + int(top.Sub(v).Mul(decimal.NewFromInt(plotBottom-plotTop)).DivRound(top.Sub(bottom), 0).IntPart())
	}
	point := func(x int, v decimal.Decimal) string { return strconv.Itoa(x) + "," + strconv.Itoa(y(v)) }
	line := []string{point(plotLeft, m.Budget)}
	for i, month := range shown {
		x := plotLeft + (i+1)*monthStep
		line = append(line, point(x, month.Left))
		b.Months = append(b.Months, burnMonth{Label: monthLabel(month.Month), Used: FormatAmount(month.Used), Left: FormatAmount(month.Left),
			X: x, Initial: monthInitial[i]})
	}
	b.Line = strings.Join(line, " ")
	b.Pace = point(plotLeft, m.Budget) + " " + point(plotLeft+12*monthStep, decimal.Zero)
	b.Ticks = []burnTick{{FormatAmount(m.Budget), y(m.Budget)}, {FormatAmount(decimal.Zero), y(decimal.Zero)}}
	if bottom.IsNegative() {
		b.Ticks = append(b.Ticks, burnTick{FormatAmount(bottom), y(bottom)})
	}
	return b
}
