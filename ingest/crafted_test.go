package ingest_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/craft"
	"github.com/pcapload/pcapload/schema"
)

// TestDecoder_Crafted decodes each crafted capture of testdata/crafted and
// compares the rows with the ones written beside it.
func TestDecoder_Crafted(t *testing.T) {
	captures, err := filepath.Glob("../testdata/crafted/*.pcap")
	if err != nil || len(captures) < 14 {
		t.Fatalf("crafted captures: %v %v", captures, err)
	}
	for _, path := range captures {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(strings.TrimSuffix(path, ".pcap") + ".rows.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := craft.ReadRows(f)
			if err != nil {
				t.Fatal(err)
			}
			got := craftedRows(t, path)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d:\n got  %+v\n want %+v", len(got), len(want), got, want)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("row %d:\n got  %+v\n want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func craftedRows(t *testing.T, path string) []craft.Row {
	d := ingest.NewDecoder(ingest.Config{})
	var st ingest.FileStats
	var rows []craft.Row
	err := d.DecodeFile(ingest.Input{Path: path}, &st, nil, func(r *schema.Row) error {
		row := craft.Row{
			Frame: int(r.Frame), Time: r.Time, VLANOuter: r.Net.VLANOuter, VLANInner: r.Net.VLANInner,
			IPVersion: r.Net.IPVersion, Src: r.Net.Src.String(), Dst: r.Net.Dst.String(),
			SrcPort: r.Net.SrcPort, DstPort: r.Net.DstPort, Transport: map[uint8]string{17: "udp", 6: "tcp"}[r.Net.Protocol],
			ID: r.DNS.ID, QR: r.DNS.QR, RCode: r.DNS.RCode, QNames: []string{}, QTypes: []uint16{},
			Answers: len(r.DNS.Answer), Malformed: r.DNS.Malformed != "", Snapped: r.Net.Snapped,
		}
		for _, q := range r.DNS.Questions {
			row.QNames = append(row.QNames, string(q.Name))
			row.QTypes = append(row.QTypes, q.Type)
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reasons.Total() != st.Packets {
		t.Errorf("reasons sum to %d, want %d packets", st.Reasons.Total(), st.Packets)
	}
	// Pairing emits a query when its response arrives; compare in file order.
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Frame < rows[j].Frame })
	return rows
}
