package sepa

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// schemaBlob is the git blob id of the official file in
// shared/formats/sepa (see its README): a copy with other line endings or a
// single edited byte has another id.
const schemaBlob = "7fbc702ed62c0efc120d0a53ea282b280b878cc2"

func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// TestSchemaCopies checks that the embedded XSD and the one in testdata are
// the official file, byte for byte.
func TestSchemaCopies(t *testing.T) {
	t.Parallel()
	if got := gitBlobID(schema); got != schemaBlob {
		t.Errorf("embedded schema/pain.001.001.03.xsd has blob id %s, want %s", got, schemaBlob)
	}
	vendored, err := os.ReadFile(filepath.Join("testdata", "pain.001.001.03.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vendored, schema) {
		t.Error("testdata/pain.001.001.03.xsd differs from schema/pain.001.001.03.xsd")
	}
	// In the team's workspace the reference copy sits beside the repository;
	// a clone elsewhere has only the blob id above to go by.
	shared := filepath.Join("..", "..", "shared", "formats", "sepa", "pain.001.001.03.xsd")
	if ref, err := os.ReadFile(shared); err == nil && !bytes.Equal(ref, schema) {
		t.Errorf("%s differs from the embedded schema", shared)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	requireXMLLint(t)
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, old, new string
		want           string // in xmllint's report
	}{
		{"unknown payment method", "<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>", "PmtMtd"},
		{"elements out of order", "<PmtMtd>TRF</PmtMtd>\n      <BtchBookg>true</BtchBookg>", "<BtchBookg>true</BtchBookg>\n      <PmtMtd>TRF</PmtMtd>", "BtchBookg"},
		{"bad BIC", "<BIC>INGBNL2A</BIC>", "<BIC>INGBNL1A</BIC>", "BIC"},
		{"not well-formed", "</Document>", "</Documen>", "Documen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !bytes.Contains(golden, []byte(tc.old)) {
				t.Fatalf("golden.xml lacks %q", tc.old)
			}
			doc := bytes.Replace(golden, []byte(tc.old), []byte(tc.new), 1)
			err := Validate(context.Background(), doc)
			if err == nil {
				t.Fatal("Validate accepted the document")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), os.TempDir()+"/sepa-validate-") {
				t.Fatalf("Validate error = %v, want xmllint's report naming %s without the temporary path", err, tc.want)
			}
		})
	}
}

func TestValidateCanceled(t *testing.T) {
	t.Parallel()
	requireXMLLint(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Validate(ctx, []byte("<Document/>")); err == nil {
		t.Fatal("Validate with a canceled context succeeded")
	}
}

// TestValidateWithoutXMLLint is not parallel: it empties PATH.
func TestValidateWithoutXMLLint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Validate(context.Background(), []byte("<Document/>"))
	if !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "libxml2-utils") {
		t.Fatalf("Validate without xmllint = %v, want exec.ErrNotFound and a hint to install libxml2-utils", err)
	}
}
