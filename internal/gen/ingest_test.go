package gen_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/schema"
)

// TestWrite_Ingest decodes generated captures with the project's decoder
// and holds every row against the ground truth, frame by frame: the rows of
// TCP messages must carry the frame and time of the segment that completes
// them, as Expected does. The counts must agree too.
func TestWrite_Ingest(t *testing.T) {
	for _, f := range []gen.Format{gen.Pcap, gen.Pcapng} {
		t.Run(f.String(), func(t *testing.T) {
			cfg := gen.Config{Seed: 31, Messages: 20000, Malformed: 0.01, TCP: 0.1}
			var buf bytes.Buffer
			want := map[uint64][]string{}
			st, err := gen.Write(&buf, cfg, f, func(e gen.Expected) {
				want[e.Frame] = append(want[e.Frame], expectedView(e))
			})
			if err != nil {
				t.Fatal(err)
			}

			got := map[uint64][]string{}
			var unpaired int
			d := ingest.NewDecoder(ingest.Config{Stdin: &buf})
			var fs ingest.FileStats
			in := ingest.Input{Path: ingest.Stdin}
			err = d.DecodeFile(in, &fs, nil, func(r *schema.Row) error {
				got[r.Frame] = append(got[r.Frame], rowView(r))
				if r.Net.Protocol == 6 && r.DNS.QR && !r.Paired {
					unpaired++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			for frame, w := range want {
				g := got[frame]
				slices.Sort(g)
				slices.Sort(w)
				if !slices.Equal(g, w) {
					t.Errorf("frame %d:\n got %q\nwant %q", frame, g, w)
				}
			}
			for frame, g := range got {
				if want[frame] == nil {
					t.Errorf("frame %d: rows %q, none expected", frame, g)
				}
			}
			segments := fs.Reasons[packet.TCP]
			if fs.Packets != st.Packets || fs.Messages() != st.Messages ||
				fs.TCP.Messages != st.TCP || segments != st.TCPSegments || fs.Malformed != st.Malformed {
				t.Errorf("ingest counts %d packets, %d messages, %d over TCP in %d segments, "+
					"%d malformed; generated %d, %d, %d in %d, %d",
					fs.Packets, fs.Messages(), fs.TCP.Messages, segments, fs.Malformed,
					st.Packets, st.Messages, st.TCP, st.TCPSegments, st.Malformed)
			}
			if fs.TCP.Incomplete != 0 || fs.TCP.Gaps != 0 || fs.TCP.Resyncs != 0 || unpaired != 0 {
				t.Errorf("TCP stats %+v, %d TCP responses unpaired; want a clean reassembly",
					fs.TCP, unpaired)
			}
		})
	}
}

// expectedView prints what a row must show of e. A malformed message
// compares by its header: what a decoder salvages of the rest is its own.
func expectedView(e gen.Expected) string {
	var outer, inner uint16
	if n := len(e.VLANs); n > 0 {
		outer, inner = e.VLANs[0], e.VLANs[n-1]
	}
	proto := 17
	if e.TCP {
		proto = 6
	}
	s := fmt.Sprintf("%d %d/%d/%d v%d %v:%d>%v:%d p%d id=%d qr=%v",
		e.Time, len(e.VLANs), outer, inner, e.IPVersion,
		e.Src, e.SrcPort, e.Dst, e.DstPort, proto, e.ID, e.QR)
	if e.Malformed {
		return s + " malformed"
	}
	return s + fmt.Sprintf(" rcode=%d %s/%d an=%d", e.RCode, e.QName, e.QType, e.Answers)
}

func rowView(r *schema.Row) string {
	n, m := r.Net, r.DNS
	s := fmt.Sprintf("%d %d/%d/%d v%d %v:%d>%v:%d p%d id=%d qr=%v",
		r.Time, n.VLANDepth, n.VLANOuter, n.VLANInner, n.IPVersion,
		n.Src, n.SrcPort, n.Dst, n.DstPort, n.Protocol, m.ID, m.QR)
	if m.Malformed != "" {
		return s + " malformed"
	}
	var qname string
	var qtype uint16
	if len(m.Questions) > 0 {
		qname, qtype = string(m.Questions[0].Name), m.Questions[0].Type
	}
	return s + fmt.Sprintf(" rcode=%d %s/%d an=%d", m.RCode, qname, qtype, len(m.Answer))
}
