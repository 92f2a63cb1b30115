package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"

	"passd/db"
	"passd/fault/faulttest"
)

// FuzzParsePage checks ?limit= and ?cursor=: an accepted page is within
// bounds, and an accepted cursor is exactly the one NewPage gives for its
// position.
func FuzzParsePage(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"50", ""}, {"500", "MTA"}, {"501", ""}, {"0", ""}, {"-1", ""}, {"1e2", ""}, {"+5", ""},
		{"", "MQ"}, {"", "MR"}, {"", "MQ=="}, {"", "MA"}, {"", "LTE"}, {"", "!!"}, {"", "OTIyMzM3MjAzNjg1NDc3NTgwOA"}, {"99999999999999999999", ""}} {
		f.Add(s[0], s[1])
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, limit, cursor string) {
		q := url.Values{}
		if limit != "" {
			q.Set("limit", limit)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/?"+q.Encode(), nil), httptest.NewRecorder())
		p, err := ParsePage(c)
		if err != nil {
			if fe := faulttest.RequireInvalid(t, err); fe.Field != "limit" && fe.Field != "cursor" {
				t.Fatalf("the error names %q", fe.Field)
			}
			return
		}
		if p.Limit < 1 || p.Limit > db.MaxLimit || p.Before < 0 {
			t.Fatalf("ParsePage(%q, %q) = %+v", limit, cursor, p)
		}
		if cursor != "" {
			if again := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.Before, 10))); again != cursor {
				t.Fatalf("cursor %q accepted as position %d, whose cursor is %q", cursor, p.Before, again)
			}
		}
	})
}
