package clickhouse

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// goColumn returns an Arrow array as the Go slice clickhouse-go appends to
// the matching ClickHouse column: numbers as their values slice, strings
// and byte strings as []string pointing into the Arrow buffers, addresses
// as [][16]byte, timestamps as []time.Time (clickhouse-go reads []int64 as
// milliseconds), lists as slices of slices.
//
// The returned slices alias a's memory: they are valid while a is, which
// is long enough because clickhouse-go copies on append. Nulls are not
// expected (the schema has no Nullable column) and read as zero values.
func goColumn(a arrow.Array) (any, error) {
	switch a := a.(type) {
	case *array.Uint8:
		return a.Uint8Values(), nil
	case *array.Uint16:
		return a.Uint16Values(), nil
	case *array.Uint32:
		return a.Uint32Values(), nil
	case *array.Uint64:
		return a.Uint64Values(), nil
	case *array.Int64:
		return a.Int64Values(), nil
	case *array.Boolean:
		return bools(a), nil
	case *array.String:
		return texts(a), nil
	case *array.Binary:
		return binaries(a), nil
	case *array.Timestamp:
		return times(a), nil
	case *array.FixedSizeBinary:
		return addrs(a)
	case *array.List:
		return list(a)
	}
	return nil, fmt.Errorf("arrow type %s: not converted", a.DataType())
}

func bools(a *array.Boolean) []bool {
	out := make([]bool, a.Len())
	for i := range out {
		out[i] = a.Value(i)
	}
	return out
}

// texts returns the values of a; arrow-go's Value already aliases the
// data buffer.
func texts(a *array.String) []string {
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.Value(i)
	}
	return out
}

func binaries(a *array.Binary) []string {
	out := make([]string, a.Len())
	for i := range out {
		b := a.Value(i)
		out[i] = unsafe.String(unsafe.SliceData(b), len(b))
	}
	return out
}

func times(a *array.Timestamp) []time.Time {
	out := make([]time.Time, a.Len())
	for i, ns := range a.TimestampValues() {
		out[i] = time.Unix(0, int64(ns)).UTC()
	}
	return out
}

func addrs(a *array.FixedSizeBinary) ([][16]byte, error) {
	if w := a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth; w != 16 {
		return nil, fmt.Errorf("fixed_size_binary(%d): want 16, an IPv6 address", w)
	}
	out := make([][16]byte, a.Len())
	for i := range out {
		out[i] = [16]byte(a.Value(i))
	}
	return out, nil
}

// list returns a list column as one sub-slice per row of its values.
func list(a *array.List) (any, error) {
	offs := a.Offsets()
	switch v := a.ListValues().(type) {
	case *array.Uint16:
		return sublists(v.Uint16Values(), offs), nil
	case *array.Uint32:
		return sublists(v.Uint32Values(), offs), nil
	case *array.String:
		return sublists(texts(v), offs), nil
	}
	return nil, fmt.Errorf("arrow type %s: not converted", a.DataType())
}

func sublists[T any](vals []T, offs []int32) [][]T {
	out := make([][]T, len(offs)-1)
	for i := range out {
		out[i] = vals[offs[i]:offs[i+1]:offs[i+1]]
	}
	return out
}
