package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// order is a byte order the builders can append in.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// rec is one packet for the test builders.
type rec struct {
	ts   uint64 // in the file's units
	frac uint32 // pcap only: micro- or nanoseconds
	data []byte
	orig uint32
}

// buildPcap returns a classic pcap file in byte order o.
func buildPcap(o order, nano bool, link uint32, snaplen uint32, recs ...rec) []byte {
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, snaplen)
	b = o.AppendUint32(b, link)
	for _, r := range recs {
		b = o.AppendUint32(b, uint32(r.ts))
		b = o.AppendUint32(b, r.frac)
		b = o.AppendUint32(b, uint32(len(r.data)))
		b = o.AppendUint32(b, r.orig)
		b = append(b, r.data...)
	}
	return b
}

// ngBuilder assembles pcapng blocks; each SHB sets the byte order of the
// blocks after it.
type ngBuilder struct {
	b []byte
	o order
}

// opt is one pcapng option.
type opt struct {
	code uint16
	v    []byte
}

func (n *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	length := uint32(12 + pad4(len(body)))
	n.b = n.o.AppendUint32(n.b, typ)
	n.b = n.o.AppendUint32(n.b, length)
	n.b = append(n.b, body...)
	n.b = append(n.b, make([]byte, pad4(len(body))-len(body))...)
	n.b = n.o.AppendUint32(n.b, length)
	return n
}

func (n *ngBuilder) opts(b []byte, opts []opt) []byte {
	for _, op := range opts {
		b = n.o.AppendUint16(b, op.code)
		b = n.o.AppendUint16(b, uint16(len(op.v)))
		b = append(b, op.v...)
		b = append(b, make([]byte, pad4(len(op.v))-len(op.v))...)
	}
	if len(opts) > 0 {
		b = n.o.AppendUint32(b, 0)
	}
	return b
}

func (n *ngBuilder) shb(o order) *ngBuilder {
	n.o = o
	body := o.AppendUint32(nil, byteOrderMagic)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0))
	return n.block(blockSHB, body)
}

func (n *ngBuilder) idb(link uint16, snaplen uint32, opts ...opt) *ngBuilder {
	body := n.o.AppendUint16(nil, link)
	body = n.o.AppendUint16(body, 0)
	body = n.o.AppendUint32(body, snaplen)
	return n.block(blockIDB, n.opts(body, opts))
}

func (n *ngBuilder) epb(id uint32, ts uint64, data []byte, orig uint32) *ngBuilder {
	body := n.o.AppendUint32(nil, id)
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = n.o.AppendUint32(body, orig)
	return n.block(blockEPB, append(body, data...))
}

func (n *ngBuilder) pb(id uint16, ts uint64, data []byte, orig uint32) *ngBuilder {
	body := n.o.AppendUint16(nil, id)
	body = n.o.AppendUint16(body, 0) // drops
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = n.o.AppendUint32(body, orig)
	return n.block(blockPB, append(body, data...))
}

func (n *ngBuilder) spb(data []byte, orig uint32) *ngBuilder {
	return n.block(blockSPB, append(n.o.AppendUint32(nil, orig), data...))
}

func (n *ngBuilder) isb(id uint32, ts uint64, opts ...opt) *ngBuilder {
	body := n.o.AppendUint32(nil, id)
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	return n.block(blockISB, n.opts(body, opts))
}

func (n *ngBuilder) u64opt(code uint16, v uint64) opt {
	return opt{code, n.o.AppendUint64(nil, v)}
}

// readAll opens b and reads every packet, copying the data. It returns the
// error that ended the read (nil for a clean io.EOF).
func readAll(tb testing.TB, b []byte) (*File, []Packet, error) {
	tb.Helper()
	return readAllWith(tb, OpenFile, b)
}

// readAllWith is readAll opening the capture with open.
func readAllWith(tb testing.TB, open func(io.Reader) (*File, error), b []byte) (*File, []Packet, error) {
	tb.Helper()
	f, err := open(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var pkts []Packet
	for {
		var p Packet
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			return f, pkts, nil
		}
		if err != nil {
			return f, pkts, err
		}
		p.Data = bytes.Clone(p.Data)
		pkts = append(pkts, p)
	}
}

// mustReadAll is readAll for inputs that must read cleanly.
func mustReadAll(tb testing.TB, b []byte) (*File, []Packet) {
	tb.Helper()
	f, pkts, err := readAll(tb, b)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return f, pkts
}
