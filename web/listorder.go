package web

import (
	"context"
	"html/template"
	"net/url"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/db"
)

// oldestFirst is the ?tri= value that reverses a list read by its date
// column (its rows' order of creation): the oldest first, to work through
// what has waited longest.
const oldestFirst = "anciens"

// listOrder is a list's order by its date column, newest first unless
// ?tri=anciens: the column head's link that turns it, and what the next
// page's link keeps (the filters and the order).
type listOrder struct {
	Label  string // the column's head
	Oldest bool
	Toggle template.URL // the head's link: the other order, the filters kept
	keep   url.Values
}

// readListOrder reads ?tri= for a list whose filters are filters (kept in
// the head's link and the next page's); any value but "anciens" is the
// default order.
func readListOrder(c echo.Context, label string, filters url.Values) listOrder {
	o := listOrder{Label: label, Oldest: c.QueryParam("tri") == oldestFirst, keep: url.Values{}}
	toggle := url.Values{}
	for k, v := range filters {
		if len(v) > 0 && v[0] != "" {
			o.keep.Set(k, v[0])
			toggle.Set(k, v[0])
		}
	}
	if o.Oldest {
		o.keep.Set("tri", oldestFirst)
	} else {
		toggle.Set("tri", oldestFirst)
	}
	o.Toggle = template.URL(toggle.Encode())
	return o
}

// Next is the next page's query string: the filters, the order and cursor.
func (o listOrder) Next(cursor string) template.URL {
	q := url.Values{"cursor": {cursor}}
	for k, v := range o.keep {
		q[k] = v
	}
	return template.URL(q.Encode())
}

// Query is the filters and the order, for a download of what is listed.
func (o listOrder) Query() template.URL { return template.URL(o.keep.Encode()) }

// Sort is the order's ?tri= value, "" for the default, for a filter form's
// hidden field.
func (o listOrder) Sort() string { return o.keep.Get("tri") }

// readOrderedPage is readPage in order's direction: oldest first, the
// cursor is the id the page starts after.
func readOrderedPage[D, Row any](c echo.Context, order listOrder, read func(context.Context, db.PageRequest) ([]D, error),
	idOf func(D) int64, toRow func(D) Row) (api.Page[Row], error) {
	return readPage(c, func(ctx context.Context, page db.PageRequest) ([]D, error) {
		return read(ctx, order.page(page))
	}, idOf, toRow)
}

// page turns a newest-first page request (?cursor= read as the id below
// which the page starts) into order's.
func (o listOrder) page(p db.PageRequest) db.PageRequest {
	if o.Oldest {
		p.After, p.Before, p.OldestFirst = p.Before, 0, true
	}
	return p
}

// eachRow reads a list a page of db.MaxLimit at a time, in order's
// direction, and calls fn on each row: a download of all that is filtered,
// read by the same keyset as the pages.
func eachRow[D any](ctx context.Context, order listOrder, read func(context.Context, db.PageRequest) ([]D, error),
	idOf func(D) int64, fn func(D) error) error {
	return eachPage(ctx, order, read, idOf, func(rows []D) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachPage is eachRow a page at a time, for rows that need something read
// for the whole page (names, in one query).
func eachPage[D any](ctx context.Context, order listOrder, read func(context.Context, db.PageRequest) ([]D, error),
	idOf func(D) int64, fn func([]D) error) error {
	page := order.page(db.PageRequest{Limit: db.MaxLimit})
	for {
		rows, err := read(ctx, page)
		if err != nil {
			return err
		}
		more := len(rows) > page.Limit
		if more {
			rows = rows[:page.Limit]
		}
		if err := fn(rows); err != nil {
			return err
		}
		if !more {
			return nil
		}
		if last := idOf(rows[len(rows)-1]); page.OldestFirst {
			page.After = last
		} else {
			page.Before = last
		}
	}
}
