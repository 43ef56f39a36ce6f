package ingest

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/pcapload/pcapload/rotate"
)

// ErrSidecarMismatch reports a capture file whose packet count differs from
// the one rotate recorded in its sidecar when it finished the file: the file
// changed or lost packets since.
var ErrSidecarMismatch = errors.New("packet count disagrees with the sidecar")

// checkSidecar compares what was read from path with rotate's sidecar
// (path.json), when there is one, and keeps the kernel drops it recorded.
// A file without a sidecar is not checked.
func checkSidecar(path string, st *FileStats) error {
	if path == Stdin {
		return nil
	}
	sc, err := rotate.ReadSidecar(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	st.KernelDrops = sc.Drops
	if sc.SHA256 != "" && st.Hash != "" && sc.SHA256 != st.Hash {
		return fmt.Errorf("its SHA-256 %s, its sidecar's %s: %w", st.Hash, sc.SHA256, ErrSidecarMismatch)
	}
	if sc.Packets != st.Packets {
		return fmt.Errorf("read %d packets, its sidecar says %d: %w", st.Packets, sc.Packets, ErrSidecarMismatch)
	}
	return nil
}
