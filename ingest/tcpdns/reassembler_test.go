package tcpdns_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/pcapload/pcapload/ingest/tcpdns"
)

var (
	client = tcpdns.Key{
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.53"),
		SrcPort: 40000, DstPort: 53,
	}
	server = tcpdns.Key{
		Src: client.Dst, Dst: client.Src, SrcPort: client.DstPort, DstPort: client.SrcPort,
	}
	other = tcpdns.Key{
		Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::53"),
		SrcPort: 40001, DstPort: 53,
	}
)

const (
	syn    = tcpdns.FlagSYN
	ack    = tcpdns.FlagACK
	finAck = tcpdns.FlagFIN | tcpdns.FlagACK
	rst    = tcpdns.FlagRST
	second = int64(1e9)
)

// query returns a DNS query with the given ID for example.com, A, IN: 29
// bytes (RFC 1035 section 4.1).
func query(id uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD, QDCOUNT 1
	b = append(b, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0)
	return append(b, 0, 1, 0, 1)
}

// stream frames messages as DNS over TCP does: each after its 16-bit length.
func stream(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b
}

// queries returns the stream of queries with IDs 1 to n.
func queries(n int) []byte {
	var msgs [][]byte
	for i := 1; i <= n; i++ {
		msgs = append(msgs, query(uint16(i)))
	}
	return stream(msgs...)
}

const qlen = 31 // one framed query

// step is one segment fed to the Reassembler.
type step struct {
	key   tcpdns.Key
	ts    int64
	seq   uint32
	flags uint8
	data  []byte
}

// run feeds steps to r and returns what was emitted as "step:ID", step
// counted from 0.
func run(r *tcpdns.Reassembler, steps []step) []string {
	var got []string
	for i, s := range steps {
		r.Segment(s.key, s.ts, s.seq, s.flags, s.data, func(msg []byte) {
			id := "short"
			if len(msg) >= 2 {
				id = fmt.Sprint(binary.BigEndian.Uint16(msg))
			}
			got = append(got, fmt.Sprintf("%d:%s", i, id))
		})
	}
	return got
}

// data is a data segment of the client direction at isn+1+off.
func data(isn uint32, s []byte, from, to int) step {
	return step{key: client, seq: isn + 1 + uint32(from), flags: ack, data: s[from:to]}
}

