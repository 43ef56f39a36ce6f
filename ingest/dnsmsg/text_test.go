package dnsmsg

import (
	"testing"
	"unicode/utf8"
)

func TestAppendUTF8(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"prohibited", "prohibited"},
		{"résolveur ✓", "résolveur ✓"},
		{"\xff\xfe\xc3(a\x80\x00", `\255\254\195(a\128\000`},
		{`a\b`, `a\\b`},
		{"tab\there", `tab\009here`},
	} {
		got := string(AppendUTF8(nil, []byte(tt.in)))
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("AppendUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if UTF8(tt.in) != tt.want {
			t.Errorf("UTF8(%q) = %q, want %q", tt.in, UTF8(tt.in), tt.want)
		}
	}
}
