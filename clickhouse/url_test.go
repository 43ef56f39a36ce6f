package clickhouse

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw  string
		want Target
	}{
		{"clickhouse://127.0.0.1:9000/default", Target{Protocol: Native, Addr: "127.0.0.1:9000", Database: "default"}},
		{"clickhouse://u:p%40ss@127.0.0.1:9000/dns",
			Target{Protocol: Native, Addr: "127.0.0.1:9000", User: "u", Password: "p@ss", Database: "dns"}},
		{"http://127.0.0.1:8123", Target{Protocol: HTTP, Addr: "127.0.0.1:8123", Database: "default"}},
		{"https://[::1]:8443/x/", Target{Protocol: HTTP, TLS: true, Addr: "[::1]:8443", Database: "x"}},
		{"clickhouse://127.0.0.1:9000/dns?cluster=pcap",
			Target{Protocol: Native, Addr: "127.0.0.1:9000", Database: "dns", Cluster: "pcap"}},
		{"http://127.0.0.1:8123/dns?compression=none",
			Target{Protocol: HTTP, Addr: "127.0.0.1:8123", Database: "dns", Compression: "none"}},
		{"clickhouse://127.0.0.1:9000/dns?compression=zstd&cluster=pcap",
			Target{Protocol: Native, Addr: "127.0.0.1:9000", Database: "dns", Cluster: "pcap", Compression: "zstd"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Parse(tt.raw)
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %+v, %v, want %+v", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	for _, raw := range []string{
		"ftp://127.0.0.1:21/x",
		"clickhouse://127.0.0.1/default",
		"http://:8123/default",
		"clickhouse://127.0.0.1:9000/a/b",
		"http://127.0.0.1:8123/db?x=1",
		"clickhouse://127.0.0.1:9000/db?cluster=",
		"clickhouse://127.0.0.1:9000/db?cluster=a&cluster=b",
		"clickhouse://127.0.0.1:9000/db?cluster=a&x=1",
		"clickhouse://127.0.0.1:9000/db?cluster=a#f",
		"http://127.0.0.1:8123/db?compression=gzip",
		"http://127.0.0.1:8123/db?compression=",
		"http://127.0.0.1:8123/system",
		"clickhouse://127.0.0.1:9000/INFORMATION_SCHEMA",
		"clickhouse://%zz",
	} {
		if _, err := Parse(raw); !errors.Is(err, ErrBadURL) {
			t.Errorf("Parse(%q) = %v, want ErrBadURL", raw, err)
		}
	}
}

func TestTarget_String(t *testing.T) {
	tg, err := Parse("clickhouse://u:secret@127.0.0.1:9000/dns")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tg.String(), "clickhouse://u@127.0.0.1:9000/dns"; got != want {
		t.Errorf("String() = %q, want %q (no password)", got, want)
	}
	tg.Cluster = "a b"
	if got, want := tg.String(), "clickhouse://u@127.0.0.1:9000/dns?cluster=a+b"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestTarget_url(t *testing.T) {
	for _, raw := range []string{
		"clickhouse://u:p%40ss@127.0.0.1:9000/dns?cluster=pcap",
		"https://[::1]:8443/x",
		"http://u@127.0.0.1:8123/default?compression=none",
	} {
		tg, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(tg.url())
		if err != nil || back != tg {
			t.Errorf("Parse(%q.url() = %q) = %+v, %v, want %+v", raw, tg.url(), back, err, tg)
		}
	}
}
