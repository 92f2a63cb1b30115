package web

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/fault"
)

// What the tariff's pages share: the rate classes, review reasons and
// import results in French, and the reading of French amounts and
// percentages as an admin types them.

// RateClassLabel names a rate class in French: a provider kind's label
// ("Médecin généraliste"), or "Médicament 65 %" for a drug class.
func RateClassLabel(c billing.RateClass) string {
	if c.IsDrug() {
		return "Médicament " + strings.TrimPrefix(string(c), "drug_") + nbsp + "%"
	}
	if fr, ok := providerKindFR[string(c)]; ok {
		return fr
	}
	return string(c)
}

// rateClassChoices are the options of a rate class select, every class
// (the provider kinds, then the drug classes), selected the one given.
func rateClassChoices(selected billing.RateClass) []choice {
	out := make([]choice, 0, len(billing.RateClasses))
	for _, c := range billing.RateClasses {
		out = append(out, choice{Value: string(c), Label: RateClassLabel(c), Selected: c == selected})
	}
	return out
}

// drugClassChoices are the options of a drug class select ("65 %").
func drugClassChoices(selected int) []choice {
	out := make([]choice, 0, len(billing.DrugClasses))
	for _, c := range billing.DrugClasses {
		out = append(out, choice{Value: strconv.Itoa(c), Label: DrugClassLabel(c), Selected: c == selected})
	}
	return out
}

// DrugClassLabel writes a drug class as a percentage ("65 %").
func DrugClassLabel(class int) string { return strconv.Itoa(class) + nbsp + "%" }

// FormatPercent writes a rate (0.625) as a French percentage ("62,5 %"),
// with no more decimals than it has.
func FormatPercent(rate decimal.Decimal) string {
	return strings.Replace(rate.Shift(2).String(), ".", ",", 1) + nbsp + "%"
}

// ReviewReasonText says in French why an invoice waits for the
// coordinator: a line's unit price over its act's ceiling ("Ligne 2 : prix
// unitaire 45,00 € au-dessus du plafond 30,00 € (G)"), or the total over
// the convention's ceiling.
func ReviewReasonText(r billing.ReviewReason) string {
	value, ceiling := storedAmount(r.Value), storedAmount(r.Ceiling)
	if r.Field == "total" {
		return fmt.Sprintf("Total %s au-dessus du plafond de la convention %s", value, ceiling)
	}
	var i int
	if _, err := fmt.Sscanf(r.Field, "lines[%d].", &i); err == nil && strings.HasSuffix(r.Field, ".unit_price") {
		text := fmt.Sprintf("Ligne %d : prix unitaire %s au-dessus du plafond %s", i+1, value, ceiling)
		if r.Code != "" {
			text += " (" + r.Code + ")"
		}
		return text
	}
	return fmt.Sprintf("%s : %s au-dessus du plafond %s", r.Field, value, ceiling)
}

// storedAmount writes an amount billing stored as text ("45.00") the
// French way; text that is not an amount is shown as it is.
func storedAmount(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return FormatAmount(d)
}

// groupedAmount is an amount as a French person types it: thousands
// grouped by spaces (plain, no-break or narrow no-break, as FormatAmount
// writes them) or not grouped, a decimal comma or point, and an optional
// euro sign.
var groupedAmount = regexp.MustCompile(`^([0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:[.,]([0-9]*))?$`)

// formFrenchAmount reads an amount typed in a form as French people
// write one ("30,00", "1 234,50", "1234.5", "2 000 €"), then as
// formAmount does; an error names field.
func formFrenchAmount(field, raw string) (decimal.Decimal, error) {
	s := strings.TrimSpace(strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(raw))
	s = strings.TrimSpace(strings.TrimSuffix(s, "€"))
	m := groupedAmount.FindStringSubmatch(s)
	if m == nil {
		return formAmount(field, s) // refused, with its reason
	}
	plain := strings.ReplaceAll(m[1], " ", "")
	if strings.ContainsAny(s, ".,") {
		plain += "." + m[2]
	}
	return formAmount(field, plain)
}

// percentInput is a percentage as typed: up to three digits, an optional
// decimal comma or point and decimals, an optional "%".
var percentInput = regexp.MustCompile(`^([0-9]{1,3})(?:[.,]([0-9]+))?\s*%?$`)

// formPercent reads a percentage typed in a form ("70", "62,5", "65 %")
// as a rate (0.700, 0.625); an error names field. Whether the rate is in
// range and precise enough is billing's to check.
func formPercent(field, raw string) (decimal.Decimal, error) {
	s := strings.TrimSpace(strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(raw))
	if s == "" {
		return decimal.Decimal{}, fault.Field(field, "%s is required", field)
	}
	m := percentInput.FindStringSubmatch(s)
	if m == nil {
		return decimal.Decimal{}, fault.Field(field, "%s must be a percentage", field)
	}
	n := m[1]
	if m[2] != "" {
		n += "." + m[2]
	}
	d, err := decimal.NewFromString(n)
	if err != nil {
		return decimal.Decimal{}, fault.Field(field, "%s must be a percentage", field)
	}
	return d.Shift(-2), nil
}

// importOutcome is what an import page shows: what was created and
// updated, or why nothing was.
type importOutcome struct {
	Done             bool
	Created, Updated int
	Err              string
	Detail           string // billing's own words, for the lines it names
}

// Summary is the import's result in French: "3 créés, 1 modifié".
func (o importOutcome) Summary() string {
	return fmt.Sprintf("%d %s, %d %s", o.Created, plural(o.Created, "créé", "créés"), o.Updated, plural(o.Updated, "modifié", "modifiés"))
}

// plural picks the French form for n (0 and 1 take the singular).
func plural(n int, one, many string) string {
	if n > 1 {
		return many
	}
	return one
}

// importForm is an import form of a page (templates/_import.html) and
// the outcome of the last import.
type importForm struct {
	Action, Label string
	Columns       string // the header expected, in French
	Note          string // what happens to the rows the file does not name
	importOutcome
}

// importFileField is the file input of the import forms.
const importFileField = "file"

// importRefusal says in French why an import was refused, naming the
// lines billing names; false when the error is not the file's (the error
// page answers it). columns describes the header expected.
func importRefusal(err error, columns string) (importOutcome, bool) {
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Invalid {
		return importOutcome{}, false
	}
	out := importOutcome{Detail: fe.Message}
	lines := strings.Split(fe.Details["lines"], ",")
	switch {
	case fe.Field == "header":
		out.Err = "La ligne d'en-tête du fichier n'est pas valide : " + columns + " Rien n'a été enregistré."
	case fe.Field == "file" && fe.Details["lines"] != "":
		out.Err = "Le fichier n'a pas été importé, rien n'a été enregistré : " + badLines(lines) +
			". Corrigez le fichier et importez-le à nouveau."
	case fe.Field == "file" && strings.Contains(fe.Message, "no rows"):
		out.Err, out.Detail = "Le fichier ne contient que sa ligne d'en-tête : aucune ligne à importer.", ""
	default:
		out.Err = "Le fichier n'a pas pu être lu comme un tableau CSV (séparateur ; ou ,) en UTF-8 ; rien n'a été enregistré."
	}
	return out, true
}

// badLines names the invalid lines of a file in French.
func badLines(lines []string) string {
	if len(lines) == 1 {
		return "la ligne " + lines[0] + " n'est pas valide"
	}
	return "les lignes " + strings.Join(lines[:len(lines)-1], ", ") + " et " + lines[len(lines)-1] + " ne sont pas valides"
}
