package web

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// htmxVersion is the htmx release vendored in static/htmx.min.js, copied
// from node_modules/htmx.org/dist/htmx.min.js after
// `npm install --save-dev --save-exact htmx.org@2`. To upgrade: install
// the new version, copy the file again, change this constant.
const htmxVersion = "2.0.11"

func TestTheVendoredHtmxIsThePinnedRelease(t *testing.T) {
	t.Parallel()
	js, err := staticFiles.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `version:"`+htmxVersion+`"`) {
		t.Errorf("static/htmx.min.js is not htmx %s", htmxVersion)
	}
	raw, err := os.ReadFile("../package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	if got := pkg.DevDependencies["htmx.org"]; got != htmxVersion {
		t.Errorf("package.json pins htmx.org %q, want %q (the vendored copy)", got, htmxVersion)
	}
	// When node_modules is installed (make test runs npm ci), the copy is
	// the package's file byte for byte.
	if installed, err := os.ReadFile("../node_modules/htmx.org/dist/htmx.min.js"); err == nil && string(installed) != string(js) {
		t.Error("static/htmx.min.js differs from node_modules/htmx.org/dist/htmx.min.js: copy it again")
	}
}

func TestEveryPageTemplateParsesWithTheLayout(t *testing.T) {
	t.Parallel()
	p := mustParsePages()
	for _, name := range []string{"signin.html", "error.html", "invoices.html", "invoice.html", "invoice_form.html", "statement.html", "admin-home.html"} {
		if p[name] == nil || p[name].Lookup("layout") == nil || p[name].Lookup("content") == nil {
			t.Errorf("page %s is missing or lacks the layout or its content", name)
		}
	}
}

func TestNoInlineScriptOrStyleInTheTemplates(t *testing.T) {
	t.Parallel()
	entries, err := templateFiles.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := templateFiles.ReadFile("templates/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(string(b))
		for _, banned := range []string{"<script>", "<style", " style=", " onclick=", " onload=", " onsubmit=", " onchange=", " oninput=", "javascript:"} {
			if strings.Contains(s, banned) {
				t.Errorf("%s contains %q, which the Content-Security-Policy blocks", e.Name(), banned)
			}
		}
	}
}