func TestReassembler_Segment(t *testing.T) {
	const isn = 1000
	q3 := queries(3)
	q6 := queries(6)
	open := step{key: client, seq: isn, flags: syn}
	c3 := func(from, to int) step { return data(isn, q3, from, to) }
	c6 := func(from, to int) step { return data(isn, q6, from, to) }
	const wrap = 0xffffffe0
	tests := []struct {
		name  string
		steps []step
		want  []string
		stats tcpdns.Stats // non-zero fields are checked, plus Messages
	}{
		{
			name:  "several messages in one segment",
			steps: []step{open, c3(0, len(q3))},
			want:  []string{"1:1", "1:2", "1:3"},
		},
		{
			name: "one message over several segments",
			steps: []step{open, c3(0, 1), c3(1, 2), c3(2, 20),
				c3(20, qlen+5), c3(qlen+5, len(q3))},
			want: []string{"4:1", "5:2", "5:3"},
		},
		{
			name:  "out of order then filled",
			steps: []step{open, c3(40, len(q3)), c3(10, 40), c3(0, 10)},
			want:  []string{"3:1", "3:2", "3:3"},
			stats: tcpdns.Stats{OutOfOrder: 2},
		},
		{
			name:  "retransmitted segment",
			steps: []step{open, c3(0, qlen), c3(0, qlen), c3(qlen, len(q3))},
			want:  []string{"1:1", "3:2", "3:3"},
			stats: tcpdns.Stats{Retransmitted: 1},
		},
		{
			name: "overlapping segments",
			steps: []step{open, c3(0, 20), c3(10, 40), c3(30, 70),
				c3(0, len(q3))},
			want:  []string{"2:1", "3:2", "4:3"},
			stats: tcpdns.Stats{Retransmitted: 3},
		},
		{
			name: "sequence numbers wrap",
			steps: []step{{key: client, seq: wrap, flags: syn},
				data(wrap, q6, 0, 2*qlen+3), data(wrap, q6, 0, 60),
				data(wrap, q6, 2*qlen+3, len(q6))},
			want:  []string{"1:1", "1:2", "3:3", "3:4", "3:5", "3:6"},
			stats: tcpdns.Stats{Retransmitted: 1},
		},
		{
			name: "out of order across the wrap",
			steps: []step{{key: client, seq: wrap + 16, flags: syn},
				data(wrap+16, q3, 20, len(q3)), data(wrap+16, q3, 0, 20)},
			want:  []string{"2:1", "2:2", "2:3"},
			stats: tcpdns.Stats{OutOfOrder: 1},
		},
		{
			name:  "SYN retransmitted",
			steps: []step{open, c3(0, qlen), open, c3(qlen, len(q3))},
			want:  []string{"1:1", "3:2", "3:3"},
			stats: tcpdns.Stats{Retransmitted: 1},
		},
		{
			name: "data on the SYN",
			steps: []step{{key: client, seq: isn, flags: syn, data: q3[:qlen+4]},
				c3(qlen+4, len(q3))},
			want: []string{"0:1", "1:2", "1:3"},
		},
		{
			name:  "mid-stream at a boundary",
			steps: []step{c3(qlen, len(q3))},
			want:  []string{"0:2", "0:3"},
			stats: tcpdns.Stats{Midstream: 1, Resyncs: 1},
		},
		{
			// Messages are looked for at segment starts only: whole
			// messages inside a segment that begins mid-message are
			// skipped, as a message framed inside another's bytes (a TXT
			// record's) was read as one (a hostile run's forged answer).
			name:  "mid-stream inside a message",
			steps: []step{c3(9, 40), c3(40, len(q3))},
			stats: tcpdns.Stats{Midstream: 1, SkippedBytes: 3*qlen - 9},
		},
		{
			name:  "mid-stream at a message",
			steps: []step{c3(qlen, 2*qlen+5), c3(2*qlen+5, len(q3))},
			want:  []string{"0:2", "1:3"},
			stats: tcpdns.Stats{Midstream: 1, Resyncs: 1},
		},
		{
			name: "mid-stream junk between messages",
			steps: []step{{key: client, seq: 5, flags: ack,
				data: slices.Concat(q3[qlen:2*qlen], make([]byte, 5), q3[2*qlen:])}},
			want:  []string{"0:2"},
			stats: tcpdns.Stats{Midstream: 1, Resyncs: 1, SkippedBytes: 5 + qlen},
		},
		{
			name: "FIN delivers then forgets",
			steps: []step{open, {key: client, seq: isn + 1, flags: finAck, data: q3[:qlen+10]},
				c3(0, len(q3))},
			want:  []string{"1:1"},
			stats: tcpdns.Stats{Incomplete: 1, Retransmitted: 1},
		},
		{
			name: "RST forgets",
			steps: []step{open, c3(0, qlen+10),
				{key: client, seq: isn + 1 + qlen + 10, flags: rst}},
			want:  []string{"1:1"},
			stats: tcpdns.Stats{Incomplete: 1},
		},
		{
			name: "FIN salvages data beyond a hole",
			steps: []step{open, c3(0, 10), c3(qlen, 2*qlen),
				{key: client, seq: isn + 1 + 3*qlen, flags: finAck}},
			want: []string{"3:2"},
			stats: tcpdns.Stats{
				OutOfOrder: 1, Gaps: 1, GapBytes: qlen - 10, Resyncs: 1, Incomplete: 1,
			},
		},
		{
			name:  "lost whole message",
			steps: []step{open, c6(0, qlen), c6(2*qlen, 3*qlen), c6(3*qlen, len(q6))},
			want:  []string{"1:1", "2:3", "3:4", "3:5", "3:6"},
			stats: tcpdns.Stats{OutOfOrder: 1, Gaps: 1, GapBytes: qlen, Resyncs: 1},
		},
		{
			name: "late fill after a gap",
			steps: []step{open, c6(0, qlen), c6(2*qlen, 3*qlen), c6(qlen, 2*qlen),
				c6(3*qlen, len(q6))},
			want: []string{"1:1", "2:3", "3:2", "4:4", "4:5", "4:6"},
			stats: tcpdns.Stats{
				OutOfOrder: 1, Gaps: 1, GapBytes: qlen, Resyncs: 1, LateFilled: 1,
			},
		},
		{
			// No segment past the hole begins with a message.
			name: "lost middle of a message",
			steps: []step{open, c6(0, 10), c6(20, 50), c6(50, 70),
				c6(70, 100), c6(100, len(q6))},
			stats: tcpdns.Stats{OutOfOrder: 3, Gaps: 1, GapBytes: 10, Incomplete: 1,
				SkippedBytes: 6*qlen - 20},
		},
		{
			name: "lost middle of a message, resumed at a segment's message",
			steps: []step{open, c6(0, 10), c6(20, 2*qlen), c6(2*qlen, 3*qlen+4),
				c6(3*qlen+4, 5*qlen), c6(5*qlen, len(q6))},
			want: []string{"4:3", "4:4", "4:5", "5:6"},
			stats: tcpdns.Stats{OutOfOrder: 3, Gaps: 1, GapBytes: 10, Resyncs: 1, Incomplete: 1,
				SkippedBytes: 2*qlen - 20},
		},
		{
			name: "segment far ahead",
			steps: []step{open, c3(0, 10),
				{key: client, seq: isn + 1 + 1<<20, flags: ack, data: q3}},
			want:  []string{"2:1", "2:2", "2:3"},
			stats: tcpdns.Stats{Gaps: 1, GapBytes: 1<<20 - 10, Resyncs: 1, Incomplete: 1},
		},
		{
			name: "new stream without SYN",
			steps: []step{open, c3(0, 10),
				{key: client, seq: isn + 3<<30, flags: ack, data: q3}},
			want:  []string{"2:1", "2:2", "2:3"},
			stats: tcpdns.Stats{Gaps: 1, Resyncs: 1, Incomplete: 1},
		},
		{
			name: "directions apart",
			steps: []step{open, {key: server, seq: 5000, flags: syn | ack}, c3(0, 40),
				{key: server, seq: 5001, flags: ack, data: q3[:qlen]}, c3(40, len(q3))},
			want: []string{"2:1", "3:1", "4:2", "4:3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tcpdns.New(tcpdns.Config{})
			got := run(r, tt.steps)
			if !slices.Equal(got, tt.want) {
				t.Errorf("emitted %v, want %v", got, tt.want)
			}
			st := r.Flush()
			tt.stats.Messages = uint64(len(tt.want))
			tt.stats.Segments = uint64(len(tt.steps))
			if st != tt.stats {
				t.Errorf("stats\n got %+v\nwant %+v", st, tt.stats)
			}
		})
	}
}

