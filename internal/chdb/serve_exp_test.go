package chdb

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestExpServe(t *testing.T) {
	requireLibrary(t)
	tcp, http := freePort(t), freePort(t)
	start := time.Now()
	dir := t.TempDir()
	s, err := Listen(dir, ServeConfig{TCP: tcp, HTTP: http})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %v", time.Since(start))
	out, _ := exec.Command("ss", "-ltnp").CombinedOutput()
	t.Logf("%s", out)
	db, err := Open(dir)
	t.Logf("open same path while serving: %v", err)
	if err == nil {
		q, err := db.Query(context.Background(), "SELECT 1", "TSV")
		t.Logf("query: %q %v", q, err)
		db.Close()
	}
	start = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("closed in %v", time.Since(start))
	db, err = Open(dir)
	t.Logf("open after serving: %v", err)
	if err == nil {
		q, err := db.Query(context.Background(), "SELECT 1", "TSV")
		t.Logf("query: %q %v", q, err)
		db.Close()
	}
	_, err = Listen(t.TempDir(), ServeConfig{TCP: tcp, HTTP: http})
	t.Log(err)
}
