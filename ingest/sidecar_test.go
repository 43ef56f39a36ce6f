package ingest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/schema"
)

// errNotSidecar stands for the refusal of a file that is no sidecar.
var errNotSidecar = errors.New("not a sidecar")

// TestDecoder_Sidecar: the packet count of a file that rotate finished is
// checked against its sidecar; a file that lost packets since fails.
func TestDecoder_Sidecar(t *testing.T) {
	data, err := os.ReadFile("../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	head := `{"file": "s-20261102T080000Z-000001.pcap", "format": "pcap", `
	tests := []struct {
		name    string
		sidecar string
		wantErr error
		drops   uint64
	}{
		{"none", "", nil, 0},
		{"agrees", head + `"packets": 1091, "drops": 7, "sha256": "` + hash + `"}`, nil, 7},
		{"disagrees", head + `"packets": 1021, "drops": 0}`, ingest.ErrSidecarMismatch, 0},
		{"other bytes", head + `"packets": 1091, "drops": 0, "sha256": "` + strings.Repeat("0", 64) + `"}`,
			ingest.ErrSidecarMismatch, 0},
		{"not a sidecar", `{}`, errNotSidecar, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s-20261102T080000Z-000001.pcap")
			os.WriteFile(path, data, 0o644)
			if tt.sidecar != "" {
				os.WriteFile(path+".json", []byte(tt.sidecar), 0o644)
			}
			var st ingest.FileStats
			err := ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: path, Hash: hash}, &st, nil,
				func(*schema.Row) error { return nil })
			if tt.wantErr == errNotSidecar {
				if err == nil || !strings.Contains(err.Error(), "not one rotate wrote") {
					t.Fatalf("error %v, want the sidecar refused", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if st.KernelDrops != tt.drops || st.Packets != 1091 {
				t.Errorf("drops %d packets %d, want %d and 1091", st.KernelDrops, st.Packets, tt.drops)
			}
		})
	}
}