func TestReassembler_Timeout(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{Timeout: 10 * second})
	q := queries(2)
	got := run(r, []step{
		{key: client, ts: 0, seq: 1, flags: syn},
		{key: client, ts: 1 * second, seq: 2, flags: ack, data: q[:40]},
		{key: other, ts: 12 * second, seq: 7, flags: syn}, // client idle 11 s: dropped
		{key: client, ts: 12 * second, seq: 42, flags: ack, data: q[40:]},
	})
	if want := []string{"1:1"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v: nothing after the timeout", got, want)
	}
	st := r.Flush()
	if st.TimedOut != 1 || st.Incomplete != 1 || st.Midstream != 1 {
		t.Errorf("stats %+v, want TimedOut 1, Incomplete 1, Midstream 1", st)
	}
}

func TestReassembler_Evict(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{MaxFlows: 2})
	q := queries(2)
	got := run(r, []step{
		{key: client, seq: 1, flags: syn},
		{key: client, seq: 2, flags: ack, data: q[:40]},
		{key: server, seq: 9, flags: syn | ack},
		{key: other, seq: 7, flags: syn}, // the client is least recently active
		{key: server, seq: 10, flags: ack, data: q},
	})
	if want := []string{"1:1", "4:1", "4:2"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	st := r.Flush()
	if st.Evicted != 1 || st.Incomplete != 1 {
		t.Errorf("stats %+v, want Evicted 1, Incomplete 1", st)
	}
}

