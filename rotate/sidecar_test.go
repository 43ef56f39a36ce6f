package rotate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
)

func TestSidecar_Contents(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		c    Compression
	}{
		{"pcapng zstd", FormatPcapng, CompressZstd},
		{"pcapng gzip", FormatPcapng, CompressGzip},
		{"pcap none", FormatPcap, CompressNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ps := synthetic(5, start0+123, 300)
			cfg := Config{Dir: dir, Sensor: "s", Format: tt.f, Compression: tt.c, Snaplen: 1500}
			writeAll(t, cfg, ps)
			files := finishedFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("got %d files", len(files))
			}
			got, err := ReadSidecar(files[0])
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			want := Sidecar{
				File: filepath.Base(files[0]), Sensor: "s", Packets: 5, Bytes: int64(len(b)),
				PacketBytes: 1500, FirstNS: ps[0].Time, LastNS: ps[4].Time, LinkType: 1, Snaplen: 1500,
				Format: tt.f.String(), Compression: tt.c.String(), SHA256: hex.EncodeToString(sum[:]),
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("sidecar\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestRotator_StatisticsBlock checks the kernel counters reach the
// Interface Statistics Block and the sidecar's per-file drops.
func TestRotator_StatisticsBlock(t *testing.T) {
	dir := t.TempDir()
	var received, dropped uint64 = 100, 7
	cfg := Config{
		Dir: dir, Sensor: "s", MaxPackets: 2, IfName: "eth9",
		Stats: func() (uint64, uint64) { return received, dropped },
		Now:   func() time.Time { return time.Unix(0, start0) },
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range synthetic(4, start0, 100) {
		p := q.Capture()
		if err := r.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
		// Drops 0, 1 in file 1; 2, 3 in file 2. The 7 counted before
		// the first file opened belong to the first file too.
		received, dropped = received+10, dropped+uint64(i)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	files := finishedFiles(t, dir)
	wantDrops := []uint64{8, 5}
	wantISB := [][2]uint64{{120, 8}, {140, 13}}
	for i, f := range files {
		s, err := ReadSidecar(f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Drops != wantDrops[i] {
			t.Errorf("file %d: sidecar drops %d, want %d", i, s.Drops, wantDrops[i])
		}
		ifc := readInterface(t, f)
		if ifc.Name != "eth9" || ifc.Stats.Blocks != 1 || ifc.Stats.Received != wantISB[i][0] ||
			ifc.Stats.Dropped != wantISB[i][1] {
			t.Errorf("file %d: interface %+v, want received %d dropped %d", i, ifc, wantISB[i][0], wantISB[i][1])
		}
	}
	if d := r.Totals().Drops; d != 13 {
		t.Errorf("Totals.Drops = %d, want 13: every drop the kernel counted", d)
	}
}

// readInterface reads a file to its end and returns its one interface.
func readInterface(tb testing.TB, path string) capture.Interface {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	_, f, err := captest.Read(fh)
	if err != nil {
		tb.Fatal(err)
	}
	ifs := f.Interfaces()
	if len(ifs) != 1 {
		tb.Fatalf("%d interfaces", len(ifs))
	}
	return ifs[0]
}

// TestReadSidecar_notAFile: a sidecar that is no regular file, or far
// larger than rotate writes, is an error at once: linked to /dev/zero it
// took all memory, and a FIFO hung the load.
func TestReadSidecar_notAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.pcap")
	if err := syscall.Mkfifo(fifo+".json", 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.pcap")
	if err := os.Symlink("/dev/zero", zero+".json"); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pcap")
	if err := os.WriteFile(big+".json", make([]byte, maxSidecar+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, zero, big} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadSidecar(path)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("ReadSidecar(%s) = nil error", path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadSidecar(%s) still reading after 10 s", path)
		}
	}
}

// TestReadSidecar_throughLink: a link to rotate's file finds the sidecar
// beside the file, so its rows keep the sensor.
func TestReadSidecar_throughLink(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Sensor: "ns1.example-eth1"}
	writeAll(t, cfg, synthetic(3, start0, 100))
	files, err := listFinished(cfg.Dir, cfg.Sensor)
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, %v; want one", files, err)
	}
	link := filepath.Join(t.TempDir(), "alias.pcapng.zst")
	if err := os.Symlink(files[0].path, link); err != nil {
		t.Fatal(err)
	}
	sc, err := ReadSidecar(link)
	if err != nil || sc.Sensor != cfg.Sensor {
		t.Errorf("ReadSidecar through a link = %+v, %v; want the sensor %q", sc, err, cfg.Sensor)
	}
}
