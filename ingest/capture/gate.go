package capture

import (
	"context"
	"errors"

	"golang.org/x/sync/semaphore"
)

// WindowGate bounds the windows that files' decompressors hold at once,
// across the goroutines that open files through it (OpenGated): a file
// whose declared window (Window) is over FreeWindow waits until the
// windows held with its own fit in the gate's budget, a file alone always
// going ahead. Files of zstd's and xz's default levels hold 8 MiB at
// most and never wait. Two files written with xz -9 or zstd --long=26
// hold 64 MiB each: read side by side into a server and Parquet, they
// took a loader to 265-312 MiB (a hostile run), past the 256 MiB it is
// to stay under. What a file's rows are does not depend on when it is
// read, so waiting changes no row, only how many such files are read at
// once.
type WindowGate struct {
	sem    *semaphore.Weighted
	budget int64
}

// FreeWindow is the largest window a file opens with without the gate:
// 8 MiB, what zstd -19 and xz -6 use.
const FreeWindow = 8 << 20

// ErrGateCancelled reports an open given up while it waited at the gate.
var ErrGateCancelled = errors.New("cancelled waiting for another file's decompression window")

// NewWindowGate returns a gate letting windows of budget bytes in all be
// held at once.
func NewWindowGate(budget int) *WindowGate {
	return &WindowGate{sem: semaphore.NewWeighted(int64(budget)), budget: int64(budget)}
}

// take waits until window fits, or done closes (ErrGateCancelled), and
// returns what gives it back; nil when the window did not need the gate.
func (g *WindowGate) take(window int, done <-chan struct{}) (release func(), err error) {
	if g == nil || window <= FreeWindow {
		return nil, nil
	}
	n := min(int64(window), g.budget) // a window over the budget goes in alone
	if !g.sem.TryAcquire(n) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := g.sem.Acquire(ctx, n); err != nil {
			return nil, ErrGateCancelled
		}
	}
	return func() { g.sem.Release(n) }, nil
}
