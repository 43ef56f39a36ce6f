package load_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/schema"
)

// TestRecords_roundTrip inserts load records as the ledger does and reads
// them back from the engine: times to the nanosecond, from the earliest
// to the latest an int64 holds; the reasons; a path with quotes, a backslash, a newline and a
// zero byte; the loader's time where a record has one, and the server's
// where it has none, alone and mixed with records that have one.
func TestRecords_roundTrip(t *testing.T) {
	ctx := context.Background()
	db, err := chdb.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range schema.Setup("default") {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	loader := time.Date(2020, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	rec := func(hash string, first, last int64, at time.Time) *schema.FileRecord {
		return &schema.FileRecord{Hash: hash, Generation: 2, Path: "dir/it's \\ \"odd\"\n\x00.pcap",
			Sensor: "s1", Format: "pcapng", Compression: "zstd", Bytes: 10, Packets: 9, Messages: 8,
			Malformed: 1, Snapped: 1, Reasons: map[string]uint64{"dns": 8, "not dns": 1},
			First: first, Last: last, Status: schema.StatusLoaded, Error: "an 'error'", LoadedAt: at}
	}
	inserts := [][]*schema.FileRecord{
		{rec("a", 1762070400123456789, 1762070460987654321, time.Time{})},
		{rec("b", -2_208_988_800_000_000_000, 9_000_000_000_000_000_000, loader)}, // 1900 to 2255
		// The extremes of a saturated pcapng time; the engine cannot read
		// the earliest second as text.
		{rec("c", math.MinInt64, math.MaxInt64, time.Time{}), rec("d", -1, 0, loader)},
	}
	start := time.Now()
	for i, recs := range inserts {
		q := schema.InsertRecordsSQL("default", "", recs)
		// Literals only where the records' times agree: a function call
		// makes the engine evaluate every row as an expression, 16 times
		// the CPU of a group's records.
		_, values, _ := strings.Cut(q, " VALUES ")
		if calls := strings.Count(values, "(") - len(recs); i < 2 && calls != 0 {
			t.Errorf("insert %d holds %d function calls: %s", i, calls, values)
		}
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.Query(ctx, "SELECT file_hash, toUnixTimestamp64Nano(first_time), toUnixTimestamp64Nano(last_time), "+
		"toUnixTimestamp64Milli(loaded_at), hex(path), toString(reasons), error, packets, generation "+
		"FROM capture_files ORDER BY file_hash", "TSVRaw")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d records read back, want 4:\n%s", len(lines), out)
	}
	firsts := map[string][2]int64{"a": {1762070400123456789, 1762070460987654321},
		"b": {-2_208_988_800_000_000_000, 9_000_000_000_000_000_000}, "c": {math.MinInt64, math.MaxInt64}, "d": {-1, 0}}
	for _, line := range lines {
		f := strings.Split(line, "\t")
		var first, last, at int64
		fmt.Sscan(f[1], &first)
		fmt.Sscan(f[2], &last)
		fmt.Sscan(f[3], &at)
		if w := firsts[f[0]]; first != w[0] || last != w[1] {
			t.Errorf("%s: first and last %d %d, want %d %d", f[0], first, last, w[0], w[1])
		}
		switch f[0] {
		case "b", "d":
			if at != loader.UnixMilli() {
				t.Errorf("%s: loaded_at %d, want the loader's %d", f[0], at, loader.UnixMilli())
			}
		default:
			if d := time.Duration(at-start.UnixMilli()) * time.Millisecond; d < -time.Second || d > time.Minute {
				t.Errorf("%s: loaded_at %d, %v from the test's start; want the server's time", f[0], at, d)
			}
		}
		if want := fmt.Sprintf("%X", "dir/it's \\ \"odd\"\n\x00.pcap"); f[4] != want {
			t.Errorf("%s: path %s, want %s", f[0], f[4], want)
		}
		if f[5] != `{'dns':8,'not dns':1}` || f[6] != `an 'error'` || f[7] != "9" || f[8] != "2" {
			t.Errorf("%s: reasons %s, error %s, packets %s, generation %s", f[0], f[5], f[6], f[7], f[8])
		}
	}
}
