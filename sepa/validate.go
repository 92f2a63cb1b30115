package sepa

import (
	"bytes"
	"context"
	_ "embed" // the XSD, so Validate works wherever the binary or test runs
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// schema is the official ISO 20022 pain.001.001.03 XSD, a byte-for-byte copy
// of shared/formats/sepa/pain.001.001.03.xsd (git blob 7fbc702e…).
//
//go:embed schema/pain.001.001.03.xsd
var schema []byte

// Validate checks doc against the pain.001.001.03 XSD with xmllint (Debian
// package libxml2-utils; `make test` installs it). It is meant for tests —
// this package's and those of packages that serve SEPA files — since the
// schema catches structure, order, type and length mistakes that reading the
// writer's code does not. It returns an error containing xmllint's report
// when doc does not validate, and an error wrapping exec.ErrNotFound when
// xmllint is not installed. Network access is disabled (--nonet).
func Validate(ctx context.Context, doc []byte) error {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return fmt.Errorf("sepa: validate: xmllint is needed to check files against the XSD; install libxml2-utils (make test does): %w", err)
	}
	dir, err := os.MkdirTemp("", "sepa-validate-")
	if err != nil {
		return fmt.Errorf("sepa: validate: %w", err)
	}
	defer os.RemoveAll(dir)
	xsdPath := filepath.Join(dir, "pain.001.001.03.xsd")
	docPath := filepath.Join(dir, "document.xml")
	if err := os.WriteFile(xsdPath, schema, 0o600); err != nil {
		return fmt.Errorf("sepa: validate: %w", err)
	}
	if err := os.WriteFile(docPath, doc, 0o600); err != nil {
		return fmt.Errorf("sepa: validate: %w", err)
	}
	cmd := exec.CommandContext(ctx, xmllint, "--noout", "--nonet", "--schema", xsdPath, docPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("sepa: validate: %w", ctxErr)
		}
		report := strings.TrimSpace(strings.ReplaceAll(out.String(), dir+string(filepath.Separator), ""))
		return fmt.Errorf("sepa: document does not validate against pain.001.001.03 (xmllint: %v):\n%s", err, report)
	}
	return nil
}
