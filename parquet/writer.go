// Package parquet writes pcapload's Arrow batches as Parquet files in
// Hive-style partition folders: DIR/date=YYYY-MM-DD/sensor=NAME/NAME.parquet.
//
// Files are zstd-compressed, one row group per batch, written under a
// temporary name and renamed into place when complete, so a reader never
// sees a half-written file and a crash leaves only temporary files (named
// ".*.tmp") behind.
package parquet

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/pcapload/pcapload/internal/sensorname"
)

// Partition names the folder a batch belongs in.
type Partition struct {
	Day    int64  // days since the Unix epoch, UTC
	Sensor string // sensor name
}

// PartitionOf returns the partition of a row at packet time ts
// (nanoseconds since the epoch) from sensor.
func PartitionOf(ts int64, sensor string) Partition {
	day := ts / int64(24*time.Hour)
	if ts < 0 && ts%int64(24*time.Hour) != 0 {
		day--
	}
	return Partition{Day: day, Sensor: sensor}
}

// Path returns the partition's folder relative to the output directory.
// The sensor name is the folder's value as it is (see sensorname.Check).
func (p Partition) Path() string {
	date := time.Unix(p.Day*86400, 0).UTC().Format("2006-01-02")
	return filepath.Join("date="+date, "sensor="+p.Sensor)
}

// Dir is an output directory of Parquet files.
type Dir struct {
	Root string
}

// Create starts the file name.parquet in partition p. Writing the same
// name again replaces the file when the new one is complete, which makes a
// rerun of the same input idempotent.
func (d Dir) Create(p Partition, name string, schema *arrow.Schema) (*File, error) {
	if err := sensorname.Check(p.Sensor); err != nil {
		return nil, err
	}
	folder := filepath.Join(d.Root, p.Path())
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return nil, fmt.Errorf("create partition folder: %w", err)
	}
	final := filepath.Join(folder, name+".parquet")
	out, err := newFile(schema)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(folder, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create parquet file: %w", err)
	}
	out.f, out.final = f, final
	out.w = bufio.NewWriterSize(f, 256<<10)
	if err := out.put([]byte(magic)); err != nil {
		out.Abort()
		return nil, out.errorf("start", err)
	}
	return out, nil
}

// dictColumns are the columns whose values repeat enough for a dictionary
// to pay for hashing every value. UInt8 and UInt16 columns are always
// dictionary-encoded: a table lookup costs less than zstd spends on their
// plain four-byte values. The EDNS options and raw are empty in most rows:
// their indices are a few RLE runs where plain pages held four zero bytes
// a row for zstd to pass over.
var dictColumns = map[string]bool{
	"sensor": true, "file": true, "file_hash": true, "transport": true, "malformed": true, "qname": true,
	"src_addr": true, "dst_addr": true, "question_names": true, "answer_names": true,
	"authority_names": true, "authority_data": true, "additional_names": true,
	"raw": true, "answer_data": true, "ecs_address": true, "cookie_client": true, "cookie_server": true, "nsid": true,
}

// smallDictMax is the most entries a UInt8 or UInt16 column's dictionary
// may have before the file writes the column plain from its next row group.
const smallDictMax = 4096

// deltaColumns are the INT64 columns stored as deltas: times and frame
// numbers move by little from row to row (rows come in pairing order, not
// quite in packet order), so their deltas take 2 to 4 bytes a value and
// zstd is spared 8 plain bytes it packed only to about 3. latency_ns stays
// plain: it jumps between 0 and the latencies, and zstd packs it twice as
// small as deltas.
var deltaColumns = map[string]bool{"time": true, "frame": true, "pair_frame": true}

// statsColumns are the columns whose min/max statistics let readers skip
// row groups in the queries analysts ask (a time window, a client, a name);
// statistics on the others cost time to write and are never used.
var statsColumns = map[string]bool{"time": true, "src_addr": true, "dst_addr": true, "qname": true}

const magic = "PAR1"

