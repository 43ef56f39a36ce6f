package rotate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pcapload/pcapload/ingest/capture"
)

// Stopper is a source that can stop producing and then drain: Live.
type Stopper interface {
	Stop()
}

// checkEvery is how many packets pass between looks at ctx, the rotate
// channel and the clock: often enough to react within milliseconds at any
// rate worth capturing, rarely enough to cost nothing per packet.
const checkEvery = 64

// Run writes every packet of src through r until src ends or ctx is done,
// then finishes the current file (Close). A value on rotate finishes the
// current file at once. When ctx is done, a Stopper source is stopped and
// drained; any other source is abandoned where it is.
//
// A damaged source ends the run: the packets before the damage are in
// finished files and the source's error is returned, wrapped. An error after
// ctx is done is taken for the interruption the caller arranged (see
// cmd/rotate's stdin) and ends the run cleanly.
//
// Rotate requests and ctx are looked at every checkEvery packets and
// whenever a Stopper source is idle, so with a stalled -r stream a SIGHUP
// takes effect with the next packets.
func Run(ctx context.Context, r *Rotator, src capture.Reader, rotate <-chan struct{}) error {
	var p capture.Packet
	done := ctx.Done()
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := r.events(&done, src, rotate); err != nil {
				return closeWith(r, err)
			}
		}
		err := src.Next(&p)
		switch {
		case errors.Is(err, ErrIdle):
			n = -1 // look at events before the next read
			continue
		case errors.Is(err, io.EOF):
			return r.Close()
		case err != nil && ctx.Err() != nil:
			return r.Close() // the source was interrupted to stop the run
		case err != nil:
			return closeWith(r, fmt.Errorf("read packet: %w", err))
		}
		if err := r.WritePacket(&p); err != nil {
			r.Abandon()
			return err
		}
	}
}

// events handles what may have happened since the last look: the end of
// the run (done, set to nil once handled), a rotate request, a clock
// boundary.
func (r *Rotator) events(done *<-chan struct{}, src capture.Reader, rotate <-chan struct{}) error {
	select {
	case <-*done:
		*done = nil
		s, ok := src.(Stopper)
		if !ok {
			return io.EOF
		}
		s.Stop()
	case <-rotate:
		if err := r.Rotate(); err != nil {
			return err
		}
	default:
	}
	return r.Tick()
}

// closeWith finishes the current file; err wins over Close's error, and
// io.EOF, meaning the run was cut short on purpose, is no error.
func closeWith(r *Rotator, err error) error {
	cerr := r.Close()
	if errors.Is(err, io.EOF) {
		return cerr
	}
	return errors.Join(err, cerr)
}
