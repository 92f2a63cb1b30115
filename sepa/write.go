package sepa

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/shopspring/decimal"
)

// namespace is the XML namespace of pain.001.001.03 documents.
const namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

// Write streams the document to w: header first, then each transfer as it
// comes from the iterator, never holding all transfers in memory (only the
// set of EndToEndIDs, to refuse duplicates). The output is buffered and
// flushed before Write returns.
//
// It returns an error, saying which field of which message or transfer is
// wrong, if the message or a transfer is invalid, if the iterator yields an
// error, if an EndToEndID repeats, or if the count or sum of the transfers
// differs from m.NbOfTxs / m.CtrlSum (checked as soon as a transfer goes
// over, and at the end). Nothing is written when m itself is invalid; after
// any other error the output is incomplete and must be thrown away.
func Write(w io.Writer, m Message, transfers iter.Seq2[Transfer, error]) error {
	h, err := m.check()
	if err != nil {
		return err
	}
	x := &xmlWriter{w: bufio.NewWriterSize(w, 64<<10)}
	x.header(h)
	if x.err != nil {
		return fmt.Errorf("sepa: message %q: write header: %w", h.msgID, x.err)
	}

	n := 0
	sum := decimal.Zero
	seen := make(map[string]struct{}, min(h.wantN, 1<<16))
	for t, err := range transfers {
		if err != nil {
			return fmt.Errorf("sepa: message %q: reading transfer %d: %w", h.msgID, n+1, err)
		}
		n++
		tx, err := t.check()
		if err != nil {
			return fmt.Errorf("sepa: message %q: transfer %d (%q): %w", h.msgID, n, t.EndToEndID, err)
		}
		if _, dup := seen[tx.endToEndID]; dup {
			return fmt.Errorf("sepa: message %q: transfer %d: EndToEndID %q repeats an earlier transfer", h.msgID, n, tx.endToEndID)
		}
		seen[tx.endToEndID] = struct{}{}
		if n > h.wantN {
			return fmt.Errorf("sepa: message %q: more transfers than NbOfTxs %d", h.msgID, h.wantN)
		}
		// Amounts are positive, so a running sum above CtrlSum can only grow.
		if sum = sum.Add(t.Amount); sum.GreaterThan(h.wantSum) {
			return fmt.Errorf("sepa: message %q: the first %d transfers already sum to %s, more than CtrlSum %s",
				h.msgID, n, sum.StringFixed(2), h.ctrlSum)
		}
		x.transfer(tx)
		if x.err != nil {
			return fmt.Errorf("sepa: message %q: write transfer %d: %w", h.msgID, n, x.err)
		}
	}
	if n != h.wantN {
		return fmt.Errorf("sepa: message %q: %d transfers, but NbOfTxs is %d", h.msgID, n, h.wantN)
	}
	if !sum.Equal(h.wantSum) {
		return fmt.Errorf("sepa: message %q: transfers sum to %s, but CtrlSum is %s", h.msgID, sum.StringFixed(2), h.ctrlSum)
	}

	x.footer()
	if x.err == nil {
		x.err = x.w.Flush()
	}
	if x.err != nil {
		return fmt.Errorf("sepa: message %q: write end: %w", h.msgID, x.err)
	}
	return nil
}

// xmlWriter writes indented XML to a bufio.Writer and keeps the first
// error, so that the code writing a block reads like the document; callers
// check err after each block.
type xmlWriter struct {
	w   *bufio.Writer
	err error
}

// indent holds enough two-space steps for the deepest element (IBAN in
// CdtrAcct, at depth 7).
const indent = "                "

// raw writes depth indentation steps then each of parts, unescaped.
func (x *xmlWriter) raw(depth int, parts ...string) {
	if x.err != nil {
		return
	}
	_, x.err = x.w.WriteString(indent[:2*depth])
	for _, p := range parts {
		if x.err != nil {
			return
		}
		_, x.err = x.w.WriteString(p)
	}
}

// open writes <tag> on its own line.
func (x *xmlWriter) open(depth int, tag string) { x.raw(depth, "<", tag, ">\n") }

// close writes </tag> on its own line.
func (x *xmlWriter) close(depth int, tag string) { x.raw(depth, "</", tag, ">\n") }

// leaf writes <tag>text</tag>, escaping text.
func (x *xmlWriter) leaf(depth int, tag, text string) {
	x.raw(depth, "<", tag, ">")
	x.text(text)
	x.raw(0, "</", tag, ">\n")
}

