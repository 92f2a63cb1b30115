// Package spreadsheet writes CSV files that open correctly, by a double
// click, in a French spreadsheet (LibreOffice Calc or Excel set to fr-FR):
// UTF-8 with a BOM so that accents survive, ';' between cells because ','
// is the decimal mark, CRLF line ends, amounts with a decimal comma and
// dates as DD/MM/YYYY.
//
// Such a file is opened by people, so a cell must never become a formula
// ("CSV injection"): Write writes cells exactly as given, and callers build
// every cell with one of
//   - Text for free text (names, labels, references, anything a user or a
//     provider typed), which neutralises a leading = + - @ tab or CR;
//   - Amount for money, which stays a number ("-12,50");
//   - Date for dates;
//   - strconv.Itoa for counts and ids, plain numbers that cannot be formulas.
//
// For files exchanged with machines (the CPAM batch), see package
// claims/cpamfile instead: there a value is data, not something to display.
//
// ReadTable reads the other way: a table a person saved from a
// spreadsheet (an import), header first, ',' or ';' between cells.
//
// It imports calendar, fault, money.
package spreadsheet
