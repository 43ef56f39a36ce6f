package sensorname

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, name := range []string{"", "tap1", "ns1.example.org-eth1.100", "ns1 eth0", "résolveur-2", "a:b",
		strings.Repeat("s", Max)} {
		if err := Check(name); err != nil {
			t.Errorf("Check(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{".", "..", ".hidden", "a/b", `a\b`, "a=b", "a%b", "tap\x01", "nl\nx", "\xff",
		strings.Repeat("s", Max+1)} {
		if err := Check(name); err == nil {
			t.Errorf("Check(%q) = nil, want an error", name)
		}
	}
}
