package parquet

import "testing"

// TestOneValue finds pages of one repeated value and refuses the others,
// among them values of one length that differ only in their last one.
func TestOneValue(t *testing.T) {
	view := func(off int, vals ...string) *leafView {
		v := &leafView{off: off, offs: make([]int32, off+1)}
		for _, s := range vals {
			v.data = append(v.data, s...)
			v.offs = append(v.offs, int32(len(v.data)))
		}
		return v
	}
	rep := func(s string, n int) []string {
		var vs []string
		for range n {
			vs = append(vs, s)
		}
		return vs
	}
	for _, c := range []struct {
		name string
		v    *leafView
		v0   int
		v1   int
		want string
		ok   bool
	}{
		{"repeated", view(0, rep("abc", 10)...), 0, 10, "abc", true},
		{"empty strings, no data", view(0, rep("", 9)...), 0, 9, "", true},
		{"offset view", view(3, append(rep("xy", 12), "z")...), 2, 12, "xy", true},
		{"last differs", view(0, append(rep("abc", 9), "abd")...), 0, 10, "", false},
		{"lengths differ", view(0, append(rep("ab", 9), "abab")...), 0, 10, "", false},
		{"fewer than eight", view(0, rep("abc", 7)...), 0, 7, "", false},
	} {
		got, ok := oneValue(c.v, c.v0, c.v1)
		if ok != c.ok || (ok && string(got) != c.want) {
			t.Errorf("%s: oneValue = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