// nestedLeaf writes tags nested one in the other, from depth down, the
// innermost holding text: nestedLeaf(3, bic, "DbtrAgt", "FinInstnId", "BIC")
// is <DbtrAgt><FinInstnId><BIC>bic</BIC></FinInstnId></DbtrAgt>, one tag a
// line. Most of pain.001 is such chains around a single value.
func (x *xmlWriter) nestedLeaf(depth int, text string, tags ...string) {
	last := len(tags) - 1
	for i, tag := range tags[:last] {
		x.open(depth+i, tag)
	}
	x.leaf(depth+last, tags[last], text)
	for i := last - 1; i >= 0; i-- {
		x.close(depth+i, tags[i])
	}
}

// text writes s escaped by encoding/xml. Most values (identifiers, amounts,
// names without an apostrophe) need no escaping and are written as they are.
func (x *xmlWriter) text(s string) {
	if x.err != nil {
		return
	}
	if !needsEscape(s) {
		_, x.err = x.w.WriteString(s)
		return
	}
	x.err = xml.EscapeText(x.w, []byte(s))
}

// needsEscape reports whether xml.EscapeText could change s: it rewrites
// the five markup characters, tab, newline and carriage return, and
// replaces characters XML does not allow, which only non-ASCII bytes or
// other control characters can be.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || strings.IndexByte(`"'&<>`, c) >= 0 {
			return true
		}
	}
	return false
}

// header writes everything up to the first transaction: the group header
// and the batch's own fields, in the schema's order.
func (x *xmlWriter) header(h header) {
	x.raw(0, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	x.raw(0, `<Document xmlns="`+namespace+`">`+"\n")
	x.open(1, "CstmrCdtTrfInitn")
	x.open(2, "GrpHdr")
	x.leaf(3, "MsgId", h.msgID)
	x.leaf(3, "CreDtTm", h.createdAt)
	x.leaf(3, "NbOfTxs", h.nbOfTxs)
	x.leaf(3, "CtrlSum", h.ctrlSum)
	x.nestedLeaf(3, h.name, "InitgPty", "Nm")
	x.close(2, "GrpHdr")

	x.open(2, "PmtInf")
	x.leaf(3, "PmtInfId", h.pmtInfID)
	x.leaf(3, "PmtMtd", "TRF")
	x.leaf(3, "BtchBookg", "true")
	x.leaf(3, "NbOfTxs", h.nbOfTxs)
	x.leaf(3, "CtrlSum", h.ctrlSum)
	x.nestedLeaf(3, "SEPA", "PmtTpInf", "SvcLvl", "Cd")
	x.leaf(3, "ReqdExctnDt", h.executionDate)
	x.nestedLeaf(3, h.name, "Dbtr", "Nm")
	x.open(3, "DbtrAcct")
	x.nestedLeaf(4, h.iban, "Id", "IBAN")
	x.leaf(4, "Ccy", "EUR")
	x.close(3, "DbtrAcct")
	x.nestedLeaf(3, h.bic, "DbtrAgt", "FinInstnId", "BIC")
	x.leaf(3, "ChrgBr", "SLEV")
}

// transfer writes one CdtTrfTxInf, in the schema's order.
func (x *xmlWriter) transfer(t txn) {
	x.open(3, "CdtTrfTxInf")
	x.nestedLeaf(4, t.endToEndID, "PmtId", "EndToEndId")
	x.open(4, "Amt")
	x.raw(5, `<InstdAmt Ccy="EUR">`)
	x.text(t.amount)
	x.raw(0, "</InstdAmt>\n")
	x.close(4, "Amt")
	if t.bic != "" {
		x.nestedLeaf(4, t.bic, "CdtrAgt", "FinInstnId", "BIC")
	}
	x.nestedLeaf(4, t.name, "Cdtr", "Nm")
	x.nestedLeaf(4, t.iban, "CdtrAcct", "Id", "IBAN")
	if t.ustrd != "" {
		x.nestedLeaf(4, t.ustrd, "RmtInf", "Ustrd")
	}
	x.close(3, "CdtTrfTxInf")
}

// footer closes the batch and the document.
func (x *xmlWriter) footer() {
	x.close(2, "PmtInf")
	x.close(1, "CstmrCdtTrfInitn")
	x.raw(0, "</Document>\n")
}