func TestReassembler_Flush(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{})
	q := queries(1)
	run(r, []step{
		{key: client, seq: 1, flags: syn},
		{key: client, seq: 2, flags: ack, data: q[:10]},
	})
	if st := r.Flush(); st.Incomplete != 1 || st.Segments != 2 {
		t.Errorf("first Flush: %+v, want Incomplete 1, Segments 2", st)
	}

	// The rest of the message in the next file is a mid-stream start that
	// finds no boundary: nothing is delivered twice or framed wrongly.
	got := run(r, []step{{key: client, seq: 12, flags: ack, data: q[10:]}})
	if len(got) != 0 {
		t.Errorf("emitted %v after Flush, want nothing", got)
	}
	if st := r.Flush(); st.Segments != 1 || st.Midstream != 1 || st.Incomplete != 0 {
		t.Errorf("second Flush: %+v, want Segments 1, Midstream 1", st)
	}
}

func TestReassembler_Allocs(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{})
	q := queries(4)
	r.Segment(client, 0, 1, syn, nil, func([]byte) {})
	seq := uint32(2)
	emit := func([]byte) {}
	n := testing.AllocsPerRun(1000, func() {
		// Whole messages, then one split across two segments.
		r.Segment(client, 1, seq, ack, q[:2*qlen], emit)
		r.Segment(client, 1, seq+2*qlen, ack, q[2*qlen:2*qlen+10], emit)
		r.Segment(client, 1, seq+2*qlen+10, ack, q[2*qlen+10:], emit)
		seq += uint32(len(q))
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// TestReassembler_reusedDirection decodes the same closed connection twice
// with a Flush between, as a decoder does from file to file: the second
// time the recycled directions start afresh, not as closed ones that take
// the new connection's data for mid-stream starts.
func TestReassembler_reusedDirection(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{})
	q := queries(2)
	conn := []step{
		{key: client, seq: 1, flags: syn},
		{key: server, seq: 9, flags: syn | ack},
		{key: client, seq: 2, flags: ack, data: q},
		{key: client, seq: 2 + uint32(len(q)), flags: finAck},
		{key: server, seq: 10, flags: finAck},
	}
	for pass := range 2 {
		got := run(r, conn)
		if want := []string{"2:1", "2:2"}; !slices.Equal(got, want) {
			t.Errorf("pass %d: emitted %v, want %v", pass, got, want)
		}
		if st := r.Flush(); st.Midstream != 0 || st.Resyncs != 0 || st.Incomplete != 0 {
			t.Errorf("pass %d: stats %+v, want no mid-stream start, resync or incomplete message", pass, st)
		}
	}
}

// TestReassembler_timeoutAfterLaterFile decodes a file of late packet
// times, then one of early ones: the second file's directions recycle the
// first's and still time out by their own packet times, so a file's rows
// do not depend on which file its decoder read before.
func TestReassembler_timeoutAfterLaterFile(t *testing.T) {
	r := tcpdns.New(tcpdns.Config{Timeout: 10 * second})
	q := queries(2)
	run(r, []step{{key: client, ts: 1000 * second, seq: 1, flags: syn}})
	r.Flush()
	got := run(r, []step{
		{key: client, ts: 0, seq: 1, flags: syn},
		{key: client, ts: 1 * second, seq: 2, flags: ack, data: q[:40]},
		{key: other, ts: 12 * second, seq: 7, flags: syn}, // client idle 11 s: dropped
		{key: client, ts: 12 * second, seq: 42, flags: ack, data: q[40:]},
	})
	if want := []string{"1:1"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v: nothing after the timeout", got, want)
	}
	if st := r.Flush(); st.TimedOut != 1 {
		t.Errorf("stats %+v, want TimedOut 1", st)
	}
}