// File is one Parquet file being written.
//
// The writer is pcapload's own rather than arrow-go's pqarrow: it encodes
// the batches' buffers straight into pages (plain, or dictionary indices
// in the RLE/bit-packed hybrid, list levels alike), where pqarrow spent
// 55% of a Parquet load's CPU and allocated 1.6 GB per million messages
// walking levels generically; see BenchmarkWrite. It writes only what
// pcapload's schema holds: non-nullable columns of integers, timestamps,
// booleans, strings, 16-byte addresses and lists of those.
type File struct {
	f      *os.File
	w      *bufio.Writer
	final  string
	off    int64
	rows   int64
	schema *arrow.Schema
	cols   []column
	groups [][]byte // each row group's footer entry, encoded
}

func newFile(schema *arrow.Schema) (*File, error) {
	out := &File{schema: schema}
	for _, fd := range schema.Fields() {
		c, err := newColumn(fd, dictColumns[fd.Name], statsColumns[fd.Name])
		if err != nil {
			return nil, err
		}
		out.cols = append(out.cols, c)
	}
	return out, nil
}

func (f *File) errorf(what string, err error) error {
	return fmt.Errorf("%s %s: %w", what, f.final, err)
}

func (f *File) put(b []byte) error {
	n, err := f.w.Write(b)
	f.off += int64(n)
	return err
}

// Write appends rec as one row group.
func (f *File) Write(rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil // a row group of no rows would point its pages past its end
	}
	if !rec.Schema().Equal(f.schema) {
		return f.errorf("write row group to", errors.New("batch schema differs from the file's"))
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.forget()
	var g compact
	g.begin()
	g.list(1, ctStruct, len(f.cols))
	start, uncompressed := f.off, int64(0)
	for i := range f.cols {
		c := &f.cols[i]
		ch := c.chunkOf(rec.Column(i).Data())
		chunkStart := f.off
		m, err := e.encodeChunk(c, &ch, f.off, f.put)
		if err != nil {
			return f.errorf("write row group to", err)
		}
		uncompressed += m.uncompressed
		c.chunkMeta(&g, chunkStart, m)
		if c.kind == kindSmall && m.dictEntries > smallDictMax {
			// IDs and ports: nearly every value distinct, and a query's
			// reappears in its response. zstd finds those repeats in plain
			// four-byte values, not in 16-bit indices: plain is a third of
			// the size (1.1 against 3.4 MB per million rows).
			c.dict, c.stored = false, 0
		}
	}
	g.i64(2, uncompressed)
	g.i64(3, rec.NumRows())
	g.i64(5, start)
	g.i64(6, f.off-start)
	if len(f.groups) <= math.MaxInt16 {
		g.field(7, 4) // ordinal, an optional i16: left out where it would wrap
		g.buf = binary.AppendVarint(g.buf, int64(len(f.groups)))
	}
	g.end()
	f.groups = append(f.groups, g.buf)
	f.rows += rec.NumRows()
	return nil
}

// chunkMeta appends the footer's ColumnChunk entry of one chunk.
func (c *column) chunkMeta(t *compact, offset int64, m chunkMeta) {
	t.begin()
	t.i64(2, offset)
	t.structField(3)
	t.i32(1, c.physical())
	if c.dict {
		t.listI32(2, encPlain, encRLE, encRLEDict) // plain in the dictionary page
	} else {
		t.listI32(2, c.encoding(), encRLE)
	}
	t.listString(3, c.path()...)
	t.i32(4, codecZstd)
	t.i64(5, m.values)
	t.i64(6, m.uncompressed)
	t.i64(7, m.size)
	t.i64(9, m.dataOffset)
	if m.dictOffset >= 0 {
		t.i64(11, m.dictOffset)
	}
	if m.stats.set {
		t.structField(12)
		t.i64(3, 0) // null count
		t.binary(5, m.stats.max)
		t.binary(6, m.stats.min)
		t.end()
	}
	t.end()
	t.end()
}

// arrowSchemas caches the ARROW:schema value of each schema written: a
// folder of small captures makes a file each, and serializing the schema
// anew was a third of writing a footer.
var arrowSchemas sync.Map // *arrow.Schema to string

