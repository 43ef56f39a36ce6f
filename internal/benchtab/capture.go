package benchtab

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/pcapload/pcapload/internal/gen"
)

// input is a capture file, or a folder of them, that the stages load.
type input struct {
	Name     string // as the table shows it
	Path     string // the file or folder given to the loader
	Files    int    // capture files in it
	Packets  uint64 // packets generated
	Messages uint64 // DNS messages generated: what every run must load
	Bytes    int64  // bytes on disk
	Tshark   bool   // tshark runs on it: one plain file no larger than Config.TsharkMax
	Plain    string // for a compressed copy, the Name of the plain input it copies
	Stages   []Stage
	Runs     int
}

// calibrationMessages sizes the sample that measures the generator's
// packets per message; large enough that the shares of the mix settle.
const calibrationMessages = 50_000

// packetsPerMessage measures the packets the generator's default mix
// writes per DNS message (about 1.02 without TCP): gen.Config counts
// messages, the table's sizes count packets.
func packetsPerMessage() (float64, error) {
	cfg := gen.Config{Seed: 1, Messages: calibrationMessages}
	st, err := gen.Write(io.Discard, cfg, gen.Pcap, nil)
	if err != nil {
		return 0, err
	}
	if st.Messages == 0 {
		return 0, errors.New("calibrate the generator: no messages")
	}
	return float64(st.Packets) / float64(st.Messages), nil
}

// messagesFor returns the messages to generate for about packets packets.
func messagesFor(packets int, ratio float64) int {
	return max(1, int(math.Round(float64(packets)/ratio)))
}

// sizedInput generates a capture of about packets packets under dir.
func sizedInput(dir string, packets int, ratio float64, tsharkMax int) (input, error) {
	path := filepath.Join(dir, fmt.Sprintf("resolver-%d.pcap", packets))
	st, err := gen.WriteFile(path, gen.Config{Seed: 1, Messages: messagesFor(packets, ratio)}, gen.Pcap)
	if err != nil {
		return input{}, err
	}
	in := input{Name: fmt.Sprintf("%s packets", count(uint64(packets))), Path: path, Files: 1,
		Packets: st.Packets, Messages: st.Messages, Tshark: packets <= tsharkMax}
	return in, in.stat()
}

// zstdInput writes a zstd-compressed copy of plain next to it.
func zstdInput(plain input) (input, error) {
	in := plain
	in.Name, in.Path, in.Plain = plain.Name+", zstd", plain.Path+".zst", plain.Name
	in.Tshark = false
	src, err := os.Open(plain.Path)
	if err != nil {
		return in, err
	}
	defer src.Close()
	dst, err := os.Create(in.Path)
	if err != nil {
		return in, err
	}
	zw, err := gen.Compress(dst, "zstd")
	if err == nil {
		_, err = io.Copy(zw, src)
		err = errors.Join(err, zw.Close())
	}
	if err = errors.Join(err, dst.Close()); err != nil {
		return in, fmt.Errorf("compress %s: %w", plain.Path, err)
	}
	return in, in.stat()
}

// manyInput generates a folder of files small captures of about packets
// packets each. Each has its own seed: files with the same bytes would be
// one file to the loader, which knows a file by its content hash.
func manyInput(dir string, files, packets int, ratio float64) (input, error) {
	path := filepath.Join(dir, fmt.Sprintf("many-%dx%d", files, packets))
	if err := os.Mkdir(path, 0o755); err != nil {
		return input{}, err
	}
	name := fmt.Sprintf("%d files × %s packets", files, count(uint64(packets)))
	in := input{Name: name, Path: path, Files: files}
	for i := range files {
		cfg := gen.Config{Seed: int64(1000 + i), Messages: messagesFor(packets, ratio)}
		st, err := gen.WriteFile(filepath.Join(path, fmt.Sprintf("resolver-%04d.pcap", i)), cfg, gen.Pcap)
		if err != nil {
			return in, err
		}
		in.Packets += st.Packets
		in.Messages += st.Messages
	}
	return in, in.stat()
}

// stat sets in.Bytes from the disk.
func (in *input) stat() error {
	return filepath.WalkDir(in.Path, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			in.Bytes += fi.Size()
		}
		return err
	})
}
