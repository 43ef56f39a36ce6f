package craft

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Row is one DNS message a decoder must report for a crafted capture: one
// JSON object per line of NAME.rows.jsonl, in file order. The package
// documentation gives the conventions (which frame, which VLAN, what a
// malformed message holds).
type Row struct {
	Frame     int      `json:"frame"`      // 1-based packet that completes the message
	Time      int64    `json:"time"`       // that packet's time, ns since the epoch
	VLANOuter uint16   `json:"vlan_outer"` // outermost VLAN ID, 0 untagged
	VLANInner uint16   `json:"vlan_inner"` // innermost VLAN ID, VLANOuter with one tag
	IPVersion uint8    `json:"ip_version"` // 4 or 6
	Src       string   `json:"src"`        // source address, as netip.Addr prints it
	Dst       string   `json:"dst"`        // destination address
	SrcPort   uint16   `json:"src_port"`
	DstPort   uint16   `json:"dst_port"`
	Transport string   `json:"transport"` // "udp" or "tcp"
	ID        uint16   `json:"id"`
	QR        bool     `json:"qr"`     // true for a response
	RCode     uint16   `json:"rcode"`  // header RCODE (no case extends it by EDNS)
	QNames    []string `json:"qnames"` // presentation form, no trailing dot; never null
	QTypes    []uint16 `json:"qtypes"` // never null
	Answers   int      `json:"answers"`
	Malformed bool     `json:"malformed"`
	Snapped   bool     `json:"snapped"`
}

// msgInfo is what a decoder reads from a DNS message, before the packet
// around it is known.
type msgInfo struct {
	id        uint16
	qr        bool
	rcode     uint16
	qnames    []string
	qtypes    []uint16
	answers   int
	malformed bool
	snapped   bool
}

// encodeRows writes rows as JSON lines.
func encodeRows(rows []Row) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if r.QNames == nil {
			r.QNames = []string{}
		}
		if r.QTypes == nil {
			r.QTypes = []uint16{}
		}
		if err := enc.Encode(r); err != nil {
			panic(err) // a Row always encodes
		}
	}
	return buf.Bytes()
}

// ReadRows reads a NAME.rows.jsonl file. Unknown fields are an error, so
// that a reader built for this version notices a new field.
func ReadRows(r io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var row Row
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read row %d: %w", line, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return rows, nil
}
