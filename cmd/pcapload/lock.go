package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/pcapload/pcapload/load"
)

// locker is a destination that loads on one machine must take turns on.
type locker interface {
	// LockKey names what the destination's loads share: its database.
	LockKey() string
}

// lockDestinations takes, for every database destination, a lock that the
// loads of this machine share (a file in the temporary directory, locked
// with flock), waiting for any other load into the same database to end
// first. A load groups small files (see load.GroupSink), and a run that
// finds files of a group marked and not loaded takes them for a crashed
// run's and loads them again: two loads of the same files at once would
// store their rows twice. Taking turns, the second finds them loaded. The
// returned function releases the locks; so does the process's exit.
//
// TODO(exactly-once): loads from different machines, or through both of a
// server's ports, do not see each other's locks; they must load different
// files (--shard): one by one too, two loads of a large file at once both
// found it unloaded and stored it twice (a new user's run). A run waits for marks
// to be --takeover-after old before taking files over, but a live load
// does not renew its marks, and two loads starting at once both mark;
// renewing marks while a load runs, and letting the first mark of a
// generation win, would cover them.
func lockDestinations(ctx context.Context, sinks []load.Sink, stderr io.Writer) (func(), error) {
	var held []*os.File
	unlock := func() {
		for _, f := range held {
			f.Close()
		}
	}
	var keys []string
	for _, s := range sinks {
		if l, ok := s.(locker); ok {
			keys = append(keys, l.LockKey())
		}
	}
	slices.Sort(keys) // two loads take their locks in one order, or could wait for each other
	for _, key := range keys {
		f, err := lockKey(ctx, key, stderr)
		if err != nil {
			unlock()
			return nil, err
		}
		held = append(held, f)
	}
	return unlock, nil
}

// lockKey locks the lock file of key, waiting while another process holds
// it, until ctx ends.
func lockKey(ctx context.Context, key string, stderr io.Writer) (*os.File, error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("pcapload-%x.lock", sha256.Sum256([]byte(key))))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		fmt.Fprintf(stderr, "pcapload: another load into %s runs on this machine; waiting for it to end (%s)\n", key, path)
		done := make(chan error, 1)
		go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another load into %s: %w", key, ctx.Err())
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	return f, nil
}
