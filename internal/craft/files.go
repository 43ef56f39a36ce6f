package craft

import (
	"fmt"
	"strings"
)

// Command is the command that writes the files of testdata/crafted, run
// from the repository root.
const Command = "go run ./internal/craft/cmd/craftcap -o testdata/crafted"

// File is one file craftcap writes.
type File struct {
	Name string // base name
	Data []byte
}

// Files renders every case as NAME.pcap and NAME.rows.jsonl, in the order of
// Cases, followed by README.md describing them.
func Files() []File {
	cases := Cases()
	var out []File
	for i := range cases {
		c := &cases[i]
		out = append(out,
			File{Name: c.Name + ".pcap", Data: c.Pcap()},
			File{Name: c.Name + ".rows.jsonl", Data: encodeRows(c.rows)},
		)
	}
	return append(out, File{Name: "README.md", Data: readme(cases)})
}

// readme returns the README.md of testdata/crafted.
func readme(cases []Case) []byte {
	var b strings.Builder
	b.WriteString(readmeHead)
	for i := range cases {
		c := &cases[i]
		fmt.Fprintf(&b, "| `%s` | %d | %d | %s | %s |\n",
			c.Name, len(c.packets), len(c.rows), c.About, c.Tshark)
	}
	b.WriteString(readmeTail)
	return []byte(b.String())
}

const readmeHead = "# testdata/crafted\n\n" +
	"Hand-made captures for the hard cases of DNS decoding (issue #4), one\n" +
	"classic pcap each (little-endian, nanosecond timestamps, Ethernet unless\n" +
	"said otherwise), made byte by byte by package `internal/craft`. Next to\n" +
	"each `NAME.pcap`, `NAME.rows.jsonl` holds the DNS messages a decoder must\n" +
	"report, one JSON object per line, in file order.\n\n" +
	"Regenerate every file, this one included, with\n\n" +
	"    " + Command + "\n\n" +
	"`go test ./internal/craft` fails when a file here differs from what the\n" +
	"package makes, and compares the rows with tshark's reading.\n\n" +
	"| Case | Packets | Rows | What it exercises | tshark 4.0 |\n" +
	"| --- | --- | --- | --- | --- |\n"

const readmeTail = `
## Rows

Fields: frame, time (ns since the epoch), vlan_outer, vlan_inner,
ip_version, src, dst, src_port, dst_port, transport (udp or tcp), id, qr,
rcode, qnames, qtypes, answers, malformed, snapped.

- frame is the 1-based packet that completes the message: the last IP
  fragment or TCP segment it needs, in capture order. Two messages in one
  segment share a frame.
- vlan_outer is the outermost tag, vlan_inner the innermost (equal with one
  tag, 0 when untagged); a middle tag is in neither. For ERSPAN the addresses
  and ports are the mirrored packet's, and the tags are those of the mirrored
  frame (none here).
- qnames are in presentation form without the trailing dot.
- A malformed message is still a row: the header fields, the questions read
  whole, and in answers the count of answer records read whole (not ANCOUNT).
- A message cut by the snaplen is snapped and also malformed.
`
