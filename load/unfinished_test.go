package load

import (
	"strings"
	"testing"
)

// TestUnfinished reads a generation's records in time order: a mark after
// another with no outcome between is a run killed, whose gap in the views
// only a run that sent every insert again fills; until then the load is
// unfinished, and so is a mark without its outcome, and a replacement
// cut short.
func TestUnfinished(t *testing.T) {
	for _, tt := range []struct {
		recs string // status@ms, "failed!" for one by an interrupt
		want bool
	}{
		{"loading@1", true},
		{"loading@1 failed@2", false},
		{"loading@1 failed!@2", false},
		{"loading@1 loading@2 failed!@3", true}, // killed, then its rerun interrupted
		{"loading@1 loading@2 failed@3", false}, // killed, then its rerun failed at the file's fault
		{"loading@1 failed!@2 loading@3 loading@4 failed!@5", true},
		{"loading@1 loading@2 failed!@3 loading@4 failed@5", false},
		{"loading@1 loading@2 loaded@3", false},
		{"loading@1 loading@2 skipped@3", false},
		{"replacing@1", true},
		{"replacing@1 replaced@2", false}, // a file cut while it loaded, taken out
		{"replacing@1 superseded@2", false},
		// Superseded, then loaded again in its generation, killed.
		{"replacing@1 superseded@2 loading@3", true},
		{"replacing@1 superseded@2 loading@3 loading@4 failed!@5", true},
		{"replacing@1 superseded@2 loading@3 loading@4 failed@5", false},
		{"replacing@1 replaced@2 loading@3 failed!@4", false},
		{"replacing@1 replaced@2 loading@3", true},
		// In one millisecond, in the order a run writes them.
		{"failed@5 loading@5", false},
		{"loading@5 replaced@5 replacing@5", true},
		{"failed@5 replaced@5 replacing@5", false},
		// Out of order as read.
		{"failed!@3 loading@2 loading@1", true},
	} {
		var recs []genRecord
		for _, r := range strings.Fields(tt.recs) {
			status, ms, _ := strings.Cut(r, "@")
			rec := genRecord{status: strings.TrimSuffix(status, "!"), cancelled: strings.HasSuffix(status, "!")}
			for _, c := range ms {
				rec.ms = rec.ms*10 + int64(c-'0')
			}
			recs = append(recs, rec)
		}
		if got := unfinished(recs); got != tt.want {
			t.Errorf("%s: unfinished = %v, want %v", tt.recs, got, tt.want)
		}
	}
}
