package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pcapload/pcapload/ingest"
)

// progress draws a bar of bytes read with the packet rate, until stop.
type progress struct {
	done chan struct{}
	end  chan struct{}
}

func startProgress(w io.Writer, mode string, inputs []ingest.Input, prog *ingest.Progress) *progress {
	p := &progress{}
	if !showProgress(w, mode) {
		return p
	}
	var total int64
	for _, in := range inputs {
		if in.Size > 0 {
			total += in.Size
		}
	}
	if total == 0 {
		total = -1 // unknown, e.g. standard input: a spinner
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		// The bar's own spinner goroutine (unknown totals, e.g. stdin)
		// reads its state without the lock, a data race under -race;
		// this loop redraws it instead.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	p.done, p.end = make(chan struct{}), make(chan struct{})
	go p.loop(bar, prog)
	return p
}

func (p *progress) loop(bar *progressbar.ProgressBar, prog *ingest.Progress) {
	defer close(p.end)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-p.done:
			bar.Finish()
			return
		case <-t.C:
		}
		pk := prog.Packets.Load()
		rate := float64(pk) / time.Since(start).Seconds()
		bar.Describe(fmt.Sprintf("%d packets, %.0f/s", pk, rate))
		bar.Set64(prog.Bytes.Load())
	}
}

func (p *progress) stop() {
	if p.done == nil {
		return
	}
	close(p.done)
	<-p.end
}

func showProgress(w io.Writer, mode string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
