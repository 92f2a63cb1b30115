// Package calendar handles civil dates — a care date, a filing date, the
// start of a coverage period — as the people in the programme mean them: a
// day on the Europe/Paris calendar, with no time and no zone.
//
// A time.Time is the wrong type for these: midnight in Paris is 22:00 or
// 23:00 UTC the day before, and comparing or storing instants shifts dates
// by one day around DST changes. Date is a plain (year, month, day) value,
// comparable with ==, whose zero value means "no date". It converts to and
// from JSON ("2026-11-22", null) and PostgreSQL date columns through pgx.
//
// It imports nothing of passd.
package calendar