// arrowSchemaMeta returns the ARROW:schema value of s: its IPC form in
// base64, as pqarrow reads it to restore the Arrow types.
func arrowSchemaMeta(s *arrow.Schema) (string, error) {
	if v, ok := arrowSchemas.Load(s); ok {
		return v.(string), nil
	}
	var ipcSchema bytes.Buffer
	w := ipc.NewWriter(&ipcSchema, ipc.WithSchema(plainSchema(s)))
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("serialize Arrow schema: %w", err)
	}
	v := base64.StdEncoding.EncodeToString(ipcSchema.Bytes())
	arrowSchemas.Store(s, v)
	return v, nil
}

// plainSchema returns s with dictionary columns as their values' type:
// the file stores them as strings, and readers restoring the Arrow types
// get strings back, as from any other Parquet file of strings.
func plainSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i, f := range fields {
		if d, ok := f.Type.(*arrow.DictionaryType); ok {
			fields[i].Type = d.ValueType
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// footer returns the file's metadata.
func (f *File) footer() ([]byte, error) {
	meta, err := arrowSchemaMeta(f.schema)
	if err != nil {
		return nil, err
	}
	var t compact
	t.begin()
	t.i32(1, 2)
	elems := 1
	for _, c := range f.cols {
		if c.item != "" {
			elems += 3
		} else {
			elems++
		}
	}
	t.list(2, ctStruct, elems)
	t.begin()
	t.string(4, "schema")
	t.i32(5, int32(len(f.cols)))
	t.end()
	for i := range f.cols {
		f.cols[i].schema(&t)
	}
	t.i64(3, f.rows)
	t.list(4, ctStruct, len(f.groups))
	for _, g := range f.groups {
		t.buf = append(t.buf, g...)
	}
	t.list(5, ctStruct, 1)
	t.begin()
	t.string(1, "ARROW:schema")
	t.string(2, meta)
	t.end()
	t.string(6, "pcapload")
	t.list(7, ctStruct, len(f.cols)) // a column order per leaf: one leaf a column
	for range f.cols {
		t.begin()
		t.structField(1) // TypeDefinedOrder
		t.end()
		t.end()
	}
	t.end()
	return t.buf, nil
}

// Path returns where the file is once committed.
func (f *File) Path() string { return f.final }

// Rows returns the number of rows written.
func (f *File) Rows() int64 { return f.rows }

// Commit finishes the file, syncs it and renames it into place.
func (f *File) Commit() error {
	if err := f.Finish(); err != nil {
		return err
	}
	return f.Publish()
}

// Finish writes the file's footer, syncs and closes it, under its
// temporary name: Publish then renames it into place, or Abort drops it.
// A capture's export finishes the files of days it has left and
// publishes them with the rest at its end, so that a failed export
// replaces none of an earlier one's.
func (f *File) Finish() error {
	meta, err := f.footer()
	if err == nil {
		err = f.put(meta)
	}
	if err == nil {
		err = f.put(binary.LittleEndian.AppendUint32(nil, uint32(len(meta))))
	}
	if err == nil {
		err = f.put([]byte(magic))
	}
	if err == nil {
		err = f.w.Flush()
	}
	if err == nil {
		err = f.f.Sync()
	}
	if err == nil {
		// CreateTemp made the file private; output is for readers.
		err = f.f.Chmod(0o644)
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	// A finished file waits for Publish holding its names only: a capture
	// whose packets hop between thousands of days finishes thousands of
	// files before publishing them, and each kept its 256 KiB write buffer
	// and its footer's entries (20,000 files: 582 MiB resident, and the
	// collector running all along).
	f.w, f.cols, f.groups = nil, nil, nil
	if err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("commit %s: %w", f.final, err)
	}
	return nil
}

// Publish renames a finished file into place.
func (f *File) Publish() error {
	if err := os.Rename(f.f.Name(), f.final); err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("commit %s: %w", f.final, err)
	}
	return nil
}

// Abort drops the file.
func (f *File) Abort() {
	f.f.Close()
	os.Remove(f.f.Name())
}
