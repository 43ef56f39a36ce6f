package capture

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestOpenGated: a file declaring a 64 MiB window waits at the gate while
// another holds one, and goes on once that file is closed; a file of a
// small window does not wait, and a wait ends when done closes.
func TestOpenGated(t *testing.T) {
	plain := manyPackets(400)
	large := zstdDeclaring(t, plain, 16<<3) // 64 MiB
	small := zstdDeclaring(t, plain, 13<<3) // 8 MiB
	gate := NewWindowGate(64 << 20)

	first, err := OpenGated(bytes.NewReader(large), true, gate, nil)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		f, err := OpenGated(bytes.NewReader(large), true, gate, nil)
		if err == nil {
			err = f.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("a second 64 MiB window opened beside the first (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}

	f, err := OpenGated(bytes.NewReader(small), true, gate, nil)
	if err != nil {
		t.Fatalf("an 8 MiB window beside a 64 MiB one: %v", err)
	}
	f.Close()

	done := make(chan struct{})
	cancelled := make(chan error, 1)
	go func() {
		_, err := OpenGated(bytes.NewReader(large), true, gate, done)
		cancelled <- err
	}()
	close(done)
	select {
	case err := <-cancelled:
		if !errors.Is(err, ErrGateCancelled) {
			t.Errorf("open waiting when done closed: %v, want ErrGateCancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an open waiting at the gate did not end when done closed")
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second 64 MiB window still waits after the first file closed")
	}
}
