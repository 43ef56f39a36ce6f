package ingest

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/pcapload/pcapload/rotate"
)

// ErrSidecarMismatch reports a capture file whose packet count or content
// hash differs from the one rotate recorded in its sidecar when it
// finished the file: the file changed or lost packets since.
var ErrSidecarMismatch = errors.New("the file disagrees with its sidecar")

// CheckSidecarHash compares the content hash of the capture at path with
// the one rotate recorded in its sidecar, when there is one. A loader
// checks it before decoding: a file changed since rotate wrote it then
// fails whole, where its rows, stored before the check at its end, stayed
// under a hash a restored file would not have.
func CheckSidecarHash(path, hash string) error {
	if path == Stdin || hash == "" {
		return nil
	}
	sc, err := rotate.ReadSidecar(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if sc.SHA256 != "" && sc.SHA256 != hash {
		return fmt.Errorf("%s: its SHA-256 %s, its sidecar's %s: %w", path, hash, sc.SHA256, ErrSidecarMismatch)
	}
	return nil
}

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
	st.KernelDrops, st.SidecarSensor = sc.Drops, sc.Sensor
	if sc.SHA256 != "" && st.Hash != "" && sc.SHA256 != st.Hash {
		return fmt.Errorf("its SHA-256 %s, its sidecar's %s: %w", st.Hash, sc.SHA256, ErrSidecarMismatch)
	}
	if sc.Packets != st.Packets {
		return fmt.Errorf("read %d packets, its sidecar says %d: %w", st.Packets, sc.Packets, ErrSidecarMismatch)
	}
	return nil
}

// SidecarSensor returns the sensor rotate wrote the capture at path for,
// from its sidecar; "" when it has none, or none that can be read (the
// load then checks it and says why).
func SidecarSensor(path string) string {
	if path == Stdin {
		return ""
	}
	sc, err := rotate.ReadSidecar(path)
	if err != nil {
		return ""
	}
	return sc.Sensor
}
